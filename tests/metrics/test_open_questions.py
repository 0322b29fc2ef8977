"""What docs/ left open, decided and pinned (issue 28, point 9; docs/指标口径.md “口径细节”).

Each test builds the smallest ledgers that make the question bite and asserts the documented answer.
"""

from __future__ import annotations

from jindu_metrics.ledgers.frames import ledger_set
from jindu_metrics.ledgers.ids import make_id
from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.metrics.engine import STATUS_NOTE, compute
from jindu_metrics.periods import parse_period

CAT = load_catalog()


def pid(n: int) -> str:
    return make_id("440607", "19800101", n)


def person(n: int, village: str = "一村", **kw) -> dict:
    return {"姓名": f"人{n}", "公民身份号码": pid(n), "所属村居": village, "人员状态": "社会面",
            "初次发现日期": "2014-06-01", **kw}


def run(period: str, by=None, every: bool = False, **ledgers):
    metrics = [i.id for i in CAT.indicators] if every else None
    return compute(ledger_set("乐平镇", **ledgers), CAT, parse_period(period), by=by, metrics=metrics)


def test_rehab_and_treatment_rates_match_per_seizure_row():
    """送戒率/送治率: the 应送戒 (病残) and the 强制隔离戒毒 (送治) must be on the same 查处 row; persons counted once."""
    s = [  # 1: 应送戒 on one row, 强戒 on another → in the denominator only
        {"查处日期": "2018-02-01", "公民身份号码": pid(1), "应送戒": True, "处置结果": "社区戒毒"},
        {"查处日期": "2018-05-01", "公民身份号码": pid(1), "应送戒": False, "处置结果": "强制隔离戒毒"},
        # 2: 应送戒 and 强戒 on one row, and a second such row → counted once
        {"查处日期": "2018-03-01", "公民身份号码": pid(2), "应送戒": True, "处置结果": "强制隔离戒毒"},
        {"查处日期": "2018-06-01", "公民身份号码": pid(2), "应送戒": True, "处置结果": "强制隔离戒毒"},
        # 3: 病残 not 送治, later 病残 and 送治 → treated; 4: 病残 on one row, 送治 on another → not treated
        {"查处日期": "2018-02-01", "公民身份号码": pid(3), "病残": True, "送治": False},
        {"查处日期": "2018-07-01", "公民身份号码": pid(3), "病残": True, "送治": True},
        {"查处日期": "2018-02-01", "公民身份号码": pid(4), "病残": True, "送治": False},
        {"查处日期": "2018-07-01", "公民身份号码": pid(4), "病残": False, "送治": True},
    ]
    r = run("2018", persons=[person(i) for i in range(1, 5)], seizures=s)
    rehab, treat = r.get("rehab_rate"), r.get("sick_treated_rate")
    assert (rehab.numerator, rehab.denominator, rehab.display) == (1, 2, "50.0%")
    assert (treat.numerator, treat.denominator, treat.display) == (1, 2, "50.0%")


def _order(n: int, **kw) -> dict:
    return {"公民身份号码": pid(n), "类别": "社区康复", "决定日期": "2018-01-05", "报到日期": "2018-01-10",
            "已建档": True, "执行状态": "执行中", **kw}


def test_a_relapse_after_the_release_within_the_window_counts():
    """An order in force on some day of the window, a relapse in the window after its 解除日期: counted (the
    catalog's wording: 统计期内执行过、报到之后统计期内被查处或检测阳性)."""
    orders = [_order(1, 解除日期="2018-03-31", 执行状态="期满解除"), _order(2)]
    s = [{"查处日期": "2018-06-01", "公民身份号码": pid(1)}]
    r = run("2018-01..2018-10", every=True, persons=[person(1), person(2)], community=orders, seizures=s, contacts=[])
    rate = r.get("community_relapse_rate")
    assert (rate.numerator, rate.denominator) == (1, 2)
    # a window after the release: the order is not in force, the relapse is no community relapse
    later = run("2018-05..2018-10", every=True, persons=[person(1), person(2)], community=orders, seizures=s,
                contacts=[])
    assert (later.get("community_relapse_rate").numerator, later.get("community_relapse_rate").denominator) == (0, 1)


def test_an_order_ended_without_a_release_date_is_ended_in_every_window():
    """执行状态 ended (期满解除…) but no 解除日期: when it ended is unknown, so it is in force in no window."""
    orders = [_order(1, 决定日期="2016-05-01", 报到日期="2016-05-05", 执行状态="期满解除"),
              _order(2, 决定日期="2016-05-01", 报到日期="2016-05-05", 解除日期="2019-05-04", 执行状态="期满解除")]
    for period in ("2016-06", "2017", "2018"):
        r = run(period, persons=[person(1), person(2)], community=orders)
        assert r.get("community_orders").numerator == 1, period  # only the dated one


def test_past_windows_read_todays_status_and_say_so():
    """No status date in the registry: a person now 死亡 is out of every window's 在册, and each comparison of a
    figure that reads 人员状态 says so; a flow's comparison does not."""
    persons = [person(1), person(2, 人员状态="死亡")]
    s = [{"查处日期": "2017-01-05", "公民身份号码": pid(1)}, {"查处日期": "2018-03-01", "公民身份号码": pid(1)}]
    r = run("2018", persons=persons, seizures=s)
    reg = r.get("registered")
    assert reg.numerator == 1 and reg.yoy is not None and reg.yoy.numerator == 1
    assert reg.yoy.note == STATUS_NOTE and reg.previous.note == STATUS_NOTE
    assert r.to_dict()["rows"][[x.metric for x in r.rows].index("registered")]["yoy"]["note"] == STATUS_NOTE
    assert r.get("seizures").yoy is not None and r.get("seizures").yoy.note == ""


def test_last_detection_only_after_the_window_falls_back_to_first_found():
    """末次检出日期 takes detections on or before the last day only; none: 初次发现日期; neither: unknown, so
    not abstinent (a 管控 person), and not yet 在册 when the person was first seized after the window."""
    persons = [person(1, 初次发现日期="2014-06-01", 末次查获日期="2019-05-01"),
               person(2, 初次发现日期=None)]
    s = [{"查处日期": "2019-03-01", "公民身份号码": pid(1)}, {"查处日期": "2019-04-01", "公民身份号码": pid(2)}]
    r = run("2018", persons=persons, seizures=s)
    assert r.get("registered").numerator == 1  # 2: first seized after the window, no 初次发现日期: not yet found
    assert r.get("abstinent_3y").numerator == 1  # 1: 2014-06-01 + 3 years ≤ 2018-12-31
    undated = run("2018", persons=[person(3, 初次发现日期=None)], seizures=[])
    assert undated.get("registered").numerator == 1 and undated.get("managed").numerator == 1
    assert undated.get("abstinent_3y").numerator == 0


def test_new_found_when_both_the_flag_and_first_found_are_empty():
    """新发现 empty and 初次发现日期 empty: new when the person has no earlier 查处 row."""
    persons = [person(1, 初次发现日期=None), person(2, 初次发现日期=None)]
    s = [{"查处日期": "2018-04-01", "公民身份号码": pid(1)},
         {"查处日期": "2017-04-01", "公民身份号码": pid(2)}, {"查处日期": "2018-04-01", "公民身份号码": pid(2)}]
    r = run("2018", persons=persons, seizures=s)
    assert r.get("newly_found").numerator == 1


def test_leap_day_plus_three_years_is_the_28th_of_february():
    persons = [person(1, 初次发现日期="2016-02-29", 末次查获日期="2016-02-29")]
    assert run("2019-01-01..2019-02-28", persons=persons, seizures=[]).get("abstinent_3y").numerator == 1
    assert run("2019-01-01..2019-02-27", persons=persons, seizures=[]).get("abstinent_3y").numerator == 0


def test_an_order_ending_on_the_last_day_owes_no_open_interval():
    """社区康复 reported 2018-01-15: intervals of two months. Released on the window's last day (2018-10-31), its
    interval 2018-09-15..2018-11-14 is not outlived: neither due nor 本期待检. Still in force: 本期待检."""
    tests = [{"日期": d, "公民身份号码": pid(1), "方式": "尿检", "结果": "阴性"}
             for d in ("2018-02-01", "2018-04-01", "2018-06-01", "2018-08-01")]
    base = {"决定日期": "2018-01-10", "报到日期": "2018-01-15"}
    ended = run("2018-01..2018-10", persons=[person(1)], contacts=tests,
                community=[_order(1, **base, 解除日期="2018-10-31", 执行状态="期满解除")])
    row = ended.get("urine_schedule_rate")
    assert (row.numerator, row.denominator, row.extra["本期待检"]) == (1, 1, 0)
    running = run("2018-01..2018-10", persons=[person(1)], contacts=tests, community=[_order(1, **base)])
    row = running.get("urine_schedule_rate")
    assert (row.numerator, row.denominator, row.extra["本期待检"]) == (1, 1, 1)


def test_totals_count_distinct_persons_not_the_sum_of_the_parts():
    """One person seized in two villages: once in each village, once in the total (≤ the sum of the parts)."""
    s = [{"查处日期": "2018-02-01", "公民身份号码": pid(1), "所属村居": "一村", "处置结果": "刑事拘留"},
         {"查处日期": "2018-05-01", "公民身份号码": pid(1), "所属村居": "二村", "处置结果": "行政拘留"}]
    r = run("2018", by="所属村居", persons=[person(1)], seizures=s)
    assert r.get("seizures", "一村").numerator == 1 and r.get("seizures", "二村").numerator == 1
    assert r.get("seizures").numerator == 1
    assert r.get("detention_ratio", "二村").display == "0.00%" and r.get("detention_ratio").display == "100%"
