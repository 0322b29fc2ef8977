"""batch.plan: a county run checked before any work, its window computed once; batch.county.UnitOutcome:
a township's entry of summary.json."""

from __future__ import annotations

from pathlib import Path

import pytest

from jindu_metrics.batch import UnitOutcome, UnitResult, plan_batch
from jindu_metrics.errors import UsageError
from jindu_metrics.periods import parse_period

SAMPLE = Path(__file__).resolve().parents[2] / "sample_ledgers"


def test_the_plan_carries_the_bulletins_window_and_the_settings(tmp_path):
    plan = plan_batch([SAMPLE], period="2018-10", out=tmp_path / "out", jobs=3, fmt="docx")
    assert plan.period == parse_period("2018-10")
    assert plan.window == plan.job.window == parse_period("2018-01..2018-10")  # 1至10月, every figure
    assert plan.job.text_format == "md" and plan.job.total_unit == plan.total_unit == "全县"
    assert plan.files == [SAMPLE / "乐平镇台帐.xlsx"] and plan.jobs == 3 and plan.scheme is None
    assert plan.trend_ids and plan.trend_ids == list(plan.job.trend_metrics)
    assert not (tmp_path / "out").exists()  # nothing written by planning


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"fmt": "html"}, "--format 只能是 txt、md、docx"),
    ({"period": None}, "--period"),
    ({"jobs": -1}, "--jobs"),
    ({"baseline": 3000}, "--baseline"),
])
def test_the_plan_refuses_before_any_work(tmp_path, kwargs, message):
    args = {"period": "2018-10", "out": tmp_path / "out", **kwargs}
    with pytest.raises(UsageError, match=message):
        plan_batch([SAMPLE], **args)


def test_a_unit_outcome_is_summary_jsons_entry():
    ok = UnitOutcome.of(UnitResult(file="甲.xlsx", unit="甲镇", status="ok", findings=[{"code": "x"}], rows=[1]))
    assert ok.to_dict() == {"file": "甲.xlsx", "unit": "甲镇", "status": "ok", "error": None,
                            "findings": [{"code": "x"}]}
    first = UnitOutcome("县.xlsx", "甲镇", "ok", unplaced={"查处台帐": 2})
    assert list(first.to_dict()) == ["file", "unit", "status", "error", "findings", "file_findings", "unplaced"]


def test_the_plan_is_set_up_as_every_run_is(tmp_path, monkeypatch):
    """plan_batch goes through run.Setup: the output folder refused before the catalog is read, the catalog
    loaded once per process (the forked workers inherit it), the inputs as given."""
    from jindu_metrics import run
    from jindu_metrics.errors import ConfigError, OutputError

    seen = []
    real = run.Setup.open
    monkeypatch.setattr(run.Setup, "open", classmethod(lambda cls, *a, **k: seen.append(a) or real(*a, **k)))
    plan = plan_batch([SAMPLE], period="2018-10", out=tmp_path / "out")
    assert seen == [([SAMPLE], None, None)] and plan.cat is run.cached_catalog(None, {})
    bad = tmp_path / "坏目录.toml"
    bad.write_text("[[metric\n", encoding="utf-8")
    (tmp_path / "文件").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError):
        plan_batch([SAMPLE], period="2018-10", out=tmp_path / "文件", catalog=bad)
    with pytest.raises(ConfigError):
        plan_batch([SAMPLE], period="2018-10", out=tmp_path / "out", catalog=bad)
