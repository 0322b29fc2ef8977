"""The worklist files (`jindu todo --format csv|xlsx`): CSV for scripts, a printable xlsx for the office.

Both carry the persons masked unless show_pii; cells pass through sheet_text (never a formula).
"""

from __future__ import annotations

from .compute import deterministic_zip, neutralize, put_cell, xlsx_workbook

HEADERS = ("单位", "到期日", "事项", "姓名", "公民身份号码", "说明", "文件", "工作表", "行", "kind")
# the printed sheet: what a 专干 reads on paper (kind, the file and the unit are said elsewhere)
SHEET_HEADERS = ("到期日", "事项", "姓名", "公民身份号码", "说明", "工作表", "行")
SHEET_WIDTHS = (11, 10, 8, 20, 70, 22, 6)


def _fields(d: dict) -> dict:
    from pathlib import Path

    return {"单位": d["unit"], "到期日": d["due"] or "", "事项": d["label"], "姓名": d["姓名"],
            "公民身份号码": d["公民身份号码"], "说明": d["description"], "文件": Path(d["file"]).name,
            "工作表": d["sheet"], "行": d["row"], "kind": d["kind"]}


def _lines(text: str, width: int) -> int:
    """Lines `text` takes in a wrapped cell `width` characters wide (CJK counts two): spreadsheet programs do
    not grow a row for wrapped text written by XlsxWriter, so the row height is set from it."""
    import unicodedata

    used = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return max(1, -(-used // width))


def todo_csv(wl, show_pii: bool = False) -> bytes:
    """UTF-8 with BOM (Excel/WPS open it as Chinese), one row per item, formula-like text neutralized."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(HEADERS)
    for it in wl.items:
        f = _fields(it.to_dict(show_pii, wl.names))
        w.writerow([neutralize(f[h]) for h in HEADERS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def title(wl, show_pii: bool = False) -> str:
    """The worklist's heading: its unit, its day and how far it looks ahead (every output names its window)."""
    from datetime import timedelta

    until = wl.date + timedelta(days=wl.days)
    return f"{wl.label(wl.unit, show_pii)}待办清单（{wl.date.isoformat()}，列出至 {until.isoformat()} 到期的事项）"


def todo_xlsx(wl, show_pii: bool = False) -> bytes:
    """One printable sheet: title and 待办 counts on top, then each unit's items under a unit row; A4
    landscape, one page wide, the column header row repeated on every page."""
    import io

    buf = io.BytesIO()
    wb = xlsx_workbook(buf)
    ws = wb.add_worksheet("待办清单")
    bold = wb.add_format({"bold": True, "font_size": 14})
    plain = wb.add_format({"text_wrap": True, "valign": "top"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "align": "center", "valign": "vcenter"})
    unit_fmt = wb.add_format({"bold": True, "bg_color": "#F2F2F2", "border": 1})
    cell = wb.add_format({"border": 1, "valign": "top"})
    wrap = wb.add_format({"border": 1, "valign": "top", "text_wrap": True})
    last_col = len(SHEET_HEADERS) - 1
    ws.merge_range(0, 0, 0, last_col, "", bold)
    put_cell(ws, 0, 0, title(wl, show_pii), bold)
    ws.merge_range(1, 0, 1, last_col, "", plain)
    put_cell(ws, 1, 0, wl.counts_text(), plain)
    r = 2
    for note in wl.notes:
        ws.merge_range(r, 0, r, last_col, "", plain)
        put_cell(ws, r, 0, f"注：{note}", plain)
        r += 1
    header_row = r + 1
    for c, h in enumerate(SHEET_HEADERS):
        put_cell(ws, header_row, c, h, head)
    r = header_row + 1
    for unit, items in wl.units().items():
        ws.merge_range(r, 0, r, last_col, "", unit_fmt)
        put_cell(ws, r, 0, f"{wl.label(unit, show_pii)}（{len(items)} 项）", unit_fmt)
        r += 1
        for it in items:
            f = _fields(it.to_dict(show_pii, wl.names))
            lines = 1
            for c, h in enumerate(SHEET_HEADERS):
                put_cell(ws, r, c, f[h], wrap if h in ("说明", "工作表") else cell)
                if h in ("说明", "工作表"):
                    lines = max(lines, _lines(str(f[h]), SHEET_WIDTHS[c]))
            if lines > 1:
                ws.set_row(r, 15 * lines)
            r += 1
    for i, w in enumerate(SHEET_WIDTHS):
        ws.set_column(i, i, w)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(header_row)
    ws.fit_to_pages(1, 0)  # one page wide, as many pages long as it takes
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.freeze_panes(header_row + 1, 0)
    wb.close()
    return deterministic_zip(buf.getvalue())
