"""The exact path: an .xlsx read by python-calamine, after the guard. Each sheet is scanned (extent.scan:
its extent and error cells); those reaching far beyond their data are cut (extent.cut_copy) and calamine
reads that copy."""

from __future__ import annotations

from ....errors import InputError
from ..sheet import MAX_CELLS, MAX_COLUMNS, Rows
from . import extent
from .xml import Strings


def read(source, name: str, *, only: str | None = None, scanned=None) -> list[Rows]:
    """Every worksheet (or sheet `only`) as rows from A1. `scanned`: the Extent of sheet `only` when the
    fast path has scanned it already (not scanned again)."""
    from .. import calamine

    return calamine.read(source, name, only=only, prepare=lambda src: _guarded(src, name, only, scanned))


def sheet(source, name: str, sheet_name: str, scanned=None) -> Rows:
    """One sheet by the exact path (the fast path's fallback)."""
    for grid in read(source, name, only=sheet_name, scanned=scanned):
        return grid
    raise InputError(f"找不到工作表「{sheet_name}」", file=name)


def _guarded(source, name: str, only: str | None = None, scanned=None) -> tuple:
    """calamine.Prepared of an .xlsx: (source, non-blank cells dropped right of the column cap by sheet
    name, sheet name -> its unknown cells); `source` is the cut copy when a sheet needed cutting."""
    from .fast import sheet_parts

    cells: dict[str, dict] = {}
    try:
        with extent.open_zip(source) as zf:
            if "xl/workbook.xml" not in set(zf.namelist()):
                from ..ods import prepare

                return prepare(source)  # named .xlsx, holding something else: calamine words it
            sst = Strings(zf)
            cut, sheets = {}, {}
            for sheet_name, member in sheet_parts(zf):
                if only is not None and sheet_name != only:
                    continue
                ext = scanned if scanned is not None and only is not None else _scan(zf, member, sst, name, sheet_name)
                cells[sheet_name] = ext.cells
                if ext.needs_trim(MAX_CELLS):
                    _check_size(ext, name, sheet_name)
                    cut[member], sheets[member] = ext, sheet_name
        if not cut:
            return source, {}, lambda sheet: cells.get(sheet, {})
        data, dropped = extent.cut_copy(source, cut, sst.__getitem__)
    except InputError:
        raise
    except Exception:  # noqa: BLE001 - structure not understood: calamine reads it and words the damage
        return source, {}, lambda sheet: {}
    return data, {sheets[m]: n for m, n in dropped.items()}, lambda sheet: cells.get(sheet, {})


def _scan(zf, member: str, sst: Strings, name: str, sheet_name: str) -> extent.Extent:
    try:
        return extent.scan_sheet(zf, member, sst.__getitem__)
    except extent.TooLarge as exc:
        raise InputError(str(exc), file=name, sheet=sheet_name) from None


def _check_size(ext: extent.Extent, name: str, sheet_name: str) -> None:
    width = min(ext.width, MAX_COLUMNS)
    if ext.data_row * width > MAX_CELLS:
        raise InputError(f"工作表超出大小上限（有数据的区域为 {ext.data_row} 行 × {width} 列）",
                         file=name, sheet=sheet_name)
