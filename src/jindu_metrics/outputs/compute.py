"""Writing outputs: CSV/xlsx escaping of formula-like text (OWASP CSV injection), XML-safe text, the
compute CSV/xlsx files. Where and how a file is written (checks, atomic rename) is outputs/__init__'s."""

from __future__ import annotations

import re
from datetime import datetime

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold (xlsx and docx are XML): C0 controls but tab/newline/CR, lone surrogates,
# U+FFFE/U+FFFF. openpyxl and python-docx raise on them.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def neutralize(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def xml_text(text: str) -> str:
    """`text` with every character XML cannot hold shown as its escape (\\x01), so that it stays visible."""
    return _XML_ILLEGAL.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


def sheet_text(value: object) -> object:
    """A value as it goes into a spreadsheet cell: formula-like text neutralized, illegal characters escaped."""
    if isinstance(value, str):
        return xml_text(neutralize(value))
    return value


# ---------------------------------------------------------------- compute rows (jindu compute)
COMPUTE_HEADERS = ("统计期", "单位", "指标代码", "指标", "分子", "分母", "数值", "显示值", "目标", "达标", "差距",
                   "环比", "环比变化", "同比", "同比变化", "说明")
# The one archive time of every file jindu writes (zip entries of xlsx/docx, their document times unless a
# writer has a meaningful date of its own): same input, same bytes, whatever the clock says.
ARCHIVE_TIME = datetime(2000, 1, 1, 0, 0, 0)
ARCHIVE_STAMP = ARCHIVE_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")


def _met_text(met: bool | None) -> str:
    return "" if met is None else ("是" if met else "否")


def compute_headers(result) -> tuple[str, ...]:
    """COMPUTE_HEADERS, with the base year's two columns before 说明 when --baseline was given."""
    base = getattr(result, "baseline", None)
    if base is None:
        return COMPUTE_HEADERS
    y = base.start.year
    return (*COMPUTE_HEADERS[:-1], f"较{y}年", f"较{y}年变化", COMPUTE_HEADERS[-1])


_COMPARED = (("previous", "环比"), ("yoy", "同比"), ("baseline", "基准年"))


def _why(r) -> str:
    """说明: why the value is absent, else why a comparison asked for is absent (its cells are empty then)."""
    if r.reason or r.absent:
        return r.reason
    notes = getattr(r, "comparison_notes", None) or {}
    return "；".join(f"{word}无数值：{notes[n]}" for n, word in _COMPARED if notes.get(n))


def compute_records(result) -> list[list]:
    """One list per MetricRow, in compute_headers(result) order (numbers stay numbers)."""
    label = result.period.label
    base = getattr(result, "baseline", None) is not None
    out = []
    for r in result.rows:
        b = [r.baseline.display if r.baseline else "", r.baseline.change_display if r.baseline else ""] if base else []
        out.append([
            label, r.unit, r.metric, r.name, r.numerator, r.denominator, r.value, r.display,
            r.target or "", _met_text(r.met), r.gap,
            r.previous.display if r.previous else "", r.previous.change_display if r.previous else "",
            r.yoy.display if r.yoy else "", r.yoy.change_display if r.yoy else "", *b,
            _why(r),  # why there is no value: 分母为0：… / 未提供帮教管控台帐 (empty cells then, never 0)
        ])
    return out


def compute_csv(result) -> bytes:
    """UTF-8 with BOM (Excel/WPS open it as Chinese), formula-like text neutralized."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(compute_headers(result))
    for rec in compute_records(result):
        w.writerow(["" if v is None else neutralize(v) for v in rec])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def deterministic_zip(data: bytes, *, core_time: str | None = ARCHIVE_STAMP,
                      drop: frozenset[str] = frozenset(), only_modified: bool = False) -> bytes:
    """Rewrite an OOXML zip with fixed entry times (and core-property times): same input, same bytes.

    openpyxl and python-docx stamp 'now' into both. `core_time=None` keeps docProps/core.xml as written;
    `only_modified`: set dcterms:modified only (a copy of a user's workbook keeps its creation time);
    `drop` removes parts (and their package relationships), e.g. python-docx's stock thumbnail.
    """
    import io
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml" and core_time is not None:
                which = rb"modified" if only_modified else rb"created|modified"
                body = re.sub(rb"(<dcterms:(" + which + rb")[^>]*>)[^<]*(</dcterms:\2>)",
                              rb"\g<1>" + core_time.encode() + rb"\g<3>", body)
            elif info.filename == "_rels/.rels":
                for name in drop:
                    body = re.sub(rb'<Relationship [^>]*Target="/?' + re.escape(name.encode()) + rb'"/>', b"", body)
            zi = zipfile.ZipInfo(info.filename, date_time=ARCHIVE_TIME.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, body)
    return out.getvalue()


def xlsx_workbook(buf):
    """An XlsxWriter workbook writing to `buf`, as every jindu-made xlsx but init's template: in memory, no
    guessing of numbers, formulas or links from text, the one archive time as its creation time."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                                   "strings_to_urls": False})
    wb.set_properties({"author": "jindu", "created": ARCHIVE_TIME})
    return wb


def put_cell(ws, row: int, col: int, value, cell_format=None) -> None:
    """One XlsxWriter cell, typed as its value is: text through sheet_text (never a formula), numbers as
    numbers; an empty value leaves the cell out, or blank with its format when it has one."""
    if value is None or value == "":
        if cell_format is not None:
            ws.write_blank(row, col, None, cell_format)
    elif isinstance(value, str):
        ws.write_string(row, col, sheet_text(value), cell_format)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, cell_format)
    else:
        ws.write_number(row, col, value, cell_format)


def compute_xlsx(result, catalog=None) -> bytes:
    """One styled sheet: the window in words on row 1, a bold frozen header on row 2, widths, the value cells
    formatted as the indicator (percent...).

    Written by XlsxWriter, cell by typed cell (write_string never turns text into a formula): a county's
    `--by 所属村居` table is 10⁴–10⁵ cells, which openpyxl's cell objects took 2 s to write, XlsxWriter 0.5 s.
    """
    import io

    from ..metrics.display import sheet_number, sheet_number_format

    formats = {}
    if catalog is not None:
        formats = {i.id: (i.format, i.decimals) for i in catalog.indicators}
    buf = io.BytesIO()
    wb = xlsx_workbook(buf)
    from ..periods import comparisons_note, window_note

    ws = wb.add_worksheet("指标")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "align": "center", "valign": "vcenter"})
    headers = compute_headers(result)
    # row 1 names the window (as every output's first line does), row 2 is the header, data from row 3
    put_cell(ws, 0, 0, f"{result.unit}　{window_note(result.period)}；{comparisons_note(result.period, result.baseline)}",
             wb.add_format({"bold": True}))
    for c, h in enumerate(headers):
        put_cell(ws, 1, c, h, head)
    value_col = COMPUTE_HEADERS.index("数值")
    # the comparison windows' values are numbers too (Excel flags numbers stored as text)
    compared = {headers.index(h): name for h, name in (("环比", "previous"), ("同比", "yoy"))}
    if len(headers) > len(COMPUTE_HEADERS):
        compared[len(COMPUTE_HEADERS) - 1] = "baseline"  # 较YYYY年, just before 说明
    cell_formats: dict[str, object] = {}
    for r, (rec, row) in enumerate(zip(compute_records(result), result.rows), start=2):
        fmt, dec = formats.get(row.metric, ("percent" if row.kind == "ratio" else "count", 1))
        rec[value_col] = sheet_number(row.exact, fmt, dec, rounded=False)  # exact, on the scale of its format
        for c, name in compared.items():
            cmp = getattr(row, name)
            rec[c] = sheet_number(cmp.value, fmt, dec, rounded=False) if cmp is not None else None
        code = sheet_number_format(fmt, dec)
        if code not in cell_formats:
            cell_formats[code] = wb.add_format({"num_format": code})
        for c, v in enumerate(rec):
            # the value cells are formatted also when empty (no value: the reason is in 说明)
            put_cell(ws, r, c, v, cell_formats[code] if c == value_col or c in compared else None)
    widths = (16, 12, 24, 30, 8, 8, 10, 10, 10, 6, 6, 10, 18, 10, 18) + (10, 18) * (len(headers) > 16) + (30,)
    for i, w in enumerate(widths):
        ws.set_column(i, i, w)
    ws.freeze_panes(2, 0)
    wb.close()
    return deterministic_zip(buf.getvalue())
