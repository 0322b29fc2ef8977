"""Options shared by several commands, and small output helpers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

STATE: dict = {"debug": False}

Inputs = Annotated[
    Optional[list[Path]],
    typer.Argument(help="台帐文件或文件夹（xlsx/xlsm/xls/ods/csv）；在工作区内省略时读取工作区的台帐文件夹。",
                   show_default=False, metavar="台帐"),
]
ShowPii = Annotated[bool, typer.Option("--show-pii", help="显示完整姓名和身份证号（默认脱敏）。")]
Period = Annotated[
    Optional[str],
    typer.Option("--period", "-p", help="统计期：2018-10、2018-01..2018-10、2018-Q3、2018-H1、2018、"
                 "2018-01-01..2018-12-20、最近整月（当年1月至最近一个已结束的有数据月份）；"
                 "默认为当年1月至数据最新月份。", show_default=False),
]
Catalog = Annotated[Optional[Path], typer.Option("--catalog", help="本单位的指标目录文件（TOML），覆盖或补充默认目录。",
                                                 show_default=False)]
Password = Annotated[
    Optional[str],
    typer.Option("--password", envvar="JINDU_PASSWORD", show_envvar=False, metavar="密码", show_default=False,
                 help="加密台帐的打开密码（所有文件共用）；也可用环境变量 JINDU_PASSWORD。都不给时，在终端中运行会"
                      "提示输入（不显示、不记录）。"),
]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="输出文件；省略时输出到屏幕。",
                                                show_default=False)]


def err(message: str) -> None:
    """Print a message to stderr: an ID-like number in it (from a cell quoted by an error) is masked, and
    names from the input are shown safely (terminal.clean)."""
    import contextlib

    from ..errors import OutputError
    from ..privacy import mask_text
    from .terminal import clean, write

    with contextlib.suppress(OutputError):  # stderr itself cannot be written to: nowhere left to say it
        write(clean(mask_text(message), keep_newlines=True) + "\n", sys.stderr)


def echo(text: str, nl: bool = True) -> None:
    """Text to stdout, degraded to what its encoding holds (terminal.write)."""
    from .terminal import write

    write(text + ("\n" if nl else ""))


def password_source(given: str | None):
    """What the reader opens encrypted workbooks with (sources.Password): the password given (option or
    JINDU_PASSWORD), else a prompt when stdin is a terminal, else None (an encrypted file is then refused)."""
    if given:
        return given
    if sys.stdin is not None and sys.stdin.isatty():
        return _Prompt()
    return None


class _Prompt:
    """Asks for a file's password on the terminal (getpass: not echoed). The last one entered is tried
    first on the next encrypted file: an office uses one password for its ledgers."""

    def __init__(self):
        self.last: str | None = None

    def __call__(self, label: str, attempt: int) -> str | None:
        import getpass

        if attempt == 0 and self.last:
            return self.last
        prompt = (f"文件「{label}」设有打开密码，请输入密码：" if attempt == 0 or not self.last
                  else f"密码不正确，请重新输入文件「{label}」的打开密码：")
        try:
            self.last = getpass.getpass(prompt) or None
        except EOFError:
            self.last = None
        return self.last


Baseline = Annotated[Optional[int], typer.Option(
    "--baseline", help="基准年：另与该年的同一统计期对比（如 --baseline 2016：“较2016年下降93.4%”）。",
    show_default=False, metavar="年份")]
Strict = Annotated[bool, typer.Option("--strict", help="有设目标的指标未达标时以退出码 1 结束（缺台帐的指标不算未达标）。")]


def missing_line(kinds, units: dict[str, list[str]] | None = None, columns=()) -> None:
    """One stderr line naming the ledgers the input lacks (their indicators show 无台帐, never 0); with
    `units` (ledger kind → the units lacking it, in a county run) each ledger names its units; and one
    naming the columns the given ledgers lack (`columns`: (kind, column) pairs; their indicators show 无此列)."""
    if kinds:
        from ..schema import KINDS

        def lacking(k: str) -> str:
            who = (units or {}).get(k)
            return f"{KINDS[k].name}（{'、'.join(who)}）" if who else KINDS[k].name

        sep = "；" if units else "、"
        err(f"未找到的台帐：{sep.join(lacking(k) for k in kinds)}。相关指标显示“无台帐”，不按0计。")
    if columns:
        from ..metrics.display import missing_column_reason

        err(f"{missing_column_reason(columns)}。相关指标显示“无此列”，不按0计；需要这些指标请在台帐中增加这些列。")


def strict_code(rows, strict: bool, what: str = "项指标") -> int:
    """With --strict: 1 (and a stderr line counting them) when any row with a target is unmet; else 0.

    A missing figure (its ledger not given) is never unmet: its `met` is None.
    """
    unmet = sum(1 for r in rows if r.met is False)
    if not strict or not unmet:
        return 0
    err(f"--strict：有 {unmet} {what}未达到目标，退出码为 1。")
    return 1


def emit(fmt: str, output, inputs, *, json, csv, xlsx, table) -> None:
    """A command's result in `fmt` to `output` (atomically; never over an input) or to the console: `json()`
    its text, `csv()`/`xlsx()` their bytes, `table(out)` draws it on a terminal.Out (to a file: the full
    layout, as for a pipe). Names the file written on stderr.

        emit("csv", Path("指标.csv"), paths, json=..., csv=lambda: data, xlsx=..., table=...)
    """
    from ..errors import shown
    from ..outputs import atomic_write_bytes, atomic_write_text
    from . import terminal

    if fmt == "json":
        text = json()
        if output:
            atomic_write_text(output, text, inputs=inputs, create_folder=False)
        else:
            terminal.write_json(text)
    elif fmt in ("csv", "xlsx"):
        data = csv() if fmt == "csv" else xlsx()
        if output:
            atomic_write_bytes(output, data, inputs=inputs, create_folder=False)
        else:  # xlsx without --output is refused before any reading
            terminal.write_bytes(data)
    elif output:
        import io

        buf = terminal.Out(io.StringIO())
        table(buf)
        atomic_write_text(output, buf.getvalue(), inputs=inputs, create_folder=False)
    else:
        table(terminal.Out())
    if output and str(output) != "-":
        err(f"已写入 {shown(output)}")


def after_data(run) -> None:
    """The warning of a window that lies after the ledgers' data (run.Run.after_data), on stderr."""
    if run.after_data:
        err(f"警告：{run.after_data}")


def findings_line(run, window=None) -> int:
    """One stderr line counting 错误/警告 of the run's findings, person state judged on the last day of
    `window` (default: the run's), with the validate command that lists the same ones; the exit code they imply."""
    window = window or run.window
    s = run.judged(window.end)
    if s["错误"] or s["警告"]:
        from ..errors import command

        args = [*run.paths, *(("--period", f"{window.end:%Y-%m-%d}") if window else ())]
        err(f"台帐检查：错误 {s['错误']} 条，警告 {s['警告']} 条（有问题的单元格未计入）。"
            f"查看明细：{command('jindu', 'validate', *args)}")
    return 1 if s["错误"] else 0
