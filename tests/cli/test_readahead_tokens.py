"""cli.readahead.input_tokens: the ledger files read ahead are found by click's own parser over the built
command, so they are exactly the `inputs` the command then gets, whatever the spelling of the options."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.main import get_command

from jindu_metrics.cli import app, readahead

GROUP = get_command(app)


def tokens(*args: str):
    return readahead.input_tokens(GROUP, list(args))


def inputs_given(args: list[str]) -> list[str]:
    """The `inputs` the command gets when click parses `args` for real (converters and all)."""
    ctx = GROUP.make_context("jindu", list(args), resilient_parsing=False)
    name, command, rest = GROUP.resolve_command(ctx, ctx._protected_args + ctx.args)
    sub = command.make_context(name, rest, parent=ctx)
    return [str(p) for p in sub.params.get("inputs") or ()]


@pytest.mark.parametrize("args", [
    ["compute", "a.xlsx", "-f", "json", "b.xlsx"],  # the value of -f is no ledger
    ["compute", "-fjson", "a.xlsx"],
    ["compute", "--format=json", "a.xlsx", "--period", "2018-10"],
    ["compute", "-p2018", "a.xlsx", "--by", "所属村居"],
    ["compute", "--format", "json", "--", "-x.xlsx", "--period"],  # after --: files, whatever they look like
    ["explain", "送戒率", "x.xlsx", "-u", "乐平镇", "--show-pii"],  # 指标 comes before the ledgers
    ["explain", "-f", "json", "送戒率", "x.xlsx", "y.csv"],
    ["--debug", "validate", "x.xlsx", "--annotate", "副本.xlsx"],
    ["todo", "x.xlsx", "--date", "2018-10-15", "-o", "待办.xlsx"],
    ["report", "--period", "2018-10", "-o", "通报.docx"],  # none named: the workspace's ledger folder
])
def test_the_tokens_are_the_inputs_the_command_gets(args):
    assert tokens(*args) == inputs_given(args)


def test_spellings_of_an_option_with_its_value():
    for spelled in (["-f", "json"], ["-fjson"], ["--format=json"], ["--format", "json"]):
        assert tokens("compute", *spelled, "a.xlsx") == ["a.xlsx"]
    assert tokens("compute", "-f", "--", "a.xlsx") == ["a.xlsx"]  # "--" as -f's value, as click takes it
    assert tokens("compute", "--", "-f", "json") == ["-f", "json"]
    assert tokens("explain", "送戒率", "--", "-a.xlsx") == ["-a.xlsx"]
    assert tokens("explain", "送戒率") == []  # the workspace's, as the command does


@pytest.mark.parametrize("args", [
    ["compute", "-h", "x.xlsx"], ["compute", "x.xlsx", "--help"], ["-h"], ["-V", "compute", "x.xlsx"],
    ["batch", "x.xlsx", "-o", "out"],  # its workers read, in processes of their own
    ["metrics"], ["init", "x"], ["说明", "模板"],  # no inputs
    ["comptue", "x.xlsx"],  # a wrong command
    ["compute", "--nonsense", "x.xlsx"], ["compute", "x.xlsx", "-Z"], ["--nonsense", "compute", "x.xlsx"],
    ["compute", "x.xlsx", "--period"],  # an option without its value
    [],
])
def test_nothing_is_read_ahead_for_help_batch_no_inputs_or_a_wrong_command_line(args):
    assert tokens(*args) is None


SAFE = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=6)
OPTIONS = st.sampled_from([["-f", "json"], ["-fjson"], ["--format=json"], ["--period", "2018-10"], ["-p2018"],
                           ["--baseline", "2016"], ["--by", "所属村居"], ["-m", "rehab_rate"], ["--strict"]])


@given(files=st.lists(SAFE.map(lambda s: s + ".xlsx"), max_size=3), options=st.lists(OPTIONS, max_size=4),
       split=st.integers(0, 4), dashes=st.booleans())
def test_compute_tokens_match_clicks_parse(files, options, split, dashes):
    head = [t for o in options[:split] for t in o]
    tail = [t for o in options[split:] for t in o]
    args = ["compute", *head, *files, *tail] if not dashes else ["compute", *head, *tail, "--", *files]
    assert tokens(*args) == inputs_given(args) == files


def test_a_path_is_given_as_text(tmp_path):
    assert tokens("compute", str(tmp_path / "台帐.xlsx")) == [str(Path(tmp_path / "台帐.xlsx"))]
