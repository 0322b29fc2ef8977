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


NAME_BYTES = 200  # as outputs.MAX_NAME_BYTES: a name of 255 bytes leaves no room for a temporary's affixes


def copy_name(original: Path, with_format: bool = False) -> str:
    """The default name of `original`'s annotated copy: `<原名>_问题标注.xlsx` (.xlsm for .xlsm), with the
    original's format in it (`<原名>_xls_问题标注.xlsx`) when two inputs share a name. A name longer than
    NAME_BYTES (a 245-byte ledger name) keeps its start and ends in 8 hex digits of the original stem's hash."""
    import hashlib

    suffix = ".xlsm" if original.suffix.lower() == ".xlsm" else ".xlsx"
    stem = f"{original.stem}_{original.suffix.lower().lstrip('.')}" if with_format else original.stem
    tail = f"{SUFFIX}{suffix}"
    raw = stem.encode("utf-8", "surrogateescape")
    if len(raw) + len(tail.encode("utf-8")) <= NAME_BYTES:
        return stem + tail
    digest = hashlib.sha256(raw).hexdigest()[:8]
    room = NAME_BYTES - len(tail.encode("utf-8")) - len(digest) - 1
    return raw[:room].decode("utf-8", "ignore") + "-" + digest + tail


def is_copy_of(path: Path, original: Path) -> bool:
    """Whether `path` is the default-named annotated copy of `original` (copy_name, either form; .xlsx or
    .xlsm)."""
    if path.suffix.lower() not in TARGET_SUFFIXES:
        return False
    return path.stem in (Path(copy_name(original)).stem, Path(copy_name(original, True)).stem)
