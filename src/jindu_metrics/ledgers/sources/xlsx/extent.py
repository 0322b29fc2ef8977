"""What an .xlsx worksheet really holds, before calamine is asked to read it.

calamine builds a dense range from the first to the farthest cell holding a value, whatever lies between:
one blank cell at XFD1048576 asks for 512 GB (the process aborts), one whitespace cell at row 1,048,576
below formatting down to row 200,000 costs seconds and gigabytes. So every worksheet is scanned first,
streamed in one pass that also collects its merged ranges and (cellscan.Scan, fed each chunk) its error
cells and formulas without a result: the row of the last non-blank value, the farthest column referenced.
The scan keeps the XML it inflated up to a little past the data (`keep`), and the parser is handed that,
cut after the last row with data and stored (`handed`): each sheet is inflated once. A sheet whose XML was
not kept and whose claimed extent is far beyond its data is rewritten in memory (rows after the last row
with data dropped, cells right of MAX_COLUMNS dropped and reported, the `<dimension>` removed) and read
from that copy. Limits are enforced on what is present, never on a claim.

The `r=` attributes of <row> and <c> are optional: calamine places a row without one after the row before
it, a cell without one right of the cell before it. A sheet written so (`positional`, seen by the scan) is
read through `Numbered`, which writes each row's and cell's place into its tag as calamine would place it,
counting rows and cells on the way (TooLarge past Excel's 1,048,576 rows or 16,384 columns, or past the
cell cap): the scan and the cut then go by `r=` as for any other sheet.
"""

from __future__ import annotations

import contextlib
import copy
import io
import re
import zipfile
import zlib
from dataclasses import dataclass, field

from ..sheet import MAX_CELLS, MAX_COLUMNS, TRIM_SLACK_CELLS
from .xml import column, letters, value_text

# 2 MB: each read hands the GIL over ~3 times (file, inflate, CRC), see scan(). 16 MB chunks held ~25 MB more
# at the formatted county workbook's peak (two sheets scanned at once, each chunk and its window copied) for
# no speed: 2 MB was as fast (benchmarks/bench_trees.py, docs/性能.md).
_CHUNK = 1 << 21
_CARRY = 1 << 16  # bytes of one chunk kept for the next: a cell cut at the boundary is seen whole
_QUIET = 1 << 20  # bytes without a cell's end after which the data is over (a cell's XML is far shorter)
_SEAM = 64  # bytes each side of a chunk's start searched for a tag cut by the boundary (the longest: </x:sheetData)

_PREFIX = re.compile(rb"<(\w+:)?worksheet\b")
_WIDE_ANY = re.compile(rb'r="[A-Z]{2}')  # a cell at column AA or beyond (row r= attributes are digits)
_AFTER_CAP = 1 << 24  # bytes after </sheetData> kept for the cut copy (beyond: the copy streams them)
_WIDE = re.compile(rb'\sr="([A-Z]{2,3})\d')
_REF = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')
_WIDE_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\sr="([A-Z]{2,3})(\d+)"[^>]*?(?:/>|>.*?</(?:\w+:)?c>)', re.S)
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*/>")


@dataclass
class Extent:
    """One worksheet as scanned: merged ranges (0-based inclusive), unknown cells and how far its cells reach."""

    merged: list = field(default_factory=list)
    # {(row, column) 0-based: error literal or cellscan.FORMULA_NO_VALUE}: cells the readers give as empty
    cells: dict = field(default_factory=dict)
    last_row: int = 0  # 1-based row of the last cell holding any value (where calamine's range ends)
    data_row: int = 0  # 1-based row of the last cell holding a non-blank value
    width: int = 0  # farthest column of a cell that holds anything (an upper bound of calamine's width)
    data_pos: int | None = None  # offset in the XML of the last cell holding a non-blank value
    # the XML from its </sheetData> on (merged ranges, page setup: what a cut copy keeps after the data), so
    # that cutting the sheet stops inflating it at its last row with data; None when not seen (or too long)
    after: bytes | None = None
    prefix: bytes = b""  # the namespace prefix of the sheet's elements ("x:"), usually none
    positional: bool = False  # rows or cells without `r=` were seen: scan the sheet again through Numbered
    numbered: bool = False  # this extent is that of the sheet read through Numbered
    copy: bytes | None = None  # that numbered XML, deflated (raw) as it was scanned: what cut_copy cuts
    # the XML as inflated by the scan, in chunks, from its start to a little past the data (scan(keep=True)):
    # the parser is handed this, cut (handed()), and the member is not inflated again; None when not kept
    kept: list | None = None

    def needs_trim(self, max_cells: int) -> bool:
        return (self.numbered or self.width > MAX_COLUMNS or self.last_row * self.width > max_cells
                or (self.last_row - self.data_row) * self.width > TRIM_SLACK_CELLS)


def scan(fh, strings, *, until_positional: bool = False, keep=False) -> Extent:
    """Stream one worksheet's XML (a binary file object) once. `strings(i)`: shared string i.
    `until_positional`: stop as soon as a tag without `r=` is seen (scan_sheet then scans through Numbered).
    `keep`: keep the XML read up to the data's end (Extent.kept): what the parser is handed, cut; or a
    pieces.Pieces, given that XML as it is read (and Extent.kept when the sheet may be parsed in pieces)."""
    walk = _Walk(strings, keep)
    size = _CHUNK if walk.pieces is None else walk.pieces.size  # pieces: parsed as soon as they are read
    while True:
        chunk = fh.read(size)
        if not chunk:
            break
        if not walk.feed(chunk, until_positional):
            return walk.ext
    return walk.finish()


class _Walk:
    """The state of scan() between chunks."""

    def __init__(self, strings, keep=False):
        from .cellscan import Scan

        self.strings = strings
        self.ext = Extent()
        self.cells = Scan(self.ext.cells)
        self.carry = b""
        self.tail: bytearray | None = None  # from </sheetData> on: merged ranges and the rest, which hold no cells
        self.sd_end = self.row_end = b""
        self.read = 0  # bytes read before this chunk
        self.quiet = 0  # bytes read since the last chunk in which a cell ends
        self.wide = False
        self.widest = 0
        self.tokens: tuple[bytes, bytes] | None = None
        # the chunks read before the data's end (and _QUIET after): a list, or a Pieces that cuts them
        self.kept = keep if not isinstance(keep, bool) else [] if keep else None
        self.pieces = None if isinstance(keep, bool) else keep
        if self.pieces is not None:
            self.pieces.ext = self.ext
        self.gap = False  # chunks past _QUIET bytes without a cell's end were not kept

    def feed(self, chunk: bytes, until_positional: bool) -> bool:
        """Take one chunk; False when the scan stops here (a tag without `r=`, `until_positional`)."""
        self.read, before = self.read + len(chunk), self.read
        if self.tail is not None:  # after the data: only error cells could still be found (none are)
            self.cells.feed(chunk)
            self.tail += chunk
            return True
        ext = self.ext
        if self.tokens is None:
            m = _PREFIX.search(chunk)
            ext.prefix = p = (m.group(1) or b"") if m else b""
            self.tokens = (b"</" + p + b"c>", b"<" + p + b"c ")
            self.sd_end = b"</" + p + b"sheetData"  # without the ">": a needle ending in a common byte searches slowly
            self.row_end = b"</" + p + b"row>"
        if not ext.positional:
            ext.positional = _unnumbered(chunk, ext.prefix)
        if ext.positional and until_positional:
            return False
        # Rows of styled empty cells (<c r="A9" s="1"/>, formatting far below the data) hold no value, error
        # or formula: every such cell is closed by </c>. A chunk in which none ends is searched for the end
        # of <sheetData> only (calamine skips valueless cells, so they widen nothing): one pass, not six, and
        # on the chunk itself and the few bytes around its start (not on a copy of the chunk with the carry before it).
        seam = self.carry[-_SEAM:] + chunk[:_SEAM]
        at = len(seam) - len(chunk[:_SEAM])  # where the chunk begins in the seam
        end = self.tokens[0]
        if not _holds(chunk, end) and seam.find(end, max(0, at - len(end) + 1)) < 0:
            self._quiet(chunk, seam, at)
        else:
            self._data(chunk, before)
        return True

    def _quiet(self, chunk: bytes, seam: bytes, at: int) -> None:
        """A chunk in which no cell ends."""
        if self.kept is not None:  # the last data row's end lies within _QUIET bytes of its last cell
            room = _QUIET - self.quiet
            if room > 0:
                self.kept.append(chunk[:room] if len(chunk) > room else chunk)
            self.gap = self.gap or len(chunk) > room
        self.cells.flush()  # no cell straddles into this chunk: what the scan held back is complete
        self.quiet += len(chunk)
        k = seam.find(self.sd_end, max(0, at - len(self.sd_end) + 1))
        if 0 <= k < at:  # begun in the carry, ends in the chunk
            self.tail = bytearray(seam[k:at]) + chunk
        else:
            k = _find_end(chunk, self.sd_end, self.row_end)
            if k >= 0:
                self.tail = bytearray(chunk[k:])
        carry = self.carry
        self.carry = chunk[-_CARRY:] if len(chunk) >= _CARRY else (carry + chunk)[-_CARRY:]

    def _data(self, chunk: bytes, before: int) -> None:
        """A chunk in which cells end: how far they reach."""
        ext = self.ext
        window = self.carry + chunk
        self.quiet = 0
        self.cells.feed(chunk)
        if not self.wide and _WIDE_ANY.search(window):
            self.wide = True
        if self.wide:
            found = set(_WIDE.findall(window))
            if found:
                self.widest = max(self.widest, max(column(v) for v in found))
        any_row, data_row, at, placed = _last_values(window, self.strings, *self.tokens)
        ext.positional = ext.positional or not placed
        ext.last_row = max(ext.last_row, any_row)
        if data_row and data_row >= ext.data_row:
            ext.data_row, ext.data_pos = data_row, before - len(self.carry) + at
        if self.kept is not None and not self.gap:
            self.kept.append(chunk)
        elif self.kept is not None and data_row:  # data after chunks that were not kept: none to hand over
            self.kept = None
        k = _find_end(window, self.sd_end, self.row_end)
        if k >= 0:
            self.tail = bytearray(window[k:])
        self.carry = window[-_CARRY:]

    def finish(self) -> Extent:
        ext, tail = self.ext, self.tail
        ext.width = self.widest or 26
        if tail is not None and len(tail) <= _AFTER_CAP:
            ext.after = bytes(tail)
        for m in _MERGE.finditer(tail or b""):
            c0, r0 = column(m.group(1)) - 1, int(m.group(2)) - 1
            c1, r1 = (column(m.group(3)) - 1, int(m.group(4)) - 1) if m.group(3) else (c0, r0)
            ext.merged.append(((r0, c0), (r1, c1)))
        if ext.width <= MAX_COLUMNS and ext.after is not None and not ext.positional:
            ext.kept = self.kept
        if self.pieces is not None:
            self.pieces.finish(ext, ext.kept is self.pieces)
        return ext


_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _holds(data: bytes, token: bytes) -> bool:
    """Whether `token` occurs in `data`. A four-byte token (`</c>`) in a long chunk is compared as 32-bit
    words at each of the four alignments, by numpy, without holding the GIL: 5 ms per 16 MB of styled empty
    cells against bytes.find's 9 ms, for whom every few bytes begin a partial match."""
    if len(token) != 4 or len(data) < 1 << 16:
        return token in data
    import numpy as np

    word = np.frombuffer(token, dtype="<u4")[0]
    return any(bool((np.frombuffer(data, dtype="<u4", count=(len(data) - k) // 4, offset=k) == word).any())
               for k in range(4))


def _find_end(window: bytes, sd_end: bytes, row_end: bytes) -> int:
    """Where `</sheetData` begins in `window`, or -1. Only after the window's last `</row>` (every row lies
    inside <sheetData>): one pass over the chunk saved, on a sheet formatted far below its data the most."""
    return window.find(sd_end, max(0, window.rfind(row_end)))


def _last_values(window: bytes, strings, end: bytes, start: bytes) -> tuple[int, int, int, bool]:
    """(row of the last cell in `window` holding a value, row of the last holding a non-blank value, where
    that cell starts, whether every cell walked over has its `r=`); rows 0 when none. Walks back from the
    end, one cell at a time, only over trailing blank cells."""
    any_row = 0
    pos = len(window)
    while True:
        k = window.rfind(end, 0, pos)
        if k < 0:
            return any_row, 0, 0, True
        s = window.rfind(start, 0, k)
        if s < 0:
            return any_row, 0, 0, True
        pos = s
        gt = window.find(b">", s)
        attrs, body = window[s:gt], window[gt + 1:k]
        ref = _REF.search(attrs)
        if ref is None:
            return any_row, 0, 0, False  # placed by position: the scan is made again through Numbered
        text = value_text(attrs, body, strings)
        if text is None:
            continue  # a formula without a cached value, or styling only: calamine skips it
        row = int(ref.group(2))
        any_row = any_row or row
        if len(ref.group(1)) == 3 and column(ref.group(1)) > MAX_COLUMNS:
            continue  # beyond the column cap: dropped by trim(), which reports it
        if not _blank(text):
            return any_row, row, s, True


_TAG_NAMES = (b"row", b"c")
_HAS_R = re.compile(rb'\sr="')


def _unnumbered(chunk: bytes, prefix: bytes) -> bool:
    """Whether the first or the last <row> or <c> tag of `chunk` lacks its `r=`. A program that leaves
    them out leaves them out of every tag; a few searches near the chunk's ends, not a pass over it."""
    for name in _TAG_NAMES:
        tag = b"<" + prefix + name
        for backwards in (False, True):
            k = chunk.rfind(tag) if backwards else chunk.find(tag)
            while k >= 0:
                follows = chunk[k + len(tag):k + len(tag) + 1]
                if follows in (b" ", b">", b"/", b"\t", b"\n", b"\r"):
                    gt = chunk.find(b">", k)
                    if gt >= 0 and not _HAS_R.search(chunk, k, gt):
                        return True
                    break
                if not follows:
                    break
                k = chunk.rfind(tag, 0, k) if backwards else chunk.find(tag, k + 1)
    return False


class TooLarge(ValueError):
    """A sheet holding more rows, columns or cells than Excel or the cell cap allows (the Chinese reason)."""


EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384


class Numbered:
    """read(n) of a worksheet's XML (from `fh`) with every <row> and <c> carrying its `r=`, placed as calamine
    places a tag without one: a row after the row before it, a cell right of the cell before it (the first
    of a row in column A). Counting on the way, it raises TooLarge past Excel's last row or column, or when
    the sheet holds more than `max_cells` cells: before calamine allocates anything."""

    # a run of rows without cells (calamine only counts them; a bounded run: sre keeps a frame per
    # repetition), else one <row> or <c> opening tag
    _TAG = re.compile(rb"((?:<(?:\w+:)?row(?:\s[^>]*?)?(?:/>|></(?:\w+:)?row>)){1,1024})"
                      rb"|<((?:\w+:)?)(row|c)(?=[\s/>])([^>]*?)(/?)>")
    _EMPTY_ROW = re.compile(rb"<(?:\w+:)?row(\s[^>]*?)?(?:/>|></(?:\w+:)?row>)")
    _ROW_R = re.compile(rb'\sr="(\d+)"')
    _CELL_R = re.compile(rb'\sr="([A-Z]{1,3})(\d+)"')

    def __init__(self, fh, max_cells: int):
        self.fh, self.max_cells = fh, max_cells
        self.pending = b""  # read, not yet rewritten (after the last ">")
        self.out = bytearray()
        self.row = self.col = self.cells = self.rows = 0
        self.eof = False

    def read(self, n: int = -1) -> bytes:
        n = (1 << 62) if n is None or n < 0 else n
        while len(self.out) < n and not self.eof:
            chunk = self.fh.read(_CHUNK)
            if not chunk:
                self.eof = True
                self.out += self.pending
                break
            data = self.pending + chunk
            cut = data.rfind(b">") + 1
            self.pending = data[cut:]
            # rows are counted here, in bulk (11M rows are refused after the first MB, not walked one by one);
            # a <rowBreaks> counted with them is the one allowed over
            self.rows += data.count(b"<row", 0, cut) or len(self._ROWS.findall(data, 0, cut))
            if self.rows > EXCEL_ROWS + 1:
                raise TooLarge(f"工作表超出大小上限（行数超过 Excel 的 {EXCEL_ROWS} 行）")
            self.out += self._TAG.sub(self._place, data[:cut])
        piece = bytes(self.out[:n])
        del self.out[:n]
        return piece

    _ROWS = re.compile(rb"<(?:\w+:)?row(?=[\s/>])")

    def _skip(self, run: bytes) -> bytes:
        """Rows without cells: counted and left out (the next row or cell carries its place)."""
        if b'r="' in run:
            for m in self._EMPTY_ROW.finditer(run):
                r = self._ROW_R.search(m.group(1) or b"")
                self.row = int(r.group(1)) if r else self.row + 1
        else:
            self.row += run.count(b"<") - run.count(b"</")
        if self.row > EXCEL_ROWS:
            raise TooLarge(f"工作表超出大小上限（行数超过 Excel 的 {EXCEL_ROWS} 行）")
        return b""

    def _place(self, m: re.Match) -> bytes:
        run, prefix, name, attrs, empty = m.groups()
        if run:
            return self._skip(run)
        if name == b"row":
            r = self._ROW_R.search(attrs)
            self.row = int(r.group(1)) if r else self.row + 1
            self.col = 0
            if self.row > EXCEL_ROWS:
                raise TooLarge(f"工作表超出大小上限（行数超过 Excel 的 {EXCEL_ROWS} 行）")
            return m.group(0) if r else b"<%srow r=\"%d\"%s%s>" % (prefix, self.row, attrs, empty)
        r = self._CELL_R.search(attrs)
        self.col = column(r.group(1)) if r else self.col + 1
        self.cells += 1
        if self.col > EXCEL_COLUMNS:
            raise TooLarge(f"工作表超出大小上限（列数超过 Excel 的 {EXCEL_COLUMNS} 列）")
        if self.cells > self.max_cells:
            raise TooLarge(f"工作表超出大小上限（单元格超过 {self.max_cells} 个）")
        if r:
            return m.group(0)
        return b'<%sc r="%s%d"%s%s>' % (prefix, letters(self.col), max(self.row, 1), attrs, empty)

    def close(self) -> None:
        self.fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()




def scan_sheet(zf: zipfile.ZipFile, member: str, strings, max_cells: int = MAX_CELLS, keep=False) -> Extent:
    """extent.scan of one worksheet member; a sheet with tags placed by position is scanned again through
    Numbered (its extent then `numbered`: cut_copy reads it through Numbered too). `keep`: as for scan."""
    try:
        with open_member(zf, member) as fh:
            ext = scan(fh, strings, until_positional=True, keep=keep)
    finally:
        if not isinstance(keep, bool):
            keep.finish(None, False)  # no-op after the scan's own finish: a failed or positional scan
    if not ext.positional:
        return ext
    _count_rows(zf, member)  # refused before the slower walk through Numbered
    with Numbered(open_member(zf, member), max_cells) as numbered:
        kept = _Keeping(numbered)
        ext = scan(kept, strings)
    ext.numbered, ext.copy = True, kept.finish()
    return ext


def _count_rows(zf: zipfile.ZipFile, member: str) -> None:
    """TooLarge when a sheet holds more <row> elements than Excel's rows: counted in bulk, chunk by chunk."""
    rows = 0
    with open_member(zf, member) as fh:
        while chunk := fh.read(_CHUNK):
            rows += chunk.count(b"<row") or len(Numbered._ROWS.findall(chunk))  # a prefix (<x:row)
            if rows > EXCEL_ROWS + 1:  # a <rowBreaks> counted with them is the one allowed over
                raise TooLarge(f"工作表超出大小上限（行数超过 Excel 的 {EXCEL_ROWS} 行）")


class _Keeping:
    """read(n) of a stream, deflating what it gives as it goes (the numbered sheet, read once)."""

    def __init__(self, fh):
        self.fh, self.deflater, self.parts = fh, deflate_module().compressobj(1, zlib.DEFLATED, -15), []

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self.parts.append(self.deflater.compress(data))
        return data

    def finish(self) -> bytes:
        self.parts.append(self.deflater.flush())
        return b"".join(self.parts)


class _Kept:
    """read(n) of a sheet kept deflated in memory (_Keeping)."""

    def __init__(self, data: bytes):
        self.inflater, self.pending = deflate_module().decompressobj(-15), data

    def read(self, n: int = -1) -> bytes:
        n = (1 << 62) if n is None or n < 0 else n
        out = self.inflater.decompress(self.pending, n)
        self.pending = self.inflater.unconsumed_tail
        return out

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.pending = b""


def _blank(text: bytes) -> bool:
    return not text.decode("utf-8", "replace").strip()


def trim(xml: bytes, ext: Extent, strings) -> tuple[bytes, int]:
    """The sheet's XML without rows after its last row with data, without cells right of MAX_COLUMNS and
    without its `<dimension>`; and how many non-blank cells right of MAX_COLUMNS were dropped."""
    dropped = 0
    if ext.width > MAX_COLUMNS:  # first: what is cut with the rows below is counted too
        def cut(m: re.Match) -> bytes:
            nonlocal dropped
            if column(m.group(1)) <= MAX_COLUMNS:
                return m.group(0)
            cell = m.group(0)
            gt = cell.find(b">")
            text = value_text(cell[:gt], cell[gt + 1:], strings) if not cell.endswith(b"/>") else None
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
    right of the column cap, by member. Sheets cut by rows only are streamed (never whole in memory) and
    deflated at level 1 by ISA-L (a fifth of zlib's time: the copy is made to be read once, at once); the
    other members are copied as they are stored, without inflating them."""
    dropped: dict[str, int] = {}
    with open_zip(source) as zin:
        out = _ZipOut()
        for info in zin.infolist():
            name = info.filename
            if name in extents:
                ext = extents[name]
                with out.member(name) as write:
                    opened = _Kept(ext.copy) if ext.copy is not None else open_member(zin, name)
                    with opened as src:
                        if ext.width > MAX_COLUMNS:
                            xml, dropped[name] = trim(src.read(), ext, strings)
                            write(xml)
                        else:
                            cut_rows(src, write, ext)
            elif name in blank:
                with out.member(name) as write:
                    write(EMPTY_SHEET)
            else:
                out.raw(zin, info)
        return out.finish(), dropped


class _ZipOut:
    """A zip package written in memory: members deflated as they are written (ISA-L when installed, else
    zlib), or copied raw from another package. Only what a worksheet copy needs: no zip64 (a member or
    the package reaching 4 GB raises zipfile.LargeZipFile, which the reader turns into its size error),
    no encryption, no comments."""

    def __init__(self):
        self.zmod = deflate_module()
        self.buf = io.BytesIO()
        self.entries: list[tuple] = []  # (name bytes, method, crc, compressed size, size, offset)

    def _header(self, name: bytes, method: int, crc: int, csize: int, size: int) -> bytes:
        import struct

        return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, method, 0, 0x21, crc, csize, size,
                           len(name), 0) + name

    def _check(self, *sizes: int) -> None:
        if max(sizes) >= 0xFFFFFFFF:
            raise zipfile.LargeZipFile("copy too large")

    @contextlib.contextmanager
    def member(self, name: str):
        """Yields write(bytes) for one member, deflated; its header is completed when the block ends."""
        key = name.encode("utf-8")
        offset = self.buf.tell()
        self.buf.write(self._header(key, zipfile.ZIP_DEFLATED, 0, 0, 0))
        deflater = self.zmod.compressobj(1, zlib.DEFLATED, -15)
        state = {"crc": 0, "size": 0}

        def write(data: bytes) -> None:
            state["crc"] = self.zmod.crc32(data, state["crc"])
            state["size"] += len(data)
            self.buf.write(deflater.compress(data))

        yield write
        self.buf.write(deflater.flush())
        end = self.buf.tell()
        csize = end - offset - 30 - len(key)
        self._check(csize, state["size"], end)
        self.buf.seek(offset)
        self.buf.write(self._header(key, zipfile.ZIP_DEFLATED, state["crc"], csize, state["size"]))
        self.buf.seek(end)
        self.entries.append((key, zipfile.ZIP_DEFLATED, state["crc"], csize, state["size"], offset))

    def deflated(self, name: str, data: bytes, crc: int, size: int, method: int = zipfile.ZIP_DEFLATED) -> None:
        """One member from its bytes as stored (a raw deflate stream), CRC-32 and size."""
        key = name.encode("utf-8")
        offset = self.buf.tell()
        self._check(len(data), size, offset + len(data))
        self.buf.write(self._header(key, method, crc, len(data), size))
        self.buf.write(data)
        self.entries.append((key, method, crc, len(data), size, offset))

    def raw(self, zin: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        """Copy one member of `zin` as it is stored (its compressed bytes, read once)."""
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) or info.flag_bits & 0x1:
            with self.member(info.filename) as write:  # another method: inflated by zipfile, deflated here
                write(zin.read(info))
            return
        with _raw(zin, info) as fh:
            self.deflated(info.filename, fh.read(), info.CRC, info.file_size, info.compress_type)

    def finish(self) -> bytes:
        self.buf.write(self._central(self.buf.tell()))
        return self.buf.getvalue()

    def finish_stored(self, name: str, parts: list) -> bytes:
        """The package with one more member, last, stored as it is (no compression) from its parts, joined
        once into the package's bytes. The package itself is left as it was (Package: one per piece)."""
        key = name.encode("utf-8")
        crc = size = 0
        for part in parts:
            crc, size = self.zmod.crc32(part, crc), size + len(part)
        offset = self.buf.tell()
        self._check(size, offset + size)
        header = self._header(key, zipfile.ZIP_STORED, crc, size, size)
        entries = [*self.entries, (key, zipfile.ZIP_STORED, crc, size, size, offset)]  # self's left as they are
        return b"".join([self.buf.getvalue(), header, *parts, self._central(offset + len(header) + size, entries)])

    def _central(self, start: int, entries: list | None = None) -> bytes:
        """The central directory (of `entries`, else the package's) and its end record, for a directory
        starting at `start`."""
        import struct

        entries = self.entries if entries is None else entries
        out = [struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, method, 0, 0x21, crc, csize, size,
                           len(key), 0, 0, 0, 0, 0, offset) + key
               for key, method, crc, csize, size, offset in entries]
        length = sum(map(len, out))
        self._check(start + length)
        n = len(entries)
        out.append(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, length, start, 0))
        return b"".join(out)


def handed(source, member: str, ext: Extent, blank=()) -> bytes:
    """The workbook `source` as bytes with sheet `member` cut as cut_rows() cuts it, made from the XML the
    scan kept (Extent.kept, then dropped) and stored without compression, and the members in `blank` left
    empty: what the parser reads without inflating the sheet a second time. The kept chunks are joined
    once, into the copy. ValueError when the kept XML does not reach the end of the data's last row."""
    kept, ext.kept = ext.kept, None
    return Package(source, member, blank).stored(_cut_parts(kept, ext))


class Package:
    """The workbook `source` without sheet `member` and with the members in `blank` left empty, written
    once: stored(parts) gives it with that sheet stored from `parts` (one copy per piece of a sheet)."""

    def __init__(self, source, member: str, blank=()):
        self.member = member
        with open_zip(source) as zin:
            self.out = _ZipOut()
            for info in zin.infolist():
                if info.filename in blank:
                    with self.out.member(info.filename) as write:
                        write(EMPTY_SHEET)
                elif info.filename != member:
                    self.out.raw(zin, info)

    def stored(self, parts: list) -> bytes:
        return self.out.finish_stored(self.member, parts)


def _cut_parts(kept: list, ext: Extent) -> list:
    """The kept chunks (views, no copies) up to the end of the data's last row (or of `<sheetData>` when
    the sheet holds no data), then the part after the data: cut_rows()' output."""
    p = ext.prefix
    target, start = (b"<" + p + b"sheetData>", 0) if ext.data_pos is None else (b"</" + p + b"row>", ext.data_pos)
    parts: list = []
    offset, seam = 0, b""
    for chunk in kept:
        view = memoryview(chunk)
        # a target cut by the chunks' boundary: the end of the chunk before, the start of this one
        both = seam + bytes(view[: len(target) - 1])
        k = both.find(target, max(0, start - (offset - len(seam))))
        if k >= 0:
            end = k + len(target) - len(seam)
        else:
            k = chunk.find(target, max(0, start - offset))
            end = k + len(target) if k >= 0 else -1
        if end >= 0:
            return [*parts, view[:end], ext.after]
        parts.append(view)
        offset += len(chunk)
        seam = bytes(view[-(len(target) - 1):])
    raise ValueError("sheet XML kept ends before its data")


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


def deflate_module():
    """ISA-L's zlib interface (isal: about twice zlib's speed to inflate, five times to deflate at level 1),
    else zlib where no isal wheel installs."""
    try:
        from isal import isal_zlib
    except ImportError:
        return zlib
    return isal_zlib


def open_member(zf: zipfile.ZipFile, name: str):
    """A zip member to read(n) from, inflated by ISA-L (isal: about twice zlib's speed; the scans inflate
    every worksheet once, the cut copies a second time) when it is deflated, else by zipfile. The CRC and
    size are checked at its end, as zipfile checks them."""
    info = zf.getinfo(name)
    zmod = deflate_module()
    if zmod is zlib or info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1:
        return zf.open(info)  # zlib (zipfile does the same), stored, other methods, encrypted
    return _Inflating(_raw(zf, info), info, zmod)


def _raw(zf: zipfile.ZipFile, info: zipfile.ZipInfo):
    """The compressed bytes of a member as zipfile reads them (the local header checked), not inflated."""
    raw_info = copy.copy(info)
    raw_info.compress_type = zipfile.ZIP_STORED
    raw_info.file_size = info.compress_size  # a stored member ends at its size: the compressed one here
    del raw_info.CRC  # not checked against the CRC of the inflated member (the reader of the bytes does)
    return zf.open(raw_info)


class _Inflating:
    """read(n) of a deflated member from its raw bytes (open_member)."""

    _RAW = 1 << 22  # compressed bytes per read (~40 MB inflated): few hand-overs of the GIL

    def __init__(self, raw, info: zipfile.ZipInfo, zmod):
        self.raw, self.info, self.crc32, self.error = raw, info, zmod.crc32, zmod.error
        self.inflater = zmod.decompressobj(-15)
        self.pending, self.crc, self.size, self.eof, self.ended = b"", 0, 0, False, False

    def read(self, n: int = -1) -> bytes:
        n = (1 << 62) if n is None or n < 0 else n
        parts, got = [], 0
        while got < n and not self.eof:
            if not self.pending:
                self.pending = self.raw.read(self._RAW)
            try:
                if self.pending:
                    piece = self.inflater.decompress(self.pending, n - got)
                    self.pending = self.inflater.unconsumed_tail
                else:  # all input given: what the inflater still holds, until it gives nothing more
                    piece = self.inflater.flush()
                    self.ended = not piece
            except self.error as exc:  # damaged data: the error zipfile would raise, which callers word
                raise zlib.error(str(exc)) from None
            self.crc, self.size = self.crc32(piece, self.crc), self.size + len(piece)
            parts.append(piece)
            got += len(piece)
            if (self.inflater.eof and not self.pending) or self.ended:
                self.eof = True
                if self.crc != self.info.CRC or self.size != self.info.file_size:
                    raise zipfile.BadZipFile(f"Bad CRC-32 for file {self.info.filename!r}")
        return b"".join(parts)

    def close(self) -> None:
        self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_zip(source) -> zipfile.ZipFile:
    """A zip package from a path or from bytes held in memory (a decrypted or rewritten workbook)."""
    return zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes | bytearray) else source)
