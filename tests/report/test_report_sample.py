"""`jindu report` end to end on the bundled 乐平镇 sample: published figures, golden file, no PII, determinism."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jindu_metrics.cli import app

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "sample_bulletin_2018-10.txt"

PUBLISHED = [
    "1至10月份，全镇查处吸毒人员49人，刑拘12人，刑拘查处比为24.49%",
    "1至10月份，全镇新发现吸毒人员16人，占查处的32.7%；强制隔离戒毒11人，送戒率为47.8%；"
    "送治病残吸毒人员0人，送治率为0.0%；纳入网格化吸毒人员354人，纳入率为94.7%",
    "全镇管控人数258人，走访258人，走访管控率100%，在册社区戒毒社区康复人员共36人，报到建档36人，执行率为100%",
    "全镇吸毒人员与禁毒社工配比为26:1",
]


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory) -> Path:
    committed = ROOT / "sample_ledgers"
    if (committed / "乐平镇台帐.xlsx").exists():
        return committed
    out = tmp_path_factory.mktemp("samples")  # the committed folder is what this script writes
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_samples.py"), str(out)], check=True)
    return out


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, sample_dir) -> Path:
    ws = tmp_path_factory.mktemp("乐平镇禁毒办")
    (ws / "台帐").mkdir()
    shutil.copy(sample_dir / "乐平镇台帐.xlsx", ws / "台帐")
    (ws / "jindu.toml").write_text(
        '[workspace]\nunit = "乐平镇"\nlevel = "镇街"\noffice = "乐平镇禁毒委员会办公室"\nledgers = "台帐"\n\n'
        '[workspace.targets]\n"纳入率" = "95%"\n', encoding="utf-8")
    return ws


def _run(ws: Path, monkeypatch, *args: str):
    monkeypatch.chdir(ws)
    return CliRunner().invoke(app, ["report", *args])


@pytest.fixture(scope="module")
def persons_pii(sample_dir):
    """Every name and ID number of the sample's persons (18- and 15-digit forms)."""
    from support.samples import leping_sample

    from jindu_metrics.ledgers import load_ledgers

    p = load_ledgers([sample_dir / "乐平镇台帐.xlsx"], unit="乐平镇")["persons"]
    names = {n for n in p["姓名"].dropna().unique()}
    ids = {i for i in p["公民身份号码"].dropna().unique()}
    ids |= set(leping_sample().id15.values()) | set(leping_sample().id15.keys())
    return names, ids


def _assert_no_pii(text: str, pii) -> None:
    names, ids = pii
    assert not re.search(r"\d{15,18}|\d{6}\*+\d{3}", text)  # no ID number, whole or masked
    assert not [i for i in ids if i in text]
    assert not [n for n in names if len(n) >= 2 and n in text]


def test_workspace_bulletin_matches_published_and_golden(workspace, monkeypatch, persons_pii, golden):
    r = _run(workspace, monkeypatch, "--period", "2018-10", "--output", "通报.txt")
    assert r.exit_code == 0, r.output
    text = (workspace / "通报.txt").read_text(encoding="utf-8")
    assert text.startswith("关于2018年1-10月禁毒工作情况的通报\n\n各村居委会、各禁毒成员单位：\n")
    for sentence in PUBLISHED:
        assert sentence in text
    problems = text[text.index("三、存在问题"):text.index("四、下一步工作")]
    assert "纳入率为94.7%，低于95%的目标，还需纳入2人" in problems
    assert text.endswith("乐平镇禁毒委员会办公室\n2018年10月31日\n")  # the period's end, not today
    _assert_no_pii(text, persons_pii)
    golden(GOLDEN, text)
    # stdout gives the same bytes, and a second run is byte-identical
    r2 = _run(workspace, monkeypatch, "--period", "2018-10")
    assert r2.exit_code == 0 and r2.stdout == text


def test_sample_md_and_docx(workspace, monkeypatch, persons_pii):
    r = _run(workspace, monkeypatch, "--period", "2018-10", "--format", "md", "--date", "2018-11-15")
    assert r.exit_code == 0 and r.stdout.startswith("# 关于2018年1-10月禁毒工作情况的通报")
    assert "2018年11月15日" in r.stdout
    _assert_no_pii(r.stdout, persons_pii)
    outs = []
    for name in ("a.docx", "b.docx"):
        r = _run(workspace, monkeypatch, "--period", "2018-10", "-f", "docx", "-o", name, "--date", "2018-11-15")
        assert r.exit_code == 0, r.output
        outs.append((workspace / name).read_bytes())
    assert outs[0] == outs[1]
    with zipfile.ZipFile(workspace / "a.docx") as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    body = "".join(re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml))
    assert "刑拘查处比为24.49%" in body and "纳入率为94.7%" in body
    _assert_no_pii(body, persons_pii)
    names, ids = persons_pii
    assert not [i for i in ids if i in xml] and not [n for n in names if len(n) >= 2 and n in xml]


def test_docx_needs_output_and_bad_date(workspace, monkeypatch):
    r = _run(workspace, monkeypatch, "--period", "2018-10", "-f", "docx")
    assert r.exit_code != 0 and "--output" in str(r.exception)
    r = _run(workspace, monkeypatch, "--period", "2018-10", "--date", "2018-13-45")
    assert r.exit_code != 0 and "日期" in str(r.exception)


def test_cli_error_is_chinese_exit_2(workspace, tmp_path):
    bad = tmp_path / "bad.j2"
    bad.write_text("{{ 未知变量 }}", encoding="utf-8")
    p = subprocess.run([shutil.which("jindu") or "jindu", "report", "--period", "2018-10", "--template", str(bad)],
                       cwd=workspace, capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "「未知变量」" in p.stderr and "第1行" in p.stderr
