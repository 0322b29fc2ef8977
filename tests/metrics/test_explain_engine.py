"""`explain` and `compute` are one interpreter: for random ledgers, periods and units, every indicator's
numerator, denominator and display in `explain` are compute's, and the rows explain lists make them."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_windows import CATALOG, PERIODS, _records

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.ledgers.frames import ledger_set
from jindu_metrics.metrics.engine import UNFILLED, compute
from jindu_metrics.metrics.explain import explain
from jindu_metrics.periods import parse_period

LEDGERS = st.builds(lambda p, s, c, k, u, units, unit: ledger_set(unit, persons=p, seizures=s, community=c,
                                                                  contacts=k, publicity=u, units=units),
                    _records("persons", 25), _records("seizures", 30), _records("community", 10),
                    _records("contacts", 50), _records("publicity", 8), _records("units", 5),
                    st.sampled_from([None, "乐平镇"]))


def _ids(rows) -> set:
    return {r.id for r in rows if r.id is not None}


def _rows_make_the_figure(ind, ex) -> None:
    num, den = ind.numerator, ind.denominator
    if num.agg == "persons":
        assert len(_ids(ex.numerator_rows)) == ex.numerator
    elif num.agg == "rows":
        assert len(ex.numerator_rows) == ex.numerator
    else:
        total = sum(Fraction(r.values[num.column] or 0) for r in ex.numerator_rows)
        assert abs(float(total) - ex.numerator) < 1e-9
    if den is None:
        return
    # every denominator row is listed (issue 28: also a person's other rows when one row is in the numerator)
    if den.ledger == num.ledger and den.agg == "persons":
        assert len(_ids(ex.numerator_rows) | _ids(ex.other_rows)) == ex.denominator
    elif den.ledger == num.ledger:
        assert len(ex.numerator_rows) + len(ex.other_rows) == ex.denominator
    elif not ex.denominator_rows:
        assert ex.denominator == 0


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LEDGERS, PERIODS, st.data())
def test_explain_numerator_and_denominator_are_computes(ledgers, text, data):
    period = parse_period(text)
    every = [i.id for i in CATALOG.indicators]  # shown or not: explain takes any
    villages = compute(ledgers, CATALOG, period, by="所属村居", metrics=every, compare=False)
    towns = compute(ledgers, CATALOG, period, by="所属镇街", metrics=every, compare=False)
    units = [None, *(g for g in villages.groups + towns.groups if g != UNFILLED)]
    unit = data.draw(st.sampled_from(units), label="unit")
    for ind in CATALOG.indicators:
        ex = explain(ledgers, CATALOG, ind.id, period, unit=unit)
        if unit is None or unit == villages.unit:
            want = villages.get(ind.id)
        else:
            want = villages.get(ind.id, unit) if unit in villages.groups else towns.get(ind.id, unit)
        assert (ex.numerator, ex.denominator, ex.display) == (want.numerator, want.denominator, want.display), \
            (ind.id, unit)
        _rows_make_the_figure(ind, ex)


def test_explain_equals_compute_on_the_sample():
    """The random ledgers above rarely meet every condition; the 乐平镇 sample gives most indicators a
    non-zero numerator."""
    ledgers = load_ledgers([Path(__file__).resolve().parents[2] / "sample_ledgers"])
    period = parse_period("2018-01..2018-10")
    every = [i.id for i in CATALOG.indicators]
    res = compute(ledgers, CATALOG, period, by="所属村居", metrics=every, compare=False)
    nonzero = 0
    for unit in (None, res.groups[0]):
        for ind in CATALOG.indicators:
            ex = explain(ledgers, CATALOG, ind.id, period, unit=unit)
            want = res.get(ind.id, unit)
            assert (ex.numerator, ex.denominator, ex.display) == (want.numerator, want.denominator, want.display)
            _rows_make_the_figure(ind, ex)
            nonzero += bool(ex.numerator)
    assert nonzero > len(CATALOG.indicators)


def test_explain_of_a_unit_counts_what_compute_counts():
    """A visit recorded under another village still counts for the person's village, in both commands."""
    persons = [{"公民身份号码": "ID1", "所属村居": "甲村", "人员状态": "社会面"},
               {"公民身份号码": "ID2", "所属村居": "乙村", "人员状态": "社会面"}]
    contacts = [{"公民身份号码": "ID1", "所属村居": "乙村", "日期": "2018-03-02", "方式": "走访"}]
    ls = ledger_set("乐平镇", persons=persons, contacts=contacts)
    period = parse_period("2018-03")
    row = compute(ls, CATALOG, period, by="所属村居", compare=False).get("visit_rate", "甲村")
    ex = explain(ls, CATALOG, "visit_rate", period, unit="甲村")
    assert (row.numerator, row.denominator) == (ex.numerator, ex.denominator) == (1, 1)
    assert [r.id for r in ex.numerator_rows] == ["ID1"]
    assert ex.numerator_rows[0].values["帮教管控台帐记录数（走访/谈话/见面）"] == "1"
