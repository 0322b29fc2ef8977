"""Workbooks read by python-calamine (xls, ods, xlsb; and xlsx sheets the xlsx guard hands over), called with
a *path* (through a file handle every error becomes "Cannot detect file format") or with the bytes (decrypted
in memory, cut by the guard, or read by content). BIFF2–5 .xls, and .xls files whose records claim more than
they hold, go to xlrd."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable

from ...errors import InputError
from .grid import cap_columns, capped_note
from .sheet import (
    ENCRYPTED_NO_PASSWORD,
    MAX_CELLS,
    MAX_COLUMNS,
    OLE_MAGIC,
    TRIM_SLACK_CELLS,
    ZIP_MAGIC,
    Password,
    Rows,
)

# (source, non-blank cells dropped right of the column cap by sheet name, sheet name -> its unknown cells)
Prepared = tuple[object, dict, Callable[[str], dict]]


def _no_cells(sheet: str) -> dict:
    return {}


def reason(exc: BaseException) -> str:
    """What went wrong in calamine, in Chinese (never its English text: it could quote the input)."""
    import python_calamine as pc

    text = str(exc)
    if isinstance(exc, pc.PasswordError):
        return ENCRYPTED_NO_PASSWORD
    if "limit" in text.lower():
        return "工作表超出大小上限"
    if "Invalid OLE" in text or "not an office document" in text:
        return "不是表格文件或文件损坏（无法识别为 Excel 文件）"
    if not isinstance(exc, Exception):  # a panic of the Rust reader (pyo3's PanicException), met on this file
        return "文件损坏或结构异常，无法读取（读取库出错）；请用 Excel/WPS 打开后另存为 .xlsx"
    if "not found" in text.lower():  # a part the workbook names is absent from the zip
        return "文件损坏，无法读取（缺少工作簿的组成部分）；请用 Excel/WPS 打开后另存为 .xlsx"
    return "文件损坏或结构异常，无法读取；请用 Excel/WPS 打开后另存为 .xlsx"


def read(source, name: str, *, only: str | None = None, password: Password = None,
         prepare: Callable[[object], Prepared] | None = None) -> list[Rows]:
    """Every worksheet (or sheet `only`) read by python-calamine, as rows from A1. `prepare(source)`: what a
    zip workbook needs before calamine reads it (the xlsx guard's cut copy and error cells; an ODS's error
    cells), as Prepared. An encrypted .xls is decrypted with `password`."""
    opened = _open(source, name, password, prepare)
    if isinstance(opened, list):
        return opened  # read otherwise (xlrd, or decrypted first)
    wb, metas, dropped, cells_of = opened
    sheets = []
    for meta in metas:
        if "WorkSheet" not in str(meta.typ) or (only is not None and meta.name != only):
            continue  # chart sheets, dialog sheets
        sheets.append(_sheet(wb, meta.name, name, dropped, cells_of))
    with contextlib.suppress(Exception):  # closing is best effort
        wb.close()
    if not metas:
        raise InputError("文件损坏（工作簿中没有工作表）", file=name)
    return sheets


def _open(source, name: str, password: Password, prepare) -> list[Rows] | tuple:
    """(calamine workbook, its sheets' metadata, cells dropped by sheet, unknown cells by sheet), or the
    sheets read otherwise: an .xls by xlrd (its records claim more than they hold, or calamine fails on
    it), an encrypted .xls decrypted first."""
    import python_calamine as pc

    dropped: dict[str, int] = {}
    cells_of: Callable[[str], dict] = _no_cells  # .xls: calamine gives error cells as empty
    is_xls = False
    try:
        head = source[:8] if isinstance(source, bytes) else _head(source)
        is_xls = head.startswith(OLE_MAGIC)
        if is_xls and _biff_claims_too_much(source, name):
            return read_xlrd(source, name)  # reads the cells there are, not the claim
        if head.startswith(ZIP_MAGIC) and prepare is not None:
            source, dropped, cells_of = prepare(source)
        wb = pc.load_workbook(io.BytesIO(source) if isinstance(source, bytes) else str(source))
        return wb, list(wb.sheets_metadata), dropped, cells_of
    except (KeyboardInterrupt, SystemExit, InputError):
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3 PanicException derives from BaseException
        if is_xls and isinstance(exc, pc.PasswordError):
            from .crypto import decrypt

            return read(decrypt(source, name, password), name)  # an encrypted .xls
        if is_xls:
            with contextlib.suppress(InputError):
                return read_xlrd(source, name)
        raise InputError(reason(exc), file=name) from None


def _head(path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(8)


def _sheet(wb, sheet: str, name: str, dropped: dict, cells_of) -> Rows:
    try:
        sh = wb.get_sheet_by_name(sheet)
        h, w = sh.height, sh.width
        if h * w > MAX_CELLS:
            raise InputError(f"工作表「{sheet}」超出大小上限（{h} 行 × {w} 列）", file=name)
        rows = sh.to_python(skip_empty_area=False)
        merged = list(sh.merged_cell_ranges or [])
    except (KeyboardInterrupt, SystemExit, InputError):
        raise
    except BaseException as exc:  # noqa: BLE001
        raise InputError(reason(exc), file=name, sheet=sheet) from None
    grid = Rows(sheet, rows, merged, unknown=cells_of(sheet))
    if dropped.get(sheet):  # an .xlsx, cut before calamine read it
        grid.notes.append(capped_note(dropped[sheet]))
    if w > MAX_COLUMNS:  # xls/ods
        cap_columns(grid)
    return grid


_BIFF_BOF, _BIFF_EOF, _BOUNDSHEET, _DIMENSIONS, _FILEPASS = 0x0809, 0x000A, 0x0085, 0x0200, 0x002F


_BIFF8_ROWS, _BIFF8_COLUMNS = 65_536, 256


_SHEET_HEAD_RECORDS = 64  # records walked from a sheet's BOF to its DIMENSIONS (it comes before any cell)


def _biff_claims_too_much(source, name: str) -> bool:
    """An .xls's records checked against the stream that holds them, before calamine trusts them: a
    BOUNDSHEET pointing past the stream (calamine panics) is a damaged file (InputError); a DIMENSIONS
    claiming more than BIFF8 holds (65,536 × 256), or more cells than its sheet has bytes (calamine
    allocates the claim: 2³¹ rows abort the process), sends the file to xlrd, which reads the cells there
    are (True). False when the records look sound or cannot be walked (calamine then words the damage)."""
    import struct

    data = _workbook_stream(source)
    if data is None:
        return False
    pos, sheets, encrypted = 0, [], False
    while pos + 4 <= len(data):  # the workbook globals, up to their EOF
        kind, length = struct.unpack_from("<HH", data, pos)
        if kind == _BOUNDSHEET and length >= 4:
            sheets.append(struct.unpack_from("<I", data, pos + 4)[0])
        encrypted = encrypted or kind == _FILEPASS
        pos += 4 + length
        if kind == _BIFF_EOF:
            break
    for offset in sheets:
        if offset + 4 > len(data) or struct.unpack_from("<H", data, offset)[0] != _BIFF_BOF:
            raise InputError("文件损坏（工作表的位置超出文件范围），无法读取；请用 Excel/WPS 打开后另存为 .xlsx", file=name)
    if encrypted:
        return False  # the sheets' records are encrypted: checked again once decrypted
    return any(_dimensions_too_large(data, offset, min((o for o in sheets if o > offset), default=len(data)))
               for offset in sheets)


def _workbook_stream(source) -> bytes | None:
    """The Workbook (or Book) stream of an OLE compound file; None when there is none to read."""
    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(source) if isinstance(source, bytes | bytearray) else str(source)) as ole:
            stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
            return None if stream is None else ole.openstream(stream).read()
    except Exception:  # noqa: BLE001 - not a compound file olefile reads: calamine words it
        return None


def _dimensions_too_large(data: bytes, offset: int, end: int) -> bool:
    """Whether the DIMENSIONS record of the sheet at `offset` (its records end at `end`) claims more than
    BIFF8 holds, or more cells than the sheet has bytes."""
    import struct

    pos = offset
    for _ in range(_SHEET_HEAD_RECORDS):
        if pos + 4 > len(data):
            return False
        kind, length = struct.unpack_from("<HH", data, pos)
        if kind == _DIMENSIONS and length >= 14 and pos + 18 <= len(data):
            first, last, col0, col1 = struct.unpack_from("<IIHH", data, pos + 4)
            cells = max(last - first, 0) * max(col1 - col0, 0)
            return last > _BIFF8_ROWS or col1 > _BIFF8_COLUMNS or cells > max(TRIM_SLACK_CELLS, end - offset)
        pos += 4 + length
    return False


def read_xlrd(source, name: str) -> list[Rows]:
    """BIFF2–5 workbooks calamine cannot read (xlrd fallback, small old files only)."""
    import datetime as dt

    import xlrd

    try:
        # xlrd writes its warnings to stdout by default: there they would break `--format json`
        book = (xlrd.open_workbook(file_contents=source, on_demand=True, formatting_info=False,
                                   logfile=io.StringIO())
                if isinstance(source, bytes) else
                xlrd.open_workbook(str(source), on_demand=True, formatting_info=False, logfile=io.StringIO()))
        sheets = []
        for sh in book.sheets():
            if sh.nrows * max(sh.ncols, 1) > MAX_CELLS:
                raise InputError(f"工作表「{sh.name}」超出大小上限", file=name)
            rows = []
            for r in range(sh.nrows):
                out = []
                for c in sh.row(r):
                    if c.ctype == xlrd.XL_CELL_DATE:
                        try:
                            v = xlrd.xldate_as_datetime(c.value, book.datemode)
                            out.append(v.date() if v.time() == dt.time() else v)
                        except Exception:  # noqa: BLE001 - odd date cell: keep the serial
                            out.append(c.value)
                    elif c.ctype == xlrd.XL_CELL_ERROR:  # the literal (#N/A …): normalize reports it
                        out.append(xlrd.error_text_from_code.get(c.value, "#N/A"))
                    elif c.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                        out.append("")
                    elif c.ctype == xlrd.XL_CELL_BOOLEAN:
                        out.append(bool(c.value))
                    else:
                        out.append(c.value)
                rows.append(out)
            sheets.append(Rows(sh.name, rows, [((a, c), (b - 1, d - 1)) for a, b, c, d in sh.merged_cells]))
        return sheets
    except InputError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001
        raise InputError("格式过旧或文件损坏，无法读取，请用 Excel/WPS 打开后另存为 .xlsx", file=name) from None
