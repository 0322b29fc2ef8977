"""汇总.xlsx: the county workbook (指标汇总, 考评得分, 数据问题, 趋势 with native line charts) from plain dicts.

Byte-identical for the same input: fixed document times and fixed zip entry times. Every text cell that can
come from input goes through export.sheet_text() (formula injection, characters XML cannot hold).
"""

from __future__ import annotations

import io
from pathlib import Path

from ..metrics.display import sheet_number, sheet_number_format
from . import atomic_write_bytes
from .compute import ARCHIVE_TIME, sheet_text, xml_text

SHEETS = ("指标汇总", "考评得分", "数据问题", "趋势")


_text = sheet_text


def _deterministic(data: bytes) -> bytes:
    """Fixed zip entry times and a fixed dcterms:modified (openpyxl stamps 'now')."""
    from .compute import deterministic_zip

    return deterministic_zip(data)


def build_workbook(data: dict) -> bytes:
    """The workbook as bytes. `data` keys: title, indicators, units, total_unit, rows, scores, findings,
    failures, trend (see batch.summary_workbook_data for the shapes)."""
    from openpyxl import Workbook
    from openpyxl.chart import LineChart, Reference
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    title_font = Font(bold=True, size=14)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    unmet_fill = PatternFill("solid", fgColor="F8CBAD")
    total_fill = PatternFill("solid", fgColor="FFF2CC")
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    wb = Workbook()
    wb.properties.creator = "jindu"
    wb.properties.created = ARCHIVE_TIME
    wb.properties.modified = ARCHIVE_TIME

    indicators = data["indicators"]
    units = data["units"]
    total_unit = data["total_unit"]
    rows = {(r["unit"], r["metric"]): r for r in data["rows"]}

    # ---- 指标汇总: townships × indicators (value, rank), the county total last
    ws = wb.active
    ws.title = SHEETS[0]
    ws["A1"] = _text(data.get("title", "指标汇总"))
    ws["A1"].font = title_font
    # which window every figure covers (the bulletins' 1至N月 cumulative window), before how to read ranks
    ws["A2"] = (_text(data["window"] + "。") if data.get("window") else "") + ("排名：1为最好（按指标方向），并列同名次；“—”为分母为0，排在最后；“无台帐”为未提供该指标所需的台帐，"
                "不参与排名。红色底纹：未达到目标。")
    left_out = {r["metric"]: r["excluded_units"] for r in data["rows"] if r.get("excluded_units")}
    ws.cell(3, 1, "镇街").font = bold
    ws.cell(4, 1, "")
    for j, ind in enumerate(indicators):
        c = 2 + 2 * j
        ws.cell(3, c, _text(ind["name"]))
        ws.merge_cells(start_row=3, start_column=c, end_row=3, end_column=c + 1)
        target = f"目标{ind['target']}" if ind.get("target") else ""
        ws.cell(4, c, _text(target or "数值"))
        ws.cell(4, c + 1, "排名")
    for r in (3, 4):
        for c in range(1, 2 + 2 * len(indicators)):
            cell = ws.cell(r, c)
            cell.font, cell.fill, cell.alignment = bold, head_fill, center
    for i, unit in enumerate([*units, total_unit]):
        r = 5 + i
        is_total = unit == total_unit and i == len(units)
        ws.cell(r, 1, _text(unit)).font = bold if is_total else Font()
        for j, ind in enumerate(indicators):
            c = 2 + 2 * j
            row = rows.get((unit, ind["id"]))
            if row is None:
                continue
            value = sheet_number(row.get("exact", row.get("value")), ind["format"], ind["decimals"])
            # a missing figure (its ledger not given) is no number, and never 0: the cell says so
            cell = ws.cell(r, c, value if value is not None else ("无台帐" if row.get("missing") else "—"))
            cell.number_format = sheet_number_format(ind["format"], ind["decimals"])
            cell.alignment = Alignment(horizontal="right")
            if row.get("met") is False:
                cell.fill = unmet_fill
            elif is_total:
                cell.fill = total_fill
            if not is_total and row.get("rank") is not None:
                ws.cell(r, c + 1, row["rank"]).alignment = Alignment(horizontal="center")
        if is_total:
            ws.cell(r, 1).fill = total_fill
    names = {ind["id"]: ind["name"] for ind in indicators}
    for k, (mid, towns) in enumerate(sorted(left_out.items(), key=lambda kv: list(names).index(kv[0]))):
        ws.cell(7 + len(units) + k, 1, _text(f"注：{names.get(mid, mid)}的{total_unit}合计不含"
                                             f"{'、'.join(towns)}（未提供所需台帐）。"))
    ws.freeze_panes = "B5"
    ws.column_dimensions["A"].width = 14
    for c in range(2, 2 + 2 * len(indicators)):
        ws.column_dimensions[get_column_letter(c)].width = 11 if c % 2 == 0 else 6

    # ---- 考评得分
    ws = wb.create_sheet(SHEETS[1])
    scores = data.get("scores")
    if not scores:
        ws["A1"] = "未指定考评方案（使用 --scoring 考评方案.toml 给各镇街打分）。"
    else:
        ws["A1"] = _text(scores.get("name", "考评"))
        ws["A1"].font = title_font
        items = scores["items"]
        heads = ["镇街", "得分", "排名"] + [f"{it['name']}（{it['points']}分）" for it in items]
        for c, h in enumerate(heads, start=1):
            cell = ws.cell(3, c, _text(h))
            cell.font, cell.fill, cell.alignment = bold, head_fill, center
        for i, u in enumerate(scores["units"]):
            r = 4 + i
            ws.cell(r, 1, _text(u["unit"]))
            score = float(u["score"]) if u["score"] != "—" else "无台帐"  # "—": nothing scorable
            ws.cell(r, 2, score).number_format = sheet_number_format("count", scores.get("decimals", 1))
            ws.cell(r, 3, u["rank"])
            for k, it in enumerate(u["items"]):
                # "—": not scored, its ledger was not given (never 0 points)
                cell = ws.cell(r, 4 + k, float(it["score"]) if it["score"] != "—" else "无台帐")
                cell.number_format = sheet_number_format("count", scores.get("decimals", 1))
                if it.get("met") is False:
                    cell.fill = unmet_fill
        ws.freeze_panes = "B4"
        ws.column_dimensions["A"].width = 14
        for c in range(4, 4 + len(items)):
            ws.column_dimensions[get_column_letter(c)].width = 14

    # ---- 数据问题: findings per township (values already masked), and files that failed
    ws = wb.create_sheet(SHEETS[2])
    heads = ["镇街", "文件", "工作表", "行", "列", "级别", "问题", "取值"]
    for c, h in enumerate(heads, start=1):
        cell = ws.cell(1, c, h)
        cell.font, cell.fill = bold, head_fill
    r = 2
    for f in data.get("failures", []):
        for c, v in enumerate([f.get("unit") or "", f["file"], "", None, "", "错误",
                               "文件无法处理：" + (f.get("error") or ""), ""], start=1):
            ws.cell(r, c, _text(v))
        r += 1
    for f in data.get("findings", []):
        column = f.get("column")
        if column and f.get("column_letter"):
            column = f"{column}（{f['column_letter']}列）"
        vals = [f.get("unit") or "（未归属）", f.get("file"), f.get("sheet"), f.get("row"), column,
                f.get("severity"), f.get("message"), f.get("value")]
        for c, v in enumerate(vals, start=1):
            ws.cell(r, c, _text(v))
        r += 1
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:H{max(r - 1, 1)}"
    for col, width in zip("ABCDEFGH", (12, 24, 16, 6, 14, 6, 50, 20)):
        ws.column_dimensions[col].width = width

    # ---- 趋势: per key rate, a block (townships × months) and a native line chart beside it
    ws = wb.create_sheet(SHEETS[3])
    trend = data.get("trend") or {}
    months = trend.get("months", [])
    series_units = [*units, total_unit]
    r = 1
    for ind in trend.get("metrics", []):
        top = r
        ws.cell(r, 1, _text(ind["name"])).font = title_font
        r += 1
        ws.cell(r, 1, "镇街").font = bold
        for k, m in enumerate(months):
            ws.cell(r, 2 + k, m).font = bold
        head_row = r
        for u in series_units:
            r += 1
            ws.cell(r, 1, _text(u))
            for k, v in enumerate(trend["values"].get(u, {}).get(ind["id"], [])):
                if v is not None:
                    cell = ws.cell(r, 2 + k, sheet_number(v, ind["format"], ind["decimals"]))
                    cell.number_format = sheet_number_format(ind["format"], ind["decimals"])
        if months and series_units:
            chart = LineChart()
            chart.title = xml_text(ind["name"])
            chart.y_axis.title = xml_text(ind["name"])
            chart.x_axis.title = "月份"
            chart.y_axis.number_format = sheet_number_format(ind["format"], 0)
            chart.height, chart.width = 7.5, 16
            values = Reference(ws, min_col=1, max_col=1 + len(months), min_row=head_row + 1, max_row=r)
            chart.add_data(values, from_rows=True, titles_from_data=True)
            chart.set_categories(Reference(ws, min_col=2, max_col=1 + len(months), min_row=head_row))
            ws.add_chart(chart, f"{get_column_letter(3 + len(months))}{top}")
        r = max(r + 2, top + 17)  # leave room for the chart before the next block
    if not trend.get("metrics"):
        ws["A1"] = "无趋势数据。"
    ws.column_dimensions["A"].width = 14

    buf = io.BytesIO()
    wb.save(buf)
    return _deterministic(buf.getvalue())


def write_summary_xlsx(path: str | Path, data: dict) -> None:
    atomic_write_bytes(Path(path), build_workbook(data))
