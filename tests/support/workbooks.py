"""Ledger workbooks written from records (dicts keyed by canonical column names, as samples.py makes them):
canonical workbooks, CSV folders and the "messy" style offices really keep. Used by the tests, the sample
script and the benchmarks; nothing a user runs needs them. The same records give the same bytes."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from jindu_metrics import schema
from jindu_metrics.outputs import atomic_write_bytes
from jindu_metrics.outputs.compute import neutralize
from jindu_metrics.outputs.template import DATE_FORMAT, _letter, cell_text, column_width
from jindu_metrics.outputs.template import save_workbook as _save


def write_canonical(records: Mapping[str, Iterable[Mapping]], path: str | Path) -> Path:
    """A canonical workbook: one sheet per ledger kind present in `records` (schema order), canonical headers,
    real Excel dates, IDs as text. Uses openpyxl write-only mode, so county-sized data is written fast."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for kind_id, kind in schema.KINDS.items():
        if kind_id not in records:
            continue
        ws = wb.create_sheet(kind.name)
        cols = kind.columns
        for i, c in enumerate(cols, start=1):
            ws.column_dimensions[_letter(i)].width = column_width(c)
        ws.freeze_panes = "A2"
        header = []
        for c in cols:
            cell = WriteOnlyCell(ws, value=c.name)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        date_idx = [i for i, c in enumerate(cols) if c.type == schema.DATE]
        id_idx = [i for i, c in enumerate(cols) if c.type == schema.ID]
        names = [c.name for c in cols]
        for rec in records[kind_id]:
            row: list[object] = [cell_text(rec.get(n)) for n in names]
            for i in date_idx:
                if row[i] is not None:
                    cell = WriteOnlyCell(ws, value=row[i])
                    cell.number_format = DATE_FORMAT
                    row[i] = cell
            for i in id_idx:
                if row[i] is not None:
                    cell = WriteOnlyCell(ws, value=str(row[i]))
                    cell.number_format = "@"
                    row[i] = cell
            ws.append(row)
    return _save(wb, Path(path))


def write_csv(records: Mapping[str, Iterable[Mapping]], folder: str | Path, encoding: str = "utf-8-sig") -> list[Path]:
    """One CSV per ledger kind (file name = the ledger's Chinese name), canonical headers, ISO dates."""
    folder = Path(folder)
    paths = []
    for kind_id, kind in schema.KINDS.items():
        if kind_id not in records:
            continue
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        names = kind.column_names
        w.writerow(names)
        for rec in records[kind_id]:
            row = []
            for n in names:
                v = cell_text(rec.get(n))
                if isinstance(v, dt.date):
                    v = v.isoformat()
                row.append("" if v is None else neutralize(v))
            w.writerow(row)
        path = folder / f"{kind.name}.csv"
        atomic_write_bytes(path, buf.getvalue().encode(encoding))
        paths.append(path)
    return paths




# --- "Messy" style: ledgers the way offices really keep them (see ledgers.md, Leniency) -----------------

# Per kind: canonical column -> header as offices write it (aliases, 繁体, 是否…); extra leading 序号 column.
MESSY_HEADERS: dict[str, dict[str, str]] = {
    "persons": {"公民身份号码": "身份证号码", "所属村居": "村(居)", "所属镇街": "镇街", "初次发现日期": "初次发现时间",
                "末次查获日期": "查获日期", "滥用毒品种类": "毒品种类", "管控等级": "管控级别",
                "纳入网格化": "是否纳入网格化管理", "病残": "是否病残"},
    "seizures": {"查处日期": "查获日期", "公民身份号码": "身份证号", "所属村居": "村居", "处置结果": "处理结果",
                 "新发现": "是否新发现"},
    "community": {"公民身份号码": "公民身份號碼", "决定日期": "決定日期", "所属村居": "社区", "报到日期": "報到日期"},
    "contacts": {"日期": "帮教日期", "公民身份号码": "身份证号码", "方式": "帮教方式", "结果": "检测结果"},
    "publicity": {"日期": "宣传日期", "形式": "宣传形式", "单位": "开展单位", "受教育人数": "受教育人次"},
    "units": {"所属村居": "村(居)", "所属镇街": "镇街", "禁毒社工": "禁毒社工人数", "网格员": "网格员人数"},
}
MESSY_SHEETS = {"persons": "吸毒人员登记台账", "seizures": "查处台账", "community": "社区戒毒社区康复台账",
                "contacts": "帮教管控台账", "publicity": "禁毒宣传台账", "units": "单位基本情况"}
# Two-row header: these persons columns sit under a merged 外来人员 cell.
MESSY_GROUP = ("外来人员", ("已见面", "已建档"))
MESSY_VARIANTS = {"刑事拘留": "刑拘", "强制隔离戒毒": "强戒", "社区戒毒": "社戒", "行政拘留": "行拘",
                  "一级": "高", "二级": "中", "三级": "低"}
_DATE_FORMS = (
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month}.{d.day}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d:%Y%m%d}",
)


def messy_value(col: schema.Column, value: object, rng, id15: Mapping[str, str] | None = None,
                text_dates: float = 0.5) -> object:
    """One value as a hand-kept ledger holds it: dates typed as text in mixed forms, flags as √/×, Y/N, 1/0,
    category abbreviations, IDs with spaces, lower-case x or as the 15-digit first-generation number."""
    if value is None:
        return None
    if col.type == schema.DATE:
        return rng.choice(_DATE_FORMS)(value) if rng.random() < text_dates else value
    if col.type == schema.FLAG:
        return rng.choice(("√", "Y", "1", "是")) if value else rng.choice(("×", "N", "0", "否"))
    if col.type == schema.ID:
        v = str(value)
        if id15 and v in id15 and rng.random() < 0.8:
            return id15[v]
        r = rng.random()
        if r < 0.15:
            return f"{v[:6]} {v[6:14]} {v[14:]}"
        if r < 0.25:
            return f" {v} "
        return v.lower() if v.endswith("X") and r < 0.6 else v
    if (col.type == schema.CATEGORY and value in MESSY_VARIANTS and col.name != "类别" and rng.random() < 0.5
            and col.name in ("处置结果", "人员状态", "管控等级")):
        return MESSY_VARIANTS[value]
    return value


def messy_rows(kind_id: str, records: Iterable[Mapping], rng, id15=None, text_dates: float = 0.5):
    """Headers and rows of one ledger in messy style (a 序号 column first)."""
    kind = schema.KINDS[kind_id]
    headers = ["序号"] + [MESSY_HEADERS[kind_id].get(c.name, c.name) for c in kind.columns]
    rows = []
    for i, rec in enumerate(records, start=1):
        rows.append([i] + [messy_value(c, rec.get(c.name), rng, id15, text_dates) for c in kind.columns])
    return headers, rows


def write_messy_xlsx(records: Mapping[str, Iterable[Mapping]], path: str | Path, rng, *, unit: str,
                     as_of: str, id15: Mapping[str, str] | None = None) -> Path:
    """A hand-kept workbook: a merged title row and a note row above the header, the persons sheet with a
    two-row header (外来人员 merged over 已见面/已建档), alias and 繁体 headers, text dates, flag and category
    variants, a 合计 row and a 填表人 footnote under each ledger."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    wb.remove(wb.active)
    for kind_id in schema.KINDS:
        if kind_id not in records:
            continue
        recs = list(records[kind_id])
        headers, rows = messy_rows(kind_id, recs, rng, id15)
        ws = wb.create_sheet(MESSY_SHEETS[kind_id])
        ncol = len(headers)
        ws.cell(row=1, column=1, value=f"{unit}{MESSY_SHEETS[kind_id]}").font = Font(bold=True, size=16)
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncol)
        ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
        ws.cell(row=2, column=1, value=f"填报单位：{unit}禁毒办　　　　截至：{as_of}")
        top = 4
        if kind_id == "persons":
            group, subs = MESSY_GROUP
            sub_idx = [headers.index(s) for s in subs]
            for j, h in enumerate(headers, start=1):
                if j - 1 in sub_idx:
                    ws.cell(row=top + 1, column=j, value=h)
                else:
                    ws.cell(row=top, column=j, value=h)
                    ws.merge_cells(start_row=top, start_column=j, end_row=top + 1, end_column=j)
            ws.cell(row=top, column=sub_idx[0] + 1, value=group)
            ws.merge_cells(start_row=top, start_column=sub_idx[0] + 1, end_row=top, end_column=sub_idx[-1] + 1)
            first_data = top + 2
        else:
            for j, h in enumerate(headers, start=1):
                ws.cell(row=top, column=j, value=h)
            first_data = top + 1
        for i, row in enumerate(rows):
            for j, v in enumerate(row, start=1):
                if v is None:
                    continue
                cell = ws.cell(row=first_data + i, column=j, value=v)
                if isinstance(v, (dt.date, dt.datetime)):
                    cell.number_format = "yyyy年m月d日"
                elif isinstance(v, str) and j > 1 and headers[j - 1] in ("身份证号码", "公民身份號碼"):
                    cell.number_format = "@"
        end = first_data + len(rows)
        ws.cell(row=end, column=1, value="合计")
        ws.cell(row=end, column=2, value=f"{len(rows)}条")
        ws.cell(row=end + 1, column=1, value="填表人：禁毒办　　审核人：禁毒办主任")
        for j in range(1, ncol + 1):
            ws.column_dimensions[_letter(j)].width = 20 if j > 1 else 6
    return _save(wb, Path(path))
