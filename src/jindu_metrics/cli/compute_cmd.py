"""`jindu compute`, `jindu explain`, `jindu metrics`: indicators from the ledgers, row by row if asked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import shown
from ..run import Formats
from . import chinese, common
from .root import app

FORMATS = Formats(("table", "json", "csv", "xlsx"), needs_output=(("xlsx", "xlsx 格式须用 --output 指定输出文件。"),))
EXPLAIN_FORMATS = Formats(("text", "json"))
Format = Annotated[Optional[str], typer.Option(
    "--format", "-f", help="输出格式：table（表格，默认）、json、csv、xlsx；省略时按 --output 的扩展名。", show_default=False)]
By = Annotated[Optional[str], typer.Option("--by", help="按单位分组：所属村居 或 所属镇街。", show_default=False)]
Metric = Annotated[Optional[list[str]], typer.Option("--metric", "-m", help="只计算这些指标（id 或名称，可重复）。",
                                                     show_default=False)]
Unit = Annotated[Optional[str], typer.Option("--unit", "-u", help="只看这个村居或镇街。", show_default=False)]


def _out(stream=None):
    from .terminal import Out

    return Out(stream)


_ARROWS = (("上升", "↑"), ("增加", "↑"), ("下降", "↓"), ("减少", "↓"))


def _cmp_text(c, why: str = "") -> tuple[str, str]:
    """A comparison cell: the full text `8.89%（上升15.60个百分点）` / `92（减少43人，下降46.7%）` and the change
    only, `↑15.60个百分点` / `↓43人`; `未覆盖` when the ledger does not cover the window (`why`, said below)."""
    if c is None:
        return ("未覆盖", "未覆盖") if why else ("无数据", "无数据")
    if not c.change_display:
        return c.display, c.display
    short = c.change_display.split("，")[0]  # narrow consoles: a count's change in persons, without its percent
    for word, arrow in _ARROWS:
        if short.startswith(word):
            short = arrow + short[len(word):]
            break
    return f"{c.display}（{c.change_display}）", short


def _unfilled_line(rows, by: str, whole: str) -> str:
    """The figures of the rows whose `by` cell is empty, on one line (they count in the whole unit's total)."""
    shown = []
    for r in rows:
        if r.exact is None or (r.kind != "ratio" and not r.exact) or (r.kind == "ratio" and not r.denominator):
            continue
        if r.kind == "ratio":
            shown.append(f"{r.name}{r.numerator}/{r.denominator}={r.display}")
        else:
            gap = " " if r.name[-1].isascii() else ""  # 滚动播放LED 650条
            shown.append(f"{r.name}{gap}{r.display}{r.unit_label or ''}")
    what = "、".join(shown) if shown else "没有非零的数字"
    return f"未填{by}的记录（计入{whole}合计，不分到各{by.removeprefix('所属')}）：{what}。"


def render_table(result, catalog, default_used: bool, out) -> None:
    """The indicators as one table per unit and area, laid out for `out` (a terminal.Out): the window lines,
    each unit's tables, the legend and the notes (each distinct note once)."""
    from ..metrics.catalog import AREAS
    from ..metrics.engine import UNFILLED
    from .tables import COMPARE, TEXT, Column, Table, print_tables

    _window_lines(result, default_used, out)
    inds = {i.id: i for i in catalog.indicators}
    base = result.baseline
    label = {"previous": "环比", "yoy": "同比", **({"baseline": f"较{base.start.year}年"} if base else {})}
    columns = [Column("指标", "left", TEXT)] + [Column(h, "right") for h in ("分子", "分母", "数值", "目标", "达标", "差距")] \
        + [Column(h, "right", COMPARE) for h in label.values()]
    footnotes: list[str] = []
    grouped = result.by_unit()
    for unit in [None, *result.groups]:
        rows = result.for_unit(None) if unit is None else grouped.get(unit, [])
        if not rows:
            continue
        out.print()
        if unit == UNFILLED:  # rows with an empty unit cell: one labelled line, not a pseudo-unit's table
            out.print(_unfilled_line(rows, result.by, result.unit))
            continue
        out.print(f"单位：{result.unit if unit is None else unit}", style="bold")
        tables = []
        for area in AREAS:
            area_rows = [r for r in rows if r.area == area]
            if area_rows:
                tables.append(Table(columns, title=area))
            for r in area_rows:
                tables[-1].add_row(*_row_cells(r, inds.get(r.metric), label))
                for n in _row_notes(r, unit, result, label):
                    if n not in footnotes:  # each distinct note once
                        footnotes.append(n)
        print_tables(tables, out)  # one layout for all areas of the unit
    _legend(result, out)
    for f in footnotes:
        out.print(f"注：{f}")
    out.flush()


def _window_lines(result, default_used: bool, out) -> None:
    """The window in words, what it is compared with, and (one month) where the bulletin's figures are."""
    from ..periods import comparisons_note, cumulative_hint, window_note

    p = result.period
    note = "（未指定 --period，默认为当年1月至数据最新月份）" if default_used else ""
    out.print(f"{window_note(p)}，{p.start.isoformat()} 至 {p.end.isoformat()}{note}")
    out.print(comparisons_note(p, result.baseline) + "。")
    hint = cumulative_hint(p, "jindu compute …")
    if hint:
        out.print(hint)


def _row_cells(r, ind, label: dict) -> tuple:
    """One indicator's cells: name (with its unit word, * when its definition is pending), numerator,
    denominator, value, target, met, gap, then one cell per comparison."""
    name = r.name + (f"（{r.unit_label}）" if r.kind != "ratio" and r.unit_label else "")
    if ind is not None and ind.pending:
        name += " *"
    gap_unit = "人" if ind is not None and ind.numerator.agg == "persons" else ""
    compared = ("",) * len(label) if r.absent else \
        tuple(_cmp_text(getattr(r, n), r.comparison_notes.get(n, "")) for n in label)
    return (name, "" if r.numerator is None else str(r.numerator) if r.kind == "ratio" else "",
            "" if r.denominator is None else str(r.denominator),
            r.display, r.target or "", {True: "是", False: "否", None: ""}[r.met],
            "" if r.gap is None else f"还差{r.gap}{gap_unit}", *compared)


def _row_notes(r, unit, result, label: dict) -> list[str]:
    """The notes a row brings: why a comparison is absent (a township's own, with --by 所属镇街), what one rests
    on, and the persons left out of it (报到期内, 本期待检), naming the unit and window."""
    notes = []
    own = f"（{unit}）" if unit is not None and result.by == "所属镇街" else ""
    if not r.absent:
        for n, name in label.items():
            why, c = r.comparison_notes.get(n), getattr(r, n)
            if why:
                notes.append(f"{name}“未覆盖”{own}：{why}。")
            if c is not None and c.note:
                notes.append(f"{'、'.join(label.values())}中{c.note}。")
    where = f"{result.unit if unit is None else unit}，" if result.by else ""
    for k, v in r.extra.items():
        if k == "目标说明":
            notes.append(f"{r.name}：{v}。")
        elif v:
            notes.append(f"{r.name}（{where}{result.period.label}）：另有{k} {v} 人未计入。")
    return notes


def _legend(result, out) -> None:
    base = result.baseline
    out.print()
    out.print("注：* 口径待确认（jindu explain 指标 查看口径与明细）；“—”表示分母为0，无法计算；"
              "“未覆盖”表示台帐最早的记录晚于对比期的第一个月（原因见下）；↑↓ 为与对比期相比的变化。"
              + ("“无台帐”表示输入中没有该指标所需的台帐，不按0计。" if result.missing_ledgers else "")
              + ("“无此列”表示台帐中没有该指标所需的列，不按0计。" if result.missing_columns else ""))
    if base is not None:
        out.print(f"注：较{base.start.year}年：与{base.start.year}年同期（{base.start.isoformat()} 至 "
                  f"{base.end.isoformat()}）相比；人数同时给出增减幅度，比率以个百分点计。")


@app.command("compute", cls=chinese.Command)
def compute_cmd(
    inputs: common.Inputs = None,
    period: common.Period = None,
    by: By = None,
    metric: Metric = None,
    catalog: common.Catalog = None,
    fmt: Format = None,
    output: common.Output = None,
    password: common.Password = None,
    baseline: common.Baseline = None,
    strict: common.Strict = False,
) -> None:
    """计算考评指标（分子、分母、数值、目标、差距、环比、同比）。

    示例：
      jindu compute 乐平镇台帐.xlsx --period 2018-10
      jindu compute 台帐/ --period 2018-Q3 --by 所属村居 --format json
    """
    from ..run import Run

    run = Run.open(inputs, catalog, common.password_source(password), period, output=output, guarded=[catalog],
                   formats=FORMATS, fmt=fmt)
    fmt = run.fmt
    common.after_data(run)
    from ..metrics.engine import compute

    result = compute(run.ledgers, run.catalog, run.window, by=by, metrics=metric, baseline=baseline)
    code = common.findings_line(run)
    common.missing_line(result.missing_ledgers, columns=result.missing_columns)
    _emit(result, run.catalog, fmt, output, run.default_window, [*run.paths, catalog])
    raise typer.Exit(max(code, common.strict_code(result.rows, strict)))


def _emit(result, cat, fmt, output, default_used, inputs=()) -> None:
    from ..outputs import compute as export
    from ..outputs import json_text

    common.emit(fmt, output, inputs, json=lambda: json_text(result.to_dict()),
                csv=lambda: export.compute_csv(result), xlsx=lambda: export.compute_xlsx(result, cat),
                table=lambda out: render_table(result, cat, default_used, out))


@app.command("explain", cls=chinese.Command)
def explain_cmd(
    metric: Annotated[str, typer.Argument(help="指标 id 或名称，如 送戒率 或 rehab_rate。", metavar="指标")],
    inputs: common.Inputs = None,
    period: common.Period = None,
    unit: Unit = None,
    catalog: common.Catalog = None,
    show_pii: common.ShowPii = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="输出格式：text 或 json。")] = "text",
    password: common.Password = None,
) -> None:
    """逐行解释一个指标：口径、计入分子的行、在分母但未计入分子的行。

    示例：
      jindu explain 送戒率 乐平镇台帐.xlsx --period 2018-01..2018-10
    """
    from ..metrics.explain import explain
    from ..run import Run

    EXPLAIN_FORMATS.check(fmt)
    run = Run.open(inputs, catalog, common.password_source(password), period)
    run.catalog.get(metric)  # unknown names fail before any work
    common.after_data(run)
    ex = explain(run.ledgers, run.catalog, metric, run.window, unit=unit)
    code = common.findings_line(run)
    if fmt == "json":
        from ..outputs import json_text
        from .terminal import write_json

        write_json(json_text(ex.to_dict(show_pii)))
    else:
        render_explanation(ex, show_pii, run.default_window, _out())
    raise typer.Exit(code)


def render_explanation(ex, show_pii: bool, default_used: bool, out) -> None:
    """An explanation: definition, result, then the rows behind it, laid out for `out` (a terminal.Out)."""
    from ..periods import cumulative_hint, window_note
    from .tables import TEXT, Column, Table, print_table

    ind = ex.indicator
    p = ex.period
    note = "（未指定 --period，默认为当年1月至数据最新月份）" if default_used else ""
    out.print(f"{window_note(p)}，{p.start.isoformat()} 至 {p.end.isoformat()}{note}  单位：{ex.unit}")
    hint = cumulative_hint(p, f"jindu explain {ind.name} …")
    if hint:
        out.print(hint)
    out.print(f"指标：{ind.name}", style="bold")
    out.print(f"口径：{ind.definition}")
    if ind.pending:
        out.print(f"口径待确认：{ind.pending_note or '此指标的口径尚无公布依据。'}")
    if ex.numerator is None:  # its ledger is missing: no value (the note says which)
        out.print(f"结果：{ex.display}")
    elif ind.kind == "ratio":
        out.print(f"结果：{ex.numerator} / {ex.denominator} = {ex.display}")
    else:
        out.print(f"结果：{ex.display}{ind.unit_label}")

    def table(title, rows, cols):
        t = Table([Column("文件", role=TEXT, hoist=True), Column("工作表", role=TEXT, hoist=True), Column("行", "right"),
                   Column("公民身份号码"), Column("姓名"), *[Column(c, role=TEXT) for c in cols]], title=title)
        for r in rows:
            d = r.to_dict(show_pii, ex.names)
            t.add_row(shown(Path(d["file"]).name), shown(d["sheet"]), str(r.row), d["公民身份号码"] or "", d["姓名"] or "",
                      *[d["values"].get(c, "") for c in cols])
        out.print()
        print_table(t, out)

    label = "计入分子的行" if ind.kind == "ratio" else "计入的行"
    table(f"{label}（{len(ex.numerator_rows)} 行）", ex.numerator_rows, ex.columns)
    if ind.kind == "ratio":
        if ex.denominator_rows:
            cols = [c for c in ex.denominator_rows[0].values]
            table(f"分母：单位信息表（{len(ex.denominator_rows)} 行）", ex.denominator_rows, cols)
        else:
            table(f"在分母中但未计入分子的行（{len(ex.other_rows)} 行）", ex.other_rows, ex.columns)
    if ex.excluded_rows:
        table(f"不计入的行（{len(ex.excluded_rows)} 行）", ex.excluded_rows, ex.columns)
    for n in ex.notes:
        out.print(f"注：{n}")
    out.flush()


@app.command("metrics", cls=chinese.Command)
def metrics_cmd(catalog: common.Catalog = None) -> None:
    """列出指标目录（编号、名称、口径、目标）。各指标的口径和共同约定见 jindu 说明 指标口径。

    示例：
      jindu metrics
      jindu metrics --catalog 指标目录.toml
    """
    from ..run import catalog_of
    from ..workspace import find_workspace
    from .tables import TEXT, Column, Table, print_table

    cat = catalog_of(catalog, find_workspace())
    t = Table([Column("编号"), Column("名称", role=TEXT), Column("口径", role=TEXT), Column("目标")])
    for i in cat.indicators:
        name = i.name + ("（口径待确认）" if i.pending else "")
        t.add_row(i.id, name, i.definition, i.target or "")
    out = _out()
    print_table(t, out)
    out.flush()
    raise typer.Exit(0)
