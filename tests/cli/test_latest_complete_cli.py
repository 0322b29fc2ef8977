"""--period 最近整月 through the commands (the Windows drop launchers pass it): the sample's data reach
December 2018, a month long ended, so it is 2018年 (January to December) in every command."""

import shutil
from pathlib import Path

from conftest import run_cli

SAMPLE = Path(__file__).resolve().parents[2] / "sample_ledgers" / "乐平镇台帐.xlsx"


def test_compute_and_report_take_the_latest_complete_month():
    code, out, err = run_cli(["compute", SAMPLE, "--period", "最近整月", "--metric", "刑拘查处比"])
    assert code == 0, err
    assert out.startswith("统计期：2018年（") and "2018-01-01 至 2018-12-31" in out.splitlines()[0]
    code, out, err = run_cli(["report", SAMPLE, "--period", "最近整月"])
    assert code == 0, err
    _, out2, _ = run_cli(["report", SAMPLE, "--period", "2018"])
    assert out == out2


def test_validate_and_batch_take_it_too(tmp_path):
    code, out, err = run_cli(["validate", SAMPLE, "--period", "最近整月", "--format", "json"])
    assert code in (0, 1), err
    assert "2018-12-31" in out
    county = tmp_path / "县"
    county.mkdir()
    shutil.copy(SAMPLE, county / "乐平镇.xlsx")
    code, out, err = run_cli(["batch", county, "--period", "最近整月", "--out", tmp_path / "out", "--jobs", "1"])
    assert code in (0, 1), err
    assert "2018年" in out + err and (tmp_path / "out" / "汇总.xlsx").is_file()
