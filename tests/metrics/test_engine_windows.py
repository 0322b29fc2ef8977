"""The one-pass engine: the 环比/同比 figures equal the same period computed on its own, and grouping
does not change the whole-input figures (issue 7 — speed work must not move a number)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jindu_metrics import schema
from jindu_metrics.ledgers.frames import ledger_set
from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.metrics.engine import compute, exact_values
from jindu_metrics.periods import parse_period

CATALOG = load_catalog()
DATES = st.one_of(st.none(), st.just(dt.date(2016, 2, 29)),
                  st.dates(min_value=dt.date(2014, 1, 1), max_value=dt.date(2019, 12, 31)))


def _value(col: schema.Column):
    if col.type == schema.FLAG:
        return st.one_of(st.none(), st.booleans())
    if col.type == schema.CATEGORY:
        return st.one_of(st.none(), st.sampled_from(col.allowed))
    if col.type == schema.DATE:
        return DATES
    if col.type == schema.NUMBER:
        return st.one_of(st.none(), st.sampled_from([0, 1, 2.5, 10, 0.1]))
    if col.type == schema.ID:
        return st.one_of(st.none(), st.integers(0, 25).map(lambda i: f"ID{i}"))
    if col.name == "所属村居":
        return st.one_of(st.none(), st.sampled_from(["甲村", "乙村", "丙村"]))
    if col.name == "所属镇街":
        return st.one_of(st.none(), st.sampled_from(["甲镇", "乙镇"]))
    return st.sampled_from(["张三", "李四"])


def _records(kind: str, most: int):
    cols = schema.KINDS[kind].columns
    return st.lists(st.fixed_dictionaries({c.name: _value(c) for c in cols}), max_size=most)


LEDGERS = st.builds(lambda p, s, c, k, u, unit: ledger_set(unit, persons=p, seizures=s, community=c, contacts=k,
                                                           publicity=u, units=[]),
                    _records("persons", 25), _records("seizures", 30), _records("community", 10),
                    _records("contacts", 50), _records("publicity", 8), st.sampled_from([None, "乐平镇"]))
PERIODS = st.sampled_from(["2018", "2018-01..2018-10", "2018-03", "2017-02", "2018-12-01..2019-02-28"])


def _plain(c):
    return (c.value, c.display, c.numerator, c.denominator)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LEDGERS, PERIODS, st.sampled_from([None, "所属村居", "所属镇街"]))
def test_comparison_windows_equal_their_own_computation(ledgers, text, by):
    period = parse_period(text)
    res = compute(ledgers, CATALOG, period, by=by)
    alone = {name: compute(ledgers, CATALOG, w, by=by, compare=False)
             for name, w in (("previous", period.previous()), ("yoy", period.year_earlier()))}
    checked = 0
    for row in res.rows:
        unit = None if res.rows.index(row) < res.whole_rows else row.unit
        for name in ("previous", "yoy"):
            c = getattr(row, name)
            if c is None:
                continue
            other = alone[name].get(row.metric, unit) if unit is None or unit in alone[name].groups \
                else None
            if other is None:  # the group has no rows in that window: its figures are zero / 分母为0
                assert c.numerator in (0, None)
                continue
            assert _plain(c) == (None if other.exact is None else float(other.exact), other.display,
                                 other.numerator, other.denominator), (row.metric, name, row.unit)
            checked += 1
    main_alone = compute(ledgers, CATALOG, period, by=by, compare=False)
    cmp = {"previous": None, "yoy": None, "previous_reason": None, "yoy_reason": None}
    assert [r.to_dict() | cmp for r in res.rows] == [r.to_dict() | cmp for r in main_alone.rows]
    for r in res.rows:  # a comparison is there, or why not is said
        for name in ("previous", "yoy"):
            assert (getattr(r, name) is None) == bool(r.comparison_notes.get(name)), (r.metric, name)


def test_comparison_checked_on_a_real_case():
    """Guards the property test above against vacuity: a ledger where both comparisons exist."""
    persons = [{"公民身份号码": "ID1", "所属村居": "甲村", "初次发现日期": dt.date(2016, 5, 1), "人员状态": "社会面"}]
    seizures = [{"公民身份号码": "ID1", "查处日期": dt.date(2017, 3, 1), "处置结果": "刑事拘留"},
                {"公民身份号码": "ID1", "查处日期": dt.date(2018, 3, 1), "处置结果": "刑事拘留"}]
    res = compute(ledger_set("乐平镇", persons=persons, seizures=seizures), CATALOG, parse_period("2018-03"))
    row = res.get("seizures")
    assert row.numerator == 1 and row.yoy is not None and row.yoy.numerator == 1
    assert row.previous is not None and row.previous.numerator == 0


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LEDGERS, st.lists(PERIODS, min_size=1, max_size=4))
def test_exact_values_equal_compute_period_by_period(ledgers, texts):
    """The one-pass trend values (batch charts) are what compute() gives for each period on its own."""
    periods = [parse_period(t) for t in texts]
    got = exact_values(ledgers, CATALOG, periods)
    for k, period in enumerate(periods):
        alone = compute(ledgers, CATALOG, period, compare=False)
        for row in alone.rows:
            assert got[row.metric][k] == row.exact, (row.metric, texts[k])
