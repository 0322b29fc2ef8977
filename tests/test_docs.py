"""Docs that ship (issue 13.6): the ledger contract and the catalog in the project's own words under docs/;
nothing the user gets points at the developers' ../shared folder; the catalog doc lists every indicator of
the shipped catalog (id and name on one row), so the two cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jindu_metrics import schema
from jindu_metrics.metrics.catalog import load_catalog

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = [ROOT / "README.md", ROOT / "pyproject.toml", *sorted((ROOT / "docs").rglob("*")),
           *sorted((ROOT / "src").rglob("*"))]
LEDGER_DOC = ROOT / "docs" / "台帐格式.md"
CATALOG_DOC = ROOT / "docs" / "指标口径.md"


def test_no_shipped_file_names_the_shared_folder():
    offenders = []
    for p in SHIPPED:
        if p.is_file() and p.suffix not in (".pyc",):
            text = p.read_bytes().decode("utf-8", "replace")
            if re.search(r"\.\./shared|shared/spec|shared/seeds|shared/corpus", text):
                offenders.append(str(p.relative_to(ROOT)))
    assert offenders == []


def test_catalog_doc_lists_every_indicator():
    rows = [ln for ln in CATALOG_DOC.read_text(encoding="utf-8").splitlines() if ln.startswith("| `")]
    listed = {}
    for ln in rows:
        cells = [c.strip() for c in ln.strip("|").split("|")]
        listed[cells[0].strip("`")] = cells
    cat = load_catalog()
    for ind in cat.indicators:
        assert ind.id in listed, ind.id
        cells = listed[ind.id]
        assert cells[1] == ind.name, (ind.id, cells[1])
        assert (cells[4] or None) == ind.target, (ind.id, cells[4], ind.target)
    assert set(listed) == {i.id for i in cat.indicators}  # nothing documented that the catalog lacks


def test_ledger_doc_names_every_kind_and_column():
    text = LEDGER_DOC.read_text(encoding="utf-8")
    for kind in schema.KINDS.values():
        assert kind.name in text or kind.name.replace("台帐", "") in text, kind.name
        for col in kind.column_names:
            assert col in text, (kind.id, col)
        for col in kind.required:
            assert f"**{col}**" in text, (kind.id, col)


@pytest.mark.parametrize("doc", ["docs/台帐格式.md", "docs/指标口径.md"])
def test_readme_and_catalog_point_at_the_docs(doc):
    assert doc in (ROOT / "README.md").read_text(encoding="utf-8")
    catalog = (ROOT / "src" / "jindu_metrics" / "metrics" / "default_catalog.toml").read_text(encoding="utf-8")
    assert doc in catalog


def test_readme_template_filters_exist():
    from jindu_metrics.report.filters import FILTERS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sentence = readme.split("和过滤器（", 1)[1].split("见 [docs/templates.md]", 1)[0]
    named = re.findall(r"`([^`]+)`", sentence)
    assert len(named) >= 5 and all(n in FILTERS for n in named), named
