"""One period, one meaning (issue 18.1): `batch --period 2018-10` states every figure over the bulletins' window
(1至10月 cumulative, stocks on 10月31日) in each 通报, summary.json and 汇总.xlsx alike."""

from __future__ import annotations

import json
import re
from fractions import Fraction

import pytest
from support.workbooks import write_canonical
from test_batch import town_records

TOWNS = ["东镇", "西镇", "南镇"]
# where each township bulletin (default txt template) states a figure: the cumulative clause, not "其中10月份"
STATED = {
    "seizures": r"1至10月份，全镇查处吸毒人员(\d+)人",
    "criminal_detentions": r"，刑拘(\d+)人，刑拘查处比",
    "detention_ratio": r"刑拘查处比为([^，。；（]+)",
    "newly_found": r"新发现吸毒人员(\d+)人",
    "rehab_rate": r"送戒率为([^，。；（]+)",
    "grid_inclusion_rate": r"纳入率为([^，。；（]+)",
    "worker_ratio": r"配比为([^，。；（]+)",
    "managed": r"管控人数(\d+)",
    "visit_rate": r"走访\d+人，走访管控率([^，。；（]+)",
    "community_execution_rate": r"执行率为([^，。；（]+)",
    "posters": r"张贴海报(\d+)张",
}


def _records():
    return {t: town_records(t, seed=40 + j, n=40, id_base=j * 1000) for j, t in enumerate(TOWNS)}


@pytest.fixture(scope="module", params=["folder", "county_file"])
def run(request, tmp_path_factory):
    from jindu_metrics.batch import run_batch
    from jindu_metrics.periods import parse_period

    base = tmp_path_factory.mktemp(request.param)
    recs = _records()
    inp = base / "in"
    inp.mkdir()
    if request.param == "folder":
        for t, r in recs.items():
            write_canonical(r, inp / f"{t}台帐.xlsx")
    else:  # one county workbook, split by 所属镇街
        merged: dict[str, list] = {}
        for r in recs.values():
            for kind, rows in r.items():
                merged.setdefault(kind, []).extend(rows)
        write_canonical(merged, inp / "全县台帐.xlsx")
    out = base / "out"
    result = run_batch([inp], period=parse_period("2018-10"), out=out, jobs=1)
    return {"out": out, "result": result, "recs": recs, "base": base,
            "summary": json.loads((out / "summary.json").read_text(encoding="utf-8"))}


def _workbook_displays(path) -> dict[tuple[str, str], str]:
    """(unit, indicator name) → the 指标汇总 cell as the bulletin would print it (display.format_value)."""
    from openpyxl import load_workbook

    from jindu_metrics.metrics.catalog import load_catalog
    from jindu_metrics.metrics.display import format_value

    specs = {i.name: i for i in load_catalog().indicators}
    ws = load_workbook(path)["指标汇总"]
    out = {}
    for c in range(2, ws.max_column + 1, 2):
        name = ws.cell(3, c).value
        spec = specs[name]
        for r in range(5, ws.max_row + 1):
            unit, v = ws.cell(r, 1).value, ws.cell(r, c).value
            if unit and isinstance(v, (int, float)):
                out[(unit, name)] = format_value(Fraction(str(v)), spec.format, spec.decimals)
    return out


def test_window_is_said_in_json_and_workbook(run):
    s = run["summary"]
    assert s["window"]["start"] == "2018-01-01" and s["window"]["end"] == "2018-10-31"
    assert s["window"]["label"] == "2018年1-10月" and "10月31日" in s["window"]["note"]
    assert s["window"]["requested"] == {"start": "2018-10-01", "end": "2018-10-31", "label": "2018年10月"}
    assert {r["window"] for r in s["rows"]} == {"2018年1-10月"}
    from openpyxl import load_workbook

    ws = load_workbook(run["out"] / "汇总.xlsx")["指标汇总"]
    assert ws["A1"].value.startswith("2018年1-10月") and s["window"]["note"] in ws["A2"].value


def test_every_township_figure_equals_summary_and_workbook(run):
    from jindu_metrics.metrics.catalog import load_catalog

    names = {i.id: i.name for i in load_catalog().indicators}
    rows = {(r["unit"], r["metric"]): r for r in run["summary"]["rows"]}
    cells = _workbook_displays(run["out"] / "汇总.xlsx")
    checked = 0
    for t in TOWNS:
        text = (run["out"] / t / "通报.txt").read_text(encoding="utf-8")
        for mid, pattern in STATED.items():
            m = re.search(pattern, text)
            if mid == "posters" and rows[(t, mid)]["display"] == "0":  # a list of what was done leaves out 0
                assert m is None and "张贴海报" not in text, t
                checked += 1
                continue
            assert m, (t, mid)
            stated = m.group(1)
            assert rows[(t, mid)]["display"] == stated, (t, mid)
            assert cells[(t, names[mid])] == stated, (t, mid)
            checked += 1
    assert checked == len(TOWNS) * len(STATED)


def test_month_is_the_secondary_line_and_differs_from_the_window(run):
    """The "其中10月份" figure is October's own (as `compute --period 2018-10`), not what the tables carry."""
    from jindu_metrics.ledgers import load_ledgers
    from jindu_metrics.metrics.catalog import load_catalog
    from jindu_metrics.metrics.engine import compute
    from jindu_metrics.periods import parse_period

    rows = {(r["unit"], r["metric"]): r for r in run["summary"]["rows"]}
    differ = 0
    for t, rec in run["recs"].items():
        path = write_canonical(rec, run["base"] / f"alone_{t}.xlsx")
        october = compute(load_ledgers([path]), load_catalog(), parse_period("2018-10"))
        text = (run["out"] / t / "通报.txt").read_text(encoding="utf-8")
        m = re.search(r"其中10月份查处吸毒人员(\d+)人", text)
        assert m and m.group(1) == october.get("seizures").display
        differ += october.get("seizures").display != rows[(t, "seizures")]["display"]
    assert differ == len(TOWNS)  # ten months hold more seizures than October alone


def test_county_bulletin_template_is_overridable_and_sandboxed(tmp_path):
    """A county office's own 全县通报 template renders the same context; a template reaching for internals is
    refused (ConfigError naming the template) before any output is written."""
    from jindu_metrics.batch import run_batch
    from jindu_metrics.errors import ConfigError
    from jindu_metrics.periods import parse_period

    inp = tmp_path / "in"
    inp.mkdir()
    for t, r in list(_records().items())[:2]:
        write_canonical(r, inp / f"{t}台帐.xlsx")
    mine = tmp_path / "全县模板.txt.j2"
    mine.write_text("{{ period.label }}{% for r in ranked %}|{{ r.name }}:{{ r.rows[0].unit }}{{ r.rows[0].x }}"
                    "{% endfor %}\n", encoding="utf-8")
    result = run_batch([inp], period=parse_period("2018-10"), out=tmp_path / "out", jobs=1, county_template=mine)
    text = (tmp_path / "out" / "全县通报.txt").read_text(encoding="utf-8")
    rows = {(r.unit, r.metric): r for r in result.rows}
    first = min((result.ranks[(t, "grid_inclusion_rate")], t) for t in TOWNS[:2])[1]
    assert text.startswith("2018年1-10月|刑拘查处比:")
    assert f"|纳入率:{first}{rows[(first, 'grid_inclusion_rate')].display}" in text
    bad = tmp_path / "坏模板.txt.j2"
    bad.write_text("{{ ''.__class__.__mro__ }}", encoding="utf-8")
    with pytest.raises(ConfigError, match="内部属性"):
        run_batch([inp], period=parse_period("2018-10"), out=tmp_path / "out2", jobs=1, county_template=bad)
    assert not (tmp_path / "out2" / "汇总.xlsx").exists()
