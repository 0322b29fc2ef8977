from datetime import date

import pytest

from jindu_metrics.errors import UsageError
from jindu_metrics.ledgers.frames import ledger_set
from jindu_metrics.periods import Period, default_period, parse_period, resolve_period


@pytest.mark.parametrize("text,start,end,label", [
    ("2018-10", date(2018, 10, 1), date(2018, 10, 31), "2018年10月"),
    ("2018-01..2018-10", date(2018, 1, 1), date(2018, 10, 31), "2018年1-10月"),
    ("2018-Q3", date(2018, 7, 1), date(2018, 9, 30), "2018年第三季度"),
    ("2018-H1", date(2018, 1, 1), date(2018, 6, 30), "2018年上半年"),
    ("2018-H2", date(2018, 7, 1), date(2018, 12, 31), "2018年下半年"),
    ("2018", date(2018, 1, 1), date(2018, 12, 31), "2018年"),
    ("2018-01-01..2018-12-20", date(2018, 1, 1), date(2018, 12, 20), "2018年1月1日至12月20日"),
    ("2016-02", date(2016, 2, 1), date(2016, 2, 29), "2016年2月"),
])
def test_forms(text, start, end, label):
    p = parse_period(text)
    assert (p.start, p.end, p.label) == (start, end, label)
    assert p.to_dict() == {"start": start.isoformat(), "end": end.isoformat(), "label": label}


def test_months_label_and_windows():
    p = parse_period("2018-01..2018-10")
    assert p.months_label == "1至10月"
    assert parse_period("2018-10").months_label == "10月"
    assert p.previous() == Period(date(2017, 3, 1), date(2017, 12, 31))
    assert p.year_earlier() == Period(date(2017, 1, 1), date(2017, 10, 31))
    assert parse_period("2018-03").previous() == Period(date(2018, 2, 1), date(2018, 2, 28))
    assert parse_period("2018-10").year_to_date() == Period(date(2018, 1, 1), date(2018, 10, 31))
    d = parse_period("2018-01-01..2018-01-10")
    assert d.previous() == Period(date(2017, 12, 22), date(2017, 12, 31))
    assert parse_period("2016-02-29..2016-02-29").year_earlier() == Period(date(2015, 2, 28), date(2015, 2, 28))


@pytest.mark.parametrize("bad", ["", "2018-13", "abc", "2018-10..2018-01", "2018-Q5", "2018-02-30..2018-03-01"])
def test_bad_periods_are_usage_errors(bad):
    with pytest.raises(UsageError) as e:
        parse_period(bad)
    assert "统计期" in str(e.value)


def test_default_period_is_january_to_latest_month():
    ls = ledger_set(seizures=[{"查处日期": "2018-10-05", "公民身份号码": "x"}],
                    contacts=[{"日期": "2018-09-30", "公民身份号码": "x", "方式": "走访"}])
    p = default_period(ls, today=date(2020, 1, 1))
    assert (p.start, p.end, p.label) == (date(2018, 1, 1), date(2018, 10, 31), "2018年1-10月")
    with pytest.raises(UsageError):
        default_period(ledger_set())


@pytest.mark.parametrize("latest,today,end", [
    ("2018-10-05", date(2020, 1, 1), date(2018, 10, 31)),   # an old month: complete
    ("2018-10-05", date(2018, 10, 20), date(2018, 9, 30)),  # today's month: still going, the one before
    ("2019-01-03", date(2019, 1, 9), date(2018, 12, 31)),   # January in progress: last year's whole year
    ("2018-10-31", date(2018, 11, 1), date(2018, 10, 31)),
])
def test_latest_complete_month(latest, today, end):
    ls = ledger_set(seizures=[{"查处日期": latest, "公民身份号码": "x"}])
    p = resolve_period("最近整月", ls, today=today)
    assert (p.start, p.end) == (date(end.year, 1, 1), end)
    assert resolve_period(" latest ", ls, today=today) == p
    assert resolve_period("2018-03", ls, today=today) == parse_period("2018-03")
    assert resolve_period(None, ls, today=today) == default_period(ls, today=today)
    with pytest.raises(UsageError, match="最近整月"):
        resolve_period("最近整月", ledger_set(), today=today)
