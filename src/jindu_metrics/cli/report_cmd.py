"""`jindu report`: a unit's bulletin (通报) as txt, md or 公文-style docx."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..run import Formats
from . import chinese
from .common import (
    Baseline,
    Catalog,
    Inputs,
    Output,
    Password,
    Period,
    Strict,
    after_data,
    echo,
    err,
    missing_line,
    password_source,
    strict_code,
)
from .root import app

FORMATS = Formats(("txt", "md", "docx", "html"), needs_output=tuple(
    (f, f"{f} 格式需要用 --output 指定输出文件，如 --output 通报.{f}") for f in ("docx", "html")))


@app.command("report", cls=chinese.Command)
def report(
    inputs: Inputs = None,
    period: Period = None,
    template: Annotated[Optional[Path], typer.Option(
        "--template", "-t", help="通报模板（Jinja2 文本，可用变量见 jindu 说明 模板）；默认使用工作区模板或内置模板。",
        show_default=False)] = None,
    fmt: Annotated[Optional[str], typer.Option(
        "--format", "-f", help="输出格式：txt（默认）、md、docx（公文格式，需 --output）或 html（带图表的网页，需 --output）；"
        "省略时按 --output 的扩展名。", show_default=False)] = None,
    output: Output = None,
    report_date: Annotated[Optional[str], typer.Option(
        "--date", help="落款日期 YYYY-MM-DD；默认为统计期最后一天（不用当天日期，保证同样输入得到同样输出）。",
        show_default=False)] = None,
    unit: Annotated[Optional[str], typer.Option("--unit", help="本单位名称（所属镇街），默认取工作区配置或台帐。",
                                                show_default=False)] = None,
    catalog: Catalog = None,
    password: Password = None,
    baseline: Baseline = None,
    strict: Strict = False,
) -> None:
    """生成通报：按统计期计算指标并套用模板，写出通报（--period 2018-10 即1至10月累计，存量看10月31日）。

    示例：
      jindu report --period 2018-10（在 jindu init 建的工作区内）
      jindu report 乐平镇台帐.xlsx -p 2018-10 --format docx -o 通报.docx
    """
    from ..report.render import bulletin_results, render_report
    from ..run import Check, Run

    when = _date(report_date)
    workspace, unit = _workspace(unit)
    run = Run.open(inputs, catalog, password_source(password), period, workspace, unit=unit, output=output,
                   guarded=[template, catalog], check=Check.NONE, formats=FORMATS, fmt=fmt)
    fmt = run.fmt
    after_data(run)
    guarded = [*run.paths, template, catalog]  # an output may replace none of these
    results = bulletin_results(run.ledgers, run.catalog, run.window, baseline=baseline)
    text = render_report(results["result_ytd"], month=results["month"], villages=results["villages"],
                         workspace=workspace, template=template, fmt="txt" if fmt == "html" else fmt, date=when,
                         catalog=run.catalog)
    _write(run, fmt, output, text, results, when, guarded)
    from ..errors import shown

    if output is not None:
        err(f"已写出{results['result_ytd'].period.label}通报：{shown(output)}")
    ytd = results["result_ytd"]
    if ytd.period != run.window:  # `--period 2018-10`: the bulletin reports 1至10月
        from ..periods import window_note

        per = run.window
        err(f"通报{window_note(ytd.period)}；{per.label}当月的数字：jindu compute … --period "
            f"{per.start.year}-{per.start.month:02d}")
    missing_line(ytd.missing_ledgers, columns=ytd.missing_columns)
    raise typer.Exit(strict_code(ytd.for_unit(None), strict))


def _date(text: str | None):
    """--date: the bulletin's date (None: the window's last day)."""
    if text is None:
        return None
    from datetime import date

    from ..errors import UsageError

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"日期「{text}」无法识别，请写成 YYYY-MM-DD，如 2018-11-15") from None


def _workspace(unit: str | None) -> tuple:
    """(the workspace, with --unit as its unit when given; the unit the ledgers' rows default to)."""
    from ..workspace import find_workspace

    workspace = find_workspace()
    unit = unit or (workspace.unit if workspace else None) or None
    if workspace is not None and unit and workspace.unit != unit:
        from dataclasses import replace

        workspace = replace(workspace, unit=unit)
    return workspace, unit


def _write(run, fmt: str, output, text: str, results: dict, when, guarded: list) -> None:
    """The bulletin to `output` as `fmt` (html with its charts, docx 公文), or to the console."""
    if fmt == "html":
        from ..report.html import write_report_html
        from ..report.trend import main_trend

        write_report_html(output, text, results, main_trend(run.ledgers, run.catalog, run.window), run.catalog,
                          workspace=run.workspace, date=when, inputs=guarded)
    elif fmt == "docx":
        from ..report.docx import write_docx

        write_docx(text, output, report_date=when or results["result_ytd"].period.end, inputs=guarded,
                   create_folder=False)
    elif output is not None:
        from ..outputs import atomic_write_text

        atomic_write_text(output, text, inputs=guarded, create_folder=False)
    else:
        from .terminal import clean, is_terminal

        # to a console, text from the cells may not move the cursor or recolour it (as in every table)
        echo(clean(text, keep_newlines=True) if is_terminal() else text, nl=False)
