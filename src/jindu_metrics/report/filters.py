"""Template filters: percent, 万分比, 比例, 中文数字, change wording, all worded by metrics.display (the one voice of
every output). Every filter renders "—" for missing data."""

from __future__ import annotations

import re
from fractions import Fraction

from ..metrics.display import (
    DASH,
    change_words,
    format_change,
    format_number,
    format_value,
    printed,
    round_half_up,
)


def _exact(x) -> Fraction | None:
    """The number behind `x`: an indicator (its exact value), a Fraction, Decimal, int or float; None if missing."""
    if x is None:
        return None
    exact = getattr(x, "exact", x)
    if exact is None or isinstance(exact, (str, bool)):
        return None
    if isinstance(exact, float):
        if exact != exact:  # NaN
            return None
        return Fraction(repr(exact))  # float 0.245 means the decimal the user wrote, not its binary image
    try:
        return Fraction(exact)
    except (TypeError, ValueError):
        return None


def _decimals(x, default: int) -> int:
    return getattr(x, "decimals", None) if getattr(x, "decimals", None) is not None else default


def percent(x, decimals: int | None = None) -> str:
    """0.244897… → "24.49%" (decimals default 1, or the indicator's own); exactly 1 → "100%"; missing → "—"."""
    v = _exact(x)
    return DASH if v is None else format_value(v, "percent", _decimals(x, 1) if decimals is None else decimals)


def permyriad(x, decimals: int | None = None) -> str:
    """0.000035 → "0.35‱" (万分比)."""
    v = _exact(x)
    return DASH if v is None else format_value(v, "permyriad", _decimals(x, 2) if decimals is None else decimals)


def ratio(x, decimals: int = 0) -> str:
    """25.8 → "26:1" (比例, N 比 1)."""
    v = _exact(x)
    return DASH if v is None else format_value(v, "ratio_n1", decimals)


def number(x, decimals: int = 0) -> str:
    """A plain number rounded 四舍五入: 23.65 → "23.7" with decimals=1."""
    v = _exact(x)
    return DASH if v is None else format_number(v, decimals)


def chinese(x, mode: str = "low") -> str:
    """3 → "三", 21 → "二十一" (中文数字, via cn2an); use as 排名第{{ rank|中文数字 }}."""
    v = _exact(x)
    if v is None:
        return DASH
    import cn2an

    if v.denominator == 1:
        return cn2an.an2cn(str(v.numerator), mode)
    return cn2an.an2cn(str(round_half_up(v, 2).normalize()), mode)


def change(x, which: str = "yoy", unit: str | None = None, decimals: int | None = None) -> str:
    """Change wording, as every output words it (metrics.display): "上升2.3个百分点" / "减少5人" / "持平" (同比 of
    a count also in percent: "减少43人，下降46.7%"); "—" when not covered.

    `x` is an indicator (compares with its 同比 `yoy`, 环比 `previous` with which="previous", or the base year
    with which="baseline"), a comparison, or a plain difference (a ratio difference as a fraction when unit is
    "个百分点"). `unit`/`decimals` reword an indicator's change on another unit or precision.
    """
    kind = getattr(x, "kind", None)
    if kind is not None and hasattr(x, "yoy"):  # an indicator
        name = {"previous": "previous", "环比": "previous", "baseline": "baseline", "基准": "baseline"}.get(which, "yoy")
        cmp = getattr(x, name, None)
        if not cmp or cmp.value is None or x.exact is None:
            return DASH
        if unit is None and decimals is None:
            fmt = getattr(x, "format", None) or ("percent" if kind == "ratio" else "count")
            return change_words(Fraction(x.exact), _exact(cmp.value), fmt, x.decimals,
                                x.unit_label if kind != "ratio" else "", relative=name != "previous")
        ratio_like = kind == "ratio"
        if unit is None:
            unit = "个百分点" if ratio_like and getattr(x, "format", "percent") == "percent" else (x.unit_label or "")
        if decimals is None:
            decimals = x.decimals if ratio_like else 0
        as_printed = "percent" if unit == "个百分点" else "count"  # the change of the values printed so
        diff = printed(Fraction(x.exact), as_printed, decimals) - printed(_exact(cmp.value), as_printed, decimals)
    elif hasattr(x, "change"):  # a comparison
        if getattr(x, "change_display", ""):
            return x.change_display
        diff = _exact(x.change)
        if diff is None:
            return DASH
    else:
        diff = _exact(x)
        if diff is None:
            return DASH
    if unit is None:
        unit = "个百分点"
    if decimals is None:
        decimals = 1 if unit == "个百分点" else 0
    return format_change(diff, "percent" if unit == "个百分点" else "count", decimals, unit)


def dash(x) -> str:
    """The value itself, or "—" when it is missing (None or empty)."""
    return DASH if x is None or x == "" else str(x)


def stated(xs) -> list:
    """The indicators of `xs` that have a value to state (their ledger was given): `{% if group|stated %}`."""
    return [x for x in (xs or []) if not getattr(x, "missing", None)]


def missing_note(xs) -> str:
    """"（未提供帮教管控台帐）" naming the ledgers that leave some of `xs` without a value; "" when none do."""
    from ..metrics.display import missing_column_reason, missing_reason

    kinds = {k for x in (xs or []) for k in (getattr(x, "missing", None) or ())}
    parts = [missing_reason(kinds)] if missing_reason(kinds) else []
    # a given ledger lacking a column: which columns to add
    columns = dict.fromkeys(c for x in (xs or []) for c in (getattr(x, "missing_columns", None) or ()))
    if columns:
        parts.append(f"{missing_column_reason(columns)}，请在台帐中增加" + ("此列" if len(columns) == 1 else "这些列"))
    return f"（{'；'.join(parts)}）" if parts else ""


_SEPARATORS = "，；、"
_RUN = re.compile(f"[{_SEPARATORS}]+")
_OPENERS = "（：。；"


def sentence(text: str) -> str:
    """Mend a sentence whose clauses were left out (`{% filter sentence %}…{% endfilter %}`): a run of
    separators keeps its strongest (；over ，over 、); none is left at the start, after an opening bracket
    or colon, or before 。/）/ the end; empty brackets go. A sentence with nothing left out is unchanged."""
    text = str(text).replace("（）", "")

    def mend(m: re.Match) -> str:
        run, start, end = m.group(0), m.start(), m.end()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if not before or before in _OPENERS or before == "\n" or not after or after in "。）\n" \
                or text.startswith("（未提供", end):  # the mark of what was left out closes the clause
            return ""
        return next(c for c in "；，、" if c in run)

    return _RUN.sub(mend, text)


FILTERS = {
    "percent": percent, "百分比": percent,
    "permyriad": permyriad, "万分比": permyriad,
    "ratio": ratio, "比例": ratio,
    "number": number, "数字": number,
    "cn": chinese, "中文数字": chinese,
    "change": change, "变化": change,
    "dash": dash,
    "stated": stated, "missing_note": missing_note, "sentence": sentence,
}
