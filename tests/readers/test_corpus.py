"""Every file of ../shared/corpus: `jindu validate` ends within 10 s with exit 0/1/2, no traceback, and a
Chinese message naming the file when it fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_forked

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "LICENSES.tsv",
                                                                              "README.md")) if CORPUS.is_dir() else []


@pytest.mark.skipif(not FILES, reason="../shared/corpus is absent")
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES] if FILES else None)
def test_corpus_file(path):
    r = run_forked(["validate", path], timeout=10)
    assert r.returncode in (0, 1, 2), r.stderr
    assert "Traceback" not in r.stderr
    if r.returncode == 2:
        assert str(path) in r.stderr and re.search(r"[\u4e00-\u9fff]", r.stderr), r.stderr
    assert _english(r.stderr) == [], r.stderr


def _english(text: str) -> list[str]:
    """Latin words left in a message once names, paths, file kinds and option names are removed: library text."""
    text = re.sub(r"「[^」]*」|/[^\s」]+", "", text)  # names quoted from the input, paths
    text = re.sub(r"jindu|JINDU_PASSWORD|TOML|UTF-8|Excel|WPS|LibreOffice|xlsx|xlsm|xlsb|xls|ods|ODS|docx|json|"
                  r"csv|CSV|BOM|GBK|Parquet|XML|ZIP|zip|--[a-z-]+", "", text)
    return re.findall(r"[A-Za-z]{3,}", text)


@pytest.mark.skipif(not FILES, reason="../shared/corpus is absent")
@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES] if FILES else None)
def test_corpus_file_annotated(path, tmp_path):
    from conftest import run_cli

    code, _, err = run_cli(["validate", path, "--annotate", f"{tmp_path}/"])
    assert code in (0, 1, 2) and "Traceback" not in err
    assert _english(err) == [], err
    if code != 2:
        assert list(tmp_path.iterdir()), "an annotated copy is written"
