"""run.Run: the one setup every command and batch worker share; run.Formats: a command's formats, one check."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from jindu_metrics.errors import InputError, UsageError
from jindu_metrics.findings import summarize
from jindu_metrics.periods import Period, bulletin_window, parse_period
from jindu_metrics.run import Check, Formats, Run

SAMPLE = Path(__file__).resolve().parents[2] / "sample_ledgers" / "乐平镇台帐.xlsx"
STATE = {"level_contradiction", "status_detail_mismatch", "last_seizure_outdated"}  # person-state findings


def test_formats_accept_their_choices_and_name_them_when_refusing():
    four, two = Formats(("table", "json", "csv", "xlsx")), Formats(("text", "json"))
    assert four.check("csv") == "csv"
    with pytest.raises(UsageError, match=r"^--format 只能是 table、json、csv、xlsx（收到「xml」）。$"):
        four.check("xml")
    with pytest.raises(UsageError, match=r"^--format 只能是 text 或 json（收到「table」）。$"):
        two.check("table")


def test_open_counts_findings_and_defaults_the_window():
    run = Run.open([SAMPLE], workspace=None)
    assert run.workspace is None and run.catalog is not None and run.paths == [SAMPLE]
    assert run.default_window and run.window == Period(run.window.start, run.window.end)
    assert run.window.start.month == 1 and run.after_data is None
    # person state is left out of the counted findings, and judged on the day asked for: the counts are
    # those of every finding built on that day (Check.JUDGE, as validate and each batch worker do)
    assert not STATE & {f.code for f in run.findings}
    judged = Run.open([SAMPLE], None, None, run.window, workspace=None, check=Check.JUDGE, with_catalog=False)
    assert STATE & {f.code for f in judged.findings}
    assert run.judged(run.window.end) == summarize(judged.findings)


def test_open_judges_on_the_windows_end_and_warns_after_the_data():
    judged = Run.open([SAMPLE], None, None, "2018-10", workspace=None, check=Check.JUDGE, with_catalog=False)
    assert judged.catalog is None and judged.window == parse_period("2018-10") and not judged.default_window
    latest = Run.open([SAMPLE], workspace=None, check=Check.JUDGE, require=False)
    assert latest.window is None and not latest.default_window  # judged on the ledgers' latest date
    later = Run.open([SAMPLE], None, None, "2030", workspace=None)
    assert later.after_data and "台帐最新日期" in later.after_data
    # a judged window is parsed before any reading: a bad one fails first, whatever the inputs
    with pytest.raises(UsageError, match="统计期"):
        Run.open([Path("/nonexistent.xlsx")], None, None, "2018-13", workspace=None, check=Check.JUDGE)


def test_open_without_a_window_or_a_check():
    run = Run.open([SAMPLE], workspace=None, default=False, check=Check.NONE)
    assert run.window is None and run.findings == [] and not run.default_window


def test_open_requires_a_ledger_unless_told_not_to(tmp_path):
    note = tmp_path / "说明.csv"
    note.write_text("甲,乙\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError):
        Run.open([note], workspace=None)
    assert not Run.open([note], workspace=None, require=False, default=False).ledgers.kinds_present


def test_a_batch_job_carries_the_window_once_and_pickles():
    from jindu_metrics.batch import Job

    period = parse_period("2018-10")
    job = Job(period=period, window=bulletin_window(period), trend_metrics=("rehab_rate",))
    assert job.window == parse_period("2018-01..2018-10") and job.started == {}
    assert pickle.loads(pickle.dumps(job)) == job
    with pytest.raises(AttributeError):
        job.file = "x"  # frozen
