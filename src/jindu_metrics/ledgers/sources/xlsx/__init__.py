"""The guard for .xlsx/.xlsm: calamine's dense grid and its blank error cells, kept away from the reader.

`read()` is the entry (`grid()` gives the rows of a copy of the file). Each worksheet's XML is inflated and
streamed once (extent.scan: its extent, merged ranges, and with cellscan its error cells and formulas
without a result); what the scan read up to the data's end is kept and handed to the parser, cut after the
data (a stray cell far below or right of it is gone) and stored (extent.handed); the largest sheet is cut into
pieces as it is scanned, each parsed at once and the tables joined (pieces.py). The fast path (fast.py) peeks
each sheet's head for its header, then has fastexcel parse
the data rows into Arrow columns in background threads (prefetch.py); a sheet fastexcel cannot read
exactly (mixed types in a column, merged data cells, a header it aligns otherwise) is read by calamine
after the same scan (exact.py). Both paths give the same values and findings.
"""

from __future__ import annotations

from ..grid import HEAD_ROWS, capped_note, find_header, padded, put_unknown, sheet_of_rows
from ..sheet import MAX_CELLS, Reading, Rows, Sheet


def read(source, name: str, *, fast: bool = True, threads: bool = False, notes: list | None = None) -> Reading:
    """Every worksheet of an .xlsx (a path, or its bytes). `fast`: fastexcel may read it (it picks its reader
    by the extension); `threads`: parse in background threads; `notes`: the file's, for its first sheet."""
    notes = list(notes or [])
    parts = _fast_parts(source, threads) if fast else None
    if parts is None:
        from . import exact

        grids = exact.read(source, name)
        sheets = [sheet_of_rows(g.name, i, g.rows, g.merged, g.unknown, notes=g.notes)
                  for i, g in enumerate(grids)]
        if sheets and notes:
            sheets[0].notes.extend(notes)
        return Reading(sheets)
    return _fast_reading(source, name, parts, threads, notes)


def grid(source, name: str) -> list[Rows]:
    """Every worksheet as rows from A1, read by calamine after the guard (for a copy of the file)."""
    from . import exact

    return exact.read(source, name)


def _fast_parts(source, threads: bool) -> list | None:
    """(sheet name, head rows, fast._Body) of every worksheet, or None: not for the fast path."""
    from . import fast

    if not fast.available():
        return None
    try:
        return fast.read(source, MAX_CELLS, scan_ahead=threads) or None
    except fast.Unsupported:
        return None


def _fast_reading(source, name: str, parts: list, threads: bool, notes: list) -> Reading:
    from .prefetch import Prefetch

    headers = [find_header(sheet, head, []) for sheet, head, _ in parts]
    prefetch = Prefetch(parts[0][2].book, [body for _, _, body in parts], headers, threads)

    def sheets():
        for i in prefetch.order(len(parts)):
            sheet = _fast_sheet(source, name, i, parts[i], headers[i], prefetch)
            if i == 0 and notes:
                sheet.notes[:0] = notes
            yield sheet

    return Reading(sheets(), prefetch.close)


def _fast_sheet(source, name: str, i: int, part: tuple, header, prefetch) -> Sheet:
    """Sheet i from its fast load, or by the exact path where the fast path refused it."""
    from ...header import detect

    sheet_name, head, body = part
    if _annotation(sheet_name, head):
        return Sheet(sheet_name, i, head[:HEAD_ROWS])  # the 问题清单 of an annotated copy: not a ledger
    loaded = prefetch.take(i)
    merged = body.merged or []
    if loaded is not None and merged and detect(head, sheet_name, merged) != header:
        loaded = None  # merged header cells change the reading: the exact path decides
    if header is None and not body.book.has_merged(body.member):
        return Sheet(sheet_name, i, head[:HEAD_ROWS])  # no header in the head, and no merged cells to make one
    if loaded is None:  # refused, or no header found without merge info: read by calamine
        from . import exact

        # the sheet's scan (extent, merged ranges, error cells) is the fast path's, done already
        g = exact.sheet(source, name, sheet_name, body.book.scanned(body.member))
        return sheet_of_rows(g.name, i, g.rows, g.merged, g.unknown, notes=g.notes)
    cols, n = loaded
    start = header.row + 1
    unknown = {rc: v for rc, v in body.cells.items() if rc[1] in header.columns and rc[0] >= start}
    cols = padded(cols, n, header)
    sheet = Sheet(sheet_name, i, head[:HEAD_ROWS], header, put_unknown(cols, unknown, start, n) if unknown else cols,
                  n, merged, unknown)
    if body.dropped:
        sheet.notes.append(capped_note(body.dropped))
    return sheet


def _annotation(sheet_name: str, head: list) -> bool:
    from ...own import is_annotation_sheet

    return is_annotation_sheet(sheet_name, head)
