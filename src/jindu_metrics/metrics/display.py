"""Display of exact values as bulletins print them: 四舍五入 (ROUND_HALF_UP), never banker's rounding."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

DASH = "—"
MISSING = "无台帐"  # a figure whose ledger was not given: no value (never 0)
SCALE = {"percent": 100, "permille": 1000, "permyriad": 10000, "ratio_n1": 1, "count": 1}
POINTS = {"percent": "个百分点", "permille": "个千分点", "permyriad": "个万分点"}  # a change of a share
SUFFIX = {"percent": "%", "permille": "‰", "permyriad": "‱", "ratio_n1": ":1", "count": ""}


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


def format_value(exact: Fraction | None, fmt: str, decimals: int) -> str:
    """`24.49%`, `100%` (exactly 1), `26:1`, `0.58‰`, `0.35‱`, `49`, `—` (undefined)."""
    if exact is None:
        return DASH
    exact = exact if isinstance(exact, Fraction) else Fraction(exact)
    if fmt == "percent" and exact == 1:
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


def format_change(delta: Fraction, fmt: str, decimals: int, unit_label: str) -> str:
    """上升2.3个百分点 / 下降5人 / 持平."""
    if delta == 0:
        return "持平"
    word_up, word_down = ("上升", "下降") if fmt != "count" else ("增加", "减少")
    word = word_up if delta > 0 else word_down
    mag = abs(delta)
    if fmt in POINTS:
        return f"{word}{_plain(round_half_up(mag * SCALE[fmt], decimals))}{POINTS[fmt]}"
    if fmt == "ratio_n1":
        return f"{word}{_plain(round_half_up(mag, max(decimals, 1)))}"
    return f"{word}{format_number(mag, decimals)}{unit_label}"


def missing_reason(kinds) -> str:
    """未提供帮教管控台帐 / 未提供吸毒人员登记台帐、单位信息 (ledger kind ids → their names, schema order)."""
    from ..schema import KINDS

    names = [KINDS[k].name for k in KINDS if k in set(kinds)]
    return "未提供" + "、".join(names) if names else ""
