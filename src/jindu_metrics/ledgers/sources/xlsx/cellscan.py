"""Cells whose value the spreadsheet readers lose: error values (#N/A …) and formulas saved without a result.

python-calamine and fastexcel give both as empty cells, and an empty cell has a meaning (an empty 人员状态 is
社会面). The worksheet XML says what they are; `Scan` finds them while the sheet's XML is inflated anyway (by
extent.scan, the one pass over it), by byte searches on each chunk, so a sheet without such cells costs a few
`find` calls per megabyte. normalize.py puts the literals back into the values, where they become findings.
"""

from __future__ import annotations

import re

from ..sheet import ERROR_VALUES, FORMULA_NO_VALUE
from .xml import V_TAG, column

_ERROR_ATTR = b't="e"'
# How a formula cell ends when no result follows its <f>: nothing, or an empty <v>.
_NO_RESULT = (b"</f></c>", b"</f><v></v></c>", b"</f><v/></c>", b"/></c>")
_CELL_OPEN = re.compile(rb"<(?:\w+:)?c\s([^>]*?)>")
_R = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_T = re.compile(rb'\bt="(\w+)"')
_LOOKBACK = 4096  # a cell's opening tag lies within this many bytes before its end (a formula's text is short)


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
            self.cells[(int(m.group(2)) - 1, column(m.group(1)) - 1)] = value

    def _errors(self, body: bytes) -> None:
        pos = body.find(_ERROR_ATTR)
        while pos >= 0:
            start = body.rfind(b"<", 0, pos)
            m = _CELL_OPEN.match(body, start)
            if m and m.end() > pos:
                end = body.find(b"c>", m.end())
                v = V_TAG.search(body, m.end(), end if end >= 0 else len(body))
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
                            and not any(v.strip() for v in V_TAG.findall(inner))):
                        self._put(opening.group(1), FORMULA_NO_VALUE)
                pos = body.find(pattern, pos + 1)
