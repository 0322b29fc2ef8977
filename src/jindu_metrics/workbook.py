"""Writing ledger workbooks: the blank template of `jindu init`, canonical workbooks from records, CSV.

Records are dicts keyed by canonical column names holding Python values (str, date, bool, int/float, None),
as `samples.py` produces them. Every writer is deterministic: the same records give the same bytes
(zip entry times and document properties are fixed).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from pathlib import Path

from . import schema
from .export import deterministic_zip, neutralize
from .outputs import atomic_write_bytes

FIXED_TIME = dt.datetime(2018, 1, 1, 0, 0, 0)
DATE_FORMAT = "yyyy-mm-dd"
TEMPLATE_ROWS = 5000  # rows 2..5000 carry the drop-down lists

def normalize_xlsx(data: bytes) -> bytes:
    """Fixed zip entry and document times, so equal content gives equal bytes."""
    return deterministic_zip(data, core_time="2018-01-01T00:00:00Z")


def _save(wb, path: Path) -> Path:
    wb.properties.creator = "jindu"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(Path(path), normalize_xlsx(buf.getvalue()))
    return Path(path)


def cell_text(value: object) -> object:
    """A record value as it goes into a cell or CSV field: flags as 是/否, None as empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def column_width(col: schema.Column) -> float:
    if col.type == schema.ID:
        return 22
    if col.type == schema.DATE:
        return 13
    return max(8, min(24, 2.2 * len(col.name) + 2))


def _letter(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i)


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


_GUIDE = (
    "填表说明",
    "",
    "1. 本工作簿每个工作表是一种台帐，表名和第一行列名请勿修改；列的顺序可以调整，也可以增加本单位自用的列（jindu 会忽略）。",
    "2. 吸毒人员登记台帐每人一行，以公民身份号码为准；其他台帐中的人员必须先在登记台帐中登记。",
    "3. 公民身份号码列已设为文本格式，请直接录入18位号码（末位可为X）；15位老号码也可以。切勿设为数字格式，否则末位会丢失。",
    "4. 日期请录入为 2018-10-05 这样的日期；带下拉箭头的列请从下拉列表中选择。",
    "5. “是/否”列留空按“否”处理。",
    "6. 查处台帐每次查处一行；社区戒毒社区康复台帐每个决定一行；帮教管控台帐每次走访或检测一行；禁毒宣传台帐每次活动一行。",
    "7. 单位信息填写各村居的实有人口、禁毒社工人数和网格员人数（用于万分比和配比指标）。",
    "8. 录入后在工作区文件夹中运行 jindu validate 检查台帐，再运行 jindu compute 计算指标。",
    "",
    "各台帐列说明",
)


def _column_note(col: schema.Column) -> str:
    parts = []
    if col.required:
        parts.append("必填")
    if col.type == schema.FLAG:
        parts.append("是/否")
    elif col.type == schema.DATE:
        parts.append("日期")
    elif col.type == schema.ID:
        parts.append("18位身份证号")
    elif col.type == schema.NUMBER:
        parts.append("数字")
    elif col.type == schema.CATEGORY and col.allowed:
        parts.append("可选：" + "、".join(col.allowed))
    return "；".join(parts)


def write_template(path: str | Path, rows: int = TEMPLATE_ROWS) -> Path:
    """The blank workbook of `jindu init`: one sheet per ledger kind with canonical headers, frozen header
    row, widths, text format on the ID column, date format on date columns, drop-down lists on category and
    flag columns, plus a 填表说明 sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for kind in schema.KINDS.values():
        ws = wb.create_sheet(kind.name)
        ws.freeze_panes = "A2"
        for i, col in enumerate(kind.columns, start=1):
            letter = _letter(i)
            cell = ws.cell(row=1, column=i, value=col.name)
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(horizontal="center")
            dim = ws.column_dimensions[letter]
            dim.width = column_width(col)
            rng = f"{letter}2:{letter}{rows}"
            if col.type == schema.ID:
                dim.number_format = "@"
            elif col.type == schema.DATE:
                dim.number_format = DATE_FORMAT
            if col.type == schema.FLAG:
                dv = DataValidation(type="list", formula1='"是,否"', allow_blank=True,
                                    showErrorMessage=True, errorTitle="输入有误", error="请从下拉列表选择“是”或“否”。")
                dv.add(rng)
                ws.add_data_validation(dv)
            elif col.type == schema.CATEGORY and col.allowed:
                dv = DataValidation(type="list", formula1='"' + ",".join(col.allowed) + '"', allow_blank=True,
                                    showErrorMessage=True, errorStyle="warning" if col.free else "stop",
                                    errorTitle="输入有误", error="请从下拉列表选择：" + "、".join(col.allowed))
                dv.add(rng)
                ws.add_data_validation(dv)
    guide = wb.create_sheet("说明")
    guide.column_dimensions["A"].width = 110
    # One text line per cell in column A: no row of this sheet looks like a ledger header to the reader.
    lines = list(_GUIDE)
    for kind in schema.KINDS.values():
        lines.append(f"【{kind.name}】")
        for col in kind.columns:
            note = _column_note(col)
            lines.append(f"　· {col.name}" + (f"：{note}" if note else ""))
    for r, line in enumerate(lines, start=1):
        guide.cell(row=r, column=1, value=line or None)
    guide.cell(row=1, column=1).font = Font(bold=True, size=14)
    return _save(wb, Path(path))


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
