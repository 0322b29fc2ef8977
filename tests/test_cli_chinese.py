"""Click's and Typer's own words reach the user in Chinese: help, usage line, usage errors (exit 2)."""

from __future__ import annotations

import re

import pytest
from conftest import run_cli

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
