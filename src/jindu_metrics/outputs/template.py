"""The blank ledger workbook of `jindu init`, and the saving every ledger workbook writer shares: fixed zip
entry and document times, so that equal content gives equal bytes."""

from __future__ import annotations

import io
from pathlib import Path

from .. import schema
from . import atomic_write_bytes
from .compute import ARCHIVE_TIME, deterministic_zip

DATE_FORMAT = "yyyy-mm-dd"
TEMPLATE_ROWS = 5000  # rows 2..5000 carry the drop-down lists

def save_workbook(wb, path: Path) -> Path:
    """Save with the one archive time in every zip entry and document property: equal content, equal bytes."""
    wb.properties.creator = "jindu"
    wb.properties.created = wb.properties.modified = ARCHIVE_TIME
    buf = io.BytesIO()
    wb.save(buf)
    atomic_write_bytes(Path(path), deterministic_zip(buf.getvalue()))
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
    return save_workbook(wb, Path(path))
