import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_forked
from typer.testing import CliRunner

from jindu_metrics import run as run_setup
from jindu_metrics.cli import app
from jindu_metrics.findings import Finding
from jindu_metrics.ledgers.frames import ledger_set
from jindu_metrics.ledgers.ids import make_id

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ledgers"
PUBLISHED = {"seizures": "49", "criminal_detentions": "12", "detention_ratio": "24.49%", "newly_found": "16",
             "newly_found_share": "32.7%", "compulsory_rehab": "11", "rehab_rate": "47.8%",
             "sick_treated_rate": "0.0%", "grid_included": "354", "grid_inclusion_rate": "94.7%",
             "managed": "258", "visited": "258", "visit_rate": "100%", "community_orders": "36",
             "community_reported": "36", "community_execution_rate": "100%", "worker_ratio": "26:1"}


def jindu(*args, cwd=None):
    return run_forked(args, cwd=cwd or ROOT)


@pytest.mark.parametrize("src", [SAMPLE, SAMPLE / "messy"])
def test_sample_reproduces_the_bulletin(src):
    p = jindu("compute", str(src), "--period", "2018-01..2018-10", "--format", "json")
    assert p.returncode in (0, 1), p.stderr
    d = json.loads(p.stdout)
    assert d["period"] == {"start": "2018-01-01", "end": "2018-10-31", "label": "2018年1-10月"}
    got = {r["metric"]: r["display"] for r in d["rows"] if r["unit"] == "乐平镇"}
    assert {k: got[k] for k in PUBLISHED} == PUBLISHED


def test_sample_table_and_explain():
    p = jindu("compute", str(SAMPLE), "--period", "2018-01..2018-10")
    for fig in PUBLISHED.values():
        assert fig in p.stdout
    assert "2018年1-10月" in p.stdout
    e = jindu("explain", "送戒率", str(SAMPLE), "--period", "2018-01..2018-10")
    assert "计入分子的行（11 行）" in e.stdout and "在分母中但未计入分子的行（12 行）" in e.stdout
    assert "口径待确认" in e.stdout
    assert "********" in e.stdout  # IDs masked


def _fake(monkeypatch, findings=()):
    ids = [make_id("440607", "19800101", i) for i in range(3)]
    ls = ledger_set("乐平镇",
                    persons=[{"姓名": "张三", "公民身份号码": i, "所属村居": "一村", "人员状态": "社会面",
                              "初次发现日期": "2017-01-01"} for i in ids],
                    seizures=[{"查处日期": "2018-03-01", "公民身份号码": ids[0], "处置结果": "刑事拘留",
                               "所属村居": "=cmd"}])
    monkeypatch.setattr(run_setup, "read_ledgers", lambda paths, **kw: ls)
    monkeypatch.setattr(run_setup, "check_ledgers", lambda ledgers, check, as_of: list(findings))


def test_findings_line_and_exit_code(monkeypatch, tmp_path):
    f = Finding("bad_id_checksum", "a.xlsx", "查处台帐", 5, "公民身份号码", "123")
    _fake(monkeypatch, [f])
    r = CliRunner().invoke(app, ["compute", str(tmp_path), "--format", "json"])
    assert r.exit_code == 1
    assert "错误 1 条" in r.stderr and "jindu validate" in r.stderr
    d = json.loads(r.stdout)
    assert d["period"]["label"] == "2018年1-3月"  # default: January to the latest month with data
    _fake(monkeypatch)
    r = CliRunner().invoke(app, ["compute", str(tmp_path), "--metric", "刑拘人数", "--format", "json"])
    assert r.exit_code == 0 and [x["metric"] for x in json.loads(r.stdout)["rows"]] == ["criminal_detentions"]


def test_csv_and_xlsx_outputs_are_deterministic(monkeypatch, tmp_path):
    _fake(monkeypatch)
    runner = CliRunner()
    outdir = tmp_path / "out"  # not in the input folder: a CSV there would be read back as a ledger
    outdir.mkdir()
    out = outdir / "a.csv"
    assert runner.invoke(app, ["compute", str(tmp_path), "-p", "2018", "-f", "csv", "-o", str(out)]).exit_code == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and "指标".encode() in data.splitlines()[0]
    assert runner.invoke(app, ["compute", str(tmp_path), "-p", "2018", "--by", "所属村居", "-f", "csv", "-o",
                               str(out)]).exit_code == 0
    assert ",'=cmd," in out.read_text(encoding="utf-8-sig")  # formula-like text neutralized
    x1, x2 = outdir / "a.xlsx", outdir / "b.xlsx"
    for x in (x1, x2):
        assert runner.invoke(app, ["compute", str(tmp_path), "-p", "2018", "-f", "xlsx", "-o", str(x)]).exit_code == 0
    assert x1.read_bytes() == x2.read_bytes()
    from openpyxl import load_workbook
    ws = load_workbook(x1).active
    assert ws.freeze_panes == "A3" and ws["D2"].value == "指标" and ws["A1"].value.startswith("乐平镇　统计期：2018年")


def test_usage_errors(monkeypatch, tmp_path):
    _fake(monkeypatch)
    p = jindu("compute", str(SAMPLE), "--period", "2018-13")
    assert p.returncode == 2 and "统计期" in p.stderr and "Traceback" not in p.stderr
    p = jindu("explain", "没有这个指标", str(SAMPLE))
    assert p.returncode == 2 and "未知的指标" in p.stderr
    p = jindu("compute", str(SAMPLE), "--by", "姓名")
    assert p.returncode == 2 and "--by" in p.stderr


def test_metrics_lists_catalog_without_pandas():
    code = ("import sys; sys.argv=['jindu','metrics']\nfrom jindu_metrics.cli import app\n"
            "try:\n    app()\nexcept SystemExit:\n    pass\nassert 'pandas' not in sys.modules, 'pandas imported'")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "rehab_rate" in p.stdout and "送戒率" in p.stdout and "≤30:1" in p.stdout
