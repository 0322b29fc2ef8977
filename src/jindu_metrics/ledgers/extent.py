"""What an .xlsx worksheet really holds, before calamine is asked to read it.

calamine builds a dense range from the first to the farthest cell holding a value, whatever lies between:
one blank cell at XFD1048576 asks for 512 GB (the process aborts), one whitespace cell at row 1,048,576
below formatting down to row 200,000 costs seconds and gigabytes. So every worksheet is scanned first,
streamed in one pass that also collects its merged ranges and (cellscan.Scan, fed each chunk) its error
cells and formulas without a result: the row of the last non-blank value, the farthest column referenced.
A sheet whose claimed extent is far beyond its data is rewritten in memory (rows after the last row with
data dropped, cells right of MAX_COLUMNS dropped and reported, the `<dimension>` removed) and read from
that copy. Limits are enforced on what is present, never on a claim.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

MAX_COLUMNS = 256  # IV, Excel 2003's last column: a ledger has a few dozen
TRIM_SLACK_CELLS = 1_000_000  # blank cells past the data worth a rewrite (calamine allocates each)
_CHUNK = 1 << 24  # 16 MB: each read hands the GIL over ~3 times (file, inflate, CRC), see scan()
_CARRY = 1 << 16  # bytes of one chunk kept for the next: a cell cut at the boundary is seen whole

_PREFIX = re.compile(rb"<(\w+:)?worksheet\b")
_WIDE_ANY = re.compile(rb'r="[A-Z]{2}')  # a cell at column AA or beyond (row r= attributes are digits)
_AFTER_CAP = 1 << 24  # bytes after </sheetData> kept for the cut copy (beyond: the copy streams them)
_WIDE = re.compile(rb'\sr="([A-Z]{2,3})\d')
_REF = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')
_T = re.compile(rb'\st="(\w+)"')
V_TAG = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)  # a cell's value
T_TAG = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>", re.S)  # a text run of a string
_WIDE_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]{2,3})(\d+)"[^>]*?(?:/>|>.*?</(?:\w+:)?c>)', re.S)
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*/>")


def col_number(letters: bytes) -> int:
    """1-based column number of Excel column letters (b"A" → 1, b"XFD" → 16384)."""
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n


def capped_note(dropped: int) -> tuple[str, None, str]:
    """The columns_capped note (code, row None, detail; RawSheet.notes) of a sheet with `dropped` non-blank
    cells right of the cap."""
    from ..findings import excel_column

    return "columns_capped", None, f"{excel_column(MAX_COLUMNS - 1)}列（第{MAX_COLUMNS}列）右侧的 {dropped} 个单元格未读取"


@dataclass
class Extent:
    """One worksheet as scanned: merged ranges (0-based inclusive), unknown cells and how far its cells reach."""

    merged: list = field(default_factory=list)
    # {(row, column) 0-based: error literal or cellscan.FORMULA_NO_VALUE}: cells the readers give as empty
    cells: dict = field(default_factory=dict)
    last_row: int = 0  # 1-based row of the last cell holding any value (where calamine's range ends)
    data_row: int = 0  # 1-based row of the last cell holding a non-blank value
    width: int = 0  # farthest column referenced by any cell (an upper bound of calamine's width)
    data_pos: int | None = None  # offset in the XML of the last cell holding a non-blank value
    # the XML from its </sheetData> on (merged ranges, page setup: what a cut copy keeps after the data), so
    # that cutting the sheet stops inflating it at its last row with data; None when not seen (or too long)
    after: bytes | None = None
    prefix: bytes = b""  # the namespace prefix of the sheet's elements ("x:"), usually none

    def needs_trim(self, max_cells: int) -> bool:
        return (self.width > MAX_COLUMNS or self.last_row * self.width > max_cells
                or (self.last_row - self.data_row) * self.width > TRIM_SLACK_CELLS)


def scan(fh, strings) -> Extent:
    """Stream one worksheet's XML (a binary file object) once. `strings(i)`: shared string i."""
    from .cellscan import Scan

    ext = Extent()
    cells = Scan(ext.cells)
    carry = b""
    tail: bytearray | None = None  # from </sheetData> on: merged ranges and the rest, which hold no cells
    sd_end = b""
    wide = False
    widest = 0
    tokens = None
    read = 0  # bytes read before this chunk
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            break
        read, before = read + len(chunk), read
        cells.feed(chunk)
        if tail is not None:
            tail += chunk
            continue
        window = carry + chunk
        if tokens is None:
            m = _PREFIX.search(window)
            ext.prefix = p = (m.group(1) or b"") if m else b""
            tokens = (b"</" + p + b"c>", b"<" + p + b"c ")
            sd_end = b"</" + p + b"sheetData"  # without the ">": a needle ending in a common byte searches slowly
        if not wide and _WIDE_ANY.search(window):
            wide = True
        if wide:
            found = set(_WIDE.findall(window))
            if found:
                widest = max(widest, max(col_number(v) for v in found))
        any_row, data_row, at = _last_values(window, strings, *tokens)
        ext.last_row = max(ext.last_row, any_row)
        if data_row and data_row >= ext.data_row:
            ext.data_row, ext.data_pos = data_row, before - len(carry) + at
        k = window.find(sd_end)
        if k >= 0:
            tail = bytearray(window[k:])
        carry = window[-_CARRY:]
    ext.width = widest or 26
    if tail is not None and len(tail) <= _AFTER_CAP:
        ext.after = bytes(tail)
    for m in re.finditer(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', tail or b""):
        c0, r0 = col_number(m.group(1)) - 1, int(m.group(2)) - 1
        c1, r1 = (col_number(m.group(3)) - 1, int(m.group(4)) - 1) if m.group(3) else (c0, r0)
        ext.merged.append(((r0, c0), (r1, c1)))
    return ext


def _last_values(window: bytes, strings, end: bytes, start: bytes) -> tuple[int, int, int]:
    """(row of the last cell in `window` holding a value, row of the last holding a non-blank value, where
    that cell starts); rows 0 when none. Walks back from the end, one cell at a time, only over trailing
    blank cells."""
    any_row = 0
    pos = len(window)
    while True:
        k = window.rfind(end, 0, pos)
        if k < 0:
            return any_row, 0, 0
        s = window.rfind(start, 0, k)
        if s < 0:
            return any_row, 0, 0
        pos = s
        gt = window.find(b">", s)
        attrs, body = window[s:gt], window[gt + 1:k]
        ref = _REF.search(attrs)
        if ref is None:
            continue  # no reference: such cells follow one with one; calamine places them
        text = _cell_text(attrs, body, strings)
        if text is None:
            continue  # a formula without a cached value, or styling only: calamine skips it
        row = int(ref.group(2))
        any_row = any_row or row
        if len(ref.group(1)) == 3 and col_number(ref.group(1)) > MAX_COLUMNS:
            continue  # beyond the column cap: dropped by trim(), which reports it
        if not _blank(text):
            return any_row, row, s


def _cell_text(attrs: bytes, body: bytes, strings) -> bytes | None:
    """A cell's value as XML text (a shared string looked up); None when it holds none."""
    t = _T.search(attrs)
    kind = t.group(1) if t else b"n"
    if kind == b"inlineStr":
        return b"".join(T_TAG.findall(body))
    v = V_TAG.search(body)
    if v is None:
        return None
    if kind == b"s":
        try:
            return strings(int(v.group(1))).encode()
        except Exception:  # noqa: BLE001 - a bad index is calamine's to report: count it as data
            return b"?"
    return v.group(1)


def _blank(text: bytes) -> bool:
    return not text.decode("utf-8", "replace").strip()


def trim(xml: bytes, ext: Extent, strings) -> tuple[bytes, int]:
    """The sheet's XML without rows after its last row with data, without cells right of MAX_COLUMNS and
    without its `<dimension>`; and how many non-blank cells right of MAX_COLUMNS were dropped."""
    dropped = 0
    if ext.width > MAX_COLUMNS:  # first: what is cut with the rows below is counted too
        def cut(m: re.Match) -> bytes:
            nonlocal dropped
            if col_number(m.group(1)) <= MAX_COLUMNS:
                return m.group(0)
            cell = m.group(0)
            gt = cell.find(b">")
            text = _cell_text(cell[:gt], cell[gt + 1:], strings) if not cell.endswith(b"/>") else None
            if text is not None and not _blank(text):
                dropped += 1
            return b""
        xml = _WIDE_CELL.sub(cut, xml)
    m = _PREFIX.search(xml)
    p = (m.group(1) or b"") if m else b""
    close = b"</" + p + b"sheetData>"
    end = xml.rfind(close)
    if end >= 0:
        if ext.data_row:
            at = xml.find(b' r="%d"' % ext.data_row)
            stop = xml.find(b"</" + p + b"row>", at) if at >= 0 else -1
            if stop >= 0:
                stop += len(b"</" + p + b"row>")
                xml = xml[:stop] + xml[end:]
        else:
            opened = xml.find(b"<" + p + b"sheetData>")
            if 0 <= opened < end:
                xml = xml[:opened + len(p) + 11] + xml[end:]
    return _DIMENSION.sub(b"", xml, count=1), dropped


EMPTY_SHEET = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>')


def cut_copy(source, extents: dict, strings, blank=()) -> tuple[bytes, dict[str, int]]:
    """The workbook `source` (a path or bytes) as bytes, with the worksheets of `extents` ({member:
    Extent}) cut as trim() says and the members in `blank` left empty; and the non-blank cells dropped
    right of the column cap, by member. Sheets cut by rows only are streamed (never whole in memory); the
    copy is deflated at level 1 (its size, not its speed, is what matters)."""
    out = io.BytesIO()
    dropped: dict[str, int] = {}
    with open_zip(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zout:
        for info in zin.infolist():
            name = info.filename
            if name in extents:
                ext = extents[name]
                with zout.open(name, "w", force_zip64=True) as dst:
                    if ext.width > MAX_COLUMNS:
                        xml, dropped[name] = trim(zin.read(info), ext, strings)
                        dst.write(xml)
                    else:
                        with zin.open(info) as src:
                            cut_rows(src, dst.write, ext)
            elif name in blank:
                zout.writestr(name, EMPTY_SHEET)
            else:
                zout.writestr(name, zin.read(info))
    return out.getvalue(), dropped


def cut_rows(fh, write, ext: Extent) -> None:
    """Copy a sheet's XML from `fh` to `write` without the rows after its last row with data. The part after
    the data is the scan's copy of it when it kept one (`ext.after`): reading stops at the data's end (the
    scan has read the member whole, its CRC checked)."""
    p = ext.prefix
    sd_end = b"</" + p + b"sheetData>"
    if ext.data_pos is None:  # no data: keep <sheetData> itself, nothing in it
        target, start = b"<" + p + b"sheetData>", 0
    else:
        target, start = b"</" + p + b"row>", ext.data_pos
    pending, offset, phase = b"", 0, 0  # phase 0: copy to the target; 1: skip to </sheetData>; 2: copy
    while True:
        chunk = fh.read(_CHUNK)
        if not chunk:
            break
        pending += chunk
        if phase == 0:
            k = pending.find(target, max(0, start - offset))
            if k < 0:
                keep = max(0, len(pending) - len(target))
                write(pending[:keep])
                pending, offset = pending[keep:], offset + keep
                continue
            k += len(target)
            write(pending[:k])
            if ext.after is not None:  # what follows the data, kept by the scan: the rest is not inflated
                write(ext.after)
                return
            pending, offset, phase = pending[k:], offset + k, 1
        if phase == 1:
            k = pending.find(sd_end)
            if k < 0:
                pending = pending[-len(sd_end):]
                continue
            pending, phase = pending[k:], 2
        write(pending)
        pending = b""
    if phase != 2:
        raise ValueError("sheet XML ends before its data")  # the caller reads the sheet by calamine


def open_zip(source) -> zipfile.ZipFile:
    """A zip package from a path or from bytes held in memory (a decrypted or rewritten workbook)."""
    return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes | bytearray) else source)
