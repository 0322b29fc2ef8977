"""Click's and Typer's own words in Chinese: the help page, the usage line, the help option, usage errors.

Typer offers the hooks used here: command classes (`cls=`) and `standalone_mode=False`, under which usage
errors reach main() as exceptions to word ourselves. The help page is drawn here (help.py), in place of
typer's rich panels: those cut long descriptions short and import ≈0.1 s of markdown and syntax modules.
"""

from __future__ import annotations

import re

from typer import Abort as TyperAbort
from typer.core import TyperCommand, TyperGroup

try:  # the copy of click that Typer raises from: its own (vendored) in recent versions, click before
    from typer._click import exceptions as click_errors
except ImportError:
    from click import exceptions as click_errors

from .help import USAGE_PREFIX, render_help

HELP_OPTION_TEXT = "显示本帮助并退出。"


class _Chinese:
    """Mixin for Typer's command classes."""

    def __init__(self, *args, **kwargs):
        kwargs["options_metavar"] = "[选项]"
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option

    def format_usage(self, ctx, formatter) -> None:
        formatter.write_usage(ctx.command_path, " ".join(self.collect_usage_pieces(ctx)), prefix=USAGE_PREFIX)

    def format_help(self, ctx, formatter) -> None:
        formatter.write(render_help(self, ctx))


class Command(_Chinese, TyperCommand):
    """A `jindu` subcommand."""


class Group(_Chinese, TyperGroup):
    """The `jindu` command group."""

    def __init__(self, *args, **kwargs):
        if kwargs.get("subcommand_metavar") is None:
            kwargs["subcommand_metavar"] = "命令 [参数]..."
        super().__init__(*args, **kwargs)


def is_usage_error(exc: BaseException) -> bool:
    """Click's UsageError, as Typer raises it."""
    return isinstance(exc, click_errors.UsageError)


def is_help_request(exc: BaseException) -> bool:
    """`jindu` or `jindu compute` alone: click asks for the help page."""
    return isinstance(exc, click_errors.NoArgsIsHelpError)


def is_abort(exc: BaseException) -> bool:
    """Ctrl-C inside a prompt: typer.Abort (click's Abort in the versions where Typer uses click itself)."""
    return isinstance(exc, TyperAbort)


def usage_message(exc: BaseException) -> str:
    """A usage error in Chinese, with where to find help."""
    text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    param = getattr(exc, "param", None)
    option = getattr(exc, "option_name", None)
    if isinstance(exc, click_errors.NoSuchOption):
        msg = f"没有这个选项：{option}"
        maybe = sorted(getattr(exc, "possibilities", None) or [])
        if maybe:
            msg += f"（是不是 {'、'.join(maybe)}？）"
    elif isinstance(exc, click_errors.BadOptionUsage) and "requires an argument" in text:
        msg = f"选项 {option} 后面要给一个值"
    elif isinstance(exc, click_errors.MissingParameter):
        what = "参数" if getattr(param, "param_type_name", "") == "argument" else "选项"
        label = _param_label(param, exc)
        msg = f"缺少{what}{('：' + label) if label else ''}"
    elif isinstance(exc, click_errors.BadParameter):
        label = _param_label(param, exc)
        msg = f"{label or '参数'} 的值无效：{_value_reason(text)}"
    elif m := re.match(r"No such command '(.*)'\.?", text):
        msg = f"没有这个命令：{m.group(1)}"
    elif m := re.match(r"Got unexpected extra argument(?:\(s\)|s)? \((.*)\)", text):
        msg = f"多余的参数：{m.group(1)}"
    else:
        msg = f"命令行用法不对：{text}"
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "jindu"
    return f"错误：{msg}。\n查看帮助：{where} -h"


def _param_label(param, exc) -> str:
    if param is None:
        return getattr(exc, "param_hint", None) or ""
    opts = [o for o in getattr(param, "opts", []) if o.startswith("-")]
    if opts:
        return " / ".join(opts)
    return (getattr(param, "metavar", None) or getattr(param, "name", None) or "").strip("[].")


def _value_reason(text: str) -> str:
    """Typer's coercion messages (pydantic's English from typer 0.29, click's before) reduced to what a user
    needs."""
    low = text.lower()
    if "integer" in low or "valid int" in low:
        return "应为整数"
    if "valid number" in low or "float" in low:
        return "应为数字"
    if "valid boolean" in low:
        return "应为 是/否（true/false）"
    if "does not exist" in low:
        return "文件或文件夹不存在"
    return text
