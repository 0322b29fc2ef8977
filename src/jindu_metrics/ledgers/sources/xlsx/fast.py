"""Fast path for .xlsx/.xlsm: header rows from a streamed peek at the sheet XML, data columns from fastexcel
(calamine + Arrow, one parse per sheet, no Python rows).

Exactness first: a sheet takes the fast path only when fastexcel returns each data column with one type
(dtype_coercion="strict"), no merged range touches the data rows and nothing lies left of the header's
first column. Otherwise that sheet is read by python-calamine (exact.py),
so a mixed ID column (numbers and text) still yields id_stored_as_number.
"""

from __future__ import annotations

import html
import re
import threading
import zipfile
from collections.abc import Callable
from pathlib import PurePosixPath

from ..sheet import MAX_COLUMNS
from . import extent
from .extent import Extent, open_zip
from .xml import Strings, column, value

KEEP_BYTES = 256 << 20  # a sheet's XML up to this size is kept by its scan for the parse (Extent.kept)
HEAD_ROWS = 50  # rows peeked for header detection (detect() scans 20, the emptiness check 50)
_CHUNK = 1 << 20

_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*?)/?>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_REL = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*?)/?>")
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?row>)", re.S)
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_ROW_OPEN = re.compile(rb'<(?:\w+:)?row(?=[\s/>])(?:[^>]*?\sr="(\d+)")?')
_REF = re.compile(r"([A-Z]+)(\d+)")


class Unsupported(Exception):
    """This workbook or sheet is not for the fast path (the caller uses python-calamine)."""


def _attrs(raw: bytes) -> dict[str, str]:
    return {k.decode().split(":")[-1]: html.unescape(v.decode("utf-8")) for k, v in _ATTR.findall(raw)}


def sheet_parts(zf: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(sheet name, zip member) of every worksheet, in workbook order."""
    wb = zf.read("xl/workbook.xml")
    rels = {}
    for m in _REL.finditer(zf.read("xl/_rels/workbook.xml.rels")):
        a = _attrs(m.group(1))
        if a.get("Type", "").endswith("/worksheet"):
            t = a["Target"]
            rels[a["Id"]] = t.lstrip("/") if t.startswith("/") else str(PurePosixPath("xl") / t)
    out = []
    for m in _SHEET.finditer(wb):
        a = _attrs(m.group(1))
        if a.get("id") in rels:
            out.append((a["name"], rels[a["id"]]))
    return out


def peek(zf: zipfile.ZipFile, member: str, sst: Strings) -> list[list]:
    """The first HEAD_ROWS rows of a sheet as cell values, padded from A1 (only the head is inflated)."""
    parts: list[bytes] = []
    rows = 0
    with zf.open(member) as fh:
        while True:
            chunk = fh.read(_CHUNK // 4)
            if not chunk:
                break
            seam = parts[-1][-64:] if parts else b""
            parts.append(chunk)
            last = None
            for m in _ROW_OPEN.finditer(seam + chunk):
                rows += m.start() >= len(seam)
                if m.group(1) is not None:
                    last = int(m.group(1))
            # rows without `r=` (placed by position) are counted: their head ends after HEAD_ROWS of them
            if ((last is not None and last > HEAD_ROWS) or rows > HEAD_ROWS or b"</sheetData>" in seam + chunk
                    or b"<sheetData/>" in seam + chunk):
                break
    return _parse_head(b"".join(parts), sst)


def scan_member(source, member: str, sst: Strings, zf: zipfile.ZipFile | None = None, pieces=None) -> Extent:
    """A sheet's merged ranges, unknown cells and extent (extent.scan_sheet), in one pass. They follow or span
    the cell data, so the whole member is inflated (zlib runs without the GIL). `zf`: the workbook already
    open (many sheets to scan). `pieces`: a pieces.Pieces the XML is cut into as it is read."""
    if zf is None:
        with open_zip(source) as own:
            return scan_member(source, member, sst, own, pieces)
    keep = zf.getinfo(member).file_size <= KEEP_BYTES
    if pieces is not None and not keep:
        pieces.finish(None, False)
    return extent.scan_sheet(zf, member, sst.__getitem__, keep=pieces if keep and pieces is not None else keep)


def _parse_head(data: bytes, sst: Strings) -> list[list]:
    cells: dict[int, dict[int, object]] = {}
    for rm in _ROW.finditer(data):
        ra = _attrs(rm.group(1))
        if "r" not in ra:
            raise Unsupported("row without r")
        r = int(ra["r"]) - 1
        if r >= HEAD_ROWS:
            break
        for cm in _CELL.finditer(rm.group(2) or b""):
            ca = _attrs(cm.group(1))
            ref = _REF.fullmatch(ca.get("r", ""))
            if not ref:
                raise Unsupported("cell without r")
            c = column(ref.group(1)) - 1
            if c >= MAX_COLUMNS:
                continue  # beyond the column cap: the body's rewrite drops it and reports it
            v = value(ca, cm.group(2), sst)
            if v != "":
                cells.setdefault(r, {})[c] = v
    if not cells:
        return []
    height = max(cells) + 1
    width = max(max(c) for c in cells.values()) + 1
    out = [[""] * width for _ in range(height)]
    for r, cs in cells.items():
        for c, v in cs.items():
            out[r][c] = v
    return out


def available() -> bool:
    """Whether fastexcel is installed. Not imported here: it pulls in pyarrow, and the reader thread
    imports it while this one imports pandas."""
    from importlib.util import find_spec

    return find_spec("fastexcel") is not None


def read(source, max_cells: int, *, scan_ahead: bool = False) -> list[tuple[str, list[list], _Body]]:
    """(sheet name, head rows, body) of every worksheet: `body(start)` gives the data columns (xlsx.read makes
    Sheets of them; a sheet larger than `max_cells` is refused).

    `body(start)` returns None when the fast path refuses the sheet (the caller then reads it by calamine).
    Raises Unsupported when the workbook's structure is not understood (the caller reads it all by calamine).
    fastexcel itself is imported when the first sheet is loaded. `scan_ahead`: begin scanning the largest
    sheet in a background thread at once, while the heads are read and the headers found (its scan and then
    its parse are the longest chain of a county run; _Book.scan adds the others once their headers are known).
    """
    book = None
    try:
        with open_zip(source) as zf:
            sst = Strings(zf)
            members = sheet_parts(zf)
            sizes = {m: parse_weight(zf.getinfo(m)) for _, m in members}
            book = _Book(source, max_cells, sst)
            heads = {}
            if scan_ahead and members:
                largest = max(sizes, key=sizes.__getitem__)
                heads[largest] = peek(zf, largest, sst)  # first: a sheet the fast path refuses is not scanned
                book.piece(largest, next(n for n, m in members if m == largest), heads[largest])
                book.scan([largest])
            parts = [(n, heads[m] if m in heads else peek(zf, m, sst), m, sizes[m]) for n, m in members]
    except Exception as exc:  # noqa: BLE001 - anything odd: calamine reads it and words the error
        if book is not None:
            book.close()
        raise exc if isinstance(exc, Unsupported) else Unsupported(str(exc)) from None
    if not parts:
        book.close()
        raise Unsupported("no worksheets")
    book.members = [member for _, _, member, _ in parts]
    return [(sheet_name, head, _Body(book, sheet_name, head, member, size)) for sheet_name, head, member, size in parts]


def parse_weight(info: zipfile.ZipInfo) -> float:
    """How long a sheet takes to parse, roughly, before it is scanned: its compressed size, weighted by how
    poorly it compresses (compressed / inflated size). Cells with values compress worse than rows of styled
    empty cells: on the county workbook formatted down to row 200,000, the persons sheet compresses largest
    (7.1 MB, mostly formatting) though the contacts sheet (6.4 MB) holds four times its data. Its inflated
    size alone would put every formatted sheet first. A guess: formatting that dwarfs its data even more
    still puts its sheet first; only the order of the work depends on it, never what is read."""
    return info.compress_size * info.compress_size / max(info.file_size, 1)


def _open_reader(source):
    import logging

    import fastexcel

    # fastexcel logs (in English) when an all-empty column has no type; that is not the user's concern
    logging.getLogger("fastexcel").setLevel(logging.ERROR)
    return fastexcel.read_excel(source if isinstance(source, bytes) else str(source))


def _origin(head: list[list], start: int) -> tuple[int, int]:
    """(first row holding a value, first column holding one) of the head: where calamine's range starts
    when nothing lies left of the head (Unsupported when the head holds no header row)."""
    used = [i for i, row in enumerate(head) if any(v != "" for v in row)]
    if not used or start - 1 >= len(head):
        raise Unsupported("no header in the head")
    col0 = min(next(c for c, v in enumerate(row) if v != "") for row in head if any(v != "" for v in row))
    return used[0], col0


def _parse(reader, sheet: str, header_row: int, max_cells: int):
    """fastexcel's Arrow table of a sheet, strictly typed (Unsupported for anything it refuses)."""
    try:
        if sheet not in reader.sheet_names:
            raise Unsupported("sheet list differs")
        loaded = reader.load_sheet(sheet, header_row=header_row, schema_sample_rows=None, dtype_coercion="strict")
        if loaded.height * max(loaded.width, 1) > max_cells:
            raise Unsupported("too large")  # calamine words the size error
        return loaded.to_arrow()
    except Unsupported:
        raise
    except Exception as exc:  # noqa: BLE001 - mixed types and the like: the exact path decides
        raise Unsupported(str(exc)) from None


def load_table(reader, sheet: str, head: list[list], start: int, max_cells: int, merged_of: Callable[[], list],
               table=None):
    """(Arrow table of the data rows from 0-based row `start`, first column index, merged ranges), or
    Unsupported when the sheet cannot be read exactly this way. `merged_of()` gives the sheet's merged
    ranges; they are checked after the load (a refusal there is rare, and the scan may still be running).
    `table`: that table already parsed (in pieces), checked as if parsed here."""
    row0, col0 = _origin(head, start)
    hdr = head[start - 1]
    if table is None:
        table = _parse(reader, sheet, start - 1 - row0, max_cells)
    elif table.num_rows * max(table.num_columns, 1) > max_cells:
        raise Unsupported("too large")
    _check_alignment(hdr, table.column_names, col0)
    try:
        merged = merged_of()
    except Exception as exc:  # noqa: BLE001 - calamine words the damage
        raise Unsupported(str(exc)) from None
    if any(r1 >= start for (r0, c0), (r1, c1) in merged):
        raise Unsupported("merged cells in the data rows")
    return table, col0, merged


def _check_alignment(hdr: list, names: list[str], col0: int) -> None:
    """Every text header cell must be the column fastexcel named after it (Unsupported otherwise)."""
    matched = 0
    for c, v in enumerate(hdr):
        if isinstance(v, str) and v.strip() and c >= col0:
            j = c - col0
            if j >= len(names) or not (names[j] == v or names[j].startswith(v + "_")):
                raise Unsupported("header alignment")
            matched += 1
    if not matched:
        raise Unsupported("no text header")


def _columns_of(table, col0: int) -> tuple[list, int]:
    import numpy as np

    from ..arrow import encode_columns

    cols: list = [np.full(table.num_rows, None, dtype=object) for _ in range(col0)]
    cols.extend(encode_columns(table))
    return cols, table.num_rows


class _Book:
    """One workbook on the fast path: the fastexcel reader, opened when the first sheet is loaded.

    Each sheet is parsed after its scan (extent.scan: merged ranges and how far its cells really reach),
    from a copy of the workbook holding the XML the scan kept, cut after the data and stored, so that it is
    not inflated again (extent.handed); the largest sheet (read() with scan_ahead) in pieces cut during its
    scan, which both read threads parse as they come (pieces.py; help()); a sheet whose XML was not kept (wider than the column cap, cells
    placed by position, larger than KEEP_BYTES) from a rewritten copy when it needs cutting, else from the
    workbook itself. When the caller loads
    them ahead in threads of its own (prefetch.Prefetch), it first calls scan(): the scans, which mostly
    inflate the zip (ISA-L runs without the GIL), then run in another thread, each ahead of its sheet's
    parse. A scan not begun when its sheet's parse wants it is done by the thread that parses: the sheet
    that weighs most (parse_weight) is not always the longest to parse, and two parses need not queue
    behind one scanner. A fastexcel reader parses one sheet at a time ("Already borrowed" otherwise): each
    thread that parses has readers of its own.
    """

    def __init__(self, source, max_cells: int, sst: Strings):
        self.source, self.max_cells, self.sst = source, max_cells, sst
        self.members: list[str] = []  # every worksheet's zip member
        self.readers = threading.local()  # this thread's reader of the workbook (.book)
        self.scans: dict = {}  # member -> Future of its Extent
        self.claimed: set[str] = set()  # members whose scan a thread has begun
        self.lock = threading.Lock()
        self.pool = None
        self.zf: zipfile.ZipFile | None = None  # the main thread's, for its scans
        self.pieces: dict = {}  # member -> pieces.Pieces: the sheet parsed in pieces during its scan
        self.pieced: dict[str, tuple[str, list]] = {}  # member -> (sheet name, head rows) of those
        self.package = None  # extent.Package of the workbook without the sheet parsed in pieces

    def piece(self, member: str, sheet: str, head: list[list]) -> None:
        """Parse this sheet in pieces during its scan (pieces.py), the scan not begun yet."""
        from .pieces import Pieces

        self.pieces[member], self.pieced[member] = Pieces(), (sheet, head)

    def scan(self, members: list[str]) -> None:
        """Start scanning these sheets, in this order, in a background thread."""
        from concurrent.futures import ThreadPoolExecutor

        if not members:
            return
        if self.pool is None:
            from .prefetch import quick_switch

            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jindu-merged")
            quick_switch(True)  # the scan lets go of the GIL to inflate; this thread is busy meanwhile
        for m in members:
            self.pool.submit(self._scan, m)

    def _scan(self, member: str):
        """The Future of a sheet's scan, done now by this thread unless another has begun it. The main
        thread keeps the workbook open for all its scans (a workbook may hold a thousand sheets); the
        others open it per scan (they scan a few, each before a parse that takes far longer)."""
        from concurrent.futures import Future

        with self.lock:
            future = self.scans.setdefault(member, Future())
            if member in self.claimed:
                return future
            self.claimed.add(member)
        try:
            zf = None
            if threading.current_thread() is threading.main_thread():
                if self.zf is None:
                    self.zf = open_zip(self.source)
                zf = self.zf
            future.set_result(scan_member(self.source, member, self.sst, zf, self.pieces.get(member)))
        except BaseException as exc:  # kept, and raised to every caller (none waits for ever)
            future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        return future

    def extent(self, member: str) -> Extent:
        """The sheet's scan: the one begun in the background, else done now (and kept: the header check,
        the parse and a fallback to calamine all ask)."""
        return self._scan(member).result()

    def scanned(self, member: str) -> Extent | None:
        """The sheet's scan, or None when the sheet could not be scanned (damaged)."""
        try:
            return self.extent(member)
        except Exception:  # noqa: BLE001 - python-calamine reads the sheet and words the damage
            return None

    def trimmed(self, member: str):
        """(fastexcel reader of a copy of the workbook in which this sheet is cut and every other sheet left
        empty, non-blank cells cut right of the column cap). One copy per such sheet, made as soon as its
        scan is done (not after every sheet's), and dropped once its sheet is parsed."""
        others = set(self.members) - {member}
        ext = self.extent(member)
        data, dropped = extent.cut_copy(self.source, {member: ext}, self.sst.__getitem__, others)
        return _open_reader(data), dropped.get(member, 0)

    def _handed(self, member: str, ext: Extent):
        """A fastexcel reader of a copy of the workbook holding this sheet as the scan read it, cut after
        its data, stored (extent.handed; every other sheet empty); None when the scan kept no XML."""
        if ext.kept is None:
            return None
        try:
            data = extent.handed(self.source, member, ext, set(self.members) - {member})
        except ValueError:
            return None  # the kept XML ends before the data's last row: cut from the workbook
        return _open_reader(data)

    def has_merged(self, member: str) -> bool:
        """Whether a sheet has merged cells (True when that cannot be told)."""
        try:
            return bool(self.extent(member).merged)
        except Exception:  # noqa: BLE001 - damaged: python-calamine reads the sheet and words the error
            return True

    def close(self) -> None:
        if self.pool is not None:
            from .prefetch import quick_switch, unwinding

            self.pool.shutdown(wait=not unwinding(), cancel_futures=True)
            self.pool = None
            quick_switch(False)
        if self.zf is not None:
            self.zf.close()
            self.zf = None

    def help(self, member: str, start: int) -> None:
        """Parse pieces of a sheet parsed in pieces (another thread's fetch joins them)."""
        pieces = self.pieces.get(member)
        if pieces is not None:
            try:
                parse = self._piece_parser(member, start)
            except Unsupported:
                return  # the sheet's own fetch parses it whole
            pieces.work(parse)

    def _piece_parser(self, member: str, start: int):
        """parse(k, xml) of one piece of the sheet (pieces.Pieces.work): its table, from a copy of its own."""
        from .pieces import Refused

        pieces = self.pieces[member]
        sheet, head = self.pieced[member]
        row0 = _origin(head, start)[0]

        def parse(k: int, raw: bytes):
            if k == 0:
                parts, header_row = [raw], start - 1 - row0
            else:
                first = pieces.first_row[k]
                if not first:
                    raise Refused("a piece without numbered rows")
                parts, header_row = [pieces.opening(), pieces.header(start, first), raw], 0
            close = b"</%ssheetData></%sworksheet>" % (pieces.ext.prefix, pieces.ext.prefix)
            with self.lock:
                if self.package is None:
                    self.package = extent.Package(self.source, member, set(self.members) - {member})
            reader = _open_reader(self.package.stored([*parts, close]))
            return _parse(reader, sheet, header_row, self.max_cells)

        return parse

    def _pieced(self, body, start: int):
        """The sheet's table joined from its pieces, or None (not parsed in pieces, or they were refused)."""
        pieces = self.pieces.get(body.member)
        if pieces is None:
            return None
        try:
            parse = self._piece_parser(body.member, start)
        except Unsupported:
            return None
        return pieces.table(parse, start)

    def fetch(self, body, start: int):
        table = self._pieced(body, start)
        ext = self.extent(body.member)
        if table is not None:
            table, col0, merged = load_table(None, body.sheet, body.head, start, self.max_cells,
                                             lambda: ext.merged, table)
            body.merged, body.cells, ext.kept = merged, ext.cells, None
            return _columns_of(table, col0)
        if ext.kept is self.pieces.get(body.member):
            ext.kept = None  # refused: the whole sheet is parsed from the workbook
        reader = self._handed(body.member, ext)
        if reader is None and ext.needs_trim(self.max_cells):
            # a stray cell far below or right of the data: parse a copy without it
            reader, body.dropped = self.trimmed(body.member)
        elif reader is None:
            if getattr(self.readers, "book", None) is None:
                self.readers.book = _open_reader(self.source)
            reader = self.readers.book
        table, col0, merged = load_table(reader, body.sheet, body.head, start, self.max_cells,
                                         lambda: ext.merged)
        body.merged, body.cells = merged, ext.cells
        return _columns_of(table, col0)


class _Body:
    """Loads a sheet's data rows (from 0-based row `start`) as one array per column, absolute column index."""

    def __init__(self, book: _Book, sheet: str, head: list[list], member: str, size: float = 0):
        self.book, self.sheet, self.head, self.member = book, sheet, head, member
        self.size = size  # parse_weight(): how long it takes to parse, roughly, before it is scanned
        self.merged: list | None = None  # known once the body was loaded; the caller re-checks the header
        self.dropped = 0  # non-blank cells right of MAX_COLUMNS, left out
        self.cells: dict = {}  # known once the body was loaded: its error cells and formulas without a result

    def __call__(self, start: int):
        try:
            return self.book.fetch(self, start)
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except BaseException:  # noqa: BLE001 - Unsupported, a Rust panic (pyo3 PanicException is a
            return None  # BaseException), anything odd: python-calamine reads the sheet and words any error
