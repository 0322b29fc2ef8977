"""`jindu todo`: the worklist on a day — who is due for a urine test, a visit, reporting, filing, the end of
an order or a review of 管控等级 (metrics/todo.py), printed, or written as json/csv/xlsx."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..run import Formats
from . import chinese, common
from .root import app

Day = Annotated[Optional[str], typer.Option("--date", "-d", help="待办日期，如 2018-10-15；默认为今天。",
                                            show_default=False)]
Days = Annotated[int, typer.Option("--days", help="往后看多少天：期满、满三年在此天数内的也列出。")]
By = Annotated[Optional[str], typer.Option(
    "--by", help="按单位分组：所属村居（默认）或 所属镇街（全县文件）。", show_default=False)]
FORMATS = Formats(("table", "json", "csv", "xlsx"), needs_output=(("xlsx", "xlsx 格式须用 --output 指定输出文件。"),))
Format = Annotated[Optional[str], typer.Option(
    "--format", "-f", help="输出格式：table（表格，默认）、json、csv、xlsx（可打印）；省略时按 --output 的扩展名。",
    show_default=False)]


_SHORT = {"community": "社戒", "persons": "登记"}


def _places(wl) -> dict[tuple, str]:
    """(file, sheet) -> a short tag for the 位置 column (登记, 社戒; numbered when a ledger comes from several
    sheets): an 80-column console has no room for sheet names on every row; a line under the table says them."""
    seen: dict[str, list[tuple]] = {}
    for it in wl.items:
        keys = seen.setdefault(it.ledger, [])
        if (it.file, it.sheet) not in keys:
            keys.append((it.file, it.sheet))
    out = {}
    for ledger, keys in seen.items():
        for n, k in enumerate(keys, start=1):
            out[k] = _SHORT.get(ledger, ledger) + (str(n) if len(keys) > 1 else "")
    return out


def render_worklist(wl, show_pii: bool, out) -> None:
    """The worklist as one table per unit, laid out for `out` (a terminal.Out)."""
    from pathlib import Path

    from ..outputs.todo import title
    from .tables import TEXT, Column, Table, print_table

    out.print(title(wl, show_pii), style="bold")
    out.print(wl.counts_text())
    places = _places(wl)
    for unit, items in wl.units().items():
        t = Table([Column("到期日"), Column("事项"), Column("姓名"), Column("公民身份号码"),
                   Column("说明", role=TEXT), Column("位置")], title=f"单位：{wl.label(unit, show_pii)}（{len(items)} 项）")
        for it in items:
            d = it.to_dict(show_pii, wl.names)
            t.add_row(d["due"] or "（待补填）", d["label"], d["姓名"] or "", d["公民身份号码"] or "", d["description"],
                      f"{places[(it.file, it.sheet)]}{it.row}")
        out.print()
        print_table(t, out)
    out.print()
    for (file, sheet), tag in places.items():
        out.print(f"位置：{tag}＝{Path(file).name}「{sheet}」工作表，数字为行号。")
    out.print("注：到期日为“（待补填）”的，须先在台帐中补填所说的日期；尿检、走访按帮教管控台帐中待办日期及以前的记录判断。")
    for n in wl.notes:
        out.print(f"注：{n}")
    out.flush()


@app.command("todo", cls=chinese.Command)
def todo_cmd(
    inputs: common.Inputs = None,
    day: Day = None,
    days: Days = 30,
    by: By = "所属村居",
    catalog: common.Catalog = None,
    fmt: Format = None,
    output: common.Output = None,
    show_pii: common.ShowPii = False,
    password: common.Password = None,
) -> None:
    """待办清单：本期该给谁尿检、谁逾期未报到、谁未建档、谁将期满、谁满三年、谁该走访。

    示例：
      jindu todo 乐平镇台帐.xlsx --date 2018-10-15
      jindu todo 全县台帐.xlsx --by 所属镇街 --format xlsx --output 待办清单.xlsx
    """
    from datetime import date

    from ..errors import UsageError
    from ..periods import Period, parse_day
    from ..run import Run

    if days < 0:
        raise UsageError(f"--days 不能为负数（收到 {days}）。")
    when = parse_day(day) if day else date.today()
    run = Run.open(inputs, catalog, common.password_source(password), output=output, guarded=[catalog],
                   default=False, formats=FORMATS, fmt=fmt)
    from ..metrics.todo import todo

    _stale_warning(run.ledgers, when)
    wl = todo(run.ledgers, run.catalog, when, days, by=by)
    code = common.findings_line(run, Period(when, when))
    _emit(wl, run.fmt, output, show_pii, [*run.paths, catalog])
    raise typer.Exit(code)


def _stale_warning(ledgers, when) -> None:
    """A to-do day more than a month after the ledgers' latest date lists everything since as overdue:
    say so, with that date (the ledgers may not be up to date, or --date was forgotten)."""
    from datetime import timedelta

    from ..periods import latest_data_date

    last = latest_data_date(ledgers, when)
    if last is not None and when - last > timedelta(days=31):
        common.err(f"警告：待办日期 {when.isoformat()} 比台帐最新日期（{last.isoformat()}）晚一个多月，"
                   "此后没有登记的尿检、走访都会列为逾期。请核对台帐是否已更新，或用 --date 指定日期。")


def _emit(wl, fmt, output, show_pii, inputs) -> None:
    from ..outputs import json_text
    from ..outputs import todo as export

    common.emit(fmt, output, inputs, json=lambda: json_text(wl.to_dict(show_pii)),
                csv=lambda: export.todo_csv(wl, show_pii), xlsx=lambda: export.todo_xlsx(wl, show_pii),
                table=lambda out: render_worklist(wl, show_pii, out))
