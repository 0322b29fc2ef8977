"""What an input file is, by its bytes: the format it holds, the size limits, zip and ODS bombs, and decryption
(msoffcrypto-tool, in memory only). Each file is then handed to its source. Only regular files are opened.
Anything unreadable raises InputError with a Chinese reason (加密 / 密码不正确 / 文件损坏 / 不是表格文件 /
超出大小上限 / 格式过旧)."""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import InputError, os_reason
from .crypto import agile_hash_known, decrypt, ole_encrypted_package
from .ods import check_repeats
from .sheet import (
    ENCRYPTED_UNSUPPORTED,
    FAST_SUFFIXES,
    OLE_MAGIC,
    PARQUET_MAGIC,
    PARQUET_SUFFIXES,
    TEXT_SUFFIXES,
    WORKBOOK_SUFFIXES,
    ZIP_MAGIC,
    Password,
    Reading,
    Rows,
)

MAX_FILE_BYTES = 512 * 1024 * 1024  # workbooks; CSV files may be larger (read by pandas' C parser)
MAX_UNCOMPRESSED = 768 * 1024 * 1024  # sum of a zip package's uncompressed sizes (zip bombs)
MAX_CSV_BYTES = 4 * 1024 * 1024 * 1024

BIFF_RAW = {b"\x09\x00", b"\x09\x02", b"\x09\x04", b"\x09\x08"}  # BOF of pre-OLE BIFF2/3/4 streams


def _fail(path: str, reason: str) -> InputError:
    return InputError(reason, file=path)


@dataclass
class _Found:
    """What a file holds: the source to read (a path, or the bytes when decrypted or read by content), the
    format of its content (".xlsx", ".ods", ".xls", ".xlrd" for BIFF2–5, ".csv", ".parquet"), and notes."""

    source: Path | bytes
    content: str
    notes: list = field(default_factory=list)
    fast: bool = False  # an .xlsx the fast path may read (fastexcel picks its reader by the extension too)


def open_file(path: Path, name: str, password: Password, threads: bool) -> Reading:
    """Every sheet of one file (sources.open_file)."""
    found = _sniff(path, name, password)
    if found.content == ".xlsx":
        from . import xlsx

        reading = xlsx.read(found.source, name, fast=found.fast, threads=threads)
        return _noted(reading, found.notes)
    return Reading(_sheets(_grids(found, name, password), found.notes))


def read_rows(path: Path, name: str, password: Password) -> list[Rows]:
    """Every sheet of one file as rows from A1 (sources.read_rows)."""
    found = _sniff(path, name, password)
    if found.content == ".xlsx":
        from . import xlsx

        return xlsx.grid(found.source, name)
    return [g if isinstance(g, Rows) else Rows(g.name, g.rows()) for g in _grids(found, name, password)]


def _grids(found: _Found, name: str, password: Password) -> list:
    """The sheets of a file that is not an .xlsx: Rows, or grid.Columnar (large CSV files, Parquet)."""
    if found.content == ".parquet":
        from .parquet import read_parquet

        return [read_parquet(found.source, name)]
    if found.content == ".csv":
        from .text import read_csv

        return [read_csv(found.source, name)]
    from . import calamine

    if found.content == ".xlrd":
        return calamine.read_xlrd(found.source, name)
    prepare = None
    if found.content != ".xls":
        from .ods import prepare
    return calamine.read(found.source, name, password=password, prepare=prepare)


def _sheets(grids: list, notes: list) -> list:
    from .grid import sheet_of_rows

    sheets = [g.sheet(i) if not isinstance(g, Rows) else
              sheet_of_rows(g.name, i, g.rows, g.merged, g.unknown, text=g.text, notes=g.notes)
              for i, g in enumerate(grids)]
    if sheets and notes:
        sheets[0].notes.extend(notes)
    return sheets


def _noted(reading: Reading, notes: list) -> Reading:
    """`reading` with `notes` (the file's) added to its first sheet's."""
    if not notes:
        return reading

    def sheets():
        for sheet in reading:
            if sheet.index == 0:
                sheet.notes.extend(notes)
            yield sheet

    return Reading(sheets(), reading.close)


def _sniff(path: Path, name: str, password: Password) -> _Found:
    """What `path` holds; InputError when it is no table, too large, or cannot be decrypted."""
    size, head = _stat(path, name)
    suffix = path.suffix.lower()
    if head.startswith(PARQUET_MAGIC):
        return _Found(path, ".parquet")
    if suffix in PARQUET_SUFFIXES:
        raise _fail(name, "文件损坏（扩展名为 .parquet 但内容不是 Parquet 文件）")
    if suffix in TEXT_SUFFIXES and not head.startswith((ZIP_MAGIC, OLE_MAGIC)):
        if size > MAX_CSV_BYTES:
            raise _fail(name, "文件超出大小上限（4 GB）")
        return _Found(path, ".csv")
    if size > MAX_FILE_BYTES:
        raise _fail(name, f"文件超出大小上限（{MAX_FILE_BYTES // 2**20} MB）")
    source: Path | bytes = path
    if head.startswith(OLE_MAGIC) and ole_encrypted_package(path):
        if not agile_hash_known(path):
            raise _fail(name, ENCRYPTED_UNSUPPORTED)  # no password asked for: none would open it
        source = decrypt(path, name, password)  # an encrypted xlsx: an OLE box around the zip package
        head = source[:8]
    content = _content(path, name, source, head, suffix)
    if content in (".xlrd", ".csv"):
        return _Found(source, content)
    found = _Found(source, content)
    if not _suffix_fits(suffix, content):
        if isinstance(source, Path):  # calamine picks its reader by the extension; given bytes, by content
            found.source = path.read_bytes()
        found.notes.append(("format_mismatch", None, f"扩展名为 {suffix or '（无）'}，内容是 {content} 格式"))
    found.fast = suffix in FAST_SUFFIXES or not isinstance(found.source, Path)
    return found


def _stat(path: Path, name: str) -> tuple[int, bytes]:
    """(size, first 8 bytes) of a regular, non-empty file."""
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block for ever, a device never end
            raise _fail(name, "不是普通文件（是管道、设备或套接字），不能作为台帐读取")
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise _fail(name, f"无法打开文件（{os_reason(exc)}）") from None
    if st.st_size == 0:
        raise _fail(name, "文件为空（0 字节），不是表格文件")
    return st.st_size, head


def _content(path: Path, name: str, source, head: bytes, suffix: str) -> str:
    """The format of a workbook's content by its first bytes (".xlrd": BIFF2–5; ".csv": text under a
    workbook's name is refused, under another name read as CSV)."""
    if head.startswith(ZIP_MAGIC):
        return _check_zip(source, name) or suffix  # unknown: calamine words what it finds
    if head.startswith(OLE_MAGIC):
        return ".xls"
    if head[:2] in BIFF_RAW:
        return ".xlrd"
    if suffix in WORKBOOK_SUFFIXES:
        if _looks_like_text(path):
            raise _fail(name, f"扩展名为 {suffix} 但内容不是表格文件（可能是文本或网页导出），"
                              "请用 Excel 打开后另存为 .xlsx")
        raise _fail(name, "不是表格文件（无法识别的文件格式）")
    if _looks_like_text(path):
        return ".csv"
    raise _fail(name, "不是表格文件（支持 xlsx、xlsm、xls、ods、csv、parquet）")


def _suffix_fits(suffix: str, content: str) -> bool:
    """Whether calamine, choosing its reader by `suffix`, reads a file whose content is `content`."""
    return suffix == content or suffix in {".xlsx": (".xlsm", ".xltx", ".xltm"), ".xls": (".et",)}.get(content, ())


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
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes | bytearray) else source) as zf:
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
                check_repeats(zf, name)
            return ".xlsx" if "xl/workbook.xml" in names else ".ods" if "content.xml" in names else None
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, EOFError, ValueError,
            NotImplementedError):
        raise _fail(name, "文件损坏（压缩包无法解开），请用 Excel/WPS 打开后另存为 .xlsx") from None


