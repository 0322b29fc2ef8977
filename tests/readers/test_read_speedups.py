"""The pieces that make county reads fast keep them exact: ISA-L members, the cut copy's own zip writer, the
scan that skips chunks without cell content, the person lookup, the JSON writer, the switch interval."""

from __future__ import annotations

import io
import json
import sys
import zipfile
import zlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics.ledgers import link
from jindu_metrics.ledgers.sources.xlsx import extent
from jindu_metrics.ledgers.sources.xlsx import fast as fastxlsx
from jindu_metrics.outputs import json_text

NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, body in members.items():
            z.writestr(name, body)
    return buf.getvalue()


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=20_000), st.integers(1, 5000))
def test_isal_member_reads_what_zipfile_reads(body, size):
    zf = zipfile.ZipFile(io.BytesIO(_zip({"a.xml": body * 3})))
    with extent.open_member(zf, "a.xml") as fh:
        got = b"".join(iter(lambda: fh.read(size), b""))
    assert got == zf.read("a.xml")


def test_damaged_member_raises_what_zipfile_raises():
    data = bytearray(_zip({"a.xml": b"<x>" + b"hello world " * 10_000 + b"</x>"}))
    raised = set()
    for pos in range(40, 300, 7):
        d = bytearray(data)
        d[pos] ^= 0xFF
        zf = zipfile.ZipFile(io.BytesIO(bytes(d)))
        try:
            with extent.open_member(zf, "a.xml") as fh:
                fh.read()
        except (zlib.error, zipfile.BadZipFile) as exc:  # what formats.py turns into a Chinese error
            raised.add(type(exc))
        else:
            pytest.fail(f"damage at byte {pos} went unnoticed")
    assert raised  # every damaged copy raised one of the two


def test_cut_copy_is_a_valid_package_with_members_intact():
    rows = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, 50))
    pad = "".join(f'<row r="{r}" s="1" customFormat="1"><c r="A{r}" s="1"/></row>' for r in range(50, 3000))
    sheet = f'<worksheet {NS}><sheetData>{rows}{pad}<row r="1048576"><c r="A1048576" t="inlineStr"><is><t> ' \
            f'</t></is></c></row></sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>'
    src = _zip({"xl/worksheets/sheet1.xml": sheet.encode(), "xl/other.xml": b"<o/>" * 100,
                "xl/worksheets/sheet2.xml": b"<worksheet/>"})
    zf = zipfile.ZipFile(io.BytesIO(src))
    ext = extent.scan(extent.open_member(zf, "xl/worksheets/sheet1.xml"), lambda i: "")
    assert (ext.data_row, ext.last_row) == (49, 1048576) and ext.merged == [((0, 0), (0, 1))]
    data, dropped = extent.cut_copy(src, {"xl/worksheets/sheet1.xml": ext}, lambda i: "", {"xl/worksheets/sheet2.xml"})
    out = zipfile.ZipFile(io.BytesIO(data))
    assert out.testzip() is None and dropped == {}
    assert out.read("xl/other.xml") == b"<o/>" * 100  # copied as stored, CRC checked on reading
    assert out.read("xl/worksheets/sheet2.xml") == extent.EMPTY_SHEET
    cut = out.read("xl/worksheets/sheet1.xml")
    assert cut.startswith(sheet[: len(rows) + 50].encode()) and b'r="50"' not in cut and b"mergeCell" in cut


def _sheet_chunks(cells_after_padding: str) -> bytes:
    pad = "".join(f'<row r="{r}" s="1" customFormat="1"><c r="A{r}" s="1"/><c r="B{r}" s="1"/></row>'
                  for r in range(3, 4000))
    return (f'<worksheet {NS}><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'
            f'<row r="2"><c r="A2" t="e"><v>#DIV/0!</v></c></row>{pad}{cells_after_padding}'
            f'</sheetData></worksheet>').encode()


@pytest.mark.parametrize("chunk", [64, 1000, 4096, 1 << 16, 1 << 24])
def test_scan_skips_empty_chunks_but_not_what_follows_them(monkeypatch, chunk):
    """Chunks of styled empty cells are searched for </sheetData> only; cells after them, and a cell cut by
    a chunk's edge, are all still found, whatever the chunk size."""
    monkeypatch.setattr(extent, "_CHUNK", chunk)
    monkeypatch.setattr(extent, "_CARRY", min(chunk, 1 << 16))
    tail = ('<row r="5000"><c r="AC5000"><f>1/0</f></c><c r="AD5000" t="e"><v>#N/A</v></c></row>'
            '<row r="5001"><c r="B5001" t="inlineStr"><is><t>x</t></is></c></row>')
    ext = extent.scan(io.BytesIO(_sheet_chunks(tail)), lambda i: "")
    assert ext.cells == {(1, 0): "#DIV/0!", (4999, 28): extent_formula(), (4999, 29): "#N/A"}
    assert (ext.data_row, ext.last_row, ext.width) == (5001, 5001, 30)


@pytest.mark.parametrize("cut", range(0, 14))
def test_scan_finds_a_tag_cut_by_a_chunk_edge_after_quiet_chunks(monkeypatch, cut):
    """After chunks of styled empty cells, a cell's end or the end of <sheetData> cut by a chunk's edge
    (`cut` bytes of it before the edge) is found, whether the chunk is searched as 32-bit words (numpy)
    or as bytes."""
    chunk = 1 << 17
    monkeypatch.setattr(extent, "_CHUNK", chunk)
    pad = b"".join(b'<row r="%d"><c r="A%d" s="1"/></row>' % (r, r) for r in range(2, 5000))
    head = f'<worksheet {NS}><sheetData><row r="1"><c r="A1"><v>1</v></c></row>'.encode() + pad
    assert chunk + (1 << 16) < len(head) < 2 * chunk - 100  # the styled cells run across the first edge
    after = b'</sheetData><mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>'
    edge = 2 * chunk  # the second chunk holds styled empty cells only
    cell = b'<row r="9000"><c r="B9000" t="inlineStr"><is><t>x</t></is></c></row>'
    k = cell.index(b"</c>")
    ext = extent.scan(io.BytesIO(head + b" " * (edge - cut - k - len(head)) + cell + after), lambda i: "")
    assert (ext.data_row, ext.width, ext.merged) == (9000, 26, [((0, 0), (0, 1))])
    ext = extent.scan(io.BytesIO(head + b" " * (edge - cut - len(head)) + after), lambda i: "")
    assert (ext.data_row, ext.after) == (1, after)


def extent_formula():
    from jindu_metrics.ledgers.sources import FORMULA_NO_VALUE

    return FORMULA_NO_VALUE


def test_person_rows_first_row_of_each_id_and_none_for_strangers():
    persons = pd.DataFrame({"公民身份号码": ["A", None, "B", "A"], "姓名": ["甲", "乙", "丙", "丁"]})
    ids = pd.Series(["B", "A", None, "C", "A"], dtype=object)
    assert link.person_rows(ids, persons).tolist() == [2, 0, -1, -1, 0]
    assert link.person_rows(ids, persons.iloc[0:0]).tolist() == [-1] * 5


def test_fill_from_persons_fills_only_empty_cells_and_adds_unit_columns():
    persons = pd.DataFrame({"公民身份号码": ["A", "B"], "姓名": ["甲", "乙"], "所属村居": ["一村", None],
                            "所属镇街": ["甲镇", "乙镇"]})
    rows = pd.DataFrame({"公民身份号码": ["A", "B", "C", None], "姓名": [None, "自填", None, None],
                         "所属村居": [None, None, None, "三村"]}, dtype=object)
    same = link.fill_from_persons(rows, persons, add=False)
    assert same["姓名"].tolist() == ["甲", "自填", None, None] and "所属镇街" not in same
    assert same["所属村居"].tolist() == ["一村", None, None, "三村"]
    added = link.fill_from_persons(rows, persons, add=True)
    assert added["所属镇街"].tolist() == ["甲镇", "乙镇", None, None] and added["所属镇街"].dtype == object
    assert rows["姓名"].tolist() == [None, "自填", None, None]  # the input frame is not written into


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                                max_size=4), max_leaves=20)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_json_text_is_the_same_document(doc):
    text = json_text(doc)
    assert json.loads(text) == doc and text.endswith("\n")


def test_json_text_puts_a_flat_object_on_one_line():
    text = json_text({"findings": [{"code": "x", "row": 3}, {"code": "y", "row": None}], "n": 2})
    assert text.splitlines() == ["{", '  "findings": [', '    {"code": "x", "row": 3},',
                                 '    {"code": "y", "row": null}', "  ],", '  "n": 2', "}"]


def test_switch_interval_restored_after_nested_prefetches():
    from jindu_metrics.ledgers.sources.xlsx.prefetch import quick_switch as _quick_switch

    before = sys.getswitchinterval()
    _quick_switch(True)
    _quick_switch(True)
    assert sys.getswitchinterval() <= 0.001
    _quick_switch(False)
    assert sys.getswitchinterval() <= 0.001  # one still running
    _quick_switch(False)
    assert sys.getswitchinterval() == before


def test_each_parsing_thread_has_its_own_reader(tmp_path):
    """fastexcel readers refuse a second sheet at once ("Already borrowed"): two threads, two readers."""
    from concurrent.futures import ThreadPoolExecutor

    from builders import PERSON_HEADER, person_rows, write_xlsx

    path = tmp_path / "t.xlsx"
    write_xlsx(path, {f"吸毒人员登记台帐{i}": [PERSON_HEADER, *person_rows()] for i in range(4)})
    parts = fastxlsx.read(path, 10**7)
    book = parts[0][2].book
    with ThreadPoolExecutor(2) as pool:
        loaded = list(pool.map(lambda p: p[2](1), parts))
    assert all(x is not None for x in loaded)
    assert np.array_equal(loaded[0][0][0][0], loaded[3][0][0][0])
    book.close()


def _far_cell_sheet(rows: int, long_row: bool) -> bytes:
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}" t="inlineStr"><is><t>'
                   f'{"长" * (300 if long_row and r == rows else 3)}</t></is></c></row>' for r in range(1, rows + 1))
    pad = "".join(f'<row r="{r}" s="1" customFormat="1"><c r="A{r}" s="1"/></row>' for r in range(rows + 1, rows + 400))
    return (f'<worksheet {NS}><sheetPr/><dimension ref="A1:B1048576"/><sheetData>{body}{pad}'
            f'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t> </t></is></c></row></sheetData>'
            f'<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells></worksheet>').encode()


def _handed_xml(xml: bytes, ext) -> bytes:
    """The sheet as the parser is handed it (extent.handed), from the XML the scan kept."""
    src = _zip({"xl/worksheets/sheet1.xml": xml})
    return zipfile.ZipFile(io.BytesIO(extent.handed(src, "xl/worksheets/sheet1.xml", ext))).read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("long_row", [False, True])
@pytest.mark.parametrize("chunk", [500, 1000, 4096, 1 << 16, 1 << 24])
def test_the_xml_kept_while_scanning_gives_the_cut_made_after(monkeypatch, chunk, long_row):
    """A sheet whose cells reach a million rows below its data is kept, as it is scanned, only as far as
    its data: whatever the chunk size (the last data cell in the scan's carry, its row across chunks), what
    the parser is handed is cut_rows()'."""
    monkeypatch.setattr(extent, "_CHUNK", chunk)
    monkeypatch.setattr(extent, "_CARRY", min(chunk, 1 << 16) // 2)
    xml = _far_cell_sheet(300, long_row)
    ext = extent.scan(io.BytesIO(xml), lambda i: "", keep=True)
    assert ext.kept is not None and ext.needs_trim(10**7)
    expected = io.BytesIO()
    extent.cut_rows(io.BytesIO(xml), expected.write, ext)
    assert _handed_xml(xml, ext) == expected.getvalue() and b'r="1048576"' not in expected.getvalue()


def test_without_isal_the_same_copy_comes_from_zlib(monkeypatch):
    """Where no isal wheel installs, zlib does the same work: the handed copy and the cut copy."""
    monkeypatch.setattr(extent, "deflate_module", lambda: zlib)
    xml = _far_cell_sheet(300, True)
    ext = extent.scan(io.BytesIO(xml), lambda i: "", keep=True)
    expected = io.BytesIO()
    extent.cut_rows(io.BytesIO(xml), expected.write, ext)
    src = _zip({"xl/worksheets/sheet1.xml": xml})
    data, _ = extent.cut_copy(src, {"xl/worksheets/sheet1.xml": ext}, lambda i: "")
    assert zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml") == expected.getvalue()
    assert _handed_xml(xml, ext) == expected.getvalue()


@pytest.mark.parametrize("chunk", [500, 4096])
def test_keeping_stops_past_the_data_and_still_gives_the_cut(monkeypatch, chunk):
    """Keeping stops once _QUIET bytes hold no cell's end (the formatting below the data): the copy is still
    exactly cut_rows()', and a value found after that leaves no kept XML to trust."""
    monkeypatch.setattr(extent, "_CHUNK", chunk)
    monkeypatch.setattr(extent, "_CARRY", chunk // 2)
    monkeypatch.setattr(extent, "_QUIET", 2 * chunk)
    xml = _far_cell_sheet(300, True)
    ext = extent.scan(io.BytesIO(xml), lambda i: "", keep=True)
    assert sum(map(len, ext.kept)) <= xml.find(b'<row r="301"') + 4 * chunk < len(xml)  # the formatting was not kept
    expected = io.BytesIO()
    extent.cut_rows(io.BytesIO(xml), expected.write, ext)
    assert _handed_xml(xml, ext) == expected.getvalue()

    late = xml.replace(b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t> </t>',
                       b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t>')
    ext = extent.scan(io.BytesIO(late), lambda i: "", keep=True)
    assert ext.data_row == 1048576 and ext.kept is None


def test_a_parse_scans_its_sheet_itself_when_the_scanner_is_busy(tmp_path, monkeypatch):
    """Each sheet is scanned once, by the scanner thread or by the first parse that wants it: two big sheets
    do not queue behind one scanner."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from builders import PERSON_HEADER, person_rows, write_xlsx

    path = tmp_path / "t.xlsx"
    write_xlsx(path, {f"吸毒人员登记台帐{i}": [PERSON_HEADER, *person_rows()] for i in range(3)})
    gate, who = threading.Event(), {}
    scan = fastxlsx.scan_member

    def slow_scan(source, member, sst, zf=None, pieces=None):
        if zf is None:  # not scan_member's own call of itself with the zip it opened
            who.setdefault(member, []).append(threading.current_thread().name)
            if threading.current_thread().name.startswith("jindu-merged"):
                gate.wait(10)  # the scanner is busy with its first sheet
        return scan(source, member, sst, zf, pieces)

    monkeypatch.setattr(fastxlsx, "scan_member", slow_scan)
    parts = fastxlsx.read(path, 10**7)
    book = parts[0][2].book
    book.scan([m for _, _, b in parts for m in [b.member]])
    with ThreadPoolExecutor(2, thread_name_prefix="parse") as pool:
        later = pool.submit(parts[1][2], 1)
        assert later.result(10) is not None  # scanned by its parse, while the scanner waits
        gate.set()
        loaded = [parts[0][2](1), parts[2][2](1)]
    book.close()
    assert all(x is not None for x in loaded)
    assert sorted(who) == sorted(b.member for _, _, b in parts)
    assert all(len(v) == 1 for v in who.values()), who  # each sheet scanned once
    assert who[parts[1][2].member][0].startswith("parse")


def _rows_xml(data: int, formatted: int, seed: int) -> bytes:
    import random

    rnd = random.Random(seed)
    cols = "ABCDEFGHIJKLMNOPQ"
    body = "".join(f'<row r="{r}">' + "".join(f'<c r="{c}{r}" t="s"><v>{rnd.randrange(5000)}</v></c>' for c in cols)
                   + "</row>" for r in range(1, data + 1))
    pad = "".join(f'<row r="{r}" s="1" customFormat="1">' + "".join(f'<c r="{c}{r}" s="1"/>' for c in cols)
                  + "</row>" for r in range(data + 1, data + formatted + 1))
    return (body + pad).encode()


def test_parse_weight_puts_the_sheet_with_more_data_first():
    """Parse order is guessed from the zip directory. As on the county workbook formatted down to row
    200,000, a sheet with little data and much formatting below it compresses larger than one with six times
    its data; weighted by how poorly it compresses, the one with more data weighs more. Sheets of like
    density keep the order of their compressed sizes."""
    src = _zip({"little.xml": _rows_xml(1000, 19000, 1), "much.xml": _rows_xml(6000, 2000, 2),
                "less.xml": _rows_xml(4000, 0, 3), "least.xml": _rows_xml(2000, 0, 4)})
    zf = zipfile.ZipFile(io.BytesIO(src))
    info = {n: zf.getinfo(n) for n in zf.namelist()}
    assert info["little.xml"].compress_size > info["much.xml"].compress_size  # the size alone misleads
    weight = {n: fastxlsx.parse_weight(i) for n, i in info.items()}
    assert weight["much.xml"] > weight["little.xml"]
    plain = ["much.xml", "less.xml", "least.xml"]
    assert sorted(plain, key=lambda n: -info[n].compress_size) == sorted(plain, key=lambda n: -weight[n])


def _book_busy_for(seconds: float):
    """A fast-path book whose scan thread is busy for `seconds` (as one stuck on an import lock would be)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    book = fastxlsx._Book("x.xlsx", 10, None)
    book.pool = ThreadPoolExecutor(max_workers=1)
    started = threading.Event()
    book.pool.submit(lambda: (started.set(), time.sleep(seconds)))
    started.wait(5)
    return book


def test_closing_after_an_interrupt_does_not_wait_for_the_read_threads():
    """Ctrl-C unwinding (or the exit it led to): the threads are left behind, not joined; an ordinary close
    and the exit after an ordinary error wait for them."""
    import time

    from jindu_metrics.ledgers.sources.xlsx.prefetch import unwinding

    assert not unwinding()
    book = _book_busy_for(1.0)
    start = time.monotonic()
    try:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            sys.exit(130)  # as cli.main does
    except SystemExit:
        book.close()
    assert time.monotonic() - start < 0.5
    book = _book_busy_for(0.6)
    start = time.monotonic()
    try:
        try:
            raise ValueError("an ordinary error")
        except ValueError:
            sys.exit(2)
    except SystemExit:
        assert not unwinding()
        book.close()
    assert time.monotonic() - start >= 0.5
