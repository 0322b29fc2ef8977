"""What jindu itself writes into a ledger folder, so that the reader skips it: the 问题清单 sheet and the
default name of an annotated copy (`validate --annotate`, outputs/annotate.py writes them)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

SHEET = "问题清单"
MARK = "jindu 台帐校验问题清单"  # A1 of SHEET: with the sheet's name, what the reader skips
SUFFIX = "_问题标注"
TARGET_SUFFIXES = {".xlsx", ".xlsm"}


def is_annotation_sheet(name: str, rows: Sequence) -> bool:
    """Whether a sheet is the 问题清单 of an annotated copy (the reader skips it without a finding)."""
    if not name.startswith(SHEET) or not rows or not len(rows[0]):
        return False
    first = rows[0][0]
    return isinstance(first, str) and first.startswith(MARK)


def is_copy_of(path: Path, original: Path) -> bool:
    """Whether `path` is the default-named annotated copy of `original` (`<原名>_问题标注.xlsx`, or with the
    original's format in the name when two inputs share a name)."""
    stem = path.stem
    return path.suffix.lower() in TARGET_SUFFIXES and stem.endswith(SUFFIX) and stem[: -len(SUFFIX)] in (
        original.stem, f"{original.stem}_{original.suffix.lower().lstrip('.')}")
