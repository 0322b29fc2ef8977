"""Batch's output folder: each township's bulletin, 汇总.xlsx, 汇总.html, summary.json and 全县通报, built
beside OUTDIR and put in its place at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .model import BatchResult, UnitResult

BULLETIN_NAME = "通报"
COUNTY_NAME = "全县通报"
COUNTY_BULLETIN = f"{COUNTY_NAME}.txt"
SUMMARY_XLSX = "汇总.xlsx"
SUMMARY_HTML = "汇总.html"
OUTPUT_FILES = (SUMMARY_XLSX, "summary.json", COUNTY_BULLETIN, f"{COUNTY_NAME}.md", f"{COUNTY_NAME}.docx",
                SUMMARY_HTML)
BULLETIN_FILES = (f"{BULLETIN_NAME}.txt", f"{BULLETIN_NAME}.md", f"{BULLETIN_NAME}.docx")


def _own_entry(entry: Path) -> bool:
    """An entry of a folder batch wrote (or an earlier version did): replacing the folder loses nothing else."""
    from ..outputs import MARKER

    def temporary(e: Path) -> bool:  # left by a killed run
        return e.name.startswith(".") and e.name.endswith(".tmp")

    if entry.is_symlink():
        return False
    if entry.is_dir():
        return temporary(entry) or all(temporary(e) or (e.name in BULLETIN_FILES and e.is_file())
                                       for e in entry.iterdir())
    return entry.name in OUTPUT_FILES or entry.name == MARKER or temporary(entry)


def output_folder(out: Path):
    """OUTDIR as outputs.FreshFolder replaces it: only when all it holds is batch's own."""
    from ..outputs import FreshFolder

    return FreshFolder(out, _own_entry)


def write_outputs(out: Path, result: BatchResult, ok: list[UnitResult], fmt: str, workbook: dict,
                  county: dict[str, str], summary_xlsx: Callable[[], bytes]) -> None:
    """OUTDIR/<镇街>/通报.*, 汇总.xlsx, summary.json, 全县通报.txt (+ .md/.docx; `county`: {"txt": text, "md": text}), built
    in a fresh folder beside OUTDIR and put in its place at once: an interrupted run leaves the previous output
    whole, never a mix of two runs. `workbook`: 汇总.html's data; `summary_xlsx()`: 汇总.xlsx's bytes (built
    beside the rest, Beside), asked for last."""
    from ..outputs import atomic_write_bytes, atomic_write_text, json_text, safe_name
    from ..report.html import write_county_html

    with output_folder(out) as stage:
        taken: set[str] = set()
        for r in ok:
            if r.bulletin is not None:
                _bulletin(stage / safe_name(r.unit, taken), r.bulletin, fmt)
        write_county_html(stage / SUMMARY_HTML, workbook, county["md"])
        atomic_write_bytes(stage / "summary.json", json_text(result.summary).encode("utf-8"))
        atomic_write_text(stage / COUNTY_BULLETIN, county["txt"])
        if fmt == "md":
            atomic_write_text(stage / f"{COUNTY_NAME}.md", county["md"])
        elif fmt == "docx":
            from ..report import write_docx

            write_docx(county["md"], stage / f"{COUNTY_NAME}.docx")
        atomic_write_bytes(stage / SUMMARY_XLSX, summary_xlsx())


def _bulletin(folder: Path, text: str, fmt: str) -> None:
    """A township's 通报 in its folder (a name that cannot escape OUTDIR: outputs.safe_name)."""
    if fmt == "docx":
        from ..report import write_docx

        write_docx(text, folder / f"{BULLETIN_NAME}.docx")
    else:
        from ..outputs import atomic_write_text

        atomic_write_text(folder / f"{BULLETIN_NAME}.{fmt}", text)
