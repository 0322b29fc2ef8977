"""汇总.xlsx: the county workbook (指标汇总, 考评得分, 数据问题, 趋势 with native line charts) from plain dicts.

Byte-identical for the same input: fixed document times and fixed zip entry times. Every text cell that can
come from input goes through export.sheet_text() (formula injection, characters XML cannot hold).
"""

from __future__ import annotations

import io
from collections.abc import Callable

from ..metrics.display import sheet_number, sheet_number_format
from .compute import put_cell, sheet_text, xlsx_workbook, xml_text

SHEETS = ("指标汇总", "考评得分", "数据问题", "趋势")


_text = sheet_text


def _deterministic(data: bytes) -> bytes:
    """Fixed zip entry times and a fixed dcterms:modified (openpyxl stamps 'now')."""
    from .compute import deterministic_zip

    return deterministic_zip(data)


HEAD = {"bold": True, "bg_color": "#DDEBF7"}
CENTER = {"align": "center", "valign": "vcenter", "text_wrap": True}
UNMET, TOTAL = "#F8CBAD", "#FFF2CC"
put = put_cell


class _Book:
    """The workbook being written and its cell formats, one per combination of properties (XlsxWriter keeps
    each one added, in the order first asked for: the same calls give the same bytes)."""

    def __init__(self, buf):
        self.wb = xlsx_workbook(buf)
        self.formats: dict[tuple, object] = {}
        self.title = self.fmt(bold=True, font_size=14)
        self.bold = self.fmt(bold=True)

    def fmt(self, **props):
        key = tuple(sorted(props.items()))
        if key not in self.formats:
            self.formats[key] = self.wb.add_format(props)
        return self.formats[key]


def build_workbook(data: dict, rest: Callable[[], dict] | None = None) -> bytes:
    """The workbook as bytes. `data` keys: title, indicators, units, total_unit, rows, scores, findings,
    failures, trend (see batch.workbook_head and workbook_rest for the shapes). `rest`, when given, is called
    once the 数据问题 sheet (findings, failures) is written and returns the other keys: batch builds the
    workbook beside the county total that way (batch.Beside).

    Written by XlsxWriter, typed cell by cell: a county's 数据问题 sheet holds 10⁴ findings, whose cells
    openpyxl took 3 s to write. Cells are 0-based here (XlsxWriter's), rows as Excel shows them minus one."""
    buf = io.BytesIO()
    book = _Book(buf)
    # every sheet in its place first; 数据问题, the big one, is written before the others, which may wait
    # for figures still being computed (rest)
    sheets = {name: book.wb.add_worksheet(name) for name in SHEETS}
    _findings_sheet(book, sheets[SHEETS[2]], data)
    if rest is not None:
        data = {**data, **rest()}
    _summary_sheet(book, sheets[SHEETS[0]], data)
    _scores_sheet(book, sheets[SHEETS[1]], data.get("scores"))
    _trend_sheet(book, sheets[SHEETS[3]], data)
    book.wb.close()
    return _deterministic(buf.getvalue())


def _findings_sheet(book: _Book, ws, data: dict) -> None:
    """数据问题: findings per township (values already masked), and files that failed."""
    plain_head = book.fmt(**HEAD)
    for c, h in enumerate(["镇街", "文件", "工作表", "行", "列", "级别", "问题", "取值"]):
        put(ws, 0, c, h, plain_head)
    r = 1
    for f in data.get("failures", []):
        for c, v in enumerate([f.get("unit") or "", f["file"], "", None, "", "错误",
                               "文件无法处理：" + (f.get("error") or ""), ""]):
            put(ws, r, c, v)
        r += 1
    for f in data.get("findings", []):
        column = f.get("column")
        if column and f.get("column_letter"):
            column = f"{column}（{f['column_letter']}列）"
        vals = (f.get("unit") or "（未归属）", f.get("file"), f.get("sheet"), f.get("row"), column,
                f.get("severity"), f.get("message"), f.get("value"))
        for c, v in enumerate(vals):
            put(ws, r, c, v)
        r += 1
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(r - 1, 0), 7)
    for c, width in enumerate((12, 24, 16, 6, 14, 6, 50, 20)):
        ws.set_column(c, c, width)


def _summary_sheet(book: _Book, ws, data: dict) -> None:
    """指标汇总: townships × indicators (value, rank), the county total last, then the notes."""
    indicators, units, total_unit = data["indicators"], data["units"], data["total_unit"]
    rows = {(r["unit"], r["metric"]): r for r in data["rows"]}
    put(ws, 0, 0, data.get("title", "指标汇总"), book.title)
    # which window every figure covers (the bulletins' 1至N月 cumulative window), before how to read ranks
    put(ws, 1, 0, (data["window"] + "。" if data.get("window") else "")
        + "排名：1为最好（按指标方向），并列同名次；“—”为分母为0，排在最后；“无台帐”为未提供该指标所需的台帐，"
          "“无此列”为台帐缺少该指标所需的列，都不参与排名。红色底纹：未达到目标。")
    left_out = {r["metric"]: r["excluded_units"] for r in data["rows"] if r.get("excluded_units")}
    head = book.fmt(**HEAD, **CENTER)
    base_year = data.get("baseline_year")  # --baseline: a third column per indicator, the base year's figure
    step = 3 if base_year else 2
    _summary_head(ws, indicators, head, base_year, step)
    for i, unit in enumerate([*units, total_unit]):
        r = 4 + i
        is_total = unit == total_unit and i == len(units)
        put(ws, r, 0, unit, book.fmt(bold=True, bg_color=TOTAL) if is_total else None)
        for j, ind in enumerate(indicators):
            row = rows.get((unit, ind["id"]))
            if row is not None:
                _summary_cells(book, ws, r, 1 + step * j, ind, row, is_total, base_year)
    names = {ind["id"]: ind["name"] for ind in indicators}
    for k, (mid, towns) in enumerate(sorted(left_out.items(), key=lambda kv: list(names).index(kv[0]))):
        put(ws, 6 + len(units) + k, 0, f"注：{names.get(mid, mid)}的{total_unit}合计不含"
                                        f"{'、'.join(towns)}（未提供所需台帐或缺少所需的列）。")
    if base_year:
        put(ws, 7 + len(units) + len(left_out), 0,
            f"注：“{base_year}年同期”为{base_year}年同一统计期的数值；“未覆盖”为台帐最早的记录晚于该期的第一个月"
            "（可在 jindu.toml 的 [workspace.started] 写明台帐开始记录的日期），原因见 summary.json 的 baseline_reason。")
    ws.freeze_panes(4, 1)
    ws.set_column(0, 0, 14)
    for c in range(1, 1 + step * len(indicators)):
        ws.set_column(c, c, 11 if (c - 1) % step == 0 else 6 if (c - 1) % step == 1 else 10)


def _summary_head(ws, indicators, head, base_year, step: int) -> None:
    """The two header rows: 镇街, then per indicator its name over 目标/数值, 排名 (and the base year)."""
    for r in (2, 3):
        ws.write_blank(r, 0, None, head)
    put(ws, 2, 0, "镇街", head)
    for j, ind in enumerate(indicators):
        c = 1 + step * j
        ws.merge_range(2, c, 2, c + step - 1, _text(ind["name"]), head)
        target = f"目标{ind['target']}" if ind.get("target") else ""
        put(ws, 3, c, target or "数值", head)
        put(ws, 3, c + 1, "排名", head)
        if base_year:
            put(ws, 3, c + 2, f"{base_year}年同期", head)


def _summary_cells(book: _Book, ws, r: int, c: int, ind: dict, row: dict, is_total: bool, base_year) -> None:
    """One unit's figure of one indicator, its rank and (--baseline) the base year's figure."""
    value = sheet_number(row.get("exact", row.get("value")), ind["format"], ind["decimals"])
    number = sheet_number_format(ind["format"], ind["decimals"])
    props = {"num_format": number, "align": "right"}
    if row.get("met") is False:
        props["bg_color"] = UNMET
    elif is_total:
        props["bg_color"] = TOTAL
    # a missing figure (its ledger not given) is no number, and never 0: the cell says so
    put(ws, r, c, value if value is not None else (row.get("missing_display") or "无台帐")
        if row.get("missing") else "—", book.fmt(**props))
    if not is_total and row.get("rank") is not None:
        put(ws, r, c + 1, row["rank"], book.fmt(align="center"))
    if base_year:
        then = sheet_number(row.get("baseline"), ind["format"], ind["decimals"])
        # no base-year figure: 台帐未覆盖 (the reason is in summary.json's baseline_reason), 无台帐…
        put(ws, r, c + 2, then if then is not None else (row.get("missing_display") if row.get("missing")
                                                         else "未覆盖" if row.get("baseline_reason") else "—"),
            book.fmt(num_format=number, align="right"))


def _scores_sheet(book: _Book, ws, scores: dict | None) -> None:
    """考评得分: each township's scores, by rank (the rank is by 折算得分, beside the two figures it comes from)."""
    if not scores:
        put(ws, 0, 0, "未指定考评方案（使用 --scoring 考评方案.toml 给各镇街打分）。")
        return
    put(ws, 0, 0, scores.get("name", "考评"), book.title)
    if scores.get("rule"):  # how the rank follows from the scores beside it
        put(ws, 1, 0, scores["rule"])
    items = scores["items"]
    heads = ["镇街", "原始得分", "可评分值", "折算得分", "排名"] + [f"{it['name']}（{it['points']}分）" for it in items]
    first = 5
    head = book.fmt(**HEAD, **CENTER)
    for c, h in enumerate(heads):
        put(ws, 2, c, h, head)
    number = sheet_number_format("count", scores.get("decimals", 1))
    points = sheet_number_format("count", 2 if any("." in u["possible"] for u in scores["units"]) else 0)
    for i, u in enumerate(scores["units"]):
        r = 3 + i
        put(ws, r, 0, u["unit"])
        # "—": nothing scorable (never 0 points)
        put(ws, r, 1, float(u["raw_score"]) if u["raw_score"] != "—" else "无可评分项", book.fmt(num_format=number))
        put(ws, r, 2, float(u["possible"]), book.fmt(num_format=points))
        put(ws, r, 3, float(u["rescaled_score"]) if u["rescaled_score"] != "—" else "—", book.fmt(num_format=number))
        put(ws, r, 4, u["rank"])
        for k, it in enumerate(u["items"]):
            props = {"num_format": number, **({"bg_color": UNMET} if it.get("met") is False else {})}
            put(ws, r, first + k, float(it["score"]) if it["score"] != "—" else "不计分", book.fmt(**props))
    ws.freeze_panes(3, 1)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 4, 9)
    if items:
        ws.set_column(first, first - 1 + len(items), 14)


def _trend_sheet(book: _Book, ws, data: dict) -> None:
    """趋势: per key rate, a block (townships × months) and a native line chart beside it."""
    trend = data.get("trend") or {}
    months = trend.get("months", [])
    series_units = [*data["units"], data["total_unit"]]
    r = 0
    for ind in trend.get("metrics", []):
        top = r
        put(ws, r, 0, ind["name"], book.title)
        r += 1
        put(ws, r, 0, "镇街", book.bold)
        for k, m in enumerate(months):
            put(ws, r, 1 + k, m, book.bold)
        head_row = r
        number = book.fmt(num_format=sheet_number_format(ind["format"], ind["decimals"]))
        for u in series_units:
            r += 1
            put(ws, r, 0, u)
            for k, v in enumerate(trend["values"].get(u, {}).get(ind["id"], [])):
                if v is not None:
                    put(ws, r, 1 + k, sheet_number(v, ind["format"], ind["decimals"]), number)
        if months and series_units:
            _chart(book, ws, ind, top, head_row, r, len(months))
        r = max(r + 2, top + 16)  # leave room for the chart before the next block
    if not trend.get("metrics"):
        put(ws, 0, 0, "无趋势数据。")
    ws.set_column(0, 0, 14)


def _chart(book: _Book, ws, ind: dict, top: int, head_row: int, last_row: int, n_months: int) -> None:
    """The line chart of one rate's block (rows head_row+1..last_row), beside it."""
    from xlsxwriter.utility import xl_rowcol_to_cell

    chart = book.wb.add_chart({"type": "line"})
    name = xml_text(ind["name"])
    for sr in range(head_row + 1, last_row + 1):
        chart.add_series({"name": [SHEETS[3], sr, 0],
                          "categories": [SHEETS[3], head_row, 1, head_row, n_months],
                          "values": [SHEETS[3], sr, 1, sr, n_months]})
    chart.set_title({"name": name})
    chart.set_y_axis({"name": name, "num_format": sheet_number_format(ind["format"], 0)})
    chart.set_x_axis({"name": "月份"})
    chart.set_size({"width": 16 / 2.54 * 96, "height": 7.5 / 2.54 * 96})  # openpyxl's 16 × 7.5 cm
    ws.insert_chart(xl_rowcol_to_cell(top, 2 + n_months), chart)
