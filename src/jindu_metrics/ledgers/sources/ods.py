"""OpenDocument spreadsheets (.ods): their repeat bombs refused before calamine lays them out, their error
cells (which calamine gives as a cached number or as empty text) found in content.xml."""

from __future__ import annotations

import io
import re
import zipfile

from ...errors import InputError
from .sheet import MAX_ROWS_CELLS, is_unknown

_ODS_TOKEN = re.compile(rb"<table:table[\s>]([^>]*)|<table:table-row\b([^>]*?)(/?)>|</table:table-row>"
                        rb"|<table:(?:covered-)?table-cell\b([^>]*?)(/?)>")


_REP_ROWS = re.compile(rb'table:number-rows-repeated="(\d+)"')


_REP_COLS = re.compile(rb'table:number-columns-repeated="(\d+)"')


_TABLE_NAME = re.compile(rb'table:name="([^"]*)"')


def check_repeats(zf: zipfile.ZipFile, name: str) -> None:
    """ODS compresses runs with number-rows/columns-repeated: a few KB ask for 10^18 cells, or for 29M cells
    (under the cap) that calamine and Python rows hold at ~75 bytes each. Each table's real extent (the
    last row and the farthest column holding a value, runs of empty cells included, as calamine lays the
    sheet out) is worked out from content.xml before calamine reads it, and held to MAX_ROWS_CELLS."""
    import html

    data = zf.read("content.xml")
    table, r, c, rep, last_row, last_col = None, 0, 0, 1, 0, 0

    def check() -> None:
        if table is not None and last_row * last_col > MAX_ROWS_CELLS:
            sheet = html.unescape(table.decode("utf-8", "replace"))
            raise InputError(f"工作表超出大小上限（有数据的区域为 {last_row} 行 × {last_col} 列，"
                             f"上限 {MAX_ROWS_CELLS} 个单元格；重复单元格过多，文件可能是恶意构造的）",
                             file=name, sheet=sheet)

    for t in _ODS_TOKEN.finditer(data):
        if t.group(1) is not None:  # a table opens
            check()
            n = _TABLE_NAME.search(t.group(1))
            table, r, c, rep, last_row, last_col = (n.group(1) if n else b""), 0, 0, 1, 0, 0
        elif t.group(2) is not None:  # a row opens
            m = _REP_ROWS.search(t.group(2))
            rep, c = (int(m.group(1)) if m else 1), 0
            if t.group(3):
                r += rep
        elif t.group(4) is None:  # a row closes
            r += rep
        else:
            m = _REP_COLS.search(t.group(4))
            span = int(m.group(1)) if m else 1
            if b"value-type" in t.group(4):
                last_row, last_col = max(last_row, r + rep), max(last_col, c + span)
            c += span
    check()


_ODS_TABLE = re.compile(rb"<table:table\s[^>]*?table:name=\"([^\"]*)\"")
_ODS_CELL = re.compile(rb"<table:table-row\b([^>]*?)(/?)>|</table:table-row>"
                        rb"|<table:(?:covered-)?table-cell\b([^>]*?)(/?)>")
_ODS_ROWS = re.compile(rb'table:number-rows-repeated="(\d+)"')
_ODS_COLS = re.compile(rb'table:number-columns-repeated="(\d+)"')
_ODS_TEXT = re.compile(rb"<[^>]*>")
_MAX_REPEAT = 1 << 14  # an error cell repeated further than this is not a ledger's (the size check is check_repeats')


def error_cells(content: bytes, sheet: str) -> dict:
    """{(row, column) 0-based: literal} of the error cells (calcext:value-type="error") of one ODS sheet:
    python-calamine gives them as their cached number (#DIV/0! as 0) or as empty text."""
    import html

    if b'value-type="error"' not in content:
        return {}
    cells: dict = {}
    for m in _ODS_TABLE.finditer(content):
        if html.unescape(m.group(1).decode("utf-8", "replace")) != sheet:
            continue
        end = content.find(b"</table:table>", m.end())
        part = content[m.end():end if end >= 0 else len(content)]
        if b'value-type="error"' not in part:
            return {}
        r, c, rep = 0, 0, 1
        for t in _ODS_CELL.finditer(part):
            if t.group(0) == b"</table:table-row>":
                r += rep
            elif t.group(1) is not None:  # a row opens
                n = _ODS_ROWS.search(t.group(1) or b"")
                rep, c = (int(n.group(1)) if n else 1), 0
                if t.group(2):  # a self-closed (empty) row
                    r += rep
            else:
                attrs = t.group(3) or b""
                n = _ODS_COLS.search(attrs)
                span = int(n.group(1)) if n else 1
                if b'value-type="error"' in attrs and not t.group(4):
                    close = part.find(b"</table:table-cell>", t.end())
                    text = html.unescape(_ODS_TEXT.sub(b"", part[t.end():close]).decode("utf-8", "replace")).strip()
                    for k in range(min(span, _MAX_REPEAT)):
                        cells[(r, c + k)] = text if is_unknown(text) else "#N/A"
                c += span
        break
    return cells


def prepare(source) -> tuple:
    """calamine.Prepared of a zip workbook that is not an .xlsx: the source as it is, and the error cells of
    its sheets when it is an ODS holding any."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes | bytearray) else source) as zf:
            content = zf.read("content.xml") if "content.xml" in set(zf.namelist()) else b""
    except Exception:  # noqa: BLE001 - structure not understood: calamine reads it and words the damage
        return source, {}, _none
    if b'value-type="error"' in content:
        return source, {}, lambda sheet: error_cells(content, sheet)
    return source, {}, _none


def _none(sheet: str) -> dict:
    return {}
