"""Issue 30's worklist (`jindu todo`): a planted person for each kind and each boundary, the property against
`explain 尿检频次达标率`, the rule tables an office changes, and the command's outputs."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import run_forked
from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics import api
from jindu_metrics.ledgers.frames import ledger_set
from jindu_metrics.ledgers.ids import make_id
from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.metrics.engine import compute
from jindu_metrics.metrics.explain import explain
from jindu_metrics.metrics.todo import KIND_LABELS, todo
from jindu_metrics.periods import Period, parse_period

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ledgers"
CAT = load_catalog()
D = date(2018, 10, 15)


def pid(n):
    return make_id("440607", "19800101", n)


def person(n, **kw):
    d = {"姓名": f"人员{n}", "公民身份号码": pid(n), "所属村居": "一村", "人员状态": "社会面",
         "初次发现日期": "2017-01-05", "末次查获日期": "2017-01-05", "管控等级": "三级"}
    d.update(kw)
    return d


def order(n, reported, kind="社区戒毒", decided=None, **kw):
    d = {"公民身份号码": pid(n), "类别": kind, "决定日期": decided or reported, "报到日期": reported,
         "已建档": reported is not None, "执行状态": "执行中"}
    d.update(kw)
    return d


def contact(n, day, method="尿检", result="阴性"):
    return {"日期": day, "公民身份号码": pid(n), "方式": method, "结果": result}


def visited(n):
    return contact(n, "2018-10-01", "走访", "见面")


# ---------------------------------------------------------------- the planted ledger
PLANTED = {
    # n: (what it plants, person overrides, order or None, contacts)
    1: ("the interval's last day is the day", {}, order(1, "2018-09-16"), [visited(1)]),
    2: ("a test on the interval's first day", {}, order(2, "2018-09-16"), [visited(2), contact(2, "2018-09-16")]),
    3: ("one missed earlier interval", {}, order(3, "2018-07-01"),
        [visited(3), contact(3, "2018-07-10"), contact(3, "2018-09-10"), contact(3, "2018-10-02")]),
    4: ("decided 14 days ago: the 15th day", {}, order(4, None, decided="2018-10-01"), [visited(4)]),
    5: ("decided 15 days ago: overdue", {}, order(5, None, decided="2018-09-30"), [visited(5)]),
    6: ("reported, not filed", {}, order(6, "2018-10-01", decided="2018-09-25", 已建档=False),
        [visited(6), contact(6, "2018-10-01")]),
    7: ("解除日期 exactly --days ahead", {}, order(7, "2018-10-01", 解除日期="2018-11-14"),
        [visited(7), contact(7, "2018-10-02")]),
    8: ("解除日期 a day later", {}, order(8, "2018-10-01", 解除日期="2018-11-15"),
        [visited(8), contact(8, "2018-10-02")]),
    9: ("statutory term from 报到日期", {}, order(9, "2015-11-14", kind="社区康复"),
        [visited(9), contact(9, "2018-10-02")]),
    10: ("three years complete on the day, still graded", {"末次查获日期": "2015-10-15", "初次发现日期": "2015-01-01"},
         None, []),
    11: ("three years complete on the day, no 管控等级", {"末次查获日期": "2015-10-15", "初次发现日期": "2015-01-01",
                                                     "管控等级": None}, None, []),
    12: ("three years complete within --days", {"末次查获日期": "2015-11-01", "初次发现日期": "2015-01-01"},
         None, [visited(12)]),
    13: ("a relapse resets the three years", {"末次查获日期": "2015-10-01", "初次发现日期": "2015-01-01"},
         None, [visited(13), contact(13, "2017-05-01", result="阳性")]),
    14: ("一级, no visit this month", {"管控等级": "一级"}, None, [contact(14, "2018-09-28", "走访", "见面")]),
    15: ("二级, visited in the two-month interval", {"管控等级": "二级"}, None, [contact(15, "2018-09-10", "见面")]),
    16: ("no 管控等级, no visit this quarter", {"管控等级": None}, None, []),
    17: ("an order without 决定日期", {}, order(17, None, decided=None), [visited(17)]),
}
PLANTED[17][2]["决定日期"] = None


def planted(**more):
    persons = [person(n, **kw) for n, (_, kw, _o, _c) in PLANTED.items()]
    orders = [o for (_, _k, o, _c) in PLANTED.values() if o is not None]
    contacts = [c for (_, _k, _o, cs) in PLANTED.values() for c in cs]
    return ledger_set("乐平镇", persons=persons, community=orders, contacts=contacts, **more)


def of(wl, n):
    """The person's items as (kind, due, start)."""
    return sorted((it.kind, it.due, it.start) for it in wl.items if it.id == pid(n))


@pytest.fixture(scope="module")
def wl():
    return todo(planted(), CAT, D, 30)


def d(text):
    return date.fromisoformat(text)


def test_interval_last_day_is_due_today_and_overdue_tomorrow(wl):
    assert of(wl, 1) == [("urine_due", D, d("2018-09-16"))]
    after = todo(planted(), CAT, D + timedelta(days=1), 30)
    assert of(after, 1) == [("urine_due", d("2018-11-15"), d("2018-10-16")),
                            ("urine_overdue", D, d("2018-09-16"))]


def test_a_test_on_the_first_day_of_the_interval_meets_it(wl):
    # the interval [09-16, 10-15] holds its test: nothing to do (the next one starts tomorrow)
    assert of(wl, 2) == []


def test_each_missed_interval_once_with_its_dates(wl):
    (item,) = of(wl, 3)
    assert item == ("urine_overdue", d("2018-08-31"), d("2018-08-01"))
    (it,) = [i for i in wl.items if i.id == pid(3)]
    assert "2018-08-01至2018-08-31" in it.description


def test_reporting_period_15th_day_and_after(wl):
    assert of(wl, 4) == [("report_pending", D, d("2018-10-01"))]  # decided 10-01: 15 days to 10-15 included
    assert of(wl, 5) == [("report_overdue", d("2018-10-14"), d("2018-09-30"))]
    # a day later the first is overdue too
    assert of(todo(planted(), CAT, D + timedelta(days=1), 30), 4)[0][0] == "report_overdue"


def test_reported_but_not_filed(wl):
    assert [k for k, _, _ in of(wl, 6)] == ["file_pending"]


def test_order_ending_exactly_days_ahead_is_listed_a_day_later_is_not(wl):
    assert of(wl, 7) == [("order_ending", d("2018-11-14"), d("2018-10-01"))]
    assert of(wl, 8) == []
    assert of(todo(planted(), CAT, D, 31), 8) == [("order_ending", d("2018-11-15"), d("2018-10-01"))]


def test_statutory_term_when_no_release_date(wl):
    # 社区康复 reported 2015-11-14: three years end on 2018-11-13 (rules.order_terms)
    (it,) = [i for i in wl.items if i.id == pid(9) and i.kind == "order_ending"]
    assert it.due == d("2018-11-13") and "自报到日期 2015-11-14 起3年" in it.description


def test_three_years_completing_on_the_day(wl):
    assert of(wl, 10) == [("abstinent_3y", D, d("2015-10-15"))]  # still graded 三级: review
    assert of(wl, 11) == []  # no 管控等级 left: nothing to review
    assert of(wl, 12) == [("abstinent_3y", d("2018-11-01"), d("2015-11-01"))]
    # the day before, the first is still ahead (listed as upcoming), and the person still managed (a visit due)
    assert of(todo(planted(), CAT, D - timedelta(days=1), 30), 10) == [
        ("abstinent_3y", D, d("2015-10-15")), ("visit_due", d("2018-12-31"), d("2018-10-01"))]


def test_a_relapse_resets_the_three_years(wl):
    assert of(wl, 13) == []


def test_visits_by_grade(wl):
    assert of(wl, 14) == [("visit_due", d("2018-10-31"), d("2018-10-01"))]  # 一级: monthly, last in September
    assert of(wl, 15) == []  # 二级: every two months, seen on 09-10 (Sep–Oct)
    (it,) = [i for i in wl.items if i.id == pid(16)]
    assert (it.kind, it.due, it.start) == ("visit_due", d("2018-12-31"), d("2018-10-01"))
    assert "未填管控等级" in it.description


def test_a_missing_start_date_says_what_to_fill(wl):
    (it,) = [i for i in wl.items if i.id == pid(17)]
    assert (it.kind, it.due) == ("report_pending", None)
    assert "请补填决定日期" in it.description


def test_every_kind_is_planted_and_sorted(wl):
    assert {it.kind for it in wl.items} == set(KIND_LABELS)
    keys = [(it.due is None, it.due or date.min) for it in wl.items]
    assert keys == sorted(keys)  # one unit: by due date, undated last
    assert wl.items[-1].due is None


def test_missing_ledger_is_no_item_and_a_note():
    led = ledger_set("乐平镇", persons=[person(n, **kw) for n, (_, kw, _o, _c) in PLANTED.items()],
                     community=[o for (_, _k, o, _c) in PLANTED.values() if o is not None])
    wl = todo(led, CAT, D, 30)
    assert not {"urine_due", "urine_overdue", "visit_due"} & {it.kind for it in wl.items}
    assert any("未提供帮教管控台帐" in n for n in wl.notes)


# ---------------------------------------------------------------- the property against explain
@st.composite
def ledgers_and_day(draw):
    n = draw(st.integers(1, 4))
    orders, contacts = [], []
    base = date(2017, 1, 1)
    for i in range(1, n + 1):
        rep = base + timedelta(days=draw(st.integers(0, 600)))
        o = order(i, rep.isoformat(), kind=draw(st.sampled_from(["社区戒毒", "社区康复"])))
        if draw(st.booleans()):
            o["解除日期"] = (rep + timedelta(days=draw(st.integers(30, 700)))).isoformat()
        orders.append(o)
        for day in draw(st.lists(st.integers(-20, 720), max_size=8)):
            contacts.append(contact(i, (rep + timedelta(days=day)).isoformat(),
                                    draw(st.sampled_from(["尿检", "外出帮教尿检", "走访"]))))
    day = base + timedelta(days=draw(st.integers(30, 760)))
    led = ledger_set("乐平镇", persons=[person(i) for i in range(1, n + 1)], community=orders, contacts=contacts)
    return led, orders, day


def _running(o, day):
    end = o.get("解除日期")
    return date.fromisoformat(o["决定日期"]) <= day and (end is None or date.fromisoformat(end) >= day)


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(ledgers_and_day())
def test_closed_urine_items_are_exactly_explains_behind(case):
    led, orders, day = case
    wl = todo(led, CAT, day, 30)
    closed = {(it.id, str(it.start), str(it.due)) for it in wl.items
              if it.kind in ("urine_due", "urine_overdue") and it.due is not None and it.due <= day}
    ex = explain(led, CAT, "urine_schedule_rate", Period(date(2016, 1, 1), day))
    running = {o["公民身份号码"] for o in orders if _running(o, day)}
    behind = {(r.id, *span.split("至")) for r in ex.other_rows if r.id in running
              for span in r.values["未检区间"].split("、")}
    assert closed == behind
    assert {i for i, _, _ in closed} == {r.id for r in ex.other_rows} & running


# ---------------------------------------------------------------- rule tables
def test_an_office_changes_the_rules_not_the_code(tmp_path):
    f = tmp_path / "目录.toml"
    f.write_text('[rules.urine_tests]\nmonths = { "社区戒毒" = [3] }\n[rules.visits]\nmonths = { "一级" = 2 }\n'
                 '[rules.order_terms]\nyears = { "社区康复" = 2 }\n', encoding="utf-8")
    cat = load_catalog(f)
    assert cat.rules.urine_tests.lengths("社区康复") == (2, 3, 6)  # untouched entries stay the default's
    wl = todo(planted(), cat, D, 30)
    assert of(wl, 3) == []  # every 3 months from 07-01: [07-01, 09-30] tested
    assert of(wl, 14) == []  # 一级 every two months: seen on 09-28
    # two years from 2015-11-14 ended 2017-11-13: listed as past its term, still to be released
    (ending,) = [i for i in wl.items if i.id == pid(9) and i.kind == "order_ending"]
    assert ending.due == d("2017-11-13") and "尚未解除" in ending.description
    # the indicator follows the same table
    led = planted()
    p = parse_period("2018-08..2018-10")
    assert compute(led, cat, p, compare=False).get("urine_schedule_rate").denominator \
        != compute(led, CAT, p, compare=False).get("urine_schedule_rate").denominator


@pytest.mark.parametrize("body, words", [
    ('[rules.visits]\nmonths = { "四级" = 1 }\n', "不在允许范围"),
    ('[rules.visits]\nmonths = { "一级" = 5 }\n', "之一"),
    ('[rules.order_terms]\nyears = { "社区戒毒" = 0 }\n', "之一"),
    ('[rules.walks]\nmonths = {}\n', "未知的规则表"),
    ('[rules.urine_tests]\nmonths = { "强戒" = [1] }\n', "不是社区戒毒社区康复台帐的类别"),
])
def test_rule_errors_name_the_line(tmp_path, body, words):
    from jindu_metrics.errors import ConfigError

    f = tmp_path / "目录.toml"
    f.write_text("# 本单位\n" + body, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_catalog(f)
    assert words in str(e.value) and e.value.row in (2, 3)


# ---------------------------------------------------------------- API and command
def test_api_to_frame_masks_unless_asked():
    wl = api.todo(planted(), "2018-10-15", 30)
    df = wl.to_frame()
    assert len(df) == len(wl.items) and set(df["kind"]) == set(KIND_LABELS)
    assert pid(1) not in set(df["公民身份号码"]) and "人员1" not in set(df["姓名"])
    assert pid(1) in set(wl.to_frame(show_pii=True)["公民身份号码"])


def jindu(*args, **kw):
    if kw:  # an environment of its own (PYTHONIOENCODING): a new interpreter opens its streams with it
        return subprocess.run([sys.executable, "-m", "jindu_metrics", *args], capture_output=True, cwd=ROOT, **kw)
    return run_forked(args, cwd=ROOT, text=False)


def test_sample_json_names_the_day_and_masks():
    p = jindu("todo", str(SAMPLE), "--date", "2018-10-15", "--format", "json")
    assert p.returncode in (0, 1), p.stderr.decode()
    doc = json.loads(p.stdout)
    assert (doc["date"], doc["days"], doc["until"]) == ("2018-10-15", 30, "2018-11-14")
    assert doc["counts"]["urine_overdue"] > 0 and sum(doc["counts"].values()) == len(doc["items"])
    assert all("*" in it["公民身份号码"] and "*" in it["姓名"] for it in doc["items"])
    assert all(it["file"] and it["row"] > 1 for it in doc["items"])


def test_sample_table_fits_80_columns():
    from jindu_metrics.cli.terminal import Out, width_of
    from jindu_metrics.cli.todo_cmd import render_worklist
    from jindu_metrics.ledgers import load_ledgers

    wl = todo(load_ledgers([SAMPLE]), CAT, D, 30)
    out = Out(io.StringIO(), width=80, tty=True)
    render_worklist(wl, False, out)
    import re

    lines = re.sub("\x1b\\[[0-9;]*m", "", out.getvalue()).splitlines()  # colours take no columns
    assert max(width_of(ln) for ln in lines) <= 80
    text = "\n".join(lines)
    assert "2018-10-15" in text and wl.counts_text() in text
    # every item is in the table with its masked person and row
    assert text.count("440603********1056") == sum(1 for it in wl.items if it.id and it.id.endswith("1056")
                                                   and it.id.startswith("440603"))


def test_sample_table_in_gbk():
    import os

    p = jindu("todo", str(SAMPLE), "--date", "2018-10-15", env={**os.environ, "PYTHONIOENCODING": "gbk"})
    assert p.returncode in (0, 1)
    text = p.stdout.decode("gbk")  # every character GBK holds
    assert "乐平镇待办清单（2018-10-15" in text and "尿检逾期" in text


def test_xlsx_is_printable(tmp_path):
    import openpyxl

    out = tmp_path / "待办.xlsx"
    p = jindu("todo", str(SAMPLE), "--date", "2018-10-15", "--format", "xlsx", "--output", str(out))
    assert p.returncode in (0, 1), p.stderr.decode()
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["待办清单"]
    ws = wb["待办清单"]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$4:$4"
    assert "2018-10-15" in ws["A1"].value and ws["A2"].value.startswith("待办 ")
    assert [c.value for c in ws[4]] == ["到期日", "事项", "姓名", "公民身份号码", "说明", "工作表", "行"]
    units = [r[0].value for r in ws.iter_rows(min_row=5) if r[1].value is None and r[0].value]
    assert units and all("项）" in u for u in units)
    again = tmp_path / "again.xlsx"
    jindu("todo", str(SAMPLE), "--date", "2018-10-15", "--format", "xlsx", "--output", str(again))
    assert again.read_bytes() == out.read_bytes()  # same input, same bytes


def test_bad_date_is_a_chinese_usage_error():
    p = jindu("todo", str(SAMPLE), "--date", "2018-13-45")
    assert p.returncode == 2 and "--date" in p.stderr.decode() and "Traceback" not in p.stderr.decode()


def test_csv_has_bom_and_masks():
    from jindu_metrics.outputs.todo import todo_csv

    data = todo_csv(todo(planted(), CAT, D, 30))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert pid(1) not in text and "visit_due" in text
    assert io.StringIO(text).readline().startswith("单位,到期日,事项")


def test_an_id_in_a_unit_label_is_masked_too():
    from jindu_metrics.cli.terminal import Out
    from jindu_metrics.cli.todo_cmd import render_worklist
    from jindu_metrics.outputs.todo import todo_csv, todo_xlsx

    odd = pid(99)  # a 所属村居 cell holding an ID (pasted into the wrong column)
    led = ledger_set("乐平镇", persons=[person(14, 管控等级="一级", 所属村居=odd)], contacts=[])
    wl = todo(led, CAT, D, 30)
    assert [it.kind for it in wl.items] == ["visit_due"]
    out = Out(io.StringIO(), width=120)
    render_worklist(wl, False, out)
    import zipfile

    sheet = b"".join(zipfile.ZipFile(io.BytesIO(todo_xlsx(wl))).read(n) for n in ("xl/sharedStrings.xml",))
    for text in (out.getvalue(), json.dumps(wl.to_dict(), ensure_ascii=False), todo_csv(wl).decode("utf-8-sig"),
                 sheet.decode("utf-8"), wl.to_frame().to_csv()):
        assert odd not in text and pid(14) not in text and "人员14" not in text
    assert odd in json.dumps(wl.to_dict(show_pii=True), ensure_ascii=False)


def test_a_todo_day_long_after_the_ledgers_warns_with_their_last_date():
    from pathlib import Path

    from conftest import run_cli

    sample = Path(__file__).resolve().parents[2] / "sample_ledgers" / "乐平镇台帐.xlsx"
    _, _, err = run_cli(["todo", sample, "--date", "2019-06-30"])
    assert "警告：待办日期 2019-06-30 比台帐最新日期（2018-" in err
    _, _, err = run_cli(["todo", sample, "--date", "2018-10-15"])
    assert "待办日期" not in err


def test_a_release_date_before_the_decision_is_not_the_term(wl):
    """解除日期 before 决定日期 (issue 29): not used, as by the figures; the statutory term is listed instead."""
    base = planted()
    c = base.frames["community"]
    i = c.index[c["公民身份号码"] == pid(9)][0]
    c.loc[i, "解除日期"] = c.loc[i, "决定日期"] - __import__("pandas").Timedelta(days=30)
    (it,) = [x for x in todo(base, CAT, D, 30).items if x.id == pid(9) and x.kind == "order_ending"]
    assert it.due == d("2018-11-13") and "自报到日期 2015-11-14 起3年" in it.description
