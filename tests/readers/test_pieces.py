"""The largest sheet parsed in pieces during its scan (xlsx/pieces.py) gives what the whole-sheet parse gives:
on the samples, the messy sample, generated county workbooks (clean and formatted far below the data) and
generated sheets with gaps, blank columns, mixed types, dates and a stray far cell."""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import zipfile
from pathlib import Path

import pyarrow as pa
import pytest
from builders import PERSON_HEADER, patch_sheet, person_rows, write_xlsx
from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics.ledgers.sources.grid import find_header
from jindu_metrics.ledgers.sources.sheet import MAX_CELLS
from jindu_metrics.ledgers.sources.xlsx import fast, pieces
from jindu_metrics.ledgers.sources.xlsx.pieces import Refused, join

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import generate  # noqa: E402


def _values(loaded) -> list:
    """Every column of a body's load as (type name, value) per row: 1 and 1.0, a date and a datetime differ."""
    if loaded is None:
        return None
    cols, n = loaded
    out = []
    for col in cols:
        if isinstance(col, tuple):
            codes, uniq = col
            out.append([None if c < 0 else (type(uniq[c]).__name__, uniq[c]) for c in codes.tolist()])
        else:
            out.append([None if v is None else (type(v).__name__, v) for v in col.tolist()])
    return [n, out]


def _read(path, *, pieced: bool) -> tuple[dict, fast._Book]:
    """{sheet: (load, merged, unknown cells, dropped)} through the fast path, the largest sheet in pieces
    (`pieced`) or whole."""
    parts = fast.read(path, MAX_CELLS, scan_ahead=pieced)
    book = parts[0][2].book
    if not pieced:
        assert not book.pieces
    out = {}
    try:
        for name, head, body in parts:
            header = find_header(name, head, [])
            if header is not None:
                out[name] = (_values(body(header.row + 1)), body.merged, body.cells, body.dropped)
    finally:
        book.close()
    return out, book


def _same(path, monkeypatch, size: int) -> list:
    """Assert pieced == whole; the pieces (pieces.Pieces) of the pieced read."""
    monkeypatch.setattr(pieces, "PIECE_BYTES", size)
    whole, _ = _read(path, pieced=False)
    got, book = _read(path, pieced=True)
    assert got == whole and got  # a ledger was read
    return list(book.pieces.values())


def _parses(monkeypatch) -> list:
    calls: list = []
    real = fast._parse
    monkeypatch.setattr(fast, "_parse", lambda *a: calls.append(a[2]) or real(*a))
    return calls


@pytest.mark.parametrize("path", [ROOT / "sample_ledgers" / "乐平镇台帐.xlsx",
                                  ROOT / "sample_ledgers" / "messy" / "乐平镇禁毒台账（2018年10月）.xlsx"],
                         ids=["sample", "messy"])
def test_samples_read_the_same_in_pieces(path, monkeypatch):
    for p in _same(path, monkeypatch, 2_000):
        assert p.done


@pytest.mark.parametrize("formatted", [False, True], ids=["clean", "formatted"])
def test_county_workbook_reads_the_same_in_pieces(tmp_path, monkeypatch, formatted):
    book = generate.write_xlsx(tmp_path / "county.xlsx", generate.frames(generate.sizes(3000)))
    if formatted:
        # styled empty rows down to row 30,000 (10× the data) and the far blank cell: as far below as the
        # benchmark's copy to row 200,000 for the guard, at a seventh of the XML to read twice
        monkeypatch.setattr(generate, "FORMATTED_ROWS", 30_000)
        out = tmp_path / "formatted.xlsx"
        with zipfile.ZipFile(book) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                body = src.read(info.filename)
                if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename):
                    body = generate._pad_sheet(body.decode("utf-8")).encode("utf-8")
                dst.writestr(info, body)
        book = out
    calls = _parses(monkeypatch)
    (p,) = _same(book, monkeypatch, 20_000)
    assert p.ok and len(p.first_row) > 5  # really read in pieces: each piece parsed once, nothing whole after
    assert calls.count(0) >= len(p.first_row) - 1


def test_the_second_read_thread_helps_with_the_pieces(tmp_path, monkeypatch):
    """Prefetch has the second read thread parse the largest sheet's pieces before its own sheets."""
    import threading

    from jindu_metrics.ledgers.sources import xlsx

    book = generate.write_xlsx(tmp_path / "county.xlsx", generate.frames(generate.sizes(3000)))
    monkeypatch.setattr(pieces, "PIECE_BYTES", 20_000)
    helped: list = []
    real = fast._Book.help
    monkeypatch.setattr(fast._Book, "help", lambda self, m, start: helped.append(
        (m, threading.current_thread().name)) or real(self, m, start))
    reading = xlsx.read(book, "county.xlsx", threads=True)
    try:
        sheets = {s.name: s.rows for s in reading}
    finally:
        reading.close()
    assert helped == [("xl/worksheets/sheet4.xml", helped[0][1])] and helped[0][1].startswith("jindu-read")
    assert sheets["帮教管控台帐"] == generate.sizes(3000)["contacts"]


_CELL = st.one_of(st.none(), st.integers(-5, 5), st.sampled_from(["a", "乙", " ", "x y"]),
                  st.floats(-1e3, 1e3, allow_nan=False).map(lambda f: round(f, 2)),
                  st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)), st.booleans())


# A cell of a column of one kind. Built once, and an empty cell drawn as a coin: a one_of(none(), kind) made
# per cell was validated per cell, and even built once builds a new choice per draw (3/4 of the test's time).
_BY_KIND = {"int": st.integers(0, 10 ** 6), "text": st.sampled_from(["甲", "b", "c d"]),
            "date": st.dates(dt.date(2000, 1, 1), dt.date(2025, 1, 1)),
            "float": st.floats(0, 9).map(lambda f: round(f, 3)), "blank": st.none()}
_EMPTY = st.booleans()


@st.composite
def _sheets(draw):
    """A ledger-like sheet: a title row or not, the header, rows with gaps of empty rows, columns of one type
    (a cell of another now and then), blank columns, a stray cell far below or right."""
    width = len(PERSON_HEADER)
    kinds = draw(st.lists(st.sampled_from(list(_BY_KIND)), min_size=width, max_size=width))
    rows = [["台帐"] + [None] * (width - 1)] if draw(st.booleans()) else []
    rows.append(list(PERSON_HEADER))
    for _ in range(draw(st.integers(0, 300))):
        if draw(st.integers(0, 9)) == 0:
            rows.extend([[None] * width] * draw(st.integers(1, 30)))  # a gap of empty rows
            continue
        rows.append([None if draw(_EMPTY) else draw(_BY_KIND[k]) for k in kinds])
    if len(rows) > 2 and draw(st.integers(0, 3)) == 0:  # one cell of another type
        rows[draw(st.integers(1, len(rows) - 1))][draw(st.integers(0, width - 1))] = draw(_CELL)
    stray = draw(st.sampled_from([None, "below", "right", "blank-below"]))
    return rows, stray


@settings(max_examples=40, deadline=None)
@given(_sheets(), st.integers(150, 3000))
def test_generated_sheets_read_the_same_in_pieces(tmp_path_factory, sheet, size):
    import openpyxl

    rows, stray = sheet
    path = tmp_path_factory.mktemp("pieces") / "t.xlsx"
    write_xlsx(path, {"台帐": rows})
    if stray:
        wb = openpyxl.load_workbook(path)
        ws = wb["台帐"]
        cell = {"below": (len(rows) + 400, 2), "right": (len(rows) // 2 + 1, 40),
                "blank-below": (len(rows) + 9000, 1)}[stray]
        ws.cell(*cell, value=" " if stray == "blank-below" else "x")
        wb.save(path)
    with pytest.MonkeyPatch.context() as mp:
        _same(path, mp, size)


def _t(**cols) -> pa.Table:
    return pa.table(cols)


def test_join_puts_back_the_empty_rows_between_pieces():
    first = _t(a=pa.array([1.0, 2.0]), b=pa.array(["x", None]))
    # piece 1 begins at row 10: its table starts with the empty row above it (row 9)
    second = _t(a=pa.array([None, 3.0]), b=pa.array([None, "y"]))
    got = join([first, second], [0, 10], 1)  # header at row 1: piece 0 holds rows 2-3, rows 4-9 are empty
    assert got.column("a").to_pylist() == [1.0, 2.0, None, None, None, None, None, None, 3.0]
    assert got.column("b").to_pylist() == ["x", None, *[None] * 6, "y"]


def test_join_types_a_column_empty_in_a_piece_as_in_the_others():
    first = _t(a=pa.array([1.5]), b=pa.array([dt.datetime(2020, 1, 1)]))
    second = _t(a=pa.array([None, None], pa.string()), b=pa.array([None, dt.datetime(2021, 1, 1)]))
    got = join([first, second], [0, 3], 1)
    assert got.schema == first.schema and got.column("a").to_pylist() == [1.5, None]


@pytest.mark.parametrize("tables, rows", [
    ([_t(a=pa.array([1.0])), _t(b=pa.array([None, 1.0]))], [0, 5]),  # names differ
    ([_t(a=pa.array([1.0])), _t(a=pa.array([None, "x"]))], [0, 5]),  # two types
    ([_t(a=pa.array([1.0])), _t(a=pa.array([2.0, 1.0]))], [0, 5]),  # a value above the piece's first row
    ([_t(a=pa.array([1.0, 2.0, 3.0])), _t(a=pa.array([None, 1.0]))], [0, 3]),  # pieces overlap
], ids=["names", "types", "above", "overlap"])
def test_join_refuses_what_the_whole_sheet_might_read_otherwise(tables, rows):
    with pytest.raises(Refused):
        join(tables, rows, 1)


def test_a_piece_refused_by_the_parser_reads_the_whole_sheet(tmp_path, monkeypatch):
    """A column of numbers with text far down: its piece is refused (strict types), and the whole sheet
    is parsed as today (here refused too: the exact path reads it)."""
    rows = [PERSON_HEADER] + [["甲", "x", "村", "镇", "类", i, "", ""] for i in range(400)]
    rows.append(["乙", "x", "村", "镇", "类", "文字", "", ""])
    path = write_xlsx(tmp_path / "t.xlsx", {"台帐": rows})
    (p,) = _same(path, monkeypatch, 300)
    assert p.ok and len(p.first_row) > 3


def test_the_scan_ends_every_wait_when_it_fails():
    """A scan that raises (damaged XML, too large) still ends the pieces: no parser waits for ever."""
    p = pieces.Pieces(100)
    p.finish(None, False)
    assert p.table(lambda k, raw: pytest.fail("nothing to parse"), 1) is None


def test_package_leaves_its_base_unchanged(tmp_path):
    from jindu_metrics.ledgers.sources.xlsx import extent

    path = write_xlsx(tmp_path / "t.xlsx", {"a": [["x"]], "b": [["y"]]})
    pkg = extent.Package(path, "xl/worksheets/sheet1.xml", {"xl/worksheets/sheet2.xml"})
    one, two = pkg.stored([b"<one/>"]), pkg.stored([b"<two/>", b"<more/>"])
    assert zipfile.ZipFile(io.BytesIO(one)).read("xl/worksheets/sheet1.xml") == b"<one/>"
    z = zipfile.ZipFile(io.BytesIO(two))
    assert z.testzip() is None and z.read("xl/worksheets/sheet1.xml") == b"<two/><more/>"


@pytest.mark.parametrize("edit, pieced", [
    # placed by position from row 100 on: scanned again through Numbered, parsed whole
    (lambda xml: re.sub(rb'(<(?:row|c)\b[^>]*?) r="[A-Z]*\d{3,}"', rb"\1", xml), False),
    (lambda xml: xml.replace(b'<c r="A300"', b'<c r="A300" t="e"><v>#N/A</v></c><c r="Q300"', 1), True),  # error cell
    # merged data cells: the pieces are joined, then refused as the whole table is (the exact path reads it)
    (lambda xml: xml.replace(b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="B250:B251"/>'
                             b"</mergeCells>", 1), True),
], ids=["positional", "error-cell", "merged"])
def test_what_the_guard_reads_otherwise_reads_the_same_in_pieces(tmp_path, monkeypatch, edit, pieced):
    src = write_xlsx(tmp_path / "src.xlsx", {"吸毒人员登记台帐": [PERSON_HEADER, *person_rows() * 120]})
    path = patch_sheet(src, tmp_path / "t.xlsx", edit)
    (p,) = _same(path, monkeypatch, 2_000)
    assert p.ok == pieced and p.done
