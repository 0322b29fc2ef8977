"""run.Run: the one setup every command and batch worker share; run.Formats: a command's formats, one check."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from jindu_metrics.errors import InputError, UsageError
from jindu_metrics.findings import summarize
from jindu_metrics.metrics.catalog import load_catalog
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


def test_formats_resolve_follows_the_output_suffix_and_refuses_a_contradiction():
    four, bulletin = Formats(("table", "json", "csv", "xlsx")), Formats(("txt", "md", "docx", "html"))
    assert four.resolve(None, None) == "table"
    assert four.resolve(None, Path("结果.XLSX")) == "xlsx"
    assert four.resolve(None, Path("结果.txt")) == "table"  # .txt suits any text format
    assert four.resolve("JSON", Path("out.txt")) == "json"
    assert bulletin.resolve(None, Path("通报.docx")) == "docx"
    assert bulletin.resolve(None, Path("通报.htm")) == "html"
    with pytest.raises(UsageError, match=r"^--format json 与输出文件「a\.xlsx」的扩展名 \.xlsx 不符：请把文件名改为 \.json"):
        four.resolve("json", Path("a.xlsx"))
    with pytest.raises(UsageError, match=r"^输出文件「通报\.xlsx」的扩展名 \.xlsx 对应 xlsx 格式，本命令不能写出；可选格式：txt、md、docx、html。$"):
        bulletin.resolve(None, Path("通报.xlsx"))


@pytest.mark.parametrize(("command", "name", "magic"), [
    (["compute", "--period", "2018-10"], "结果.xlsx", b"PK"),
    (["report", "--period", "2018-10"], "通报.docx", b"PK"),
    (["todo", "--date", "2018-10-15"], "待办.xlsx", b"PK"),
    (["compute", "--period", "2018-10"], "结果.json", b"{"),
])
def test_an_output_named_xlsx_or_docx_gets_that_format_without_format(tmp_path, jindu, command, name, magic):
    out = tmp_path / name
    code, _, err = jindu([command[0], SAMPLE, *command[1:], "--output", out])
    assert code in (0, 1), err
    assert out.read_bytes().startswith(magic)


def test_a_format_contradicting_the_output_suffix_is_refused_before_writing(tmp_path, jindu):
    out = tmp_path / "结果.xlsx"
    code, _, err = jindu(["compute", SAMPLE, "--period", "2018-10", "--format", "json", "--output", out])
    assert code == 2 and "与输出文件「结果.xlsx」的扩展名 .xlsx 不符" in err
    assert not out.exists()


def test_setup_resolves_the_inputs_once_and_keeps_the_order_of_its_errors(tmp_path, monkeypatch):
    from jindu_metrics import workspace
    from jindu_metrics.errors import ConfigError
    from jindu_metrics.run import Setup

    calls = []
    real = workspace.resolve_inputs
    monkeypatch.setattr(workspace, "resolve_inputs", lambda inputs, ws: calls.append(inputs) or real(inputs, ws))
    four = Formats(("table", "json", "csv", "xlsx"))
    setup = Setup.open([SAMPLE], None, None, output=tmp_path / "结果.json", formats=four)
    assert setup.paths == [SAMPLE] and setup.fmt == "json" and setup.catalog is not None and len(calls) == 1
    run = Run.open([SAMPLE], None, None, "2018-10", None, output=tmp_path / "结果.json", formats=four)
    assert run.paths == [SAMPLE] and run.fmt == "json" and len(calls) == 2  # once more: one resolution per run
    bad = tmp_path / "坏目录.toml"
    bad.write_text("[[metric\n", encoding="utf-8")
    # with an output, no inputs is said first (they are compared with it); without, after the catalog
    with pytest.raises(UsageError, match="请指定台帐文件"):
        Setup.open(None, bad, None, output=tmp_path / "结果.json", formats=four, fmt="xml")
    with pytest.raises(UsageError, match="--format 只能是"):
        Setup.open(None, bad, None, formats=four, fmt="xml")
    with pytest.raises(ConfigError):
        Setup.open(None, bad, None, formats=four)
    # an output that is an input is refused before its format is looked at
    from jindu_metrics.errors import OutputError

    with pytest.raises(OutputError, match="就是输入文件"):
        Setup.open([SAMPLE], None, None, output=SAMPLE, formats=four, fmt="xml")


def test_setup_checks_an_output_of_the_callers_kind_before_the_catalog(tmp_path):
    from jindu_metrics.errors import ConfigError, OutputError
    from jindu_metrics.run import Setup, cached_catalog

    bad = tmp_path / "坏目录.toml"
    bad.write_text("[[metric\n", encoding="utf-8")

    def refuse():
        raise OutputError("不行")

    with pytest.raises(OutputError):
        Setup.open([tmp_path / "x.xlsx"], bad, None, check_out=refuse, given=True)
    with pytest.raises(ConfigError):
        Setup.open([tmp_path / "x.xlsx"], bad, None, check_out=lambda: None, given=True)
    given = Setup.open([], None, None, given=True, cached=True)  # as given: no workspace folder looked for
    assert given.paths == [] and given.catalog is cached_catalog(None, None) and given.catalog_file is None


def test_the_packaged_catalog_is_loaded_once_an_office_file_or_targets_each_time(tmp_path):
    from jindu_metrics.run import Setup
    from jindu_metrics.workspace import Workspace

    one = Setup.open([SAMPLE], workspace=None).catalog
    assert Setup.open([SAMPLE], workspace=None).catalog is one
    assert [i.id for i in one.indicators] == [i.id for i in load_catalog().indicators]
    office = tmp_path / "catalog.toml"
    office.write_text('[targets]\n"纳入率" = "90%"\n', encoding="utf-8")
    with_file = Setup.open([SAMPLE], catalog=office, workspace=None).catalog
    assert with_file is not one and Setup.open([SAMPLE], catalog=office, workspace=None).catalog is not with_file
    assert with_file.get("纳入率").target != one.get("纳入率").target
    ws = Workspace(root=tmp_path, targets={"纳入率": "80%"})
    aimed = Setup.open([SAMPLE], workspace=ws).catalog
    assert aimed is not one and aimed.get("纳入率").target not in (one.get("纳入率").target,
                                                                  with_file.get("纳入率").target)
