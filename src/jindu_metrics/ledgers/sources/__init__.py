"""Sources: every input file becomes sheets of one kind, `Sheet`, whatever its format.

    open_file(path, label, password, threads) -> Reading     (the one entry; iterate it for Sheets, then close)

- `sheet`: what every source gives (Sheet, Rows, Reading) and the reader's limits.
- `sniff`: what a file is (by its bytes, not its name), the size limits, zip bombs; it hands the file to one
  of the sources below. `crypto`: encrypted workbooks, decrypted in memory only.
- `text`: CSV/TXT (encoding and delimiter found; large files by pyarrow's or pandas' columnar parsers).
- `parquet`: Parquet (one sheet, column names as its header row).
- `calamine`: xls/ods (and xlsx sheets the guard hands it) by python-calamine, BIFF2–5 by xlrd; `ods`: an
  ODS's repeat bombs and error cells.
- `xlsx/`: the guard for .xlsx/.xlsm. calamine lays a sheet out as a dense grid from A1 to its farthest cell and
  reads error cells as blank (calamine#693/#661, fastexcel#487, python-calamine#105), so each worksheet is
  inflated and scanned once (extent, merged ranges, error cells); what the scan read is handed to the parser
  cut after the data, so a stray far cell is never laid out. The data columns come from fastexcel (Arrow, no
  Python rows), or from calamine when fastexcel cannot read a sheet exactly. Only `xlsx.read` (and
  `xlsx.grid`, the rows of a copy) is used from outside that folder: when the upstream fixes land, it is the
  one folder to shrink.
- `grid`: rows of cell values (calamine, xlrd, small CSV files) into a Sheet; `arrow`: Arrow columns into
  the dictionary-encoded columns a Sheet holds.

Every source finds each sheet's header (header.detect) and returns its data rows below it as columns, with
its merged ranges, the cells the libraries read as empty but which hold an error or a formula without a
result (put back into the columns as their literal), and notes (findings of the reading itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .sheet import (
    ENCRYPTED_NO_PASSWORD,
    ERROR_VALUES,
    FAST_SUFFIXES,
    FORMULA_NO_VALUE,
    LEDGER_SUFFIXES,
    PARQUET_MAGIC,
    Password,
    Reading,
    Rows,
    Sheet,
    is_unknown,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["ENCRYPTED_NO_PASSWORD", "ERROR_VALUES", "FAST_SUFFIXES", "FORMULA_NO_VALUE", "LEDGER_SUFFIXES",
           "PARQUET_MAGIC", "Password", "Reading", "Rows", "Sheet", "decrypt", "is_unknown", "open_file", "read_rows"]

def open_file(path: Path, label: str | None = None, password: Password = None, *, threads: bool = False) -> Reading:
    """Begin reading every sheet of one file. `label`: the file as the user named it (for messages);
    `password` opens an encrypted workbook; `threads`: a workbook's sheets may be parsed in background
    threads (not in a process pool's workers). Raises InputError (Chinese) when the file cannot be read."""
    from .sniff import open_file as sniffed

    return sniffed(path, label or str(path), password, threads)


def read_rows(path: Path, label: str | None = None, password: Password = None) -> list[Rows]:
    """Every sheet of one file as rows of cell values from A1 (for a copy of the file: outputs.annotate)."""
    from .sniff import read_rows as rows_of

    return rows_of(path, label or str(path), password)


def decrypt(source, name: str, password: Password) -> bytes:
    """The decrypted workbook (xlsx or xls), in memory only (sniff.decrypt)."""
    from .crypto import decrypt as decrypted

    return decrypted(source, name, password)
