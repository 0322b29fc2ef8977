"""Every indicator pinned on small hand-built ledgers, with the boundaries of metrics.md."""

from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics.ledgers.frames import ledger_set
from jindu_metrics.ledgers.ids import make_id
from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.metrics.engine import compute
from jindu_metrics.metrics.explain import explain
from jindu_metrics.periods import parse_period

CAT = load_catalog()


def pid(n):
    return make_id("440607", "19800101", n)


def person(n, village="一村", **kw):
    d = {"姓名": f"人{n}", "公民身份号码": pid(n), "所属村居": village, "人员状态": "社会面",
         "初次发现日期": "2017-06-01"}
    d.update(kw)
    return d


def run(period="2018-01..2018-10", by=None, **ledgers):
    return compute(ledger_set("乐平镇", **ledgers), CAT, parse_period(period), by=by)


def test_enforcement_counts_distinct_persons_in_window():
    s = [
        {"查处日期": "2018-02-01", "公民身份号码": pid(1), "处置结果": "刑事拘留", "新发现": True},
        {"查处日期": "2018-03-01", "公民身份号码": pid(1), "处置结果": "行政拘留", "新发现": False},  # same person
        {"查处日期": "2018-04-01", "公民身份号码": pid(2), "处置结果": "强制隔离戒毒", "应送戒": True},
        {"查处日期": "2018-05-01", "公民身份号码": pid(3), "处置结果": "社区戒毒", "应送戒": True, "病残": True},
        {"查处日期": "2018-11-01", "公民身份号码": pid(4), "处置结果": "刑事拘留"},  # outside the window
        {"查处日期": "2017-12-31", "公民身份号码": pid(5), "处置结果": "刑事拘留"},  # outside the window
    ]
    r = run(persons=[person(i) for i in range(1, 6)], seizures=s)
    assert r.get("seizures").numerator == 3
    assert r.get("criminal_detentions").numerator == 1
    assert r.get("detention_ratio").display == "33.33%"
    assert (r.get("rehab_rate").numerator, r.get("rehab_rate").denominator) == (1, 2)
    assert r.get("rehab_rate").display == "50.0%"
    assert r.get("sick_treated_rate").display == "0.0%"
    assert r.get("compulsory_rehab").numerator == 1


def test_newly_found_derived_when_empty():
    s = [{"查处日期": "2018-02-01", "公民身份号码": pid(1)},  # first seizure, found later -> new
         {"查处日期": "2018-03-01", "公民身份号码": pid(2)},  # first found 2017 -> not new
         {"查处日期": "2016-03-01", "公民身份号码": pid(3)}, {"查处日期": "2018-03-01", "公民身份号码": pid(3)}]
    persons = [person(1, 初次发现日期="2018-02-01"), person(2), person(3, 初次发现日期=None)]
    r = run(persons=persons, seizures=s)
    assert r.get("newly_found").numerator == 1


def test_alternative_rehab_base():
    s = [{"查处日期": "2018-02-01", "公民身份号码": pid(1), "处置结果": "强制隔离戒毒", "新发现": False},
         {"查处日期": "2018-02-01", "公民身份号码": pid(2), "处置结果": "刑事拘留", "新发现": False},
         {"查处日期": "2018-02-01", "公民身份号码": pid(3), "处置结果": "社区戒毒", "新发现": True},
         {"查处日期": "2018-02-01", "公民身份号码": pid(4), "处置结果": "行政拘留", "新发现": False}]
    r = compute(ledger_set("乐平镇", persons=[person(i) for i in range(1, 5)], seizures=s), CAT,
                parse_period("2018"), metrics=["rehab_rate_alt"])
    assert (r.rows[0].numerator, r.rows[0].denominator) == (1, 2)


def test_three_years_boundary_exact():
    persons = [person(1, 末次查获日期="2015-12-20"), person(2, 末次查获日期="2015-12-21"),
               person(3, 末次查获日期="2015-01-01", 人员状态="出境"),
               person(4, 末次查获日期="2015-01-01", 人员状态="强制隔离戒毒"),
               person(5, 末次查获日期="2014-01-01"),  # but a positive test and a seizure later
               person(6, 末次查获日期="2014-01-01"),  # events after the last day never count
               person(7, 末次查获日期="2010-01-01", 人员状态="死亡"),
               person(8, 末次查获日期=None, 初次发现日期="2012-01-01")]
    seizures = [{"查处日期": "2019-01-05", "公民身份号码": pid(6)}]
    contacts = [{"日期": "2017-01-01", "公民身份号码": pid(5), "方式": "尿检", "结果": "阳性"},
                {"日期": "2018-12-21", "公民身份号码": pid(6), "方式": "尿检", "结果": "阳性"}]
    r = run("2018-01-01..2018-12-20", persons=persons, seizures=seizures, contacts=contacts)
    assert r.get("abstinent_3y").numerator == 3  # persons 1, 6, 8
    assert r.get("registered").numerator == 7
    assert r.get("current_users").numerator == 3  # 2, 4, 5 (3 abroad, 1/6/8 abstinent)
    assert r.get("abstinent_3y_rate").display == "42.9%"
    assert r.get("in_society").numerator == 5  # 1, 2, 5, 6, 8
    assert r.get("managed").numerator == 2  # 2, 5
    r2 = run("2018-01-01..2018-12-19", persons=persons, seizures=seizures, contacts=contacts)
    assert r2.get("abstinent_3y").numerator == 2


def test_registry_rates_and_persons_outside_population_carrying_flags():
    persons = [person(1, 纳入网格化=True, 管控等级="一级", 人户分离=True, 已查找=True),
               person(2, 纳入网格化=False, 管控等级="二级", 人户分离=True),
               person(3, 人员状态="强制隔离戒毒", 纳入网格化=True, 人户分离=True, 已查找=True),  # not 社会面
               person(4, 人员类别="外来", 已见面=True, 已建档=False, 管控等级="三级"),
               person(5, 人员状态="服刑", 人员类别="外来", 已见面=True, 已建档=True)]  # not 社会面
    r = run(persons=persons, units=[{"所属村居": "一村", "禁毒社工": 2}])
    assert (r.get("grid_inclusion_rate").numerator, r.get("grid_inclusion_rate").denominator) == (1, 3)
    assert (r.get("separated_found_rate").numerator, r.get("separated_found_rate").denominator) == (1, 2)
    assert r.get("separated_found_rate").gap == 1
    assert r.get("outsider_met_rate").display == "100%" and r.get("outsider_met_rate").met is True
    assert r.get("outsider_filed_rate").display == "0.0%" and r.get("outsider_filed_rate").gap == 1
    assert [r.get(f"managed_level_{k}").numerator for k in (1, 2, 3)] == [1, 1, 1]
    assert r.get("worker_ratio").display == "2:1"  # 3 managed / 2 workers = 1.5 -> 2 (四舍五入)
    assert r.get("worker_ratio").met is True


def test_gap_and_target_from_workspace():
    persons = [person(i, 纳入网格化=i <= 354) for i in range(1, 375)]
    cat = load_catalog(targets={"纳入率": "95%"})
    r = compute(ledger_set("乐平镇", persons=persons), cat, parse_period("2018-01..2018-10"))
    row = r.get("grid_inclusion_rate")
    assert (row.display, row.met, row.gap) == ("94.7%", False, 2)


def test_community_fifteen_day_reporting_window():
    orders = [
        {"公民身份号码": pid(1), "类别": "社区戒毒", "决定日期": "2018-06-01", "报到日期": "2018-06-05", "已建档": True},
        {"公民身份号码": pid(2), "类别": "社区康复", "决定日期": "2018-10-17"},  # last-14: still in time
        {"公民身份号码": pid(3), "类别": "社区戒毒", "决定日期": "2018-10-16"},  # last-15: overdue
        {"公民身份号码": pid(4), "类别": "社区戒毒", "决定日期": "2018-11-02"},  # after the window
        {"公民身份号码": pid(5), "类别": "社区戒毒", "决定日期": "2017-01-01", "报到日期": "2017-01-02", "已建档": True,
         "执行状态": "期满解除", "解除日期": "2018-09-30"},  # ended before the last day
        {"公民身份号码": pid(6), "类别": "社区戒毒", "决定日期": "2018-10-20", "报到日期": "2018-10-25",
         "已建档": True},  # reported within the window: counted
    ]
    r = run(persons=[person(i) for i in range(1, 7)], community=orders)
    assert r.get("community_orders").numerator == 3  # 1, 3, 6
    assert r.get("community_orders").extra == {"报到期内": 1}
    assert r.get("community_reported").numerator == 2
    assert r.get("community_execution_rate").display == "66.7%"
    assert r.get("community_execution_rate").gap == 1


def test_follow_up_and_tests():
    persons = [person(1, 管控等级="一级"), person(2, 管控等级="二级", 人户分离=True), person(3, 管控等级="三级"),
               person(4, 末次查获日期="2010-01-01")]  # abstinent: not managed, has a visit anyway
    contacts = [
        {"日期": "2018-03-01", "公民身份号码": pid(1), "方式": "走访"},
        {"日期": "2018-03-02", "公民身份号码": pid(1), "方式": "尿检", "结果": "阴性"},
        {"日期": "2018-03-03", "公民身份号码": pid(1), "方式": "毛发检测", "结果": "阳性"},
        {"日期": "2018-03-04", "公民身份号码": pid(2), "方式": "毛发检测", "结果": "阴性"},
        {"日期": "2018-03-05", "公民身份号码": pid(2), "方式": "谈话"},
        {"日期": "2018-11-05", "公民身份号码": pid(3), "方式": "走访"},  # outside the window
        {"日期": "2018-03-05", "公民身份号码": pid(4), "方式": "走访"},
    ]
    r = run(persons=persons, contacts=contacts)
    assert r.get("managed").numerator == 3
    assert r.get("visited").numerator == 2 and r.get("visit_rate").display == "66.7%"
    assert (r.get("urine_coverage").numerator, r.get("urine_coverage").denominator) == (1, 2)
    assert r.get("hair_tests").numerator == 2 and r.get("hair_positive_rate").display == "50.00%"
    assert r.get("hair_sampling_rate_l12").display == "100%"


def test_publicity_sums_and_new_per_10k_target_only_for_years():
    pub = [{"日期": "2018-02-01", "形式": "LED滚动播放", "数量": 600, "领导出席人次": 3, "受教育人数": 100},
           {"日期": "2018-03-01", "形式": "LED滚动播放", "数量": 50},
           {"日期": "2018-03-01", "形式": "现身说法", "数量": 1}, {"日期": "2018-04-01", "形式": "文艺汇演", "数量": 2},
           {"日期": "2019-01-01", "形式": "张贴海报", "数量": 9}]
    s = [{"查处日期": "2018-02-01", "公民身份号码": pid(1), "新发现": True}]
    units = [{"所属村居": "一村", "实有人口": 15000}, {"所属村居": "二村", "实有人口": 5000}]
    r = run(persons=[person(1)], seizures=s, publicity=pub, units=units)
    assert r.get("led_items").numerator == 650 and r.get("testimonies").numerator == 3
    assert r.get("posters").numerator == 0 and r.get("leader_attendance").numerator == 3
    row = r.get("new_per_10k")
    assert row.display == "0.50‱" and row.met is None
    y = run("2018", persons=[person(1)], seizures=s, publicity=pub, units=units).get("new_per_10k")
    assert y.met is True


def test_zero_denominators_are_dashes_with_reason():
    # the ledgers are given but hold no rows: real zeros and dashes, not missing figures
    r = run(persons=[person(1)], seizures=[], community=[], contacts=[], publicity=[], units=[])
    for mid in ("detention_ratio", "rehab_rate", "worker_ratio", "community_execution_rate", "hair_positive_rate"):
        row = r.get(mid)
        assert row.display == "—" and row.exact is None and row.met is None and row.reason.startswith("分母为0")
    assert r.to_dict()["rows"][2]["value"] is None


def test_comparisons_only_when_data_covers_them():
    s = [{"查处日期": "2018-10-03", "公民身份号码": pid(1)}, {"查处日期": "2018-09-01", "公民身份号码": pid(2)},
         {"查处日期": "2018-09-04", "公民身份号码": pid(3)}]
    r = run("2018-10", persons=[person(i) for i in range(1, 4)], seizures=s)
    row = r.get("seizures")
    assert row.previous.numerator == 2 and row.previous.change_display == "减少1人"
    assert row.yoy is None  # the ledger starts in 2018
    assert row.previous.start == "2018-09-01"


def test_by_village_and_json_shape():
    s = [{"查处日期": "2018-02-01", "公民身份号码": pid(1), "处置结果": "刑事拘留"},
         {"查处日期": "2018-02-01", "公民身份号码": pid(2)}]
    r = run(persons=[person(1, "一村"), person(2, "二村")], seizures=s, by="所属村居")
    assert r.groups == ["一村", "二村"] or r.groups == sorted(["一村", "二村"])
    assert r.get("detention_ratio", "一村").display == "100%"
    assert r.get("detention_ratio", "二村").display == "0.00%"
    d = r.to_dict()
    assert set(d) == {"period", "window", "rows"}
    assert set(d["rows"][0]) == {"unit", "metric", "name", "numerator", "denominator", "value", "display",
                                 "target", "met", "gap", "previous", "previous_reason", "yoy", "yoy_reason", "missing_ledger",
                                 "missing_column", "reason"}
    assert d["rows"][0]["missing_ledger"] is None and d["rows"][0]["reason"] is None
    assert d["rows"][0]["missing_column"] is None
    assert d["rows"][0]["unit"] == "乐平镇" and d["rows"][0]["denominator"] is None


def test_explain_lists_numerator_and_other_rows():
    s = [{"查处日期": "2018-02-01", "公民身份号码": pid(1), "应送戒": True, "处置结果": "强制隔离戒毒"},
         {"查处日期": "2018-02-02", "公民身份号码": pid(2), "应送戒": True, "处置结果": "社区戒毒"},
         {"查处日期": "2018-02-03", "公民身份号码": pid(3), "应送戒": False, "处置结果": "强制隔离戒毒"}]
    ls = ledger_set("乐平镇", persons=[person(i) for i in range(1, 4)], seizures=s)
    ex = explain(ls, CAT, "送戒率", parse_period("2018"))
    assert [r.row for r in ex.numerator_rows] == [2] and [r.row for r in ex.other_rows] == [3]
    assert ex.numerator_rows[0].values["处置结果"] == "强制隔离戒毒"
    d = ex.to_dict()
    assert "*" in d["numerator_rows"][0]["公民身份号码"] and d["numerator_rows"][0]["姓名"].endswith("*")
    assert ex.indicator.pending


# ---------------------------------------------------------------- roll-up property
villages = st.sampled_from(["一村", "二村", "三村"])
statuses = st.sampled_from(["社会面", "社区戒毒", "强制隔离戒毒", "死亡", "出境", "失联"])
dates = st.dates(min_value=__import__("datetime").date(2014, 1, 1), max_value=__import__("datetime").date(2019, 3, 1))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(villages, statuses, dates, st.booleans(), st.sampled_from(["一级", "二级", "三级", None])),
                min_size=1, max_size=12),
       st.lists(st.tuples(st.integers(0, 11), dates, st.sampled_from(["刑事拘留", "强制隔离戒毒", "社区戒毒"]),
                          st.booleans()), max_size=15),
       st.lists(st.tuples(st.integers(0, 11), dates, st.sampled_from(["走访", "尿检", "毛发检测"]),
                          st.sampled_from(["阴性", "阳性", None])), max_size=15))
def test_total_equals_sum_of_parts(ps, ss, cs):
    persons = [person(i, v, 人员状态=st_, 末次查获日期=d, 纳入网格化=g, 管控等级=lv) for i, (v, st_, d, g, lv)
               in enumerate(ps)]
    n = len(ps)
    seizures = [{"查处日期": d, "公民身份号码": pid(i % n), "处置结果": dz, "应送戒": due} for i, d, dz, due in ss]
    contacts = [{"日期": d, "公民身份号码": pid(i % n), "方式": m, "结果": res} for i, d, m, res in cs]
    units = [{"所属村居": v, "禁毒社工": k + 1, "实有人口": 1000 * (k + 1)} for k, v in enumerate(["一村", "二村", "三村"])]
    r = compute(ledger_set("乐平镇", persons=persons, seizures=seizures, contacts=contacts, units=units,
                           community=[], publicity=[]), CAT, parse_period("2018"), by="所属村居", compare=False)
    for row in r.for_unit(None):
        parts = [p for p in r.rows[r.whole_rows:] if p.metric == row.metric]
        assert row.numerator == sum(p.numerator for p in parts), row.metric
        if row.kind == "ratio":
            assert row.denominator == sum(p.denominator for p in parts), row.metric
            for x in [row] + parts:
                if x.exact is not None and x.metric not in ("worker_ratio",):
                    assert 0 <= x.exact <= 1 or x.metric == "new_per_10k", x.metric
