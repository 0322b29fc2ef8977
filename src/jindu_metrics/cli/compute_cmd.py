"""`jindu compute`, `jindu explain`, `jindu metrics`: indicators from the ledgers, row by row if asked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import app, chinese, common

Format = Annotated[str, typer.Option("--format", "-f", help="输出格式：table（表格）、json、csv、xlsx。")]
By = Annotated[Optional[str], typer.Option("--by", help="按单位分组：所属村居 或 所属镇街。", show_default=False)]
Metric = Annotated[Optional[list[str]], typer.Option("--metric", "-m", help="只计算这些指标（id 或名称，可重复）。",
                                                     show_default=False)]
Unit = Annotated[Optional[str], typer.Option("--unit", "-u", help="只看这个村居或镇街。", show_default=False)]


def _console(file=None):
    from rich.console import Console

    out = file or sys.stdout
    width = None if out.isatty() else 200  # pipes and files: wide enough that no figure wraps
    return Console(file=out, width=width, highlight=False, soft_wrap=False)


def _context(inputs, catalog_path):
    """Workspace, catalog and the loaded ledgers with their findings."""
    from ..metrics.catalog import load_catalog
    from ..workspace import find_workspace, resolve_inputs

    ws = find_workspace()
    catalog = load_catalog(catalog_path or (ws.catalog if ws else None), targets=ws.targets if ws else None)
    paths = resolve_inputs(inputs, ws)
    ledgers, findings = load_and_validate(paths, ws.unit if ws else None)
    return ws, catalog, paths, ledgers, findings


def load_and_validate(paths, unit):
    """Read and check the ledgers (the reader's API); a seam for tests."""
    from ..ledgers import load_ledgers
    from ..validate import validate

    ledgers = load_ledgers(list(paths), unit=unit)
    return ledgers, validate(ledgers)


def _period(text, ledgers):
    from ..periods import default_period, parse_period

    if text:
        return parse_period(text), False
    return default_period(ledgers), True


def _findings_line(findings, paths) -> int:
    """One stderr line counting 错误/警告; the exit code they imply."""
    from ..findings import summarize

    s = summarize(findings)
    if s["错误"] or s["警告"]:
        args = " ".join(str(p) for p in paths)
        common.err(f"台帐检查：错误 {s['错误']} 条，警告 {s['警告']} 条（有问题的单元格未计入）。"
                   f"查看明细：jindu validate {args}")
    return 1 if s["错误"] else 0


def _cmp_text(c) -> str:
    if c is None:
        return "无数据"
    return f"{c.display}（{c.change_display}）" if c.change_display else c.display


def render_table(result, catalog, default_used: bool, console) -> None:
    from rich.table import Table

    from ..metrics.catalog import AREAS

    p = result.period
    note = "（未指定 --period，默认为当年1月至数据最新月份）" if default_used else ""
    console.print(f"统计期：{p.label}（{p.start.isoformat()} 至 {p.end.isoformat()}）{note}")
    inds = {i.id: i for i in catalog.indicators}
    units = [None] + list(result.groups)
    footnotes: list[str] = []
    for unit in units:
        rows = result.for_unit(unit)
        if not rows:
            continue
        console.print(f"\n单位：{result.unit if unit is None else unit}", style="bold")
        for area in AREAS:
            area_rows = [r for r in rows if r.area == area]
            if not area_rows:
                continue
            t = Table(title=area, title_justify="left", show_lines=False, header_style="bold")
            for col in ("指标", "分子", "分母", "数值", "目标", "达标", "差距", "环比", "同比"):
                t.add_column(col, justify="left" if col == "指标" else "right", no_wrap=True)
            for r in area_rows:
                ind = inds.get(r.metric)
                name = r.name + (f"（{r.unit_label}）" if r.kind != "ratio" and r.unit_label else "")
                if ind is not None and ind.pending:
                    name += " *"
                gap_unit = "人" if ind is not None and ind.numerator.agg == "persons" else ""
                t.add_row(
                    name,
                    "" if r.numerator is None else str(r.numerator) if r.kind == "ratio" else "",
                    "" if r.denominator is None else str(r.denominator),
                    r.display, r.target or "", {True: "是", False: "否", None: ""}[r.met],
                    "" if r.gap is None else f"还差{r.gap}{gap_unit}",
                    _cmp_text(r.previous), _cmp_text(r.yoy),
                )
                for k, v in r.extra.items():
                    if k == "目标说明":
                        note_ = f"{r.name}：{v}。"
                    elif v:
                        note_ = f"{r.name}：另有{k} {v} 人未计入。"
                    else:
                        continue
                    if note_ not in footnotes:
                        footnotes.append(note_)
            console.print(t)
    console.print("\n注：* 口径待确认（jindu explain 指标 查看口径与明细）；“—”表示分母为0，无法计算；"
                  "“无数据”表示台帐未覆盖对比期。")
    for f in footnotes:
        console.print(f"注：{f}")


@app.command("compute", cls=chinese.Command)
def compute_cmd(
    inputs: common.Inputs = None,
    period: common.Period = None,
    by: By = None,
    metric: Metric = None,
    catalog: common.Catalog = None,
    fmt: Format = "table",
    output: common.Output = None,
) -> None:
    """计算考评指标（分子、分母、数值、目标、差距、环比、同比）。

    示例：
      jindu compute 乐平镇台帐.xlsx --period 2018-10
      jindu compute 台帐/ --period 2018-Q3 --by 所属村居 --format json
    """
    from ..errors import UsageError

    if fmt not in ("table", "json", "csv", "xlsx"):
        raise UsageError(f"--format 只能是 table、json、csv、xlsx（收到「{fmt}」）。")
    if fmt == "xlsx" and output is None:
        raise UsageError("xlsx 格式须用 --output 指定输出文件。")
    from ..outputs import check_output
    from ..workspace import find_workspace, resolve_inputs

    if output is not None:  # refused before any reading: an output that is an input, a folder, a link...
        check_output(output, [*resolve_inputs(inputs, find_workspace()), catalog])
    _ws, cat, paths, ledgers, findings = _context(inputs, catalog)
    from ..metrics.engine import compute

    p, default_used = _period(period, ledgers)
    result = compute(ledgers, cat, p, by=by, metrics=metric)
    code = _findings_line(findings, paths)
    _emit(result, cat, fmt, output, default_used, [*paths, catalog])
    raise typer.Exit(code)


def _emit(result, cat, fmt, output, default_used, inputs=()) -> None:
    from .. import export
    from ..outputs import atomic_write_bytes, atomic_write_text

    def write(data: bytes) -> None:
        atomic_write_bytes(output, data, inputs=inputs, create_folder=False)

    if fmt == "json":
        import json

        text = json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n"
        if output:
            atomic_write_text(output, text, inputs=inputs, create_folder=False)
        else:
            sys.stdout.write(text)
    elif fmt == "csv":
        data = export.compute_csv(result)
        if output:
            write(data)
        else:
            sys.stdout.write(data.decode("utf-8"))
    elif fmt == "xlsx":
        write(export.compute_xlsx(result, cat))
    else:
        if output:
            import io

            buf = io.StringIO()
            buf.isatty = lambda: False  # type: ignore[method-assign]
            render_table(result, cat, default_used, _console(buf))
            atomic_write_text(output, buf.getvalue(), inputs=inputs, create_folder=False)
        else:
            render_table(result, cat, default_used, _console())
    if output and str(output) != "-":
        common.err(f"已写入 {output}")


@app.command("explain", cls=chinese.Command)
def explain_cmd(
    metric: Annotated[str, typer.Argument(help="指标 id 或名称，如 送戒率 或 rehab_rate。", metavar="指标")],
    inputs: common.Inputs = None,
    period: common.Period = None,
    unit: Unit = None,
    catalog: common.Catalog = None,
    show_pii: common.ShowPii = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="输出格式：text 或 json。")] = "text",
) -> None:
    """逐行解释一个指标：口径、计入分子的行、在分母但未计入分子的行。

    示例：
      jindu explain 送戒率 乐平镇台帐.xlsx --period 2018-01..2018-10
    """
    from ..errors import UsageError
    from ..metrics.explain import explain

    if fmt not in ("text", "json"):
        raise UsageError(f"--format 只能是 text 或 json（收到「{fmt}」）。")
    _ws, cat, paths, ledgers, findings = _context(inputs, catalog)
    cat.get(metric)  # unknown names fail before any work
    p, default_used = _period(period, ledgers)
    ex = explain(ledgers, cat, metric, p, unit=unit)
    code = _findings_line(findings, paths)
    if fmt == "json":
        import json

        sys.stdout.write(json.dumps(ex.to_dict(show_pii), ensure_ascii=False, indent=2) + "\n")
    else:
        render_explanation(ex, show_pii, default_used, _console())
    raise typer.Exit(code)


def render_explanation(ex, show_pii: bool, default_used: bool, console) -> None:
    from rich.table import Table

    ind = ex.indicator
    p = ex.period
    console.print(f"指标：{ind.name}（{ind.id}）", style="bold")
    console.print(f"口径：{ind.definition}")
    if ind.pending:
        console.print(f"口径待确认：{ind.pending_note or '此指标的口径尚无公布依据。'}")
    note = "（默认）" if default_used else ""
    console.print(f"统计期：{p.label}（{p.start.isoformat()} 至 {p.end.isoformat()}）{note}  单位：{ex.unit}")
    if ind.kind == "ratio":
        console.print(f"结果：{ex.numerator} / {ex.denominator} = {ex.display}")
    else:
        console.print(f"结果：{ex.display}{ind.unit_label}")

    def table(title, rows, cols):
        t = Table(title=title, title_justify="left", header_style="bold")
        for c in ("文件", "工作表", "行", "公民身份号码", "姓名", *cols):
            t.add_column(c, no_wrap=True)
        for r in rows:
            d = r.to_dict(show_pii)
            t.add_row(Path(r.file).name, r.sheet, str(r.row), d["公民身份号码"] or "", d["姓名"] or "",
                      *[r.values.get(c, "") for c in cols])
        console.print(t)

    label = "计入分子的行" if ind.kind == "ratio" else "计入的行"
    table(f"\n{label}（{len(ex.numerator_rows)} 行）", ex.numerator_rows, ex.columns)
    if ind.kind == "ratio":
        if ex.denominator_rows:
            cols = [c for c in ex.denominator_rows[0].values]
            table(f"\n分母：单位信息表（{len(ex.denominator_rows)} 行）", ex.denominator_rows, cols)
        else:
            table(f"\n在分母中但未计入分子的行（{len(ex.other_rows)} 行）", ex.other_rows, ex.columns)
    for n in ex.notes:
        console.print(f"注：{n}")


@app.command("metrics", cls=chinese.Command)
def metrics_cmd(catalog: common.Catalog = None) -> None:
    """列出指标目录（id、名称、口径、目标）。

    示例：
      jindu metrics
      jindu metrics --catalog 指标目录.toml
    """
    from rich.table import Table

    from ..metrics.catalog import load_catalog
    from ..workspace import find_workspace

    ws = find_workspace()
    cat = load_catalog(catalog or (ws.catalog if ws else None), targets=ws.targets if ws else None)
    t = Table(header_style="bold", show_lines=False)
    for c in ("id", "名称", "口径", "目标"):
        t.add_column(c, overflow="fold")
    for i in cat.indicators:
        name = i.name + ("（口径待确认）" if i.pending else "")
        t.add_row(i.id, name, i.definition, i.target or "")
    _console().print(t)
    raise typer.Exit(0)
