"""Vectorised normalisation of one recognised sheet into a canonical typed frame plus findings.

Every column is factorised once; conversions run on its unique values only and are taken back with the codes,
so a 150k-row sheet costs a handful of array operations per column.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema
from ..findings import Finding, excel_column
from . import frames, ids
from .header import Header
from .sources import FORMULA_NO_VALUE, Sheet, is_unknown
from .textnorm import cell_text, fold, fold_compact

MIN_DATE = pd.Timestamp("1950-01-01")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)  # 1900 system (serials typed as numbers or text)

_DATE_RE = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2}))?(?:\.\d+)?)?$"
)
_DATE8_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL_RE = re.compile(r"^\d{4,5}(?:\.\d+)?$")
_NUM_RE = re.compile(r"^([-+]?\d+(?:\.\d+)?)\s*[^\d]{0,4}$")
_ID_CHARS = re.compile(r"^\d{17}[\dX]$", re.ASCII)  # 0-9 only: \d would take ٤ (Arabic-Indic) and the like
_ID15 = re.compile(r"^\d{15}$", re.ASCII)
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?E\+?\d{1,2}$")
# Characters that show as nothing (or as a plain space) in Excel, named for the user.
_INVISIBLE = {"\u200b": "零宽空格", "\u200c": "零宽不连字符", "\u200d": "零宽连字符（ZWJ）", "\u2060": "零宽不换行符",
              "\ufeff": "字节顺序标记（BOM）", "\u00ad": "软连字符", "\u00a0": "不换行空格", "\u200e": "从左至右标记",
              "\u200f": "从右至左标记", "\u202a": "方向控制符", "\u202b": "方向控制符", "\u202c": "方向控制符",
              "\u202d": "方向控制符", "\u202e": "方向控制符", "\u2066": "方向控制符", "\u2067": "方向控制符",
              "\u2068": "方向控制符", "\u2069": "方向控制符", "\u180e": "蒙古文元音分隔符"}
_INVISIBLE_RE = re.compile("[" + "".join(_INVISIBLE) + "]")
_SPACES = re.compile(r"[\s\u3000\u00a0\u200b\ufeff'‘’`]+")

_MARKER_FIRST = {m[0] for m in schema.TOTAL_MARKERS + schema.FOOTNOTE_MARKERS} | {"總", "備", "註", "製", "審", "説"}
_FLAG_TRUE = {v.lower() for v in schema.FLAG_TRUE}
_FLAG_FALSE = {v.lower() for v in schema.FLAG_FALSE}


def _today() -> pd.Timestamp:
    return pd.Timestamp(dt.date.today())


def _is_empty(v: object) -> bool:
    return v is None or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())


# --- per-unique converters: value -> (canonical value, finding code or None, detail) -------------------

def conv_date(v: object):
    """A date cell as a Timestamp at midnight: the time of day of `2018-10-31 09:15` (text or datetime cell)
    is dropped, because every window and the 三年未复吸 boundary are counted in whole days."""
    if isinstance(v, dt.datetime):
        return pd.Timestamp(v.date()), None, ""
    if isinstance(v, dt.date):
        return pd.Timestamp(v), None, ""
    if isinstance(v, (dt.time, dt.timedelta)):
        return None, "unreadable_date", "单元格是时间而不是日期"
    if isinstance(v, bool):
        return None, "unreadable_date", ""
    if isinstance(v, (int, float)):
        return _from_number(float(v))
    s = fold_compact(str(v)) if not isinstance(v, str) or not v.isascii() else v.strip()
    m = _DATE_RE.match(s) or _DATE_RE.match(fold(str(v)))
    if m:
        y, mo, d, hh, mi, ss = m.groups()
        try:
            dt.time(int(hh or 0), int(mi or 0), int(ss or 0))  # a time that does not exist: not a date either
            return pd.Timestamp(dt.date(int(y), int(mo), int(d))), None, ""
        except ValueError:
            return None, "unreadable_date", "不存在的日期"
    if _DATE8_RE.match(s) or _SERIAL_RE.match(s):
        return _from_number(float(s))
    return None, "unreadable_date", ""


def _from_number(x: float):
    if x.is_integer() and 19000101 <= x <= 21001231:
        s = str(int(x))
        try:
            return pd.Timestamp(dt.datetime(int(s[:4]), int(s[4:6]), int(s[6:]))), None, ""
        except ValueError:
            return None, "unreadable_date", "不存在的日期"
    if 1 <= x < 2958466:  # a serial's fraction is the time of day: dropped
        return pd.Timestamp(EXCEL_EPOCH + dt.timedelta(days=int(x))), None, ""
    return None, "unreadable_date", ""


def conv_flag(v: object):
    if isinstance(v, bool):
        return v, None, ""
    if isinstance(v, (int, float)):
        if v in (0, 1):
            return bool(v), None, ""
        return None, "unreadable_flag", ""
    s = fold_compact(str(v)).lower()
    if s in _FLAG_TRUE:
        return True, None, ""
    if s in _FLAG_FALSE:
        return False, None, ""
    return None, "unreadable_flag", ""


def conv_number(v: object):
    if isinstance(v, bool):
        return None, "unreadable_number", ""
    if isinstance(v, (int, float)):
        return float(v), None, ""
    s = fold_compact(str(v)).replace(",", "")
    m = _NUM_RE.match(s)
    if m:
        return float(m.group(1)), None, ""
    return None, "unreadable_number", ""


def conv_text(v: object):
    return fold(cell_text(v)) or None, None, ""


def conv_name(v: object):
    # names are PII: only whitespace is folded (no 繁→简 guessing on a person's name)
    if isinstance(v, str) and v.isascii() is False and " " not in v and "\u3000" not in v:
        return v.strip() or None, None, ""
    return _SPACES.sub("", cell_text(v)) or None, None, ""


def conv_unit(v: object):
    """所属镇街/所属村居: as text, without the characters that show as nothing (a zero-width space would make
    乐平镇 two townships that look alike), which are named in a warning."""
    text = cell_text(v)
    found = _INVISIBLE_RE.findall(text)
    if not found:
        return fold(text) or None, None, ""
    hidden = "、".join(dict.fromkeys(_INVISIBLE[c] for c in found))
    return fold(_INVISIBLE_RE.sub("", text)) or None, "unit_invisible_chars", f"含有{hidden}，已去掉"


def make_conv_category(col: schema.Column):
    allowed = set(col.allowed)
    variants = dict(col.variants)
    lower = {k.lower(): v for k, v in variants.items()} | {a.lower(): a for a in col.allowed}
    detail = "允许：" + "、".join(col.allowed)

    def conv(v: object):
        s = fold_compact(cell_text(v))
        if not s:
            return None, None, ""
        if s in allowed:
            return s, None, ""
        hit = variants.get(s) or lower.get(s.lower())
        if hit:
            return hit, None, ""
        if col.free:
            return s, None, ""
        return None, "value_not_allowed", ""

    conv.allowed_text = "、".join(col.allowed)  # type: ignore[attr-defined]
    del detail
    return conv


def conv_id(v: object):
    if isinstance(v, str):
        return _conv_id_text(v)
    if isinstance(v, bool):
        return None, "bad_id_format", ""
    if isinstance(v, (int, float)):
        x = float(v)
        if x.is_integer() and 1e14 <= x < 1e15:
            # 15 digits fit a double exactly (Excel keeps 15 significant digits): a first-generation ID, intact
            value, code, detail = _conv_id_text(str(int(x)))
            return (value, "id_stored_as_number_15", "") if code is None else (value, code, detail)
        if abs(x) >= 1e15:
            return None, "id_stored_as_number", "数字只保留15位有效数字"
        return None, "bad_id_format", "位数不对"
    return _conv_id_text(str(v))


# Finding codes of ID values that are read nevertheless (warnings): the value is a valid ID.
_ID_ACCEPTED = frozenset({"id_stored_as_number_15", "id_invisible_chars"})


_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_ID_CHECK = np.array([ord(c) for c in "10X98765432"], dtype=np.uint32)


def _convert_all(conv, uniq: np.ndarray) -> tuple[np.ndarray, list, np.ndarray | None]:
    """conv() of every unique value, as arrays: (values, problems, valid_ids).

    values: the canonical values, one slot more than `uniq` (None: empty, unreadable, or the extra slot that
    code −1 takes); problems: (k, finding code, detail) of the values conv() refused; valid_ids (ID columns
    only): which values are well-formed 18-character IDs. Clean 18-character IDs, the bulk of an ID column,
    are checked with array operations (digits, check digit, birth date) instead of one by one.
    """
    n = len(uniq)
    values = np.empty(n + 1, dtype=object)  # all None
    todo = np.ones(n, dtype=bool)
    valid_ids = None
    if conv is conv_id:
        valid_ids = np.zeros(n, dtype=bool)
        text = _as_arrow_text(uniq)
        if text is not None:  # the usual column: text only, lengths without a Python loop
            import pyarrow.compute as pc

            is18 = pc.equal(pc.utf8_length(text), 18).to_numpy(zero_copy_only=False)
        else:
            is18 = np.fromiter((type(u) is str and len(u) == 18 for u in uniq), dtype=bool, count=n)
        pos = np.nonzero(is18)[0]
        if len(pos):
            c = uniq[pos].astype("U18").view(np.uint32).reshape(-1, 18)
            d = c[:, :17].astype(np.int64) - 48
            ok = ((d >= 0) & (d <= 9)).all(axis=1)
            last = c[:, 17]
            ok &= ((last >= 48) & (last <= 57)) | (last == 88)
            ok &= _ID_CHECK[(np.where(ok[:, None], d, 0) * _ID_WEIGHTS).sum(axis=1) % 11] == last
            birth = np.where(ok[:, None], d[:, 6:14], 0)
            ok &= _valid_dates(birth)
            ok &= birth @ (10 ** np.arange(7, -1, -1)) <= _today_number()  # born in the future: per value
            clean = pos[ok]
            values[clean] = uniq[clean]
            todo[clean] = False
            valid_ids[clean] = True
    elif conv is conv_date and n and set(map(type, uniq)) <= {dt.datetime, dt.date}:
        # the reader's typed dates (Arrow timestamps): each one's day, as conv_date gives it, by arrays
        days = uniq.astype("datetime64[us]").astype("datetime64[D]").astype("datetime64[s]")
        values[:n] = pd.DatetimeIndex(days).astype(object)
        return values, [], None
    problems: list = []
    for k in np.flatnonzero(todo).tolist():
        u = uniq[k]
        if _is_empty(u):
            continue
        if is_unknown(u):  # an error value or a formula without a result: unknown, not empty
            problems.append((k, "formula_no_value", "") if u == FORMULA_NO_VALUE else (k, "cell_error", f"单元格显示 {u}"))
            continue
        v, code, detail = conv(u)
        values[k] = v
        if code:
            problems.append((k, code, detail))
        if valid_ids is not None and type(v) is str and len(v) == 18 and (not code or code in _ID_ACCEPTED):
            valid_ids[k] = True  # e.g. a 15-digit ID upgraded, or one typed with spaces
    return values, problems, valid_ids


def _as_arrow_text(uniq: np.ndarray):
    """The values as an Arrow string array when every one is a str (else None): string work in C, in memory
    that goes with the text's length (a fixed-width NumPy array would go with the longest value's)."""
    if not len(uniq) or any(t is not str for t in set(map(type, uniq))):
        return None
    import pyarrow as pa

    try:
        return pa.array(uniq, type=pa.string())
    except (UnicodeError, pa.ArrowException):  # e.g. a lone surrogate: the values are handled one by one
        return None


def _valid_dates(d: np.ndarray) -> np.ndarray:
    """Which rows of 8 digits (YYYYMMDD, one digit per column) are real calendar dates (years 1–9999, as
    datetime.date takes them)."""
    y = d[:, :4] @ np.array([1000, 100, 10, 1])
    m = d[:, 4:6] @ np.array([10, 1])
    day = d[:, 6:8] @ np.array([10, 1])
    ok = (y >= 1) & (m >= 1) & (m <= 12) & (day >= 1)
    month = ((y - 1970) * 12 + np.clip(m, 1, 12) - 1).astype("datetime64[M]")
    length = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(np.int64)
    return ok & (day <= length)


def _today_number() -> int:
    """Today as the number YYYYMMDD (an ID's birth date compares with it)."""
    t = dt.date.today()
    return t.year * 10000 + t.month * 100 + t.day


@lru_cache(maxsize=1 << 18)
def _conv_id_text(v: str):
    s = v.strip()
    hidden = ""
    if not (len(s) in (15, 18) and s.isascii()):
        found = _INVISIBLE_RE.findall(v)
        if found:  # stripped before NFKC (which would make NBSP a space) and named: the user cannot see them
            hidden = "、".join(dict.fromkeys(_INVISIBLE[c] for c in found))
            v = _INVISIBLE_RE.sub("", v)
        s = _SPACES.sub("", fold(v))
    s = s.upper()
    value, code, detail = _check_id(s)
    if hidden:
        if code is None:
            return value, "id_invisible_chars", f"含有{hidden}"
        detail = (detail + "；" if detail else "") + f"另含有看不见的字符：{hidden}（已去掉）"
    return value, code, detail


def _check_id(s: str):
    """(ID, finding code or None, detail) of an ID's text, folded and without spaces."""
    if _ID15.match(s):
        try:
            dt.date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))
        except ValueError:
            return s, "bad_id_format", "出生日期无效"
        return ids.upgrade15(s), None, ""
    if not _ID_CHARS.match(s):
        if _SCIENTIFIC.match(s):
            return None, "id_stored_as_number", "单元格中是科学计数法写法（如 4.4E+17）"
        foreign = [c for c in dict.fromkeys(s) if c.isdigit() and not c.isascii()]
        if foreign:  # digits of another script (Arabic-Indic ٤٢…): named, they look like digits to the user
            shown = "、".join(f"「{c}」" for c in foreign[:10])
            return s, "bad_id_format", f"含有非 0-9 的数字字符 {shown}（其他文字的数字），请改为 0-9"
        if s.isascii() and (s.isdigit() or (s[:-1].isdigit() and s[-1:] == "X")):
            return s, "bad_id_format", f"共{len(s)}位"
        return s, "bad_id_format", "含有非数字字符"
    try:
        dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return s, "bad_id_format", "出生日期无效"
    if int(s[6:14]) > _today_number():
        return s, "id_birth_in_future", ""
    if ids.check_digit(s[:17]) != s[17]:
        return s, "bad_id_checksum", ""
    return s, None, ""


def area_problem(area: str, birth_year: int) -> str | None:
    """Why an area code is doubtful (unknown to stdnum's table, or created after the birth year), or None.

    Reads stdnum's code table directly: `ric.get_birth_place` also refuses codes abolished before the
    birth year, which real people legitimately carry (a number is issued at registration, not birth).
    """
    start = _area_start(area)
    if start is None:
        return "地址码不在行政区划代码表中"
    if start > birth_year:
        return f"地址码设立于{start}年，晚于出生年份"
    return None


@lru_cache(maxsize=1)
def _loc_table() -> dict[str, str]:
    """6-digit area code -> stdnum's county text ("[2002-]三水区", "[2001-2009]襄阳区,[2010-]襄州区").

    The file python-stdnum ships (cn/loc.dat) holds province lines ("44 province=…") and, indented under
    them, county lines ("  0607 county=…"), nothing else; reading it directly takes milliseconds where
    stdnum.numdb's general parser takes ≈0.2 s. tests/readers/test_fast_read.py checks it against numdb.
    """
    from importlib.util import find_spec

    # found, not imported: importing stdnum pulls in ssl (5 ms) for nothing here
    (folder,) = find_spec("stdnum").submodule_search_locations
    text = (Path(folder) / "cn" / "loc.dat").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    province = ""
    for m in re.finditer(r'^(?:(\d{2}) province="[^"\n]*"|  (\d{4}) county="([^"\n]*)")$', text, re.M):
        if m.group(1):
            province = m.group(1)
        else:
            table.setdefault(province + m.group(2), m.group(3))
    return table


@lru_cache(maxsize=4096)
def _area_start(area: str) -> int | None:
    """The year an area code was first valid (0: from the table's beginning), None when unknown."""
    county = _loc_table().get(area, "")
    if not county:
        return None
    starts = []
    for part in county.split(","):
        m = re.match(r"\[(\d*)-(\d*)\]", part)
        if not m or not m.group(1):
            return 0  # a name without dates, or one valid from the beginning of the table
        starts.append(int(m.group(1)))
    return min(starts)


# --- the sheet ---------------------------------------------------------------------------------------

def _marker_candidates(uniq: np.ndarray) -> np.ndarray:
    """Positions of the values that may begin with a totals/footnote marker: text whose first character is
    a marker's or whitespace (every position when the column is not text only)."""
    text = _as_arrow_text(uniq)
    if text is None:
        return np.arange(len(uniq))
    import pyarrow.compute as pc

    first = pc.utf8_slice_codeunits(text, 0, 1)
    return np.flatnonzero(pc.is_in(first, value_set=_marker_or_space()).to_numpy(zero_copy_only=False))


@lru_cache(maxsize=1)
def _marker_or_space():
    """Arrow set of the characters a marker value may begin with: a marker's first, or whitespace."""
    import pyarrow as pa

    spaces = [chr(c) for c in range(0x3001) if chr(c).isspace()]  # str.isspace has none beyond U+3000
    return pa.array(sorted(_MARKER_FIRST | set(spaces)), type=pa.string())


def _factorize(arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    try:
        codes, uniques = pd.factorize(arr, use_na_sentinel=True)
    except TypeError:  # unhashable oddities: fall back to text
        codes, uniques = pd.factorize(np.array([cell_text(v) for v in arr], dtype=object))
    return codes, np.asarray(uniques, dtype=object)


def _empty_uniques(uniq: np.ndarray) -> np.ndarray:
    """Which unique cell values are empty ('' / None / NaN / whitespace only), without a Python loop over
    the common case."""
    if not len(uniq):
        return np.zeros(0, dtype=bool)
    emp = np.asarray(pd.isna(uniq), dtype=bool) | (uniq == "")
    # whitespace-only strings are rare: check only short strings
    lens = np.fromiter((len(u) if isinstance(u, str) and len(u) < 8 and not u.strip() else 0 for u in uniq),
                       dtype=np.int64, count=len(uniq)) if len(uniq) < 5000 else np.zeros(len(uniq), np.int64)
    return emp | (lens > 0)


def _converter(kind: schema.Kind, col: schema.Column):
    if col.type == schema.DATE:
        return conv_date
    if col.type == schema.FLAG:
        return conv_flag
    if col.type == schema.NUMBER:
        return conv_number
    if col.type == schema.ID:
        return conv_id
    if col.type == schema.CATEGORY:
        return make_conv_category(col)
    if col.name == "姓名":
        return conv_name
    if col.name in schema.UNIT_COLUMNS:
        return conv_unit
    return conv_text


def normalize_sheet(sheet: Sheet, file: str) -> tuple[pd.DataFrame, list[Finding], int]:
    """(canonical frame, typed as frames.coerce types it, findings, number of rows skipped as totals/notes)
    for one sheet with a header."""
    header = sheet.header
    kind = schema.KINDS[header.kind]
    findings = _header_findings(header, file, sheet.name)
    cols, n = sheet.columns, sheet.rows
    rownum = np.arange(header.row + 2, header.row + 2 + n, dtype=np.int64)
    factor, empty_all = _factors(cols, n)
    skip = _marker_rows(cols, factor, n) & ~empty_all
    for r in rownum[skip]:
        findings.append(Finding("row_skipped", file, sheet.name, int(r)))
    idx = np.nonzero(~(empty_all | skip))[0]
    rows_kept = rownum[idx]
    at = _Place(file, sheet.name, rows_kept)
    out: dict[str, object] = {}
    today = _today()
    for ci, name in header.columns.items():
        entry = factor[ci] if ci < len(cols) else (np.full(n, -1), np.empty(0, object), np.ones(n, bool))
        out.update(_column(kind, kind.column(name), entry, idx, at, findings, today))
    _extra_columns(header, cols, idx, out)
    m = len(idx)
    out[schema.ORIGIN_FILE] = pd.Series(_repeat(file, m), dtype=object)
    out[schema.ORIGIN_SHEET] = pd.Series(_repeat(sheet.name, m), dtype=object)
    out[schema.ORIGIN_ROW] = pd.Series(rows_kept, dtype="int64")
    index = pd.RangeIndex(m)
    df = frames.coerce(header.kind, {k: v.set_axis(index) for k, v in out.items()}, none_for_empty=True)
    return df, findings, int(skip.sum())


def _header_findings(header: Header, file: str, sheet: str) -> list[Finding]:
    """Columns the header lacks, and columns it names twice."""
    findings = [Finding("missing_column", file, sheet, header.row + 1, name, detail=f"第{header.row + 1}行是表头")
                for name in header.missing]
    for used, ignored, name in header.duplicates:
        findings.append(Finding(
            "duplicate_column", file, sheet, header.row + 1, name,
            detail=f"{excel_column(used)}列「{header.labels.get(used, name)}」与{excel_column(ignored)}列"
                   f"「{header.labels.get(ignored, name)}」都对应「{name}」，读取的是{excel_column(used)}列"))
    return findings


def _factors(cols: list, n: int) -> tuple[dict, np.ndarray]:
    """{column: (codes, uniques, empty per row)} of every column, and which rows are entirely empty."""
    empty_all = np.ones(n, dtype=bool)
    factor: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for i, arr in enumerate(cols):
        # the fast readers hand over columns already dictionary-encoded (codes, uniques)
        codes, uniq = arr if isinstance(arr, tuple) else _factorize(arr)
        emp_u = _empty_uniques(uniq)
        emp = np.where(codes < 0, True, emp_u[np.maximum(codes, 0)] if len(uniq) else True)
        factor[i] = (codes, uniq, emp)
        empty_all &= emp
    return factor, empty_all


def _marker_rows(cols: list, factor: dict, n: int) -> np.ndarray:
    """Totals and footnote rows: a marker in one of the first three cells."""
    skip = np.zeros(n, dtype=bool)
    markers = schema.TOTAL_MARKERS + tuple(fold_compact(m) for m in schema.FOOTNOTE_MARKERS)
    for i in range(min(3, len(cols))):
        codes, uniq, _ = factor[i]
        hit_u = np.zeros(len(uniq), dtype=bool)
        for k in _marker_candidates(uniq).tolist():
            u = uniq[k]
            hit_u[k] = isinstance(u, str) and u.lstrip()[:1] in _MARKER_FIRST and fold_compact(u).startswith(markers)
        if hit_u.any():
            skip |= (codes >= 0) & hit_u[np.maximum(codes, 0)]
    return skip


@dataclass(frozen=True)
class _Place:
    """Where the kept rows of a sheet are: file, sheet and their Excel row numbers."""

    file: str
    sheet: str
    rows: np.ndarray


def _column(kind: schema.Kind, col: schema.Column, entry: tuple, idx: np.ndarray, at: _Place,
            findings: list[Finding], today) -> dict[str, pd.Series]:
    """One canonical column of the kept rows `idx` as its typed series (with 人员状态细分 beside 人员状态),
    its findings appended to `findings`."""
    codes, uniq, emp = entry
    codes, emp = codes[idx], emp[idx]
    conv = _converter(kind, col)
    values, bad, valid_ids = _convert_all(conv, uniq)
    status = _status_detail(values, bad, uniq, codes) if (kind.id, col.name) == _STATUS else None
    pick = np.where(codes < 0, len(uniq), codes)
    if col.type == schema.DATE:
        bad += _dates_out_of_range(values, today, late_ok=kind.id == "community" and col.name == "报到日期")
    if bad:
        _value_findings(bad, codes, uniq, col.name, getattr(conv, "allowed_text", ""), at, findings)
    if valid_ids is not None:
        findings.extend(_area_findings(values, valid_ids, codes, at.rows, at.file, at.sheet, col.name))
    if col.required:
        # empty cells, and cells that fold to nothing (whitespace, stray quotes) without another finding
        silent = np.fromiter((v is None for v in values.tolist()), dtype=bool, count=len(values))
        silent[[k for k, _, _ in bad]] = False
        emp = emp | silent[pick]
        for j in np.nonzero(emp)[0]:
            findings.append(Finding("required_empty", at.file, at.sheet, int(at.rows[j]), col.name))
    out = {col.name: _typed(col, values, pick)}
    if status is not None:
        out[STATUS_DETAIL] = status
    return out


_STATUS = ("persons", "人员状态")
STATUS_DETAIL = "人员状态细分"


def _status_detail(values: np.ndarray, bad: list, uniq: np.ndarray, codes: np.ndarray) -> pd.Series:
    """人员状态, the one column read with a rule of its own. Empty means 社会面; a status that cannot be read
    is unknown instead (never 社会面 by default: the engine leaves such persons out of 在册 and every count
    by status), set in `values`. Returns the police sub-status of each row (人员状态细分, or None)."""
    for k, _, _ in bad:
        values[k] = schema.STATUS_UNKNOWN
    details = np.empty(len(uniq) + 1, dtype=object)
    details[:] = None
    for k, u in enumerate(uniq):
        s = fold_compact(cell_text(u))
        if s in (schema.STATUS_DETAIL_ABSTINENT_3Y, schema.STATUS_DETAIL_NOT_3Y):
            details[k] = s
    return pd.Series(details[np.where(codes < 0, len(uniq), codes)], dtype=object)


def _dates_out_of_range(values: np.ndarray, today, *, late_ok: bool) -> list:
    """(unique index, code, detail) of dates before 1950 or after today (`late_ok`: validate reports those)."""
    out = []
    for k, ts in enumerate(values[:-1].tolist()):
        if ts is not None and (ts < MIN_DATE or (ts > today and not late_ok)):
            out.append((k, "date_out_of_range", "早于1950年" if ts < MIN_DATE else "晚于今天"))
    return out


def _value_findings(bad: list, codes: np.ndarray, uniq: np.ndarray, name: str, allowed: str, at: _Place,
                    findings: list[Finding]) -> None:
    """One finding per row holding a bad value ((unique index, code, detail) in `bad`)."""
    codes_bad = {k: (code, det) for k, code, det in bad}
    mask = np.isin(codes, list(codes_bad))
    for j in np.nonzero(mask)[0]:
        k = int(codes[j])
        code, det = codes_bad[k]
        shown = None if code == "formula_no_value" else cell_text(uniq[k]).strip()
        findings.append(Finding(code, at.file, at.sheet, int(at.rows[j]), name, shown,
                                detail=det, allowed=allowed if code == "value_not_allowed" else ""))


def _typed(col: schema.Column, values: np.ndarray, pick: np.ndarray) -> pd.Series:
    """The converted distinct values taken with the codes (no per-row objects)."""
    if col.type == schema.DATE:
        return pd.Series(pd.to_datetime(pd.Series(values, dtype=object), errors="coerce").to_numpy()[pick])
    if col.type == schema.FLAG:
        na = np.array([v is None for v in values], dtype=bool)
        truth = np.array([v is True for v in values], dtype=bool)
        return pd.Series(pd.arrays.BooleanArray(truth[pick], na[pick]))
    if col.type == schema.NUMBER:
        return pd.Series(pd.Series(values, dtype=object).astype("float64").to_numpy()[pick])
    return pd.Series(values[pick], dtype=object)


def _extra_columns(header: Header, cols: list, idx: np.ndarray, out: dict) -> None:
    """Columns of no canonical name: kept as text, never an error."""
    for ci, label in header.labels.items():
        if ci in header.columns or ci >= len(cols) or not label or label in out:
            continue
        arr = cols[ci]
        if isinstance(arr, tuple):
            c, u = arr
            arr = np.append(u, None).astype(object)[np.where(c < 0, len(u), c)]
        arr = arr[idx]
        if arr.dtype.kind == "M":  # fast path: typed dates, shown as calamine shows them
            ts = pd.Series(arr)
            arr = np.where(ts.isna(), None, ts.dt.strftime("%Y-%m-%d").where(
                ts.dt.normalize() == ts, ts.dt.strftime("%Y-%m-%d %H:%M:%S"))).astype(object)
        elif arr.dtype.kind != "O":
            arr = arr.astype(object)
        out[label] = pd.Series([cell_text(v) or None for v in arr] if len(arr) < 50_000 else arr, dtype=object)


def _repeat(value: str, m: int) -> np.ndarray:
    """An object array of m references to one str (np.full would make m copies of it: 10⁶ rows, ~100 MB)."""
    arr = np.empty(m, dtype=object)
    arr.fill(value)
    return arr


def _area_findings(values: np.ndarray, valid_ids: np.ndarray, codes: np.ndarray, rows: np.ndarray, file: str,
                   sheet: str, column: str) -> list[Finding]:
    """One 警告 per doubtful area code (at its first row), not one per person: nobody can change an ID."""
    ks = np.flatnonzero(valid_ids)
    if not len(ks):
        return []
    ids_u = values[ks].astype("U18")  # valid 18-character IDs: fixed-width text
    digits = ids_u.view(np.uint32).reshape(-1, 18)[:, 6:10].astype(np.int64) - 48
    area = pd.Series(ids_u.astype("U6").astype(object))
    year = pd.Series(digits @ np.array([1000, 100, 10, 1], dtype=np.int64))
    whys: dict[str, str] = {}
    bad = np.zeros(len(ks), dtype=bool)
    for a, grp in year.groupby(area.to_numpy(), sort=False):  # a handful of area codes per county
        start = _area_start(a)
        hit = np.ones(len(grp), dtype=bool) if start is None else (grp < start).to_numpy()
        if hit.any():
            bad[grp.index[hit]] = True
            whys[a] = area_problem(a, int(grp[hit].iloc[0]))  # the reason depends on the area only
    if not bad.any():
        return []
    n = len(valid_ids)
    # the doubtful area codes, sorted, found among the distinct IDs (not among the rows, 10⁵ in a county)
    labels, label_of = np.unique(ids_u[bad].astype("U6"), return_inverse=True)
    lookup = np.full(n + 1, -1, dtype=np.int64)  # unique index -> its area's position in labels when doubtful
    lookup[ks[bad]] = label_of.reshape(-1)
    at = lookup[np.where(codes < 0, n, codes)]
    mask = at >= 0
    inv = at[mask]
    first = np.full(len(labels), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, inv, rows[mask].astype(np.int64))
    counts = np.bincount(inv, minlength=len(labels))
    return [Finding("id_area_unknown", file, sheet, int(first[j]), column, str(a),
                    detail=f"{whys[str(a)]}；本表共{int(counts[j])}行使用地址码{a}")
            for j, a in enumerate(labels)]
