"""CSV/TXT files: decoded as UTF-8, UTF-8 with BOM or GB18030 (by byte run in a mixed file), delimiter
sniffed; large files through a columnar parser (pyarrow's, else pandas' C parser), the others through the
csv module."""

from __future__ import annotations

import codecs
import csv
import io
import threading
from pathlib import Path

from ...errors import InputError, os_reason
from .grid import Columnar, cap_columns
from .sheet import Rows


def _fail(name: str, reason: str) -> InputError:
    return InputError(reason, file=name)


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


def read_csv(path: Path, name: str) -> Rows | Columnar:
    """A CSV/TXT file as one text sheet (as rows, or as columns when large); delimiter sniffed among , ; tab |."""
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
        fast.name, fast.notes = path.stem, notes
        return fast
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error:
        raise _fail(name, "CSV 文件格式错误（引号没有成对或某行过长），请用 Excel/WPS 打开后另存为 .xlsx") from None
    sheet = Rows(path.stem, rows, text=True, notes=notes)
    cap_columns(sheet)
    return sheet


CSV_FAST_MIN_CHARS = 200_000  # small files: the csv module is as fast and its rows are exact


CSV_FAST_MAX_COLUMNS = 200  # a ledger has a few dozen columns at most


CSV_FAST_MIN_LINES_PER_COLUMN = 20


CSV_ENGINES = ("arrow", "c")  # tried in this order; the csv module reads what both refuse


def _read_csv_fast(text: str, delim: str, utf8: bytes | None = None) -> Columnar | None:
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

    return Columnar("", head, body)


def _csv_arrow(data: bytes, delim: str) -> list | None:
    """(codes, uniques) of every column by pyarrow: every cell as text, empty cells as "", one row per
    record, blank lines kept (row numbers are the file's); None when pyarrow refuses the file."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv

        from .arrow import encode_columns

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
