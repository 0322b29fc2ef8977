"""The largest sheet parsed in pieces while it is scanned: its parse begins before its scan ends, runs in
both read threads, and no joined copy of the whole sheet is held.

As the scan inflates the sheet (extent.scan with `keep` a Pieces), its XML is cut after a `</row>` that lies
before the last non-blank cell seen so far into pieces of about PIECE_BYTES; once the scan ends, the last
piece runs to the end of the data's last row (where extent.handed cuts). Each piece is parsed by fastexcel
from a stored copy of its own: the first as it is (the sheet's start, its header, its first rows); every
other one after the sheet's start up to `<sheetData>` and the header row moved to two rows above the
piece's first row (the row between must come out empty). The tables are joined as calamine's one range
would give them: the empty rows between pieces put back as null rows, a column empty in a piece given the
type it has in the others.

Anything that might make the join differ from the whole sheet's table refuses it (Pieces.table gives None
and the sheet takes the whole-sheet path): a piece refused by fastexcel, different column names, a column
of two types, a row placed above the piece's first row, pieces that overlap. Rows are taken to follow
each other in the XML, as Excel writes them and as the scan's extent already assumes.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import Future

PIECE_BYTES = 4 << 20  # a piece's XML, roughly: ~10 pieces for the county's contacts sheet

_ROW_AT = re.compile(rb'<(?:\w+:)?row\b[^>]*?\sr="(\d+)"')
_REFS = re.compile(rb'(<(?:\w+:)?(?:row|c)\b[^>]*?\sr="[A-Z]*)(\d+)(")')


class Refused(Exception):
    """The pieces cannot stand for the whole sheet (the caller parses it whole)."""


class Pieces:
    """A sheet's XML cut into pieces during its scan (the scan's side: append, finish) and the pieces parsed
    by whichever thread claims them first (work, table)."""

    def __init__(self, size: int | None = None):
        self.size = size or PIECE_BYTES
        self.ext = None  # the scan's Extent (extent._Walk sets it): where the last non-blank cell is
        self.pending: list = []  # inflated XML not yet cut into a piece
        self.at = 0  # offset in the sheet's XML of pending's start
        self.raw: list = []  # each piece's XML (None once claimed)
        self.first_row: list[int] = []  # each piece's first row (1-based `r=` of its first <row>)
        self.head: bytes | None = None  # the XML up to the header row's start (from the first piece)
        self.cond = threading.Condition()
        self.done = self.ok = False
        self.claimed = 0
        self.results: list[Future] = []

    # the scan's side

    def append(self, chunk) -> None:
        """The next chunk of the sheet's XML, as the scan keeps it; pieces are cut before its last value."""
        self.pending.append(chunk)
        pos = None if self.ext is None else self.ext.data_pos
        if pos is None or pos - self.at < self.size:
            return
        data = b"".join(self.pending)
        end = b"</" + self.ext.prefix + b"row>"
        cuts, s, limit = [], 0, pos - self.at
        while limit - s >= self.size:
            k = data.find(end, max(s + self.size, self._past_head(data) if not self.raw and not cuts else 0), limit)
            if k < 0:
                break
            cuts.append((s, k + len(end)))
            s = k + len(end)
        view = memoryview(data)  # the pieces are views: the chunk is copied once more, into each piece's copy
        self._add([view[a:b] for a, b in cuts])
        self.pending, self.at = [view[s:]], self.at + s

    @staticmethod
    def _past_head(data: bytes) -> int:
        """Where the first row after the head begins (the first piece holds the header, found in the head);
        len(data) when not in `data`."""
        from ..grid import HEAD_ROWS  # the rows the header is looked for in (fast.peek's too)

        for m in _ROW_AT.finditer(data):
            if int(m.group(1)) > HEAD_ROWS:
                return m.start()
        return len(data)

    def _add(self, pieces: list) -> None:
        if not pieces:
            return
        rows = [_first_row(p) for p in pieces]
        with self.cond:
            self.raw.extend(pieces)
            self.first_row.extend(rows)
            self.cond.notify_all()

    def finish(self, ext, ok: bool) -> None:
        """The scan is over (`ok`: its XML was kept whole up to the data's end): the last piece, to the end
        of the data's last row. Only the first call counts (a failed scan calls it too)."""
        if self.done:
            return
        last = None
        if ok and ext is not None and ext.data_pos is not None and ext.data_pos >= self.at:
            data = b"".join(self.pending)
            end = b"</" + ext.prefix + b"row>"
            k = data.find(end, ext.data_pos - self.at)
            last = memoryview(data)[:k + len(end)] if k >= 0 else None
        self.pending = []
        if last is not None:
            self._add([last])
        with self.cond:
            self.done, self.ok = True, last is not None
            self.cond.notify_all()

    # the parsers' side

    def work(self, parse) -> None:
        """Parse pieces until none is left unclaimed: `parse(k, xml_parts)` gives piece k's table."""
        while True:
            with self.cond:
                while self.claimed >= len(self.raw) and not self.done:
                    self.cond.wait()
                if self.claimed >= len(self.raw) or (self.done and not self.ok):
                    return
                k = self.claimed
                self.claimed += 1
                raw, self.raw[k] = self.raw[k], None
                future: Future = Future()
                self.results.append(future)
                if k == 0:
                    self.head = bytes(raw[:1 << 20])  # the header lies in the first HEAD_ROWS rows
            try:
                future.set_result(parse(k, raw))
            except BaseException as exc:
                future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise

    def table(self, parse, start: int):
        """The pieces' tables joined into the table of the whole sheet's data rows (after the header at
        1-based row `start`), or None when the pieces cannot stand for it. Parses what no one has claimed."""
        self.work(parse)
        with self.cond:
            while not self.done:
                self.cond.wait()
            if not self.ok:
                return None
            results = list(self.results)
        try:
            tables = [f.result() for f in results]  # each parsed (by whichever thread claimed it)
            return join(tables, self.first_row, start)
        except Exception:  # noqa: BLE001 - a refusal (Refused), a piece's parse error: parse it whole
            return None
        finally:
            self.results, self.head = [], None  # every parse is over: nothing more is needed of them

    def header(self, start: int, first: int) -> bytes:
        """The header row's XML (1-based row `start`, from the first piece) moved to row `first - 2`."""
        head = self.head
        m = re.search(rb'<(?:\w+:)?row\b[^>]*?\sr="%d"' % start, head)
        if m is None:
            raise Refused("header row not found")
        end = head.find(b"</" + self.ext.prefix + b"row>", m.start())
        if end < 0 or first - 2 < 1:
            raise Refused("header row not in the first piece")
        row = head[m.start():end + len(self.ext.prefix) + 6]
        if any(int(n) != start for _, n, _ in _REFS.findall(row)):
            raise Refused("header row's cells placed elsewhere")
        return _REFS.sub(lambda x: x.group(1) + b"%d" % (first - 2) + x.group(3), row)

    def opening(self) -> bytes:
        """The sheet's XML up to and with `<sheetData>` (from the first piece)."""
        tag = b"<" + self.ext.prefix + b"sheetData>"
        k = self.head.find(tag)
        if k < 0:
            raise Refused("no <sheetData>")
        return self.head[:k + len(tag)]


def _first_row(piece: bytes) -> int:
    m = _ROW_AT.search(piece)
    return int(m.group(1)) if m else 0


def join(tables: list, first_rows: list[int], start: int):
    """One table from the pieces' tables (see the module's docstring). Piece 0's table starts after the
    header (1-based row `start`); piece k's (k > 0) with the empty row above its first row `first_rows[k]`."""
    import pyarrow as pa

    names = tables[0].column_names
    if any(t.column_names != names for t in tables):
        raise Refused("column names differ")
    parts, after = [], start  # after: the last row (1-based) given so far
    for k, t in enumerate(tables):
        if k and t.num_rows:
            if any(c.null_count != 1 for c in t.slice(0, 1).columns):
                raise Refused("a cell above the piece's first row")
            t = t.slice(1)
        if not t.num_rows:
            continue
        first = start + 1 if k == 0 else first_rows[k]
        if first <= after:
            raise Refused("pieces overlap")
        parts.append((first - after - 1, t))
        after = first + t.num_rows - 1
    types = _types(tables, names)
    out = []
    for gap, t in parts:
        cols = [_as(c, ty) for c, ty in zip(t.columns, types)]
        if gap:
            out.append(pa.table([pa.nulls(gap, ty) for ty in types], names=names))
        out.append(pa.table(cols, names=names))
    if not out:
        return tables[0].slice(0, 0)
    return pa.concat_tables(out)


def _types(tables: list, names: list) -> list:
    """Each column's type: the one it has in every piece where it holds a value (Refused when two)."""
    types = []
    for j in range(len(names)):
        seen = {t.column(j).type for t in tables if t.column(j).null_count < t.num_rows}
        if not seen:
            seen = {t.column(j).type for t in tables}
        if len(seen) != 1:
            raise Refused("a column of two types")
        types.append(seen.pop())
    return types


def _as(column, ty):
    """A piece's column as type `ty` (a column empty in this piece may have come out of another type)."""
    if column.type == ty:
        return column
    if column.null_count != len(column):
        raise Refused("a column of two types")
    import pyarrow as pa

    return pa.nulls(len(column), ty)
