"""Missing column = missing figure (issue 28, point 3).

An indicator whose declared source column is absent from its ledger has no value: table "无此列", json
`"value": null` with `"missing_column"` and a Chinese reason, csv/xlsx value empty with the reason in 说明, left out
of rankings, scores and county totals, as a missing ledger is. Empty cells keep their documented meaning.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pytest
from conftest import run_cli
from support import samples
from support.workbooks import write_canonical

from jindu_metrics.metrics.catalog import load_catalog

CAT = load_catalog()
PERIOD = "2018-01..2018-10"


def _drop_columns(path: Path, sheet: str, names: tuple[str, ...]) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    for name in names:
        head = [c.value for c in ws[1]]
        ws.delete_cols(head.index(name) + 1)
    wb.save(path)
    return path


def _blank_columns(path: Path, sheet: str, names: tuple[str, ...]) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb[sheet]
    head = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        for name in names:
            row[head.index(name)].value = None
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def town(tmp_path_factory) -> Path:
    """One township, its persons ledger without 已见面 and 已建档 (and with 外来 persons)."""
    recs = samples.county_records(1, 120, seed=7)
    assert sum(r.get("人员类别") == "外来" for r in recs["persons"]) >= 3
    path = write_canonical(recs, tmp_path_factory.mktemp("nocol") / "新青镇.xlsx")
    return _drop_columns(path, "吸毒人员登记台帐", ("已见面", "已建档"))


def test_declared_source_columns_come_from_the_catalog():
    ind = CAT.get("outsider_met_rate")
    assert ("persons", "已见面") in ind.columns and ("persons", "人员类别") in ind.columns
    assert ("persons", "人员状态") in ind.columns  # through 社会面, a derived column (derived.py: needs)
    assert ("units", "禁毒社工") in CAT.get("worker_ratio").columns  # a summed column
    assert ("contacts", "方式") in CAT.get("visit_rate").columns  # a `has` filter on another ledger


def test_json_table_csv_say_no_column_instead_of_zero(town, tmp_path):
    code, out, err = run_cli(["compute", "-p", PERIOD, "-f", "json", town])
    assert code == 0, err
    rows = {r["metric"]: r for r in json.loads(out)["rows"]}
    met = rows["outsider_met_rate"]
    assert met["value"] is None and met["numerator"] is None and met["denominator"] is None
    assert met["missing_column"] == "已见面" and met["missing_ledger"] is None
    assert met["reason"] == "吸毒人员登记台帐没有「已见面」列"
    assert met["met"] is None and met["gap"] is None and met["yoy"] is None
    assert rows["outsider_filed_rate"]["missing_column"] == "已建档"
    # the other figures of the same ledger are there
    assert rows["grid_inclusion_rate"]["value"] is not None and rows["grid_inclusion_rate"]["missing_column"] is None
    assert "「已见面」「已建档」列" in err and "无此列" in err

    code, out, err = run_cli(["compute", "-p", PERIOD, town])
    line = next(ln for ln in out.splitlines() if "外来吸毒人员见面率" in ln)
    assert "无此列" in line and "0.0%" not in line and "还差" not in line
    assert "“无此列”表示台帐中没有该指标所需的列" in out

    code, out, err = run_cli(["compute", "-p", PERIOD, "-f", "csv", town])
    recs = {r["指标代码"]: r for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))}
    r = recs["outsider_met_rate"]
    assert r["数值"] == "" and r["分子"] == "" and r["分母"] == "" and r["说明"] == "吸毒人员登记台帐没有「已见面」列"

    x = tmp_path / "x.xlsx"
    run_cli(["compute", "-p", PERIOD, "-f", "xlsx", "-o", x, town])
    ws = openpyxl.load_workbook(x).active
    head = [c.value for c in ws[2]]  # row 1 names the window
    row = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[head.index("指标代码")] == "outsider_met_rate")
    assert row[head.index("数值")] is None and row[head.index("说明")] == "吸毒人员登记台帐没有「已见面」列"

    code, out, _ = run_cli(["explain", "外来吸毒人员见面率", "-p", PERIOD, town])
    assert code == 0, out
    assert "吸毒人员登记台帐没有「已见面」列" in out and "不按0计" in out


def test_empty_cells_keep_their_meaning(tmp_path):
    """The column present but every cell empty: 否 as documented, a real 0.0% with a gap."""
    recs = samples.county_records(1, 120, seed=7)
    path = _blank_columns(write_canonical(recs, tmp_path / "新青镇.xlsx"), "吸毒人员登记台帐", ("已见面",))
    code, out, _ = run_cli(["compute", "-p", PERIOD, "-f", "json", path])
    assert code == 0
    met = {r["metric"]: r for r in json.loads(out)["rows"]}["outsider_met_rate"]
    assert met["missing_column"] is None and met["numerator"] == 0 and met["denominator"] > 0
    assert met["display"] == "0.0%" and met["met"] is False and met["gap"] == met["denominator"]


def test_new_found_is_derived_when_its_column_is_absent(tmp_path):
    """新发现 is a column the tool fills where empty (documented rule): without the column it is still given."""
    recs = samples.county_records(1, 120, seed=7)
    path = _drop_columns(write_canonical(recs, tmp_path / "t.xlsx"), "查处台帐", ("新发现",))
    code, out, _ = run_cli(["compute", "-p", PERIOD, "-f", "json", path])
    assert code == 0
    rows = {r["metric"]: r for r in json.loads(out)["rows"]}
    assert rows["newly_found"]["missing_column"] is None and rows["newly_found"]["value"] is not None


def test_batch_leaves_a_township_without_the_column_out_of_ranks_scores_and_total(town, tmp_path):
    from jindu_metrics.batch import run_batch
    from jindu_metrics.metrics.scoring import example_scheme_path

    folder = tmp_path / "in"
    folder.mkdir()
    write_canonical(samples.county_records(2, 120, seed=1), folder / "两镇.xlsx")
    (folder / town.name).write_bytes(town.read_bytes())
    res = run_batch([folder], period=PERIOD, out=tmp_path / "out", jobs=1, scoring=example_scheme_path())
    rows = {(r.unit, r.metric): r for r in res.rows}
    towns = sorted({u.unit for u in res.units if u.status == "ok"})
    assert len(towns) == 3 and "新青镇" in towns
    lone = rows[("新青镇", "outsider_met_rate")]
    assert lone.exact is None and lone.missing_columns == (("persons", "已见面"),)
    assert ("新青镇", "outsider_met_rate") not in res.ranks
    assert sorted(res.ranks[(t, "outsider_met_rate")] for t in towns if t != "新青镇") in ([1, 2], [1, 1])
    assert res.left_out["outsider_met_rate"] == ["新青镇"]
    others = [rows[(t, "outsider_met_rate")] for t in towns if t != "新青镇"]
    total = rows[(res.total_unit, "outsider_met_rate")]
    assert total.denominator == sum(r.denominator for r in others)  # the total adds the townships that have it
    score = next(s for s in res.scores if s.unit == "新青镇")
    assert {i.metric for i in score.excluded} >= {"outsider_met_rate", "outsider_filed_rate"}
    item = next(i for i in score.items if i.metric == "outsider_met_rate")
    assert item.score is None and "没有「已见面」列" in item.note
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    d = next(r for r in summary["rows"] if r["unit"] == "新青镇" and r["metric"] == "outsider_met_rate")
    assert d["value"] is None and d["missing_column"] == "已见面" and d["rank"] is None
    # point 4: the rank is shown beside 原始得分, 可评分值 and 折算得分 (the one it is by)
    scores = {s["unit"]: s for s in summary["scores"]}
    lone_s = scores["新青镇"]
    assert float(lone_s["possible"]) < 100 and lone_s["full"] == "100"
    assert float(lone_s["rescaled_score"]) == pytest.approx(
        float(lone_s["raw_score"]) / float(lone_s["possible"]) * 100, abs=0.1)  # from the rounded raw score
    by_rank = sorted(scores.values(), key=lambda s: s["rank"])
    assert [float(s["rescaled_score"]) for s in by_rank] == sorted((float(s["rescaled_score"]) for s in by_rank),
                                                                   reverse=True)
    assert summary["score_rule"].startswith("缺台帐或缺列的指标不计分，按可评分值折算为百分制后排名")
    ws = openpyxl.load_workbook(tmp_path / "out" / "汇总.xlsx")["考评得分"]
    head = [c.value for c in ws[3]]
    line = next(r for r in ws.iter_rows(min_row=4, values_only=True) if r[0] == "新青镇")
    got = dict(zip(head, line))
    assert (got["原始得分"], got["可评分值"], got["折算得分"], got["排名"]) == (
        float(lone_s["raw_score"]), float(lone_s["possible"]), float(lone_s["rescaled_score"]), lone_s["rank"])
    assert next(v for h, v in got.items() if h.startswith("外来吸毒人员见面率（")) == "不计分"
    assert ws["A2"].value == summary["score_rule"]
    # the county bulletin's data: the same three scores and the rule sentence
    from jindu_metrics.report.context import county_context

    ctx = county_context(res, CAT)
    assert ctx["score_rule"] == summary["score_rule"]
    row = next(s for s in ctx["scores"] if s["unit"] == "新青镇")
    assert (row["score"], row["possible"], row["rescaled"]) == (lone_s["raw_score"], lone_s["possible"],
                                                                lone_s["rescaled_score"])
    # …and prints them: the rule, then the score ranked by beside the raw score and the points possible
    text = (tmp_path / "out" / "全县通报.txt").read_text(encoding="utf-8")
    assert "合计不含新青镇（缺少所需的列）" in text  # the township is left out of the total for a column, not a ledger
    part = text[text.index("综合考评得分"):]
    assert summary["score_rule"] in part
    lines = [x.split() for x in part.splitlines() if x.strip().startswith(("排名", *"0123456789"))]
    assert lines[0][:5] == ["排名", "镇街", "折算得分", "原始得分", "可评分值"]
    lone_line = next(x for x in lines if x[1] == "新青镇")
    assert lone_line[:5] == [str(lone_s["rank"]), "新青镇", lone_s["rescaled_score"], lone_s["raw_score"],
                             lone_s["possible"]]
    ranked = [float(x[2]) for x in lines[1:] if x[0].isdigit()]
    assert ranked == sorted(ranked, reverse=True)


def test_batch_names_the_townships_lacking_a_column(town, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_canonical(samples.county_records(1, 60, seed=3), folder / "一镇.xlsx")
    (folder / town.name).write_bytes(town.read_bytes())
    code, _, err = run_cli(["batch", folder, "--period", PERIOD, "--out", tmp_path / "out", "--jobs", "1"])
    assert code in (0, 1), err
    assert "吸毒人员登记台帐没有「已见面」列（新青镇）" in err and "无此列" in err
