"""`jindu batch`: a whole county in one run (parallel), with totals, ranks, scores and the summary workbook."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import shown
from . import chinese
from .common import Baseline, Catalog, Password, Strict, echo, err, missing_line, strict_code
from .root import app


@app.command("batch", cls=chinese.Command)
def batch(
    inputs: Annotated[list[Path], typer.Argument(
        help="各镇街的台帐文件，或存放它们的文件夹（只读第一层）；全县一个文件时按“所属镇街”拆分。",
        show_default=False, metavar="台帐")],
    out: Annotated[Path, typer.Option("--out", "-o", help="输出文件夹（各镇街通报、汇总.xlsx、汇总.html、summary.json、全县通报）。",
                                      show_default=False)],
    period: Annotated[Optional[str], typer.Option(
        "--period", "-p", show_default=False,
        help="统计期（必须写）：2018-10（通报按1至10月累计）、2018-01..2018-10、2018-Q3、2018-H1、2018。")] = None,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1,
                                                help="并行进程数，默认为本机CPU核数。", show_default=False)] = None,
    scoring: Annotated[Optional[Path], typer.Option("--scoring", help="考评方案（TOML），给各镇街打分排名。",
                                                    show_default=False)] = None,
    template: Annotated[Optional[Path], typer.Option("--template", help="各镇街通报使用的模板。",
                                                     show_default=False)] = None,
    county_template: Annotated[Optional[Path], typer.Option(
        "--county-template", help="全县通报使用的模板（可用的变量见 jindu 说明 模板「全县通报」）。",
        show_default=False)] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="通报格式：txt、md 或 docx（全县通报.txt 总会写出）。")] = "txt",
    catalog: Catalog = None,
    password: Password = None,
    baseline: Baseline = None,
    strict: Strict = False,
) -> None:
    """县区批量：各镇街分别读取、校验、计算、出通报；全县合计、排名、考评打分，写出汇总工作簿。

    示例：
      jindu batch 各镇街台帐/ --period 2018-10 --out 2018年10月通报/
      jindu batch 全县台帐.xlsx -p 2018 --scoring 考评方案.toml -o 汇总/ -j 2
      jindu batch 台帐/ -p 2018-10 -f docx --county-template 县.j2 -o 汇总/
    """
    from ..batch import run_batch
    from ..workspace import find_workspace

    workspace = find_workspace()
    progress_cb, start_cb, finish = _progress()
    try:
        result = run_batch(inputs, period=period, out=out, jobs=jobs, scoring=scoring, template=template,
                           fmt=fmt, catalog=catalog, workspace=workspace, progress=progress_cb, on_start=start_cb,
                           password=password, baseline=baseline, county_template=county_template)
    finally:
        finish()
    _problems(result)
    ok = [u for u in result.units if u.status == "ok"]
    n_findings = sum(len(u.findings) for u in ok)
    echo(f"{result.window.label}：{len(ok)}个镇街已计算，{len(result.failed)}个文件失败，"
               f"数据问题{n_findings}条。输出在「{shown(out)}」：汇总.xlsx、汇总.html、summary.json、全县通报.txt、各镇街通报。")
    _missing(result)
    raise typer.Exit(max(result.exit_code, strict_code(result.rows, strict, "项（镇街或全县×指标）")))


def _problems(result) -> None:
    """The files skipped and failed, and the county totals that differ from the townships' sums, on stderr."""
    for s in result.skipped:
        err(f"跳过：{shown(s['file'])}：{s['reason']}")
    for u in result.failed:
        # an error that names its file already (文件「…」：…) is not prefixed with the name again
        err(f"失败：{u.error}" if u.error.startswith("文件「") else f"失败：{shown(u.file)}：{u.error}")
    if result.mismatches:
        n = len(result.mismatches)
        listed = "；".join(result.mismatches[:3]) + ("……" if n > 3 else "")
        err(f"说明：{n}项指标的全县合计不等于各镇街之和（同一人员在几个镇街都有记录时，全县只计一次）：{listed}"
            + ("（全部见 summary.json 的 rollup_mismatches）" if n > 3 else ""))


def _missing(result) -> None:
    """The ledgers and columns the townships lack, each naming the townships, on stderr."""
    from ..schema import KINDS

    lacking: dict[str, set[str]] = {}
    for r in result.rows:
        for k in r.missing if r.unit != result.total_unit else ():
            lacking.setdefault(k, set()).add(r.unit)
    missing_line([k for k in KINDS if k in lacking], {k: sorted(u) for k, u in lacking.items()})
    no_column: dict[tuple[str, str], set[str]] = {}  # (ledger, column) -> townships whose ledger lacks it
    for r in result.rows:
        for kc in r.missing_columns if r.unit != result.total_unit else ():
            no_column.setdefault(kc, set()).add(r.unit)
    if no_column:
        from ..metrics.display import missing_column_reason

        said = "；".join(f"{missing_column_reason([kc])}（{'、'.join(sorted(u))}）" for kc, u in no_column.items())
        err(f"{said}。相关指标显示“无此列”，不按0计，不参与排名和打分。")


def _progress():
    """A rich progress bar on stderr when it is a terminal; silent otherwise."""
    if not sys.stderr.isatty():
        return None, None, lambda: None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("批量处理"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.description}"), console=Console(stderr=True), transient=True)
    state: dict = {}

    def start(total: int) -> None:
        bar.start()
        state["task"] = bar.add_task("", total=total)

    def advance(name: str) -> None:
        from rich.markup import escape

        from .terminal import clean

        bar.update(state["task"], advance=1, description=escape(clean(name)))  # a name is text, not markup

    def finish() -> None:
        if "task" in state:
            bar.stop()

    return advance, start, finish
