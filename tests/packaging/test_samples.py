"""The synthetic 乐平镇 sample holds the bulletin's situation; generators and writers are deterministic."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from support import samples

from jindu_metrics import schema
from jindu_metrics.ledgers.ids import check_digit

ROOT = Path(__file__).resolve().parents[2]
S, E = samples.PERIOD_START, samples.LAST_DAY
IN_SOCIETY = {"社会面", "社区戒毒", "社区康复", "失联"}


def _add_years(d: date, n: int) -> date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + n, day=28)


@pytest.fixture(scope="module")
def rec():
    return samples.leping_records()


def _window_seizures(rec):
    return [s for s in rec["seizures"] if S <= s["查处日期"] <= E]


def _last_detection(rec) -> dict[str, date]:
    """Plain-Python reading of metrics.md's 'last detection' on the last day."""
    out = {}
    for p in rec["persons"]:
        cands = [d for d in (p["末次查获日期"],) if d and d <= E]
        out[p["公民身份号码"]] = (cands, p["初次发现日期"])
    for s in rec["seizures"]:
        if s["查处日期"] <= E:
            out[s["公民身份号码"]][0].append(s["查处日期"])
    for c in rec["contacts"]:
        if c["结果"] == "阳性" and c["日期"] <= E:
            out[c["公民身份号码"]][0].append(c["日期"])
    return {pid: (max(c) if c else first) for pid, (c, first) in out.items()}


def _in_society(rec):
    return [p for p in rec["persons"] if p["人员状态"] in IN_SOCIETY]


def _abstinent_ids(rec):
    last = _last_detection(rec)
    return {p["公民身份号码"] for p in _in_society(rec) if _add_years(last[p["公民身份号码"]], 3) <= E}


def _managed(rec):
    ab = _abstinent_ids(rec)
    return [p for p in _in_society(rec) if p["公民身份号码"] not in ab]


def test_enforcement_figures(rec):
    win = _window_seizures(rec)
    seized = {s["公民身份号码"] for s in win}
    assert len(seized) == 49 and len(win) == 49  # one seizure per person in the window
    crim = [s for s in win if s["处置结果"] == "刑事拘留"]
    new = [s for s in win if s["新发现"]]
    due = [s for s in win if s["应送戒"]]
    comp = [s for s in win if s["处置结果"] == "强制隔离戒毒"]
    assert (len(crim), len(new), len(due), len(comp)) == (12, 16, 23, 11)
    assert all(s["应送戒"] for s in comp)
    assert sum(1 for s in new if s["处置结果"] == "刑事拘留") == 2
    # The documented alternative base: neither 新发现 nor 刑事拘留 is exactly the 应送戒 set.
    alt = {id(s) for s in win if not s["新发现"] and s["处置结果"] != "刑事拘留"}
    assert alt == {id(s) for s in due}
    sick = [s for s in win if s["病残"]]
    assert len(sick) == 3 and not any(s["送治"] for s in sick)


def test_new_found_have_no_earlier_record(rec):
    first = {p["公民身份号码"]: p["初次发现日期"] for p in rec["persons"]}
    for s in rec["seizures"]:
        earlier = [t for t in rec["seizures"] if t["公民身份号码"] == s["公民身份号码"] and t["查处日期"] < s["查处日期"]]
        if s["新发现"]:
            assert not earlier and first[s["公民身份号码"]] == s["查处日期"]
        else:
            assert earlier or first[s["公民身份号码"]] < s["查处日期"]


def test_registry_figures(rec):
    soc = _in_society(rec)
    assert len(soc) == 374
    assert sum(1 for p in soc if p["纳入网格化"]) == 354
    managed = _managed(rec)
    assert len(managed) == 258 and len(soc) - len(managed) == 116
    statuses = {p["人员状态"] for p in rec["persons"]}
    assert {"强制隔离戒毒", "羁押", "服刑", "出境", "死亡"} <= statuses
    seized_comp = {s["公民身份号码"] for s in _window_seizures(rec) if s["处置结果"] == "强制隔离戒毒"}
    assert all(p["人员状态"] == "强制隔离戒毒" for p in rec["persons"] if p["公民身份号码"] in seized_comp)


def test_abstinence_boundary_cases_present(rec):
    last = _last_detection(rec)
    days = {last[p["公民身份号码"]] for p in _in_society(rec)}
    assert date(2015, 10, 31) in days and date(2015, 11, 1) in days


def test_levels_agree_with_abstinence(rec):
    managed = {p["公民身份号码"] for p in _managed(rec)}
    for p in rec["persons"]:
        if p["公民身份号码"] in managed:
            assert p["管控等级"] in schema.CONTROL_LEVELS
        else:
            assert p["管控等级"] is None


def test_every_managed_person_visited_in_window(rec):
    visited = {c["公民身份号码"] for c in rec["contacts"]
               if S <= c["日期"] <= E and c["方式"] in ("走访", "谈话", "见面")}
    managed = {p["公民身份号码"] for p in _managed(rec)}
    assert managed <= visited


def test_positive_tests_only_for_managed_and_consistent(rec):
    managed = {p["公民身份号码"] for p in _managed(rec)}
    seizure_days = {(s["公民身份号码"], s["查处日期"]) for s in rec["seizures"]}
    pos = [c for c in rec["contacts"] if c["结果"] == "阳性"]
    assert pos and {c["方式"] for c in pos} >= {"尿检"}
    assert any(c["方式"] == "毛发检测" for c in rec["contacts"])
    reported = {(o["公民身份号码"], o["报到日期"]) for o in rec["community"] if o["报到日期"]}
    relapses = []
    for c in pos:
        assert c["公民身份号码"] in managed
        if (c["公民身份号码"], c["日期"]) not in seizure_days:  # a 社区戒毒 person relapsing after reporting
            assert any(pid == c["公民身份号码"] and day < c["日期"] for pid, day in reported)
            relapses.append(c)
    assert len(relapses) == 2 and all(S <= c["日期"] <= E for c in relapses)


def test_community_figures(rec):
    orders = [o for o in rec["community"] if o["决定日期"] <= E and (o["解除日期"] is None or o["解除日期"] >= E)]
    pending = [o for o in orders if o["报到日期"] is None]
    assert len(pending) == 1 and pending[0]["决定日期"] == date(2018, 10, 25)
    counted = [o for o in orders if o not in pending]
    assert len(counted) == 36
    assert all(o["报到日期"] <= E and o["已建档"] for o in counted)
    ended = [o for o in rec["community"] if o["执行状态"] == "期满解除"]
    assert len(ended) >= 3 and all(o["解除日期"] < E for o in ended)
    # 社区戒毒/社区康复 status <=> an order 执行中 of that type.
    running = {o["公民身份号码"]: o["类别"] for o in rec["community"] if o["执行状态"] == "执行中"}
    status = {p["公民身份号码"]: p["人员状态"] for p in rec["persons"]}
    assert {pid for pid, st in status.items() if st in ("社区戒毒", "社区康复")} == set(running)
    assert all(status[pid] == kind for pid, kind in running.items())


def test_units_and_worker_ratio(rec):
    units = rec["units"]
    assert len(units) == len(samples.VILLAGES) and sum(u["禁毒社工"] for u in units) == 10
    assert all(u["实有人口"] > 0 for u in units)
    assert round(Fraction(len(_managed(rec)), 10)) == 26


def test_publicity_totals(rec):
    win = [x for x in rec["publicity"] if S <= x["日期"] <= E]
    tot = {}
    for x in win:
        tot[x["形式"]] = tot.get(x["形式"], 0) + x["数量"]
    assert tot["LED滚动播放"] == 650 and tot["张贴海报"] == 225 and tot["派发资料"] == 6790
    assert tot["媒体采用"] == 13 and tot["宣传活动"] == 21 and tot["教育讲座"] == 9
    assert tot["现身说法"] + tot["文艺汇演"] == 3
    assert sum(x["领导出席人次"] or 0 for x in win if x["形式"] == "户外宣传") == 37
    assert sum(x["领导出席人次"] or 0 for x in win) == 37
    assert sum(x["受教育人数"] or 0 for x in win) == 37000
    assert any(x["日期"] > E for x in rec["publicity"]) and any(x["日期"].year == 2017 for x in rec["publicity"])


def test_consistency(rec):
    ids = [p["公民身份号码"] for p in rec["persons"]]
    assert len(ids) == len(set(ids))
    known = set(ids)
    for kind in ("seizures", "community", "contacts"):
        assert {r["公民身份号码"] for r in rec[kind]} <= known
    for pid in ids:  # valid check digit, sex agrees with the ID
        assert check_digit(pid[:17]) == pid[17]
    for p in rec["persons"]:
        assert p["性别"] == ("男" if int(p["公民身份号码"][16]) % 2 else "女")
    # Persons seized in the window: 末次查获日期 is their latest seizure.
    latest = {}
    for s in rec["seizures"]:
        latest[s["公民身份号码"]] = max(latest.get(s["公民身份号码"], s["查处日期"]), s["查处日期"])
    for pid in {s["公民身份号码"] for s in _window_seizures(rec)}:
        assert next(p for p in rec["persons"] if p["公民身份号码"] == pid)["末次查获日期"] == latest[pid]
    # No future dates; spread into 2017 and after the window.
    every = [v for k in rec for r in rec[k] for v in r.values() if isinstance(v, date)]
    assert max(every) <= date(2018, 12, 31)
    assert any(s["查处日期"].year == 2017 for s in rec["seizures"])
    assert any(s["查处日期"] > E for s in rec["seizures"])
    assert any(c["日期"].year == 2017 for c in rec["contacts"])
    persons = rec["persons"]
    assert any(p["人户分离"] and p["已查找"] for p in persons) and any(p["人户分离"] and not p["已查找"] for p in persons)
    assert any(p["人员类别"] == "外来" and p["已见面"] and p["已建档"] for p in persons)
    assert len(set(p["所属村居"] for p in persons)) == len(samples.VILLAGES)


def test_ids_valid_for_birth_year(rec):
    from stdnum.cn import ric

    assert all(ric.is_valid(p["公民身份号码"]) for p in rec["persons"])  # place and date too: no warnings
    s = samples.leping_sample()
    assert s.id15 and all(len(v) == 15 for v in s.id15.values())


def test_generator_deterministic():
    a, b = samples.leping_records(), samples.leping_records()
    assert a == b
    assert samples.leping_records(seed=1) != a
    c1, c2 = samples.county_records(2, 200, seed=5), samples.county_records(2, 200, seed=5)
    assert c1 == c2


def test_county_records_shape():
    rec = samples.county_records(3, 500, seed=2)
    assert len({p["所属镇街"] for p in rec["persons"]}) == 3
    assert 1200 <= len(rec["persons"]) <= 1800
    assert len(rec["contacts"]) > 5 * len(rec["persons"])
    assert {r["公民身份号码"] for r in rec["contacts"]} <= {p["公民身份号码"] for p in rec["persons"]}
    assert set(rec) == set(schema.KINDS)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_make_samples_script_is_byte_identical(tmp_path):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        subprocess.run([sys.executable, str(ROOT / "scripts" / "make_samples.py"), str(out)], check=True)
        outs.append(_digest(out))
    assert outs[0] == outs[1]
    assert "乐平镇台帐.xlsx" in outs[0] and any(k.startswith("messy/") for k in outs[0])
    # The committed samples are what the script makes.
    committed = _digest(ROOT / "sample_ledgers")
    assert {k: v for k, v in committed.items() if k in outs[0]} == outs[0]


# --- through the reader --------------------------------------------------------------------------------

SAMPLES = ROOT / "sample_ledgers"


def _canonical_rows(frame, cols):
    """Rows as sorted tuples of strings (NA/NaT/None all as '')."""
    import pandas as pd

    def cell(v):
        return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)

    return sorted(tuple(cell(v) for v in row) for row in frame[cols].itertuples(index=False))


def test_messy_sample_reads_to_the_canonical_data():
    from jindu_metrics.ledgers import load_ledgers

    canon = load_ledgers([SAMPLES / "乐平镇台帐.xlsx"])
    messy = load_ledgers([SAMPLES / "messy"])
    for kind, k in schema.KINDS.items():
        cols = [c for c in k.column_names]
        assert len(canon[kind]) > 0
        assert _canonical_rows(canon[kind], cols) == _canonical_rows(messy[kind], cols), kind
    kinds = {s.file.rsplit(".", 1)[-1]: s.kind for s in messy.sheets}
    assert kinds["xls"] == "seizures" and kinds["csv"] == "contacts"


def test_sample_folder_not_double_counted():
    from jindu_metrics.ledgers import load_ledgers

    both = load_ledgers([SAMPLES])
    assert len(both["persons"]) == len(samples.leping_records()["persons"])


def test_canonical_sample_validates_clean():
    """Clean on its bulletin's day (2018-10-31); at the end of its data (2018-12-31) the only warnings are
    管控等级 left on persons who reached three years abstinent in November or December."""
    from jindu_metrics.ledgers import load_ledgers
    from jindu_metrics.validate import validate

    ledgers = load_ledgers([SAMPLES / "乐平镇台帐.xlsx"])
    found = validate(ledgers, as_of=date(2018, 10, 31))
    bad = [f for f in found if f.severity in ("错误", "警告")]
    assert not bad, sorted({(f.code, f.severity) for f in bad})
    late = [f for f in validate(ledgers) if f.severity in ("错误", "警告")]
    assert late and {f.code for f in late} == {"level_contradiction"}
    persons = ledgers["persons"].set_index("_row")
    for f in late:
        last = persons.loc[f.row, "末次查获日期"]
        assert date(2015, 11, 1) <= last.date() <= date(2015, 12, 31), (f.row, last)
