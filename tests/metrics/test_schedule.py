"""Issue 16's graded indicators on hand-built ledgers: 尿检频次达标率 (interval boundaries, year changes, orders
not reported, contacts before reporting, an office's own schedule), 失控率, 复吸率 and 现有吸毒人员占人口比."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics.errors import ConfigError
from jindu_metrics.ledgers.frames import ledger_set
from jindu_metrics.ledgers.ids import make_id
from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.metrics.engine import compute
from jindu_metrics.metrics.explain import explain
from jindu_metrics.periods import parse_period

CAT = load_catalog()
SCHED = "urine_schedule_rate"


def pid(n):
    return make_id("440607", "19800101", n)


def person(n, village="一村", **kw):
    d = {"姓名": f"人{n}", "公民身份号码": pid(n), "所属村居": village, "人员状态": "社区戒毒",
         "初次发现日期": "2017-01-05", "末次查获日期": "2017-01-05"}
    d.update(kw)
    return d


def order(n, reported, kind="社区戒毒", decided=None, village="一村", **kw):
    d = {"公民身份号码": pid(n), "类别": kind, "决定日期": decided or reported, "报到日期": reported,
         "已建档": reported is not None, "执行状态": "执行中", "所属村居": village}
    d.update(kw)
    return d


def test(n, day, method="尿检", result="阴性"):
    return {"日期": day, "公民身份号码": pid(n), "方式": method, "结果": result}


test.__test__ = False  # a builder, not a test


def run(period, orders, contacts, persons=None, catalog=CAT, by=None, **more):
    persons = persons or [person(i + 1) for i in range(len(orders))]
    led = ledger_set("乐平镇", persons=persons, community=orders, contacts=contacts, **more)
    return compute(led, catalog, parse_period(period), by=by, compare=False)


def sched(period, orders, contacts, **kw):
    row = run(period, orders, contacts, **kw).get(SCHED)
    return row.numerator, row.denominator, row.extra.get("本期待检")


# ---------------------------------------------------------------- interval boundaries
def test_a_test_on_the_last_day_of_an_interval_meets_it():
    # reported 01-15: monthly intervals [01-15, 02-14], [02-15, 03-14]; window February: the first is due
    assert sched("2018-02", [order(1, "2018-01-15")], [test(1, "2018-02-14")]) == (1, 1, 1)


def test_a_test_on_the_first_day_of_the_next_interval_does_not():
    # 02-15 belongs to the next interval (which it fills: nothing open), the due one is missed
    assert sched("2018-02", [order(1, "2018-01-15")], [test(1, "2018-02-15")]) == (0, 1, 0)


def test_a_test_on_the_first_day_of_an_interval_meets_it():
    assert sched("2018-02", [order(1, "2018-01-15")], [test(1, "2018-01-15")]) == (1, 1, 1)


def test_window_ending_mid_interval():
    # window 03-01..03-20: [02-15, 03-14] is due; [03-15, 04-14] holds the last day, not yet due
    orders = [order(1, "2018-01-15"), order(2, "2018-01-15")]
    contacts = [test(1, "2018-03-01"), test(2, "2018-03-01"), test(2, "2018-03-16")]
    assert sched("2018-03-01..2018-03-20", orders, contacts) == (2, 2, 1)  # person 1 still to test: 本期待检
    # a test after the window's last day never fills the open interval
    contacts.append(test(1, "2018-03-25"))
    assert sched("2018-03-01..2018-03-20", orders, contacts) == (2, 2, 1)


def test_year_one_to_year_two_of_an_order():
    # reported 2017-03-10: year 1 monthly up to [2018-02-10, 2018-03-09]; year 2 every 2 months from 2018-03-10
    o = [order(1, "2017-03-10"), order(2, "2017-03-10")]
    c = [test(1, "2018-03-05"), test(1, "2018-04-20"),  # both due intervals of Mar–May kept
         test(2, "2018-03-05"), test(2, "2018-03-09")]  # nothing in [03-10, 05-09]
    r = run("2018-03..2018-05", o, c)
    assert (r.get(SCHED).numerator, r.get(SCHED).denominator) == (1, 2)
    ex = explain(ledger_set("乐平镇", persons=[person(1), person(2)], community=o, contacts=c), CAT, SCHED,
                 parse_period("2018-03..2018-05"))
    (behind,) = ex.other_rows
    assert behind.id == pid(2)
    assert behind.values["未检区间"] == "2018-03-10至2018-05-09"
    assert behind.values["到期区间数"] == "2"
    # year 2's interval [05-10, 07-09] holds the last day: shown as the current one, still to test
    assert behind.values["本期区间"] == "2018-05-10至2018-07-09（待检）"


def test_rehab_schedule_and_day_clipping():
    # 社区康复 every 2 months in year 1; reported 01-31: [01-31, 03-30], [03-31, 05-30] (no Feb 31)
    o = [order(1, "2018-01-31", kind="社区康复")]
    assert sched("2018-03", o, [test(1, "2018-03-30")]) == (1, 1, 1)
    assert sched("2018-03", o, [test(1, "2018-03-31")]) == (0, 1, 0)


def test_contact_before_reporting_counts_for_nothing_and_is_no_finding():
    from jindu_metrics.validate import validate

    o = [order(1, "2018-01-15", decided="2018-01-05")]
    c = [test(1, "2018-01-10")]  # the intake test, before 报到日期
    assert sched("2018-01-01..2018-02-14", o, c) == (0, 1, 0)
    led = ledger_set("乐平镇", persons=[person(1)], community=o, contacts=c)
    assert validate(led, today=date(2018, 12, 31)) == []


def test_order_without_reporting_date_is_excluded_and_listed():
    o = [order(1, "2018-01-15"), order(2, None, decided="2018-01-02")]
    c = [test(1, "2018-02-01")]
    assert sched("2018-02", o, c) == (1, 1, 1)  # person 1's [02-15, 03-14] still to test
    led = ledger_set("乐平镇", persons=[person(1), person(2)], community=o, contacts=c)
    ex = explain(led, CAT, SCHED, parse_period("2018-02"))
    assert [r.id for r in ex.excluded_rows] == [pid(2)]
    assert any("尚未报到" in n for n in ex.notes)
    d = ex.to_dict()
    assert d["excluded_rows"][0]["公民身份号码"] != pid(2) and "*" in d["excluded_rows"][0]["公民身份号码"]
    assert ex.to_dict(show_pii=True)["excluded_rows"][0]["公民身份号码"] == pid(2)


def test_intervals_after_the_order_ended_are_not_due():
    o = [order(1, "2018-01-15", 解除日期="2018-03-01", 执行状态="期满解除")]
    # window March: [02-15, 03-14] ends after 解除日期: not due; the order was in force on 03-01 but owes nothing
    assert sched("2018-03", o, []) == (0, 0, 0)
    assert run("2018-03", o, []).get(SCHED).display == "—"
    # window February: [01-15, 02-14] is due
    assert sched("2018-02", o, []) == (0, 1, 0)


def test_persons_with_two_orders_and_units():
    o = [order(1, "2018-01-15", village="一村"), order(2, "2018-01-15", village="二村"),
         order(3, "2018-01-20", village="二村")]
    c = [test(1, "2018-02-01"), test(3, "2018-01-25")]
    r = run("2018-02", o, c, persons=[person(1, "一村"), person(2, "二村"), person(3, "二村")], by="所属村居")
    assert (r.get(SCHED).numerator, r.get(SCHED).denominator) == (2, 3)
    one, two = r.get(SCHED, "一村"), r.get(SCHED, "二村")
    assert (one.numerator, one.denominator, two.numerator, two.denominator) == (1, 1, 1, 2)


def test_missing_contacts_ledger_has_no_value():
    led = ledger_set("乐平镇", persons=[person(1)], community=[order(1, "2018-01-15")])
    row = compute(led, CAT, parse_period("2018-02"), compare=False).get(SCHED)
    assert row.numerator is None and row.display == "无台帐"


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.integers(0, 400)), max_size=40),
       st.lists(st.integers(0, 500), min_size=1, max_size=6))
def test_met_and_behind_make_the_due_persons(tests, report_offsets):
    start = date(2017, 1, 1)
    orders = [order(i + 1, (start + timedelta(days=d)).isoformat(), kind=("社区戒毒", "社区康复")[i % 2])
              for i, d in enumerate(report_offsets)]
    contacts = [test(n, (start + timedelta(days=d + 200)).isoformat()) for n, d in tests if n <= len(orders)]
    persons = [person(i + 1) for i in range(len(orders))]
    led = ledger_set("乐平镇", persons=persons, community=orders, contacts=contacts)
    p = parse_period("2018-01..2018-06")
    row = compute(led, CAT, p, compare=False).get(SCHED)
    ex = explain(led, CAT, SCHED, p)
    assert len(ex.numerator_rows) + len(ex.other_rows) == (row.denominator or 0)
    assert len(ex.numerator_rows) == row.numerator
    assert all(r.values["未检区间"] for r in ex.other_rows)  # everyone behind has a missed interval listed
    assert not any(r.values["未检区间"] for r in ex.numerator_rows)


# ---------------------------------------------------------------- an office's own schedule; validation
def _office(tmp_path, body: str):
    f = tmp_path / "目录.toml"
    f.write_text(body, encoding="utf-8")
    return f


def test_office_changes_the_schedule(tmp_path):
    f = _office(tmp_path, '[[indicator]]\nid = "urine_schedule_rate"\n[indicator.schedule]\n'
                'where = { "方式" = "尿检" }\nmonths = { "社区戒毒" = [3] }\n')
    cat = load_catalog(f)
    o = [order(1, "2018-01-15")]
    # every 3 months: [01-15, 04-14]; in February nothing is due yet, in April it is and a Feb test fills it
    assert sched("2018-02", o, [test(1, "2018-02-01")], catalog=cat) == (0, 0, 0)
    assert sched("2018-04", o, [test(1, "2018-02-01")], catalog=cat) == (1, 1, 1)  # [04-15, 07-14] open
    # 外出帮教尿检 no longer counts in this office's schedule; still does in the default one
    assert sched("2018-02", o, [test(1, "2018-02-01", "外出帮教尿检")]) == (1, 1, 1)
    assert sched("2018-04", o, [test(1, "2018-02-01", "外出帮教尿检")], catalog=cat) == (0, 1, 1)


@pytest.mark.parametrize("body, words, line", [
    ('[indicator.schedule]\nwhere = {}\nmonths = { "社区戒毒" = [5] }\n', "间隔月数", 5),
    ('[indicator.schedule]\nwhere = {}\nmonths = { "强戒" = [1] }\n', "不是社区戒毒社区康复台帐的类别", 5),
    ('[indicator.schedule]\nwhere = {}\nmonths = { "社区戒毒" = [] }\n', "间隔月数", 5),
    ('[indicator.schedule]\nmonths = { "社区戒毒" = [1] }\n', "缺少「where」", 3),
    ('[indicator.schedule]\nwhere = { "方式" = "抽血" }\nmonths = { "社区戒毒" = [1] }\n', "不在允许范围", 4),
    ('[indicator.schedule]\nwhere = {}\nmonths = { "社区戒毒" = [1] }\nevery = 2\n', "未知的键「every」", 6),
])
def test_schedule_validation_names_the_line(tmp_path, body, words, line):
    f = _office(tmp_path, '[[indicator]]\nid = "urine_schedule_rate"\n' + body)
    with pytest.raises(ConfigError) as e:
        load_catalog(f)
    assert words in str(e.value)
    assert e.value.row == line


def test_schedule_key_only_on_schedule_kind(tmp_path):
    f = _office(tmp_path, '[[indicator]]\nid = "visit_rate"\n[indicator.schedule]\nwhere = {}\n'
                'months = { "社区戒毒" = [1] }\n')
    with pytest.raises(ConfigError, match="只用于 kind"):
        load_catalog(f)
    f = _office(tmp_path, '[[indicator]]\nid = "urine_schedule_rate"\nledger = "community"\n')
    with pytest.raises(ConfigError, match="不用「ledger」"):
        load_catalog(f)


# ---------------------------------------------------------------- 失控率
def test_lost_control_counts_the_managed_only():
    persons = [person(1, 人员状态="失联", 末次查获日期="2017-05-01"),  # managed, lost: counts
               person(2, 人员状态="失联", 初次发现日期="2010-01-01", 末次查获日期="2014-05-01"),  # abstinent: no
               person(3, 人员状态="社会面", 末次查获日期="2017-05-01"),
               person(4, 人员状态="社会面", 末次查获日期="2016-05-01")]
    r = run("2018-01..2018-10", [], [], persons=persons)
    row = r.get("lost_control_rate")
    assert (row.numerator, row.denominator, row.display) == (1, 3, "33.3%")
    assert row.met is False and row.target == "≤5%"


# ---------------------------------------------------------------- 复吸率
def test_relapse_after_reporting_counts_before_does_not():
    persons = [person(i) for i in range(1, 7)]
    orders = [order(1, "2018-02-10", decided="2018-02-01"),  # seized on the decision day: before reporting
              order(2, "2018-02-10"),  # 阳性 after reporting, in the window
              order(3, "2018-02-10", kind="社区康复"),  # seized after reporting
              order(4, "2017-06-10"),  # 阳性 after reporting but before the window
              order(5, "2018-02-10", kind="社区康复"),  # 阳性 on the reporting day: not after it
              order(6, None, decided="2018-03-01")]  # not reported: outside the base
    seizures = [{"查处日期": "2018-02-01", "公民身份号码": pid(1), "处置结果": "社区戒毒"},
                {"查处日期": "2018-05-03", "公民身份号码": pid(3), "处置结果": "行政拘留"},
                {"查处日期": "2018-05-03", "公民身份号码": pid(6), "处置结果": "行政拘留"}]
    contacts = [test(2, "2018-04-01", result="阳性"), test(4, "2017-09-01", result="阳性"),
                test(5, "2018-02-10", result="阳性"), test(1, "2018-03-01", "走访", "见面")]
    r = run("2018-01..2018-10", orders, contacts, persons=persons, seizures=seizures)
    rate = r.get("community_relapse_rate")
    assert (rate.numerator, rate.denominator, rate.display) == (2, 5, "40.0%")
    drug, rehab = r.get("community_relapse_rate_drug"), r.get("community_relapse_rate_rehab")
    assert (drug.numerator, drug.denominator) == (1, 3)
    assert (rehab.numerator, rehab.denominator) == (1, 2)
    # an order that ended before the window is not in force during it
    orders[1] = order(2, "2017-02-10", 解除日期="2017-12-20", 执行状态="期满解除")
    rate = run("2018-01..2018-10", orders, contacts, persons=persons, seizures=seizures).get("community_relapse_rate")
    assert (rate.numerator, rate.denominator) == (1, 4)


def test_relapse_has_after_only_on_dated_columns(tmp_path):
    f = _office(tmp_path, '[[indicator]]\nid = "x_relapse"\nname = "某复吸"\narea = "社区戒毒康复"\nkind = "count"\n'
                'ledger = "community"\nwhere = { has = { ledger = "seizures", after = "类别" } }\n')
    with pytest.raises(ConfigError, match="after 须为本台帐的日期列"):
        load_catalog(f)
    f = _office(tmp_path, '[[indicator]]\nid = "x_relapse"\nname = "某复吸"\narea = "社区戒毒康复"\nkind = "count"\n'
                'ledger = "community"\nwhere = { has = { ledger = "seizures" } }\n')
    with pytest.raises(ConfigError, match="须写 after"):
        load_catalog(f)


# ---------------------------------------------------------------- ‰
def test_current_users_per_mille():
    persons = [person(1, 人员状态="社会面"), person(2, 人员状态="社会面"), person(3, 人员状态="社会面")]
    units = [{"所属村居": "一村", "所属镇街": "乐平镇", "实有人口": 5200}]
    r = run("2018-01..2018-10", [], [], persons=persons, units=units)
    row = r.get("current_users_per_mille")
    assert (row.numerator, row.denominator) == (3, 5200)
    assert row.display == "0.58‰"  # 3/5200 × 1000 = 0.5769…
    assert row.unit_label == "‰"
    from jindu_metrics.metrics.display import format_change

    assert format_change(row.exact - row.exact / 2, "permille", 2, "") == "上升0.29个千分点"


def test_relapse_explain_shows_reporting_and_event_dates():
    orders = [order(1, "2018-02-10"), order(2, "2018-02-10")]
    contacts = [test(1, "2018-04-01", result="阳性")]
    led = ledger_set("乐平镇", persons=[person(1), person(2)], community=orders, contacts=contacts, seizures=[])
    ex = explain(led, CAT, "community_relapse_rate", parse_period("2018-01..2018-10"))
    (hit,) = ex.numerator_rows
    assert hit.values["报到日期"] == "2018-02-10"
    assert "2018-04-01" in hit.values.values()
    assert [r.id for r in ex.other_rows] == [pid(2)]


# ---------------------------------------------------------------- the sample: the month's to-do list
def test_sample_explain_lists_the_persons_behind(jindu):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "sample_ledgers"
    code, out, _ = jindu(["explain", "尿检频次达标率", sample, "--period", "2018-10"])
    assert code == 0
    head = next(ln for ln in out.splitlines() if ln.startswith("结果："))
    num, den = (int(x) for x in head.removeprefix("结果：").split(" = ")[0].split(" / "))
    assert 0 < num < den  # non-trivial: some keep the schedule, some are behind
    assert f"在分母中但未计入分子的行（{den - num} 行）" in out
    assert "2018-10" in out and "至" in out and "（待检）" in out
    assert "********" in out  # masked without --show-pii
    code, json_out, _ = jindu(["explain", "尿检频次达标率", sample, "--period", "2018-10", "--format", "json"])
    import json

    d = json.loads(json_out)
    assert len(d["other_rows"]) == den - num and all(r["values"]["未检区间"] for r in d["other_rows"])
