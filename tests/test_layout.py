"""The layout the README's module map describes: every package is installed, templates ship as data."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _listed() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]


def test_every_package_of_the_source_tree_is_installed():
    src = ROOT / "src"
    found = {".".join(p.parent.relative_to(src).parts) for p in src.rglob("__init__.py")}
    assert found | {"jindu_metrics.templates"} == set(_listed()), "pyproject.toml [tool.setuptools] packages"


def test_bulletin_templates_are_the_top_level_files_offices_edit():
    shipped = {p.name for p in resources.files("jindu_metrics.templates").iterdir() if p.name.endswith(".j2")}
    on_disk = {p.name for p in (ROOT / "templates").glob("*.j2")}
    assert {"bulletin.txt.j2", "bulletin.md.j2"} <= on_disk and shipped == on_disk
    assert not (ROOT / "src" / "jindu_metrics" / "templates").exists()
