"""Coverage by evidence, one rule for every command (issue 28, point 2).

A ledger covers a comparison window when its earliest dated row falls in the window's first month or before, or
when the workspace declares from when it was kept (jindu.toml [workspace.started]). Where a comparison is absent,
every output says why. A township gets the same comparisons from compute of its own file, compute --by 所属镇街
and batch; --baseline reaches summary.json and 汇总.xlsx.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest
from conftest import run_cli
from support import samples
from support.workbooks import write_canonical

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.metrics.engine import compute
from jindu_metrics.periods import parse_period

CAT = load_catalog()
PERIOD = "2018-01..2018-10"
EARLY, LATE = "青龙街道", "南丰镇"
SEIZURE_METRICS = [i.id for i in CAT.indicators if i.show and set(i.ledgers) == {"seizures"}]


def _records() -> dict:
    """Two townships: 青龙街道's 查处台帐 starts on 2016-01-10 (no row on 1 January), 南丰镇's on 2017-06-01."""
    recs = samples.county_records(2, 120, seed=1)
    assert {r["所属镇街"] for r in recs["persons"]} == {EARLY, LATE}
    seized = []
    for r in recs["seizures"]:
        if (r["所属镇街"] == EARLY and r["查处日期"] >= dt.date(2016, 1, 10)) or (r["所属镇街"] == LATE and r["查处日期"] >= dt.date(2017, 6, 1)):
            seized.append(r)
    first = next(r for r in recs["seizures"] if r["所属镇街"] == EARLY)
    seized.append({**first, "查处日期": dt.date(2016, 1, 10)})
    recs["seizures"] = seized
    return recs


def _town(recs: dict, town: str) -> dict:
    """One township's own ledgers (contacts follow their person; publicity is left out)."""
    ids = {r["公民身份号码"] for r in recs["persons"] if r["所属镇街"] == town}
    out = {k: [r for r in v if r.get("所属镇街") == town] for k, v in recs.items() if k in ("persons", "seizures",
                                                                                         "community", "units")}
    out["contacts"] = [r for r in recs["contacts"] if r["公民身份号码"] in ids]
    return out


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("coverage")
    recs = _records()
    out = {"county": write_canonical(recs, folder / "county" / "全县台帐.xlsx")}
    for town in (EARLY, LATE):
        out[town] = write_canonical(_town(recs, town), folder / town / f"{town}.xlsx")
    return out


def _key(row) -> tuple:
    """What a comparison gives: the figures, or that it is absent and why it is said."""
    return tuple((c.display, c.numerator, c.denominator) if c is not None else ("absent", bool(row.comparison_notes.get(n)))
                 for n, c in (("previous", row.previous), ("yoy", row.yoy), ("baseline", row.baseline)))


def test_first_month_evidence_and_the_reason_when_absent(files):
    period = parse_period(PERIOD)
    early = compute(load_ledgers([files[EARLY]]), CAT, period, baseline=2016)
    late = compute(load_ledgers([files[LATE]]), CAT, period, baseline=2016)
    for mid in SEIZURE_METRICS:
        e, lt = early.get(mid), late.get(mid)
        # 2016-01-10 falls in January 2016, the first month of the base-year window: covered
        assert e.yoy is not None and e.baseline is not None, mid
        assert not e.comparison_notes
        # 2017-06-01 is after January 2017: no 同比, no base year, and each says why
        assert lt.yoy is None and lt.baseline is None and lt.previous is None, mid
        assert "查处台帐最早的记录在2017-06" in lt.comparison_notes["yoy"]
        assert "同比（2017-01-01至2017-10-31）" in lt.comparison_notes["yoy"]
        assert "基准年同期（2016-01-01至2016-10-31）" in lt.comparison_notes["baseline"]
        assert "[workspace.started]" in lt.comparison_notes["baseline"]
    # persons figures: the registry's first 初次发现日期 is years back: compared in both
    assert late.get("registered").yoy is not None


def test_every_output_says_why(files, tmp_path):
    code, out, err = run_cli(["compute", "-p", PERIOD, "--baseline", "2016", "-f", "json", files[LATE]])
    assert code == 0, err
    row = {r["metric"]: r for r in json.loads(out)["rows"]}["seizures"]
    assert row["yoy"] is None and row["yoy_reason"].startswith("查处台帐最早的记录在2017-06")
    assert row["baseline"] is None and "基准年同期" in row["baseline_reason"]
    assert {r["metric"]: r for r in json.loads(out)["rows"]}["registered"]["yoy_reason"] is None

    code, out, err = run_cli(["compute", "-p", PERIOD, "--baseline", "2016", files[LATE]])
    line = next(ln for ln in out.splitlines() if ln.lstrip("│ ").startswith("查处吸毒人员数"))
    assert line.count("未覆盖") == 3, line
    assert "注：同比“未覆盖”：查处台帐最早的记录在2017-06" in out
    assert "注：较2016年“未覆盖”：查处台帐最早的记录在2017-06" in out

    code, out, err = run_cli(["compute", "-p", PERIOD, "--baseline", "2016", "-f", "csv", files[LATE]])
    recs = {r["指标代码"]: r for r in csv.DictReader(io.StringIO(out.lstrip("\ufeff")))}
    assert recs["seizures"]["同比"] == "" and recs["seizures"]["较2016年"] == ""
    assert "同比无数值：查处台帐最早的记录在2017-06" in recs["seizures"]["说明"]
    assert "基准年无数值：" in recs["seizures"]["说明"] and recs["registered"]["说明"] == ""


def test_the_workspace_declares_when_a_ledger_was_started(files, tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    (ws / "台帐").mkdir(parents=True)
    (ws / "台帐" / files[LATE].name).write_bytes(files[LATE].read_bytes())
    (ws / "jindu.toml").write_text(f'[workspace]\nunit = "{LATE}"\nledgers = "台帐"\n\n[workspace.started]\n'
                                   '"查处台帐" = 2016-01-01\n', encoding="utf-8")
    monkeypatch.chdir(ws)
    code, out, err = run_cli(["compute", "-p", PERIOD, "--baseline", "2016", "-f", "json"])
    assert code == 0, err
    row = {r["metric"]: r for r in json.loads(out)["rows"]}["seizures"]
    assert row["yoy"] is not None and row["baseline"] is not None and row["yoy_reason"] is None
    (ws / "jindu.toml").write_text('[workspace]\nledgers = "台帐"\n[workspace.started]\n"查处" = "2016年"\n',
                                   encoding="utf-8")
    code, out, err = run_cli(["compute", "-p", PERIOD, "-f", "json"])
    assert code == 2 and "「查处」不是台帐名称" in err and "Traceback" not in err


def test_one_township_same_comparisons_in_compute_by_and_batch(files, tmp_path):
    from jindu_metrics.batch import run_batch

    period = parse_period(PERIOD)
    by = compute(load_ledgers([files["county"]]), CAT, period, by="所属镇街", baseline=2016)
    res = run_batch([files["county"].parent], period=PERIOD, out=tmp_path / "out", jobs=1, baseline=2016)
    batch_rows = {(r.unit, r.metric): r for r in res.rows}
    compared = 0
    for town in (EARLY, LATE):
        own = compute(load_ledgers([files[town]]), CAT, period, baseline=2016)
        for mid in SEIZURE_METRICS + ["registered", "community_orders"]:
            want = _key(own.get(mid))
            assert _key(by.get(mid, town)) == want, (town, mid)
            assert _key(batch_rows[(town, mid)]) == want, (town, mid)
            compared += 1
    assert compared > 10
    assert batch_rows[(EARLY, "seizures")].baseline is not None and batch_rows[(LATE, "seizures")].baseline is None

    # --baseline reaches summary.json and 汇总.xlsx, with the reason where it is absent
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["baseline"]["year"] == 2016 and summary["baseline"]["start"] == "2016-01-01"
    rows = {(r["unit"], r["metric"]): r for r in summary["rows"]}
    assert rows[(EARLY, "seizures")]["baseline"]["numerator"] == batch_rows[(EARLY, "seizures")].baseline.numerator
    assert rows[(LATE, "seizures")]["baseline"] is None and rows[(LATE, "seizures")]["baseline_reason"]
    assert rows[(res.total_unit, "seizures")]["baseline"] is not None  # the county total is compared too
    ws = openpyxl.load_workbook(tmp_path / "out" / "汇总.xlsx")["指标汇总"]
    names = [ws.cell(3, c).value for c in range(1, ws.max_column + 1)]
    c = names.index("查处吸毒人员数") + 1
    assert [ws.cell(4, c + k).value for k in range(3)][1:] == ["排名", "2016年同期"]
    row_of = {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1)}
    assert ws.cell(row_of[EARLY], c + 2).value == batch_rows[(EARLY, "seizures")].baseline.numerator
    assert ws.cell(row_of[LATE], c + 2).value == "未覆盖"
