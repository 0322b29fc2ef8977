"""The sources' one interface: every format gives the same Sheet (header, columns, rows) for the same table, and
the xlsx guard hands the parser the XML its scan inflated (each sheet inflated once)."""

from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
from builders import PERSON_HEADER, person_rows, write_xlsx

from jindu_metrics.ledgers.sources import ERROR_VALUES, Sheet, open_file, read_rows
from jindu_metrics.ledgers.sources.grid import put_unknown, sheet_of_rows
from jindu_metrics.ledgers.sources.xlsx import extent


def _sheets(path) -> list[Sheet]:
    reading = open_file(path)
    try:
        return sorted(reading, key=lambda s: s.index)
    finally:
        reading.close()


def _values(sheet: Sheet) -> list[list]:
    """The sheet's data rows as text (columns decoded, empty as '')."""
    cols = []
    for col in sheet.columns:
        if isinstance(col, tuple):
            codes, uniq = col
            col = np.append(np.asarray(uniq, dtype=object), None)[np.where(codes < 0, len(uniq), codes)]
        cols.append(["" if v is None else str(v) for v in col])
    return [[c[i] for c in cols] for i in range(sheet.rows)]


def test_every_format_gives_the_same_sheet(tmp_path):
    rows = [PERSON_HEADER] + [[str(v) for v in r] for r in person_rows()]
    xlsx = write_xlsx(tmp_path / "a.xlsx", {"人员": rows})
    with open(tmp_path / "a.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    sheets = [_sheets(xlsx)[0], _sheets(tmp_path / "a.csv")[0]]
    assert all(s.header is not None and s.header.kind == "persons" for s in sheets)
    assert sheets[0].header.columns == sheets[1].header.columns
    assert sheets[0].rows == sheets[1].rows == len(rows) - 1
    width = len(PERSON_HEADER)
    assert [r[:width] for r in _values(sheets[0])] == [r[:width] for r in _values(sheets[1])]


def test_read_rows_gives_every_cell_from_a1(tmp_path):
    rows = [["乐平镇吸毒人员登记台帐"], PERSON_HEADER] + person_rows()
    xlsx = write_xlsx(tmp_path / "a.xlsx", {"人员": rows})
    (got,) = read_rows(xlsx)
    assert got.name == "人员" and got.rows[0][0] == "乐平镇吸毒人员登记台帐" and got.rows[1][: len(PERSON_HEADER)] == PERSON_HEADER


def test_unknown_cells_are_put_back_before_merged_cells_are_filled():
    """An error cell at the top of a merged range: every cell of the range reads as the error."""
    rows = [list(PERSON_HEADER)] + [list(r) for r in person_rows()[:2]]
    col = PERSON_HEADER.index("所属村居")
    rows[1][col] = rows[2][col] = ""
    sheet = sheet_of_rows("人员", 0, rows, [((1, col), (2, col))], {(1, col): "#N/A"})
    assert list(sheet.columns[col]) == ["#N/A", "#N/A"] and "#N/A" in ERROR_VALUES


def test_put_unknown_extends_the_uniques_of_an_encoded_column():
    codes, uniq = np.array([0, -1, 0]), np.array(["a"], dtype=object)
    (got,) = put_unknown([(codes, uniq)], {(11, 0): "#REF!"}, 10, 3)
    assert list(np.append(got[1], None)[got[0]]) == ["a", "#REF!", "a"]
    assert list(codes) == [0, -1, 0]  # the column given is not changed


def test_the_parser_is_handed_the_scanned_xml(monkeypatch):
    """A workbook on the fast path: each worksheet is inflated once, by its scan; fastexcel reads a copy in
    which that sheet is stored (nothing left to inflate) and the others are empty."""
    from pathlib import Path

    from jindu_metrics.ledgers.sources.xlsx import fast

    sample = Path(__file__).resolve().parents[2] / "sample_ledgers" / "乐平镇台帐.xlsx"
    opened: list[str] = []
    real = extent.open_member
    monkeypatch.setattr(extent, "open_member", lambda zf, name: opened.append(name) or real(zf, name))
    handed: list = []
    real_reader = fast._open_reader
    monkeypatch.setattr(fast, "_open_reader", lambda source: handed.append(source) or real_reader(source))
    sheets = _sheets(sample)
    loaded = [s for s in sheets if s.header is not None]
    assert loaded and opened and len(opened) == len(set(opened))  # one scan per sheet
    assert len(handed) == len(loaded) and all(isinstance(h, bytes) for h in handed)
    for data in handed:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            sheets_xml = [i for i in z.infolist() if i.filename.startswith("xl/worksheets/sheet")]
            full = [i for i in sheets_xml if z.read(i) != extent.EMPTY_SHEET]
            assert len(full) == 1 and full[0].compress_type == zipfile.ZIP_STORED


def test_handed_copy_is_the_cut_sheet_stored():
    xml = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
           b'<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
           + b"".join(b'<row r="%d"><c r="A%d" s="1"/></row>' % (i, i) for i in range(2, 2000))
           + b'</sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", xml)
        z.writestr("xl/worksheets/sheet2.xml", xml)
    ext = extent.scan(io.BytesIO(xml), lambda i: "", keep=True)
    assert ext.kept is not None and ext.merged == [((0, 0), (0, 1))]
    expected: list[bytes] = []
    extent.cut_rows(io.BytesIO(xml), expected.append, ext)
    data = extent.handed(buf.getvalue(), "xl/worksheets/sheet1.xml", ext, {"xl/worksheets/sheet2.xml"})
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
        assert info.compress_type == zipfile.ZIP_STORED
        assert z.read(info) == b"".join(expected) and b'r="2"' not in z.read(info)
        assert z.read("xl/worksheets/sheet2.xml") == extent.EMPTY_SHEET
    assert ext.kept is None  # dropped once handed over
