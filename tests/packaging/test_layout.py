"""The layout the README's module map describes: every package is installed, templates ship as data."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _listed() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]


def test_every_package_of_the_source_tree_is_installed():
    src = ROOT / "src"
    found = {".".join(p.parent.relative_to(src).parts) for p in src.rglob("__init__.py")}
    assert found | {"jindu_metrics.templates", "jindu_metrics.docs"} == set(_listed()), "pyproject.toml [tool.setuptools] packages"


def test_bulletin_templates_are_the_top_level_files_offices_edit():
    shipped = {p.name for p in resources.files("jindu_metrics.templates").iterdir() if p.name.endswith(".j2")}
    on_disk = {p.name for p in (ROOT / "templates").glob("*.j2")}
    assert {"bulletin.txt.j2", "bulletin.md.j2"} <= on_disk and shipped == on_disk
    assert not (ROOT / "src" / "jindu_metrics" / "templates").exists()


def _imports() -> dict[str, set[str]]:
    """Module → the package's modules it imports (absolute names), read from the source with ast."""
    import ast

    src = ROOT / "src"
    out: dict[str, set[str]] = {}
    for p in src.rglob("*.py"):
        parts = list(p.relative_to(src).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_pkg else parts)
        here = name.split(".") if is_pkg else name.split(".")[:-1]
        deps = out.setdefault(name, set())
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                mod = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    deps.update({mod, f"{mod}.{alias.name}"})
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names)
    return {m: {d for d in ds if d in out and d != m} for m, ds in out.items()}


def test_every_module_of_the_installed_package_is_used_by_it():
    """Generators of synthetic ledgers and other test helpers live in tests/support, not in every install."""
    graph = _imports()
    used = set().union(*graph.values())
    entry = {"jindu_metrics", "jindu_metrics.__main__", "jindu_metrics.cli"}
    assert sorted(m for m in graph if m not in used and m not in entry) == []
