"""What every source gives: Sheet (and Rows, a sheet's cells from A1), Reading, and the reader's limits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..header import Header

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".xltx", ".xltm", ".et"}
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = {".parquet"}
LEDGER_SUFFIXES = WORKBOOK_SUFFIXES | TEXT_SUFFIXES | PARQUET_SUFFIXES
FAST_SUFFIXES = {".xlsx", ".xlsm"}  # read ahead by the command line (read_ahead)
PARQUET_MAGIC = b"PAR1"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"

MAX_COLUMNS = 256  # IV, Excel 2003's last column: a ledger has a few dozen
MAX_CELLS = 30_000_000  # per sheet, by what it holds (xlsx, also without r=) or its .xls records
# per sheet laid out by calamine and handed over as Python rows (ODS: ~75 bytes a cell, ≤ 1 GB a file)
MAX_ROWS_CELLS = 10_000_000
TRIM_SLACK_CELLS = 1_000_000  # blank cells past the data worth a rewrite (calamine allocates each)

ENCRYPTED_UNSUPPORTED = ("文件已加密，但无法解密（加密方式不受支持，或文件已损坏）：请在 Excel/WPS 中输入密码打开，"
                         "另存为 .xlsx 后再读取（可以保留密码，再用 --password 提供）")
ENCRYPTED_NO_PASSWORD = ("文件已加密（设有打开密码）：请用 --password 提供密码，或设置环境变量 JINDU_PASSWORD"
                         "（在终端中运行时会提示输入）")

# A password, or a function (file label, attempt 0, 1, 2) -> password or None (the command line's prompt).
Password = str | Callable[[str, int], str | None] | None

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


@dataclass
class Sheet:
    """One sheet (or CSV/Parquet file) as read: its header and its data rows as columns.

    `columns[c]` is column c (A = 0) of the data rows, from the row below the header: an object array of
    cell values (str, float, bool, date, datetime; '' or None = empty), or (codes, uniques) when dictionary-
    encoded (code -1 = empty). Cells a library gave as empty though they hold an error or a formula without
    a result are in `unknown` ({(row, column) 0-based: literal}) and already put into `columns`."""

    name: str
    index: int  # the sheet's place in its file
    head: list[list]  # the first rows as cell values, from A1 (header detection, emptiness, 问题清单 test)
    header: Header | None = None  # None: no ledger header found (then `columns` is empty)
    columns: list = field(default_factory=list)
    rows: int = 0  # data rows
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based inclusive
    unknown: dict = field(default_factory=dict)
    # (finding code, 1-based row or None for the whole sheet, detail) of what was found while reading: a CSV
    # line's encoding, columns cut at the cap, an extension that does not match the content
    notes: list[tuple[str, int | None, str]] = field(default_factory=list)


class Reading:
    """The sheets of one file, as they are read: iterate (in the order they are ready; `Sheet.index` gives
    their place), then close(). A workbook's sheets may be parsed in background threads meanwhile."""

    def __init__(self, sheets: Iterable[Sheet], close: Callable[[], None] | None = None):
        self._sheets, self._close = sheets, close

    def __iter__(self) -> Iterator[Sheet]:
        return iter(self._sheets)

    def close(self) -> None:
        if self._close is not None:
            self._close()
            self._close = None


@dataclass
class Rows:
    """Every cell of one sheet, from A1: what calamine, xlrd and the csv module give (read_rows)."""

    name: str
    rows: list[list]  # rows[i] is Excel row i + 1; cells as for Sheet.columns
    merged: list = field(default_factory=list)
    unknown: dict = field(default_factory=dict)  # as Sheet.unknown, not yet put into `rows`
    notes: list = field(default_factory=list)
    text: bool = False  # CSV: every cell is text
