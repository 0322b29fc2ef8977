"""The `jindu` Typer application and its root options, in a module of its own: the command modules import it
from here, and the package imports them (no import cycle)."""

from __future__ import annotations

import typer

from . import chinese, common

app = typer.Typer(
    name="jindu",
    cls=chinese.Group,
    help="禁毒工作台帐指标工具：读取与校验台帐、计算考评指标、解释每个数字、生成通报、县区批量汇总。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help pages are drawn by cli/help.py
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _show_version(value: bool) -> None:
    if value:
        from .. import __version__

        common.echo(f"jindu（禁毒工作台帐指标工具）{__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="出错时显示完整的 Python 调用栈（供开发者排查）。"),
    version: bool = typer.Option(False, "--version", "-V", help="显示版本号并退出。", is_eager=True,
                                 callback=_show_version),
) -> None:
    common.STATE["debug"] = debug
