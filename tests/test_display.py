from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from jindu_metrics.metrics.display import format_change, format_number, format_value, round_half_up


def test_round_half_up_cases():
    assert format_value(Fraction("0.124995"), "percent", 2) == "12.50%"
    assert format_value(Fraction("0.0005"), "percent", 1) == "0.1%"
    assert round_half_up(Fraction(5, 2), 0) == Decimal(3)  # banker's would give 2
    assert round_half_up(Fraction(-5, 2), 0) == Decimal(-3)
    assert round_half_up(Decimal("2.675"), 2) == Decimal("2.68")  # float 2.675 would round down


def test_bulletin_figures():
    assert format_value(Fraction(12, 49), "percent", 2) == "24.49%"
    assert format_value(Fraction(16, 49), "percent", 1) == "32.7%"
    assert format_value(Fraction(11, 23), "percent", 1) == "47.8%"
    assert format_value(Fraction(0), "percent", 1) == "0.0%"
    assert format_value(Fraction(354, 374), "percent", 1) == "94.7%"
    assert format_value(Fraction(1), "percent", 1) == "100%"
    assert format_value(Fraction(258, 10), "ratio_n1", 0) == "26:1"
    assert format_value(Fraction(7, 200000), "permyriad", 2) == "0.35‱"
    assert format_value(None, "percent", 1) == "—"
    assert format_number(Fraction(49)) == "49"


def test_change_words():
    assert format_change(Fraction(23, 1000), "percent", 1, "") == "上升2.3个百分点"
    assert format_change(Fraction(-5), "count", 0, "人") == "减少5人"
    assert format_change(Fraction(0), "percent", 1, "") == "持平"


@given(st.integers(0, 10**6), st.integers(1, 10**6), st.integers(0, 4))
def test_rounding_matches_decimal_half_up(n, d, dec):
    from decimal import ROUND_HALF_UP, localcontext
    with localcontext() as ctx:
        ctx.prec = 60
        expect = (Decimal(n) / Decimal(d)).quantize(Decimal(1).scaleb(-dec), rounding=ROUND_HALF_UP)
    # Division to 60 digits can only differ from exact at an exact tie, which Decimal represents exactly.
    assert round_half_up(Fraction(n, d), dec) == expect


@given(st.one_of(st.fractions(), st.integers(-10**9, 10**9),
                 st.decimals(allow_nan=False, allow_infinity=False, places=6, min_value=-10**6, max_value=10**6)),
       st.integers(-2, 6))
def test_rounding_in_integers_equals_the_fraction_formula(x, dec):
    """round_half_up's integer arithmetic equals floor(|x|·10^dec + 1/2) with the sign of x, in Fractions."""
    from math import floor

    q = Fraction(x) * Fraction(10) ** dec
    n = floor(abs(q) + Fraction(1, 2))
    n = -n if q < 0 else n
    expect = Decimal(n).scaleb(-dec) if dec else Decimal(n)
    got = round_half_up(x, dec)
    assert got == expect and str(got) == str(expect)
