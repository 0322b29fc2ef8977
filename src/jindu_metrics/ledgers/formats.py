"""Raw reading of one input file into sheets of Python cell values, with guards against hostile files.

Workbooks (xlsx/xlsm/xlsb/xls/ods) go through python-calamine called with a *path* (through a file handle
every error becomes "Cannot detect file format"), or with the bytes when the file was decrypted (in memory,
msoffcrypto-tool) or its extension does not match its content (calamine then goes by the content); xlsx
sheets reaching far beyond their data are cut first (extent.py); BIFF2–5 .xls falls back to xlrd. CSV/TXT
are decoded as UTF-8, UTF-8 with BOM or GB18030 and the delimiter is sniffed. Only regular files are opened.
Anything unreadable raises InputError with a Chinese reason (加密 / 密码不正确 / 文件损坏 / 不是表格文件 /
超出大小上限 / 格式过旧).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import os
import re
import stat
import threading
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, os_reason
from .extent import MAX_CELLS, TRIM_SLACK_CELLS

WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xlsb", ".xls", ".ods", ".xltx", ".xltm", ".et"}
TEXT_SUFFIXES = {".csv", ".txt", ".tsv"}
PARQUET_SUFFIXES = {".parquet"}
LEDGER_SUFFIXES = WORKBOOK_SUFFIXES | TEXT_SUFFIXES | PARQUET_SUFFIXES
PARQUET_MAGIC = b"PAR1"

MAX_FILE_BYTES = 512 * 1024 * 1024  # workbooks; CSV files may be larger (read by pandas' C parser)
MAX_UNCOMPRESSED = 768 * 1024 * 1024  # sum of a zip package's uncompressed sizes (zip bombs)
MAX_CSV_BYTES = 4 * 1024 * 1024 * 1024

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
BIFF_RAW = {b"\x09\x00", b"\x09\x02", b"\x09\x04", b"\x09\x08"}  # BOF of pre-OLE BIFF2/3/4 streams


@dataclass
class RawSheet:
    """One sheet as rows of cell values (str, float, int, bool, date, datetime, ...; '' = empty)."""

    name: str
    rows: list[list]  # rows[i] is Excel row i + 1
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based inclusive
    text: bool = False  # CSV: every cell is text
    # Fast path: `rows` holds the head only; body(start) -> (columns, n) of the data rows from 0-based row
    # `start` (one array per column, absolute column index), or None to read the sheet by python-calamine.
    body: Callable[[int], tuple[list, int] | None] | None = None
    # the workbook (a path, or its bytes when decrypted or read by content), when body() may refuse and
    # calamine must read the sheet
    source: Path | bytes | None = None
    fast: tuple | None = None  # body(start)'s result, set by load_ledgers
    # {(row, column) 0-based: error literal or cellscan.FORMULA_NO_VALUE}: cells the reader gave as empty
    unknown_cells: dict = field(default_factory=dict)
    # (finding code, 1-based row or None for the whole sheet, detail) of what was found while reading: a CSV
    # line's encoding, columns cut at the cap, an extension that does not match the content
    notes: list[tuple[str, int | None, str]] = field(default_factory=list)


# A password, or a function (file label, attempt 0, 1, 2) -> password or None (the command line's prompt).
Password = str | Callable[[str, int], str | None] | None


def _fail(path: str, reason: str) -> InputError:
    return InputError(reason, file=path)


def read_file(path: Path, label: str | None = None, password: Password = None, *,
              scan_ahead: bool = False) -> list[RawSheet]:
    """Every sheet of one file. `label` is the file name as the user gave it (for messages); `password`
    opens an encrypted workbook (decrypted in memory only); `scan_ahead`: fastxlsx.read's."""
    name = label or str(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block for ever, a device never end
            raise _fail(name, "不是普通文件（是管道、设备或套接字），不能作为台帐读取")
        size = st.st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise _fail(name, f"无法打开文件（{os_reason(exc)}）") from None
    if size == 0:
        raise _fail(name, "文件为空（0 字节），不是表格文件")
    suffix = path.suffix.lower()
    if head.startswith(PARQUET_MAGIC):
        return [read_parquet(path, name)]
    if suffix in PARQUET_SUFFIXES:
        raise _fail(name, "文件损坏（扩展名为 .parquet 但内容不是 Parquet 文件）")
    if suffix in TEXT_SUFFIXES and not head.startswith((ZIP_MAGIC, OLE_MAGIC)):
        if size > MAX_CSV_BYTES:
            raise _fail(name, "文件超出大小上限（4 GB）")
        return [read_csv(path, name)]
    if size > MAX_FILE_BYTES:
        raise _fail(name, f"文件超出大小上限（{MAX_FILE_BYTES // 2**20} MB）")
    source: Path | bytes = path
    notes: list[tuple[str, int | None, str]] = []
    if head.startswith(OLE_MAGIC) and _ole_encrypted_package(path):
        if not _agile_hash_known(path):
            raise _fail(name, ENCRYPTED_UNSUPPORTED)  # no password asked for: none would open it
        source = decrypt(path, name, password)  # an encrypted xlsx: an OLE box around the zip package
        head = source[:8]
    if head.startswith(ZIP_MAGIC):
        content = _check_zip(source, name) or suffix  # unknown: calamine words what it finds
    elif head.startswith(OLE_MAGIC):
        content = ".xls"
    elif head[:2] in BIFF_RAW:
        return _read_xlrd(source, name)
    elif suffix in WORKBOOK_SUFFIXES:
        if _looks_like_text(path):
            raise _fail(name, f"扩展名为 {suffix} 但内容不是表格文件（可能是文本或网页导出），"
                              "请用 Excel 打开后另存为 .xlsx")
        raise _fail(name, "不是表格文件（无法识别的文件格式）")
    else:
        if _looks_like_text(path):
            return [read_csv(path, name)]
        raise _fail(name, "不是表格文件（支持 xlsx、xlsm、xls、ods、csv、parquet）")
    if not _suffix_fits(suffix, content):
        if isinstance(source, Path):  # calamine picks its reader by the extension; given bytes, by content
            source = path.read_bytes()
        notes.append(("format_mismatch", None, f"扩展名为 {suffix or '（无）'}，内容是 {content} 格式"))
    sheets = None
    if content == ".xlsx" and (suffix in FAST_SUFFIXES or not isinstance(source, Path)):
        from . import fastxlsx

        if fastxlsx.available():
            try:
                sheets = [RawSheet(sheet, head, [], body=body) for sheet, head, body in fastxlsx.read(source, MAX_CELLS,
                                                                                    scan_ahead=scan_ahead)]
            except fastxlsx.Unsupported:
                sheets = None
            for s in sheets or []:
                s.source = source
    if not sheets:
        sheets = _read_calamine(source, name, password=password)
    if sheets and notes:
        sheets[0].notes.extend(notes)
    return sheets


FAST_SUFFIXES = {".xlsx", ".xlsm"}


def _suffix_fits(suffix: str, content: str) -> bool:
    """Whether calamine, choosing its reader by `suffix`, reads a file whose content is `content`."""
    return suffix == content or suffix in {".xlsx": (".xlsm", ".xltx", ".xltm"), ".xls": (".et",)}.get(content, ())


def calamine_sheet(source, name: str, sheet: str, scanned=None) -> RawSheet:
    """One sheet read by python-calamine (the fast path's fallback), rows from A1. `scanned`: the sheet's
    extent.Extent when the fast path has scanned it already (not scanned again)."""
    for s in _read_calamine(source, name, only=sheet, scanned=scanned):
        return s
    raise _fail(name, f"找不到工作表「{sheet}」")


def _ole_encrypted_package(path: Path) -> bool:
    """An OLE2 container holding an encrypted OOXML package (EncryptionInfo / EncryptedPackage streams),
    by its directory (olefile), wherever the writer put it; by the stream names in the first MB when the
    directory cannot be read."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            return ole.exists("EncryptionInfo") or ole.exists("EncryptedPackage")
    except Exception:  # noqa: BLE001 - a damaged container: its names, where they usually are
        with open(path, "rb") as fh:
            data = fh.read(min(path.stat().st_size, 1 << 20))
        return "EncryptionInfo".encode("utf-16-le") in data or "EncryptedPackage".encode("utf-16-le") in data


_HASHES = frozenset({"SHA1", "SHA256", "SHA384", "SHA512"})  # what msoffcrypto-tool derives keys with
_HASH_ATTR = re.compile(rb'hashAlgorithm="([^"]*)"')


def _agile_hash_known(path: Path) -> bool:
    """Whether the hash algorithms an agile EncryptionInfo names (its XML) are ones the decryption knows;
    True for the other schemes (standard, binary) and when the stream cannot be read (decrypt words it)."""
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            info = ole.openstream("EncryptionInfo").read(1 << 16)
    except Exception:  # noqa: BLE001 - decrypt() words what is wrong
        return True
    return all(h.decode("ascii", "replace") in _HASHES for h in _HASH_ATTR.findall(info))


ENCRYPTED_UNSUPPORTED = ("文件已加密，但无法解密（加密方式不受支持，或文件已损坏）：请在 Excel/WPS 中输入密码打开，"
                         "另存为 .xlsx 后再读取（可以保留密码，再用 --password 提供）")
ENCRYPTED_NO_PASSWORD = ("文件已加密（设有打开密码）：请用 --password 提供密码，或设置环境变量 JINDU_PASSWORD"
                         "（在终端中运行时会提示输入）")


def decrypt(source: Path | bytes, name: str, password: Password) -> bytes:
    """The decrypted workbook (xlsx or xls), in memory only. `password` as for read_file; a function is
    asked again after a wrong password, three times at most."""
    import inspect

    import msoffcrypto
    from msoffcrypto import exceptions as mx

    data = source if isinstance(source, bytes) else source.read_bytes()
    for attempt in range(3):
        given = password(name, attempt) if callable(password) else password
        if not given:
            raise _fail(name, ENCRYPTED_NO_PASSWORD)
        try:
            office = msoffcrypto.OfficeFile(io.BytesIO(data))
            if "verify_password" in inspect.signature(office.load_key).parameters:  # OOXML; .xls checks it anyway
                office.load_key(password=given, verify_password=True)
            else:
                office.load_key(password=given)
            out = io.BytesIO()
            office.decrypt(out)
            plain = out.getvalue()
            if not plain.startswith((ZIP_MAGIC, OLE_MAGIC)):  # decrypted by a scheme it did not understand
                raise _fail(name, ENCRYPTED_UNSUPPORTED)
            return plain
        except (mx.InvalidKeyError, mx.DecryptionError) as exc:
            wrong = isinstance(exc, mx.InvalidKeyError) or "password" in str(exc).lower() \
                or "key" in str(exc).lower()
            if not wrong:
                raise _fail(name, ENCRYPTED_UNSUPPORTED) from None
            if not callable(password):
                break
        except (KeyboardInterrupt, SystemExit, InputError):
            raise
        except BaseException:  # noqa: BLE001 - never the exception's text: it could quote the input
            raise _fail(name, ENCRYPTED_UNSUPPORTED) from None
    raise _fail(name, "打开密码不正确（文件已加密）")


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as fh:
        chunk = fh.read(4096)
    if b"\x00" in chunk:
        return False
    for enc in ("utf-8", "gb18030"):
        try:
            chunk.decode(enc)
            return True
        except UnicodeDecodeError as exc:
            if exc.start > len(chunk) - 4:  # cut in the middle of a character
                return True
    return False


def _check_zip(source, name: str) -> str | None:
    """Zip packages: reject bombs (declared uncompressed size), encrypted ODS, ODS repeat bombs. The format
    of the content: ".xlsx" (xl/workbook.xml), ".ods" (content.xml), else None."""
    from .extent import open_zip

    try:
        with open_zip(source) as zf:
            infos = zf.infolist()
            if not infos:
                raise _fail(name, "文件损坏（压缩包为空，不是有效的 Excel/ODS 文件）")
            total = sum(i.file_size for i in infos)
            if total > MAX_UNCOMPRESSED:
                raise _fail(name, f"文件超出大小上限（解压后 {total // 2**20} MB，上限 {MAX_UNCOMPRESSED // 2**20} MB）")
            names = {i.filename for i in infos}
            if "META-INF/manifest.xml" in names:
                manifest = zf.read("META-INF/manifest.xml")
                if b"encryption-data" in manifest:
                    raise _fail(name, "文件已加密（设有打开密码）：ODS 格式的加密文件无法读取，请在 WPS/LibreOffice "
                                      "中另存为 .xlsx（可以保留密码，再用 --password 提供）")
            if "content.xml" in names:
                _check_ods_repeats(zf, name)
            return ".xlsx" if "xl/workbook.xml" in names else ".ods" if "content.xml" in names else None
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError,
            NotImplementedError):
        raise _fail(name, "文件损坏（压缩包无法解开），请用 Excel/WPS 打开后另存为 .xlsx") from None


_ODS_TOKEN = re.compile(rb"<table:table[\s>]([^>]*)|<table:table-row\b([^>]*?)(/?)>|</table:table-row>"
                        rb"|<table:(?:covered-)?table-cell\b([^>]*?)(/?)>")
_REP_ROWS = re.compile(rb'table:number-rows-repeated="(\d+)"')
_REP_COLS = re.compile(rb'table:number-columns-repeated="(\d+)"')
_TABLE_NAME = re.compile(rb'table:name="([^"]*)"')


def _check_ods_repeats(zf: zipfile.ZipFile, name: str) -> None:
    """ODS compresses runs with number-rows/columns-repeated: a few KB ask for 10^18 cells, or for 29M cells
    (under the cap) that calamine and Python rows hold at ~75 bytes each. Each table's real extent (the
    last row and the farthest column holding a value, runs of empty cells included, as calamine lays the
    sheet out) is worked out from content.xml before calamine reads it, and held to MAX_ROWS_CELLS."""
    import html

    from .extent import MAX_ROWS_CELLS

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


def _calamine_reason(exc: BaseException) -> str:
    import python_calamine as pc

    text = str(exc)
    if isinstance(exc, pc.PasswordError):
        return ENCRYPTED_NO_PASSWORD
    if "limit" in text.lower():
        return "工作表超出大小上限"
    if "Invalid OLE" in text or "not an office document" in text:
        return "不是表格文件或文件损坏（无法识别为 Excel 文件）"
    if type(exc).__name__ == "PanicException":  # a bug of the Rust reader, met on this file
        return "文件损坏或结构异常，无法读取（读取库出错）；请用 Excel/WPS 打开后另存为 .xlsx"
    if "not found" in text.lower():  # a part the workbook names is absent from the zip
        return "文件损坏，无法读取（缺少工作簿的组成部分）；请用 Excel/WPS 打开后另存为 .xlsx"
    return "文件损坏或结构异常，无法读取；请用 Excel/WPS 打开后另存为 .xlsx"


def _scanned(source, name: str, only: str | None = None, scanned=None) -> tuple[object, dict, Callable]:
    """(source, non-blank cells dropped right of the column cap by sheet name, sheet name -> its unknown
    cells) of a zip workbook before calamine reads it (all its sheets, or sheet `only`). An .xlsx's sheets are scanned
    once each (extent.scan: extent and error cells; `scanned`, the Extent of sheet `only` when known
    already); those reaching far beyond their data are cut (extent.cut_copy) and `source` is then that copy.
    An ODS's error cells come from its content.xml (cellscan.ods_errors)."""
    from . import extent
    from .cellscan import ods_errors
    from .fastxlsx import _Strings, sheet_parts

    cells: dict[str, dict] = {}
    try:
        with extent.open_zip(source) as zf:
            names = set(zf.namelist())
            if "xl/workbook.xml" not in names:
                content = zf.read("content.xml") if "content.xml" in names else b""
                if b'value-type="error"' in content:
                    return source, {}, lambda sheet: ods_errors(content, sheet)
                return source, {}, lambda sheet: {}
            sst = _Strings(zf)
            cut, sheets = {}, {}
            for sheet, member in sheet_parts(zf):
                if only is not None and sheet != only:
                    continue
                if scanned is not None and only is not None:
                    ext = scanned
                else:
                    try:
                        ext = extent.scan_sheet(zf, member, sst.__getitem__)
                    except extent.TooLarge as exc:
                        raise InputError(str(exc), file=name, sheet=sheet) from None
                cells[sheet] = ext.cells
                if ext.needs_trim(MAX_CELLS):
                    cut[member], sheets[member] = ext, sheet
                    width = min(ext.width, extent.MAX_COLUMNS)
                    if ext.data_row * width > MAX_CELLS:
                        raise InputError(f"工作表超出大小上限（有数据的区域为 {ext.data_row} 行 × {width} 列）",
                                         file=name, sheet=sheet)
        if not cut:
            return source, {}, lambda sheet: cells.get(sheet, {})
        data, dropped = extent.cut_copy(source, cut, sst.__getitem__)
    except InputError:
        raise
    except Exception:  # noqa: BLE001 - structure not understood: calamine reads it and words the damage
        return source, {}, lambda sheet: {}
    return data, {sheets[m]: n for m, n in dropped.items()}, lambda sheet: cells.get(sheet, {})


def _read_calamine(source, name: str, only: str | None = None, password: Password = None,
                   scanned=None) -> list[RawSheet]:
    """Sheets read by python-calamine. Error cells and formulas without a result (which it gives as empty)
    are taken from the XML as the sheets are scanned (_scanned), into RawSheet.unknown_cells."""
    import python_calamine as pc

    from .extent import MAX_COLUMNS, capped_note

    dropped: dict[str, int] = {}
    cells_of: Callable[[str], dict] = lambda sheet: {}  # noqa: E731 - .xls: calamine gives error cells as empty
    is_xls = False
    try:
        if isinstance(source, bytes):
            head = source[:8]
        else:
            with open(source, "rb") as fh:
                head = fh.read(8)
        is_xls = head.startswith(OLE_MAGIC)
        if is_xls and _biff_claims_too_much(source, name):
            return _read_xlrd(source, name)  # reads the cells there are, not the claim
        if head.startswith(ZIP_MAGIC):
            source, dropped, cells_of = _scanned(source, name, only, scanned)
        wb = pc.load_workbook(io.BytesIO(source) if isinstance(source, bytes) else str(source))
        metas = list(wb.sheets_metadata)
    except InputError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3 PanicException derives from BaseException
        if is_xls and isinstance(exc, pc.PasswordError):
            return _read_calamine(decrypt(source, name, password), name, only)  # an encrypted .xls
        if is_xls and not isinstance(exc, pc.PasswordError):
            try:
                return _read_xlrd(source, name)
            except InputError:
                pass
        raise _fail(name, _calamine_reason(exc)) from None
    sheets = []
    for meta in metas:
        if "WorkSheet" not in str(meta.typ) or (only is not None and meta.name != only):
            continue  # chart sheets, dialog sheets
        try:
            sh = wb.get_sheet_by_name(meta.name)
            h, w = sh.height, sh.width
            if h * w > MAX_CELLS:
                raise _fail(name, f"工作表「{meta.name}」超出大小上限（{h} 行 × {w} 列）")
            rows = sh.to_python(skip_empty_area=False)
            merged = list(sh.merged_cell_ranges or [])
        except InputError:
            raise
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001
            raise InputError(_calamine_reason(exc), file=name, sheet=meta.name) from None
        raw = RawSheet(meta.name, rows, merged, unknown_cells=cells_of(meta.name))
        if dropped.get(meta.name):  # an .xlsx, cut before calamine read it
            raw.notes.append(capped_note(dropped[meta.name]))
        if w > MAX_COLUMNS:  # xls/ods
            _cap_columns(raw)
        sheets.append(raw)
    with contextlib.suppress(Exception):  # closing is best effort
        wb.close()
    if not metas:
        raise _fail(name, "文件损坏（工作簿中没有工作表）")
    return sheets


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

    import olefile

    try:
        with olefile.OleFileIO(io.BytesIO(source) if isinstance(source, bytes | bytearray) else str(source)) as ole:
            stream = next((s for s in ("Workbook", "Book") if ole.exists(s)), None)
            if stream is None:
                return False
            data = ole.openstream(stream).read()
    except Exception:  # noqa: BLE001 - not a compound file olefile reads: calamine words it
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
            raise _fail(name, "文件损坏（工作表的位置超出文件范围），无法读取；请用 Excel/WPS 打开后另存为 .xlsx")
    if encrypted:
        return False  # the sheets' records are encrypted: checked again once decrypted
    for offset in sheets:
        end = min((o for o in sheets if o > offset), default=len(data))
        pos = offset
        for _ in range(_SHEET_HEAD_RECORDS):
            if pos + 4 > len(data):
                break
            kind, length = struct.unpack_from("<HH", data, pos)
            if kind == _DIMENSIONS and length >= 14 and pos + 18 <= len(data):
                first, last, col0, col1 = struct.unpack_from("<IIHH", data, pos + 4)
                cells = max(last - first, 0) * max(col1 - col0, 0)
                if last > _BIFF8_ROWS or col1 > _BIFF8_COLUMNS or cells > max(TRIM_SLACK_CELLS, end - offset):
                    return True
                break
            pos += 4 + length
    return False


def _read_xlrd(source, name: str) -> list[RawSheet]:
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
                raise _fail(name, f"工作表「{sh.name}」超出大小上限")
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
            sheets.append(RawSheet(sh.name, rows, [((a, c), (b - 1, d - 1)) for a, b, c, d in sh.merged_cells]))
        return sheets
    except InputError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001
        raise _fail(name, "格式过旧或文件损坏，无法读取，请用 Excel/WPS 打开后另存为 .xlsx") from None


def decode_text(data: bytes) -> tuple[str, str, list[int]]:
    """(text, codec, 1-based numbers of the lines holding bytes decoded as GB18030 in a UTF-8 file): UTF-8
    (with or without BOM), else GB18030 (a superset of GBK/GB2312), else UTF-16 with BOM.

    A UTF-8 file with a few GBK bytes (a name pasted from another file), or a BOM before a GBK body, is
    decoded by byte run: only the bytes that are not UTF-8 are decoded as GB18030 (a CESU-8 surrogate as the
    character it encodes, or U+FFFD alone), the rest of their line stays UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16", []
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    try:
        return body.decode("utf-8"), "utf-8-sig" if bom else "utf-8", []
    except UnicodeDecodeError:
        pass
    if not any(t is not None and not t.isascii() for t in map(_utf8_line, body.split(b"\n"))):
        return body.decode("gb18030", errors="replace"), "gb18030", []  # no line is UTF-8 text: a GBK file
    _RUNS.starts = []
    try:
        text = body.decode("utf-8", errors=_FOREIGN_RUN)
        starts = _RUNS.starts
    finally:
        _RUNS.starts = None
    lines, line, at = [], 1, 0
    for start in starts:
        line += body.count(b"\n", at, start)
        at = start
        if not lines or lines[-1] != line:
            lines.append(line)
    return text, "utf-8+gb18030", lines


_FOREIGN_RUN = "jindu-foreign-run"
_RUNS = threading.local()  # the starts of the runs decode_text's handler decoded, per thread


def _foreign_run(exc: UnicodeDecodeError) -> tuple[str, int]:
    """The error handler of decode_text: the run of non-ASCII bytes from the error, as GB18030 up to the
    first character boundary after which the rest of the run is UTF-8 again; a CESU-8 surrogate (pair) as
    the character it encodes, or U+FFFD alone."""
    data, start = exc.object, exc.start
    end = start
    while end < len(data) and data[end] >= 0x80:
        end += 1
    if _RUNS.starts is not None:
        _RUNS.starts.append(start)
    if data[start] == 0xED and start + 2 < len(data) and 0xA0 <= data[start + 1] <= 0xBF:  # CESU-8
        pair = data[start:start + 6]
        try:
            return pair.decode("utf-8", "surrogatepass").encode("utf-16", "surrogatepass").decode("utf-16"), start + 6
        except UnicodeError:
            return "\ufffd", start + 3
    run = bytes(data[start:end])
    for k in _gb_boundaries(run):
        try:
            run[k:].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return run[:k].decode("gb18030", "replace"), start + k
    return run.decode("gb18030", "replace"), end


def _gb_boundaries(run: bytes):
    """The offsets in `run` after each GB18030 character (two bytes, or four: a digit as second byte)."""
    k = 0
    while k < len(run):
        k += 4 if k + 1 < len(run) and 0x30 <= run[k + 1] <= 0x39 else 2 if run[k] >= 0x81 else 1
        yield min(k, len(run))


codecs.register_error(_FOREIGN_RUN, _foreign_run)


def _utf8_line(line: bytes) -> str | None:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return None


def read_csv(path: Path, name: str) -> RawSheet:
    """A CSV/TXT file as one text sheet; delimiter sniffed among , ; tab |."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(name, f"无法打开文件（{os_reason(exc)}）") from None
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _fail(name, "不是表格文件（内容为二进制数据）")
    text, codec, other_lines = decode_text(data)
    utf8 = data if codec == "utf-8" else None  # what pyarrow's reader takes (else the text is encoded)
    del data
    notes = [("csv_line_encoding", line, "") for line in other_lines]
    sample = "\n".join(text[:65536].splitlines()[:30])
    counts = {d: sum(line.count(d) for line in sample.splitlines()) for d in (",", ";", "\t", "|")}
    delim = max(counts, key=lambda d: (counts[d], d == ","))
    fast = _read_csv_fast(text, delim, utf8)
    del utf8
    if fast is not None:
        fast.name = path.stem
        fast.notes = notes
        return fast
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error:
        raise _fail(name, "CSV 文件格式错误（引号没有成对或某行过长），请用 Excel/WPS 打开后另存为 .xlsx") from None
    sheet = RawSheet(path.stem, rows, text=True, notes=notes)
    _cap_columns(sheet)
    return sheet


def _cap_columns(sheet: RawSheet) -> None:
    """Rows cut at extent.MAX_COLUMNS (a ledger has a few dozen columns; 10⁵ would take minutes downstream),
    with a columns_capped note when a non-blank cell was cut."""
    from .extent import MAX_COLUMNS, capped_note

    if not any(len(r) > MAX_COLUMNS for r in sheet.rows):
        return
    dropped = sum(1 for r in sheet.rows for v in r[MAX_COLUMNS:] if v != "" and str(v).strip())
    sheet.rows = [r[:MAX_COLUMNS] if len(r) > MAX_COLUMNS else r for r in sheet.rows]
    if dropped:
        sheet.notes.append(capped_note(dropped))


CSV_FAST_MIN_CHARS = 200_000  # small files: the csv module is as fast and its rows are exact
CSV_FAST_MAX_COLUMNS = 200  # a ledger has a few dozen columns at most
CSV_FAST_MIN_LINES_PER_COLUMN = 20


CSV_ENGINES = ("arrow", "c")  # tried in this order; the csv module reads what both refuse


def _read_csv_fast(text: str, delim: str, utf8: bytes | None = None) -> RawSheet | None:
    """Large CSV files through a columnar parser, every column dictionary-encoded as it is parsed: no
    Python row lists. pyarrow's reader first (multi-threaded, ~10× pandas' C parser on a 60 MB file), then
    pandas' C parser. None (use the csv module) when the file is small or both refuse it (e.g. a row with
    more fields than the first line). `utf8`: the text's UTF-8 bytes, when the file held them already."""
    if len(text) < CSV_FAST_MIN_CHARS:
        return None
    # the C parser's cost goes with the number of columns (one categorical each): a wide, short file
    # (thousands of columns, a few rows: not a ledger) takes seconds there and milliseconds in the csv module
    columns = text[: text.find("\n") if "\n" in text else len(text)].count(delim) + 1
    if columns > CSV_FAST_MAX_COLUMNS or text.count("\n") < CSV_FAST_MIN_LINES_PER_COLUMN * columns:
        return None
    cols = None
    for engine in CSV_ENGINES:
        cols = _csv_arrow(utf8 or text.encode("utf-8"), delim) if engine == "arrow" else _csv_c(text, delim)
        if cols is not None:
            break
    if cols is None:
        return None
    n = len(cols[0][0]) if cols else 0
    head = [[u[c[i]] for c, u in cols] for i in range(min(50, n))]

    def body(start: int):
        return [(c[start:], u) for c, u in cols], n - start

    return RawSheet("", head, text=True, body=body)


def _csv_arrow(data: bytes, delim: str) -> list | None:
    """(codes, uniques) of every column by pyarrow: every cell as text, empty cells as "", one row per
    record, blank lines kept (row numbers are the file's); None when pyarrow refuses the file."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        from .fastxlsx import encode_columns

        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(autogenerate_column_names=True),
            parse_options=pacsv.ParseOptions(delimiter=delim, quote_char='"', double_quote=True,
                                             newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={f"f{i}": pa.string() for i in range(CSV_FAST_MAX_COLUMNS + 1)},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        if table.num_columns > CSV_FAST_MAX_COLUMNS or any(t != pa.string() for t in table.schema.types):
            return None
        cols = encode_columns(table)
        del table
        pa.default_memory_pool().release_unused()  # the parsed text goes back to the system, not to a cache
        return cols
    except Exception:  # noqa: BLE001 - ragged or odd files: the next engine decides
        return None


def _csv_c(text: str, delim: str) -> list | None:
    """(codes, uniques) of every column by pandas' C parser (categoricals); None when it refuses the file."""
    import numpy as np
    import pandas as pd

    try:
        df = pd.read_csv(io.StringIO(text, newline=""), sep=delim, header=None, dtype="category", na_filter=False,
                         skip_blank_lines=False, engine="c", quotechar='"', doublequote=True)
    except Exception:  # noqa: BLE001 - ragged or odd files: the csv module reads them exactly
        return None
    cols = []
    for j in range(df.shape[1]):
        c = df.iloc[:, j].array
        cols.append((np.asarray(c.codes, dtype=np.int64), np.asarray(c.categories, dtype=object)))
    return cols


def read_parquet(path: Path, name: str) -> RawSheet:
    """A Parquet file as one sheet (one ledger kind, classified by its column names like a CSV): the
    column names are row 1, the columns are handed over dictionary-encoded (no Python rows)."""
    from . import fastxlsx

    try:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    except Exception:  # noqa: BLE001 - any pyarrow failure is a damaged file to the user
        raise _fail(name, "文件损坏，无法读取 Parquet 文件") from None
    cols = fastxlsx.encode_columns(table, strict=False)
    n = table.num_rows
    del table
    names = [str(c) for c in pq.read_schema(path).names]
    head = [names] + [[u[c[i]] if c[i] >= 0 else "" for c, u in cols] for i in range(min(49, n))]

    def body(start: int):
        return [(c[start - 1:], u) for c, u in cols], n - (start - 1)

    return RawSheet(path.stem, head, body=body)
