"""Writing outputs: CSV/xlsx escaping of formula-like text (OWASP CSV injection), XML-safe text, the
compute CSV/xlsx files. Where and how a file is written (checks, atomic rename) is outputs.py's."""

from __future__ import annotations

import re

from .outputs import atomic_write_bytes, atomic_write_text  # noqa: F401 - the writers' historical home

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
_FIXED_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def _met_text(met: bool | None) -> str:
    return "" if met is None else ("是" if met else "否")


def compute_records(result) -> list[list]:
    """One list per MetricRow, in COMPUTE_HEADERS order (numbers stay numbers)."""
    label = result.period.label
    out = []
    for r in result.rows:
        out.append([
            label, r.unit, r.metric, r.name, r.numerator, r.denominator, r.value, r.display,
            r.target or "", _met_text(r.met), r.gap,
            r.previous.display if r.previous else "", r.previous.change_display if r.previous else "",
            r.yoy.display if r.yoy else "", r.yoy.change_display if r.yoy else "",
            r.reason,  # why there is no value: 分母为0：… / 未提供帮教管控台帐 (empty cells then, never 0)
        ])
    return out


def compute_csv(result) -> bytes:
    """UTF-8 with BOM (Excel/WPS open it as Chinese), formula-like text neutralized."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COMPUTE_HEADERS)
    for rec in compute_records(result):
        w.writerow(["" if v is None else neutralize(v) for v in rec])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def deterministic_zip(data: bytes, *, core_time: str | None = "2000-01-01T00:00:00Z",
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
            zi = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            dst.writestr(zi, body)
    return out.getvalue()


def compute_xlsx(result, catalog=None) -> bytes:
    """One styled sheet: bold frozen header, widths, the value cell formatted as the indicator (percent...)."""
    import io
    from datetime import datetime

    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    formats = {}
    if catalog is not None:
        formats = {i.id: (i.format, i.decimals) for i in catalog.indicators}
    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    ws.append(list(COMPUTE_HEADERS))
    for c in ws[1]:
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="DDEBF7")
        c.alignment = Alignment(horizontal="center", vertical="center")
    value_col = COMPUTE_HEADERS.index("数值") + 1
    for excel_row, (rec, row) in enumerate(zip(compute_records(result), result.rows), start=2):
        ws.append([sheet_text(v) for v in rec])
        cell = ws.cell(row=excel_row, column=value_col)  # not ws.max_row: that scans every cell (quadratic)
        fmt, dec = formats.get(row.metric, ("percent" if row.kind == "ratio" else "count", 1))
        d = "." + "0" * dec if dec else ""
        cell.number_format = {"percent": f"0{d}%", "permille": "0.00000", "permyriad": "0.000000", "ratio_n1": "0.00"}.get(fmt, "0")
    widths = (16, 12, 24, 30, 8, 8, 10, 10, 10, 6, 6, 10, 18, 10, 18, 30)
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    ws.freeze_panes = "A2"
    fixed = datetime(2000, 1, 1)
    wb.properties.creator = "jindu"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    return deterministic_zip(buf.getvalue())
