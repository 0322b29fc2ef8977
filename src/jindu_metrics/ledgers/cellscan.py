"""Cells whose value the spreadsheet readers lose: error values (#N/A …) and formulas saved without a result.

python-calamine and fastexcel give both as empty cells, and an empty cell has a meaning (an empty 人员状态 is
社会面). The worksheet XML says what they are; `Scan` finds them while the sheet's XML is inflated anyway (by
extent.scan, the one pass over it), by byte searches on each chunk, so a sheet without such cells costs a few
`find` calls per megabyte. normalize.py puts the literals back into the values, where they become findings.
"""

from __future__ import annotations

import re

# What Excel, WPS and LibreOffice show for a formula's error (also what a CSV saved from them holds).
ERROR_VALUES = frozenset({
    "#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#GETTING_DATA", "#SPILL!", "#CALC!",
    "#FIELD!", "#BLOCKED!", "#BUSY!", "#CONNECT!", "#UNKNOWN!", "#EXTERNAL!", "#PYTHON!",
})
# A formula cell saved without its result (files written by programs, never opened in Excel): private-use
# text, which no typed cell holds.
FORMULA_NO_VALUE = "\ue000formula-without-value\ue000"
UNKNOWN_CELLS = ERROR_VALUES | {FORMULA_NO_VALUE}
_LIBRE_ERROR = re.compile(r"Err:\d{3}")  # LibreOffice shows some errors by number (Err:502)


def is_unknown(value: object) -> bool:
    """Whether a cell value stands for an error or a formula without a result (not for a value, nor empty)."""
    return value in UNKNOWN_CELLS or (type(value) is str and value[:4] == "Err:" and bool(_LIBRE_ERROR.fullmatch(value)))

_ERROR_ATTR = b't="e"'
# How a formula cell ends when no result follows its <f>: nothing, or an empty <v>.
_NO_RESULT = (b"</f></c>", b"</f><v></v></c>", b"</f><v/></c>", b"/></c>")
_CELL_OPEN = re.compile(rb"<(?:\w+:)?c\s([^>]*?)>")
_R = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_T = re.compile(rb'\bt="(\w+)"')
_V = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_LOOKBACK = 4096  # a cell's opening tag lies within this many bytes before its end (a formula's text is short)


def _index(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ch - 64)
    return n - 1


class Scan:
    """Fed the chunks of one worksheet XML in order; `cells` collects {(row, column) 0-based: the error literal
    or FORMULA_NO_VALUE}."""

    def __init__(self, cells: dict | None = None):
        self.cells: dict = {} if cells is None else cells
        self.tail = b""

    def feed(self, chunk: bytes) -> None:
        data = self.tail + chunk if self.tail else chunk
        # after a row's end (</row>, near the end of any chunk), else after a cell's: no cell straddles two
        # bodies. A row's end first: a chunk of styled empty cells (<c r="A9" s="1"/>) holds no "c>" at all.
        cut = data.rfind(b"row>") + 4
        if cut < 4:
            cut = data.rfind(b"c>") + 2
        if cut < 2:
            self.tail = data[-(1 << 20):]
            return
        self.tail = data[cut:]
        self._search(data, cut)

    def flush(self) -> None:
        """Search what feed() held back: the next chunk holds no cell of its own (extent.scan skips it)."""
        data, self.tail = self.tail, b""
        if data:
            self._search(data, len(data))

    def _search(self, data: bytes, cut: int) -> None:
        # Byte searches for short needles run at ~0.5 GB/s, memchr (one byte) at several: the needles are
        # looked for only where a one-byte test says they may be.
        if data.find(b"#", 0, cut) >= 0 and data.find(_ERROR_ATTR, 0, cut) >= 0:
            self._errors(data[:cut])
        if data.find(b"f", 0, cut) >= 0 and data.find(b"<f", 0, cut) >= 0:
            self._uncached(data[:cut])

    def _put(self, attrs: bytes, value: str) -> None:
        m = _R.search(attrs)
        if m:  # a cell without a reference cannot be located (generators always write one)
            self.cells[(int(m.group(2)) - 1, _index(m.group(1)))] = value

    def _errors(self, body: bytes) -> None:
        pos = body.find(_ERROR_ATTR)
        while pos >= 0:
            start = body.rfind(b"<", 0, pos)
            m = _CELL_OPEN.match(body, start)
            if m and m.end() > pos:
                end = body.find(b"c>", m.end())
                v = _V.search(body, m.end(), end if end >= 0 else len(body))
                text = v.group(1).decode("utf-8", "replace").strip() if v else ""
                self._put(m.group(1), text if text in ERROR_VALUES else "#N/A")
            pos = body.find(_ERROR_ATTR, pos + 1)

    def _uncached(self, body: bytes) -> None:
        for pattern in _NO_RESULT:
            pos = body.find(pattern)
            while pos >= 0:
                window_start = max(0, pos - _LOOKBACK)
                opening = None
                for m in _CELL_OPEN.finditer(body, window_start, pos):  # the last opening tag before the end
                    opening = m
                if opening is not None:
                    inner = body[opening.end():pos + len(pattern)]
                    t = _T.search(opening.group(1))
                    kind = t.group(1) if t else b"n"
                    # t="str" with an empty <v>: a formula whose result is the empty text (cached, not lost)
                    if (b"<f" in inner and kind not in (b"str", b"e", b"inlineStr")
                            and not any(v.strip() for v in _V.findall(inner))):
                        self._put(opening.group(1), FORMULA_NO_VALUE)
                pos = body.find(pattern, pos + 1)


_ODS_TABLE = re.compile(rb"<table:table\s[^>]*?table:name=\"([^\"]*)\"")
_ODS_TOKEN = re.compile(rb"<table:table-row\b([^>]*?)(/?)>|</table:table-row>"
                        rb"|<table:(?:covered-)?table-cell\b([^>]*?)(/?)>")
_ODS_ROWS = re.compile(rb'table:number-rows-repeated="(\d+)"')
_ODS_COLS = re.compile(rb'table:number-columns-repeated="(\d+)"')
_ODS_TEXT = re.compile(rb"<[^>]*>")
_MAX_REPEAT = 1 << 14  # an error cell repeated further than this is not a ledger's (the size check is formats')


def ods_errors(content: bytes, sheet: str) -> dict:
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
        for t in _ODS_TOKEN.finditer(part):
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
