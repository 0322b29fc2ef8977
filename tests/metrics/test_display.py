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


def test_one_voice_for_every_writer_and_filter():
    """The xlsx writers, the filters and the engine word and format through metrics.display only."""
    import re
    from pathlib import Path

    from jindu_metrics.metrics.display import sheet_number, sheet_number_format
    from jindu_metrics.report import filters

    assert sheet_number_format("permyriad", 2) == '0.00"‱"' and sheet_number_format("ratio_n1", 0) == '0":1"'
    assert sheet_number(Fraction(7, 200000), "permyriad", 2) == 0.35  # ‱ cells hold 万分之 numbers
    assert sheet_number(Fraction(7, 200000), "permyriad", 2, rounded=False) == 0.35
    assert filters.change(-5, unit="人") == format_change(Fraction(-5), "count", 0, "人") == "减少5人"
    assert filters.permyriad(Fraction(7, 200000)) == "0.35‱" and filters.ratio(Fraction(258, 10)) == "26:1"
    # 持平 when the change rounds to nothing, in every output alike
    assert format_change(Fraction(1, 10**6), "percent", 1, "") == "持平" == filters.change(Fraction(1, 10**6))
    pkg = Path(__file__).resolve().parents[2] / "src" / "jindu_metrics"
    for f in pkg.rglob("*.py"):
        if f.name != "display.py":
            text = f.read_text(encoding="utf-8")
            assert not re.search(r"import .*ROUND_HALF_UP|rounding=|\.quantize\(", text), f"rounding outside display: {f}"
            assert "0.000000" not in text, f"a number format outside display: {f}"


def test_compute_xlsx_and_county_workbook_share_the_permyriad_cell(tmp_path):
    import io

    from openpyxl import load_workbook

    from jindu_metrics.ledgers import load_ledgers
    from jindu_metrics.metrics.catalog import load_catalog
    from jindu_metrics.metrics.engine import compute
    from jindu_metrics.outputs import compute as export
    from jindu_metrics.outputs.county import build_workbook
    from jindu_metrics.periods import parse_period

    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    cat = load_catalog()
    res = compute(load_ledgers([root / "sample_ledgers"]), cat, parse_period("2018"), metrics=["new_per_10k"])
    ws = load_workbook(io.BytesIO(export.compute_xlsx(res, cat))).active
    cell = ws.cell(3, export.COMPUTE_HEADERS.index("数值") + 1)  # row 1: the window, row 2: the header
    ind = cat.get("new_per_10k")
    assert cell.number_format == '0.00"‱"'
    assert abs(cell.value - float(res.rows[0].exact * 10000)) < 1e-9
    data = {"title": "t", "indicators": [{"id": ind.id, "name": ind.name, "format": ind.format,
                                          "decimals": ind.decimals, "target": ind.target}],
            "units": ["乐平镇"], "total_unit": "全县",
            "rows": [{"unit": "乐平镇", "metric": ind.id, "exact": res.rows[0].exact, "met": None, "rank": 1}],
            "scores": None, "findings": [], "failures": [], "trend": None}
    wb = load_workbook(io.BytesIO(build_workbook(data)))
    assert wb["指标汇总"].cell(5, 2).number_format == cell.number_format
