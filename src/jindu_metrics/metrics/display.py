"""The one voice of every output: how exact values, changes, dates and spreadsheet cells are written
(四舍五入 = ROUND_HALF_UP on exact values, never banker's rounding). The table, JSON/CSV, the xlsx writers and
the templates' filters all call this module, so that a figure reads the same wherever it appears."""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from math import floor

from .declarations import Format

DASH = "—"
MISSING = "无台帐"  # a figure whose ledger was not given: no value (never 0)
NO_COLUMN = "无此列"  # a figure whose ledger lacks a column it reads: no value (never 0)
SCALE = {Format.PERCENT: 100, Format.PERMILLE: 1000, Format.PERMYRIAD: 10000, Format.RATIO_N1: 1, Format.COUNT: 1}
POINTS = {Format.PERCENT: "个百分点", Format.PERMILLE: "个千分点", Format.PERMYRIAD: "个万分点"}  # a change of a share
SUFFIX = {Format.PERCENT: "%", Format.PERMILLE: "‰", Format.PERMYRIAD: "‱", Format.RATIO_N1: ":1", Format.COUNT: ""}
_SCALED = (Format.PERMILLE, Format.PERMYRIAD)  # stored in a cell scaled: Excel has no ‰ or ‱ format


def round_half_up(x: Fraction | Decimal | int, decimals: int) -> Decimal:
    """Exact half-away-from-zero rounding (Excel/WPS ROUND): 12.4995 → 12.50 at 2, 0.05 → 0.1 at 1."""
    if decimals < 0:
        q = Fraction(x) * (Fraction(10) ** decimals)
        n = floor(abs(q) + Fraction(1, 2))
        n = -n if q < 0 else n
    else:
        # floor(|p/d|·10^k + 1/2) in integers: the same exact result without building Fractions (a county's
        # per-village output rounds ~10⁴ values)
        f = x if isinstance(x, (int, Fraction)) else Fraction(x)
        p, d = f.numerator, f.denominator
        n = (2 * abs(p) * 10**decimals + d) // (2 * d)
        n = -n if p < 0 else n
    return Decimal(n).scaleb(-decimals) if decimals else Decimal(n)


def _plain(d: Decimal) -> str:
    return format(d, "f")


def format_value(exact: Fraction | None, fmt: Format | str, decimals: int) -> str:
    """`24.49%`, `100%` (exactly 1), `26:1`, `0.58‰`, `0.35‱`, `49`, `—` (undefined)."""
    if exact is None:
        return DASH
    exact = exact if isinstance(exact, Fraction) else Fraction(exact)
    if fmt == Format.PERCENT and exact == 1:
        return "100%"
    if fmt not in SCALE:
        raise ValueError(f"unknown format {fmt}")
    return _plain(round_half_up(exact * SCALE[fmt], decimals)) + SUFFIX[fmt]


def format_number(x: int | float | Fraction | None, decimals: int = 0) -> str:
    """A count or sum: integers without decimals."""
    if x is None:
        return DASH
    f = x if isinstance(x, Fraction) else Fraction(x)
    if f.denominator == 1 and decimals == 0:
        return str(f.numerator)
    return _plain(round_half_up(f, decimals))


def format_change(delta: Fraction, fmt: Format | str, decimals: int, unit_label: str) -> str:
    """上升2.3个百分点 / 减少5人 / 持平: ratios rise and fall (上升/下降), counts grow and shrink (增加/减少),
    as bulletins write them; 持平 when the change rounds to nothing."""
    delta = Fraction(delta)
    word = ("上升" if delta > 0 else "下降") if fmt != Format.COUNT else ("增加" if delta > 0 else "减少")
    mag = abs(delta)
    if fmt in POINTS:
        text = f"{_plain(round_half_up(mag * SCALE[fmt], decimals))}{POINTS[fmt]}"
    elif fmt == Format.RATIO_N1:
        text = _plain(round_half_up(mag, decimals))
    else:
        text = f"{format_number(mag, decimals)}{unit_label}"
    return "持平" if delta == 0 or not re.search("[1-9]", text) else word + text


def missing_reason(kinds) -> str:
    """未提供帮教管控台帐 / 未提供吸毒人员登记台帐、单位信息 (ledger kind ids → their names, schema order)."""
    from ..schema import KINDS

    names = [KINDS[k].name for k in KINDS if k in set(kinds)]
    return "未提供" + "、".join(names) if names else ""


def missing_column_reason(columns) -> str:
    """吸毒人员登记台帐没有「已见面」列 ((kind, column) pairs → one clause per ledger, schema order)."""
    from ..schema import KINDS

    by_kind: dict[str, list[str]] = {}
    for kind, col in columns:
        by_kind.setdefault(kind, []).append(col)
    return "；".join(f"{KINDS[k].name}没有{''.join(f'「{c}」' for c in by_kind[k])}列"
                    for k in KINDS if k in by_kind)


def relative_change(now: Fraction, then: Fraction) -> Fraction | None:
    """(now − then) ÷ then, exactly; None when the base is 0 (no relative change can be stated)."""
    return None if then == 0 else (Fraction(now) - Fraction(then)) / Fraction(then)


def format_relative(rel: Fraction | None, decimals: int = 1) -> str:
    """下降93.4% / 上升46.7% / 持平 (a count's change in percent of its base); "—" when the base is 0."""
    if rel is None:
        return DASH
    amount = round_half_up(abs(rel) * 100, decimals)
    if amount == 0:
        return "持平"
    return f"{'上升' if rel > 0 else '下降'}{_plain(amount)}%"


ZERO_BASE = "基数为0，无法计算增减幅度"


def format_count_change(now: Fraction, then: Fraction, decimals: int, unit_label: str) -> str:
    """减少43人，下降46.7% (seed 003: persons and percent); 增加5人，—（基数为0…） when the base is 0."""
    words = format_change(Fraction(now) - Fraction(then), Format.COUNT, decimals, unit_label)
    if now == then:
        return words
    rel = relative_change(now, then)
    return f"{words}，{format_relative(rel)}" if rel is not None else f"{words}，{DASH}（{ZERO_BASE}）"


def printed(exact: Fraction, fmt: Format | str, decimals: int) -> Fraction:
    """The value a reader sees printed, back in the value's own units: 0.94666… printed 94.7% → 947/1000."""
    if fmt == Format.PERCENT and exact == 1:
        return Fraction(1)
    scale = SCALE.get(fmt, 1)
    return Fraction(round_half_up(Fraction(exact) * scale, decimals)) / scale


def change_words(now: Fraction, then: Fraction, fmt: Format | str, decimals: int, unit_label: str = "", *,
                 relative: bool = False) -> str:
    """The change from `then` to `now` as every output words it: a ratio in 个百分点 (上升2.3个百分点), a count
    in its unit (减少5人) and, with `relative` (同比, base year), also in percent (减少43人，下降46.7%).

    The change is that of the values as printed (94.4% → 94.7%: 上升0.3个百分点; 持平 only when both print
    the same), so that a reader who checks the arithmetic on the page finds it right."""
    now, then = printed(now, fmt, decimals), printed(then, fmt, decimals)
    if fmt == Format.COUNT and relative:
        return format_count_change(now, then, decimals, unit_label)
    return format_change(now - then, fmt, decimals, unit_label)


def cn_date(d) -> str:
    """2018-11-15 → "2018年11月15日" (公文 dates carry no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"


# ---------------------------------------------------------------- spreadsheet cells
def sheet_number_format(fmt: Format | str, decimals: int) -> str:
    """The number format of an indicator's cell, in every xlsx jindu writes: 0.0%, 0.00"‱", 0":1", 0."""
    d = "." + "0" * decimals if decimals else ""
    return {Format.PERCENT: f"0{d}%", Format.PERMILLE: f'0{d}"‰"', Format.PERMYRIAD: f'0{d}"‱"',
            Format.RATIO_N1: f'0{d}":1"'}.get(fmt, f"0{d}")


def sheet_number(value, fmt: Format | str, decimals: int, *, rounded: bool = True):
    """The number an indicator's cell stores under sheet_number_format: a percent as its fraction, ‱ in
    千分之 / 万分之 (Excel has no ‰ or ‱ format), others as they are; rounded 四舍五入 as printed (Excel then only
    formats), or exact (`rounded=False`, compute's data columns)."""
    if value is None:
        return None
    x = Fraction(repr(value)) if isinstance(value, float) else Fraction(value)
    if fmt in _SCALED:
        x *= SCALE[fmt]
    if not rounded:
        return float(x)
    if fmt == Format.PERCENT:
        return float(round_half_up(x * 100, decimals).scaleb(-2))
    out = round_half_up(x, decimals)
    return int(out) if decimals == 0 and fmt not in _SCALED else float(out)
