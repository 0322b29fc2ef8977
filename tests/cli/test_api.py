"""The Python API: `from jindu_metrics import ...` gives the commands' functions with typed results; the
README's county script runs verbatim; the docstring examples hold; importing the package stays light."""

from __future__ import annotations

import contextlib
import doctest
import io
import re
from pathlib import Path

from test_lazy_imports import imported_after

import jindu_metrics
from jindu_metrics import compute, explain, load_catalog, load_ledgers, parse_period, validate

ROOT = Path(__file__).resolve().parents[2]


def _readme_script() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    english = text[text.index("## English"):]
    return re.search(r"```python\n(.*?)```", english, re.S).group(1)


def test_readme_county_script_runs_verbatim(monkeypatch):
    monkeypatch.chdir(ROOT)  # the script reads sample_ledgers/ as a user in the project folder would
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(_readme_script(), "README.md", "exec"), {})
    # the published 乐平镇 figure: 纳入网格化 354 人（94.7%）
    assert out.getvalue() == "1. 乐平镇 纳入率 94.7%（354/374）\n"


def test_docstring_examples(monkeypatch):
    monkeypatch.chdir(ROOT)
    res = doctest.testmod(jindu_metrics.api)
    assert res.attempted >= 8 and res.failed == 0, res


def test_typed_results_turn_into_frames():
    ledgers = load_ledgers(ROOT / "sample_ledgers")
    period = parse_period("2018-01..2018-10")
    res = compute(ledgers, period, by="所属村居", catalog=load_catalog())
    frame = res.to_frame()
    assert len(frame) == len(res.rows) and frame["whole"].sum() == res.whole_rows
    row = frame[frame["whole"] & (frame["metric"] == "detention_ratio")].iloc[0]
    assert (row["numerator"], row["denominator"], row["display"]) == (12, 49, "24.49%")
    assert str(frame["numerator"].dtype) == "Int64"
    ex = explain(ledgers, "送戒率", "2018-01..2018-10")
    ef = ex.to_frame()
    assert (ef["part"] == "分子").sum() == len(ex.numerator_rows) == ex.numerator == 11
    assert ef["公民身份号码"].str.contains(r"\*").all()  # masked unless show_pii
    assert not ex.to_frame(show_pii=True)["公民身份号码"].str.contains(r"\*").any()
    v = validate(load_ledgers(ROOT / "sample_ledgers" / "messy"))
    vf = v.to_frame()
    assert len(vf) == len(v) > 0 and v.has_errors == (vf["severity"] == "错误").any()
    assert v.summary()["错误"] == (vf["severity"] == "错误").sum()


def test_validate_stays_the_function_after_the_checks_module_is_imported():
    import jindu_metrics.validate as checks  # noqa: F401 - the submodule would rebind the package attribute
    from jindu_metrics.validate import cross_checks  # the module itself is still importable

    assert callable(cross_checks) and jindu_metrics.validate is validate


def test_import_does_not_import_pandas():
    assert not imported_after("import jindu_metrics\nfrom jindu_metrics import compute, explain, validate")


def test_main_run_again_in_one_process_builds_the_command_once_and_says_the_same(tmp_path):
    """cli.main() called twice in one process (the API, the tests): the click command is built once, and each
    run parses its own arguments (an option given to the first does not stay for the second)."""
    from conftest import run_cli

    from jindu_metrics import cli

    sample = ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"
    first = run_cli(["compute", sample, "--period", "2018-01..2018-10", "--format", "json"])
    built = cli._command()
    assert cli._command() is built
    table = run_cli(["compute", sample, "--period", "2018-01..2018-10"])
    again = run_cli(["compute", sample, "--period", "2018-01..2018-10", "--format", "json"])
    assert cli._command() is built
    assert first == again and first[0] == 0 and first[1].lstrip().startswith("{")
    assert table[0] == 0 and not table[1].lstrip().startswith("{") and "24.49%" in table[1]
