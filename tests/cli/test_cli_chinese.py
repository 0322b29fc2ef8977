"""Click's and Typer's own words reach the user in Chinese: help, usage line, usage errors (exit 2)."""

from __future__ import annotations

import re

import pytest
from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

COMMANDS = ["init", "validate", "compute", "explain", "metrics", "report", "batch"]
ENGLISH = re.compile(r"Usage:|Options|Arguments|Commands|Show this message|\[required\]|\[default|OPTIONS|Try '")


@pytest.mark.parametrize("args", [["-h"], *[[c, "-h"] for c in COMMANDS]], ids=lambda a: " ".join(a))
def test_help_has_no_english_frame(args):
    code, out, err = run_cli(args)
    assert code == 0, err
    assert "用法：jindu" in out and "显示本帮助并退出" in out
    assert not ENGLISH.search(out), ENGLISH.search(out)


CASES = [
    (["compute", "--nope"], "没有这个选项：--nope", "jindu compute -h"),
    (["compute", "--forma", "json"], "是不是 --format", "jindu compute -h"),
    (["compute", "--period"], "选项 --period 后面要给一个值", "-h"),
    (["batch"], "缺少参数：台帐", "jindu batch -h"),
    (["init"], "缺少参数：文件夹", "jindu init -h"),
    (["batch", "x", "--jobs", "abc"], "--jobs / -j 的值无效：应为整数", "jindu batch -h"),
    (["nocmd"], "没有这个命令：nocmd", "jindu -h"),
    (["metrics", "extra"], "多余的参数：extra", "jindu metrics -h"),
]


@pytest.mark.parametrize("args,message,hint", CASES, ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_usage_errors_are_chinese_and_exit_2(args, message, hint):
    code, _out, err = run_cli(args)
    assert code == 2
    assert err.startswith("错误：") and message in err, err
    assert "查看帮助：" in err and hint in err
    assert not re.search(r"[A-Za-z]{4,} [a-z]{3,} ", err.replace(hint, "")), err  # no English sentence


@pytest.mark.parametrize("command", COMMANDS)
def test_help_page_lists_every_option_whole(command, monkeypatch):
    """The help page names each option with what it takes, and its description is not cut short."""
    from typer.main import get_command

    from jindu_metrics.cli import app
    from jindu_metrics.cli.help import width_of

    monkeypatch.setenv("COLUMNS", "72")
    code, out, _ = run_cli([command, "-h"])
    assert code == 0 and "选项：" in out and "示例：" in out
    assert all(width_of(line) <= 72 for line in out.splitlines()), out
    flat = re.sub(r"\s+", "", out)
    for param in get_command(app).commands[command].params:
        if param.param_type_name == "option":
            assert param.opts[0] in out
        help_text = re.sub(r"\s+", "", getattr(param, "help", None) or "")
        assert help_text in flat, help_text  # whole, however it wrapped


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("禁毒办台帐，。、（）“”abc-12 .:/")), max_size=200),
       st.integers(min_value=8, max_value=60))
def test_wrap_keeps_the_text_within_the_width(text, width):
    from jindu_metrics.cli.help import width_of, wrap

    lines = wrap(text, width)
    assert all(width_of(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").strip()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["禁", "毒", "台帐", "2018-10", "jindu.toml", " ", "，", "。", "、", "（", "）",
                                 "“", "”"]), max_size=80),
       st.integers(min_value=30, max_value=80))
def test_wrap_never_starts_a_line_with_a_closing_mark(pieces, width):
    """避头尾, wherever every unbreakable run fits in a line (a longer one must be cut somewhere)."""
    from hypothesis import assume

    from jindu_metrics.cli.help import _NO_LINE_END, _NO_LINE_START, wrap

    text = "".join(pieces)
    assume(not re.search(r"[，。、）”]{3}|[（“]{3}", text))
    assume(all(len(run) <= 20 for run in re.findall(r"[!-~]+", text)))
    lines = wrap(text, width)
    assert all(line[0] not in _NO_LINE_START for line in lines[1:] if line)
    assert all(line[-1] not in _NO_LINE_END for line in lines[:-1] if line)
