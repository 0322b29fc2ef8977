"""Reader limits from what a file holds (issue 29): worksheets whose rows and cells carry no `r=` (placed by
position), .xls records that claim more than the stream holds, ODS repeats. Each hostile file is read in a
child process (a native abort must not take the test run with it), its peak memory measured."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from builders import patch_sheet

from jindu_metrics.ledgers.sources.xlsx import extent

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"
PERIOD = "2018-01..2018-10"
CEILING_KB = 1024 * 1024  # 1 GB: peak RSS of any single-file read


def run(args: list, timeout: float = 300) -> tuple[int, str, str, int]:
    """`jindu ARGS` in a child process: (exit code, stdout, stderr, peak RSS in KB of the child), measured by
    /usr/bin/time (a process forked from the test run would count the test run's own pages as its peak)."""
    import shutil
    import tempfile

    time_bin = shutil.which("time") or "/usr/bin/time"
    if not Path(time_bin).exists():
        pytest.skip("/usr/bin/time is needed to measure peak memory")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PYTHONIOENCODING": "utf-8"}
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        r = subprocess.run([time_bin, "-f", "%M", "-o", rss.name, sys.executable, "-m", "jindu_metrics", *map(str, args)],
                           capture_output=True, text=True, env=env, timeout=timeout)
        peak = int(rss.read().strip().splitlines()[-1])
    return r.returncode, r.stdout, r.stderr, peak


def figures(out: str) -> list:
    return [(r["unit"], r["metric"], r["numerator"], r["denominator"], r["value"]) for r in json.loads(out)["rows"]]


@pytest.fixture(scope="module")
def clean():
    code, out, err, _ = run(["compute", SAMPLE, "--period", PERIOD, "--format", "json"])
    assert code == 0, err
    return figures(out)


# ------------------------------------------------------------------ xlsx rows and cells without r= (29.1a, 29.1d)

FAR_ROW = b"<row>" + b"<c/>" * 16383 + b'<c t="inlineStr"><is><t>x</t></is></c></row>'


def unnumbered_far(xml: bytes) -> bytes:
    """An edit: no `r=` on any <row>, no <dimension>, and empty rows down to row 1,048,576, whose 16,384th
    cell (XFD1048576, placed by position) holds text."""
    xml = re.sub(rb"<dimension[^>]*/>", b"", xml)
    xml = re.sub(rb'(<row)\s+r="\d+"', rb"\1", xml)
    rows = len(re.findall(rb"<row[\s>/]", xml))
    return xml.replace(b"</sheetData>", b"<row/>" * (1_048_575 - rows) + FAR_ROW + b"</sheetData>")


def numbered_row_far(xml: bytes) -> bytes:
    """An edit: row 1,048,576 by its r=, its cells by position (the 16,384th holds text)."""
    return xml.replace(b"</sheetData>", FAR_ROW.replace(b"<row>", b'<row r="1048576">') + b"</sheetData>")


@pytest.mark.parametrize("edit", [unnumbered_far, numbered_row_far])
def test_a_far_cell_placed_by_position_is_cut_not_allocated(tmp_path, clean, edit):
    path = patch_sheet(SAMPLE, tmp_path / "far.xlsx", edit)
    code, out, err, rss = run(["compute", path, "--period", PERIOD, "--format", "json"])
    assert code == 0, err
    assert figures(out) == clean and rss < CEILING_KB
    code, out, err, rss = run(["validate", path, "--format", "json"])
    capped = [f for f in json.loads(out)["findings"] if f["code"] == "columns_capped"]
    assert len(capped) == 1 and "1 个单元格" in capped[0]["message"] and rss < CEILING_KB


@pytest.mark.parametrize("row", [b"<row></row>", b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'],
                         ids=["empty", "one-cell"])
def test_eleven_million_rows_without_numbers_are_refused_at_excels_last_row(tmp_path, row):
    import time

    path = tmp_path / "rows.xlsx"
    with zipfile.ZipFile(SAMPLE) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                zout.writestr(info, zin.read(info))
                continue
            with zout.open(info.filename, "w", force_zip64=True) as fh:  # streamed: 11M rows never in memory
                fh.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                         b'spreadsheetml/2006/main"><sheetData><row><c t="inlineStr"><is><t>x</t></is></c></row>')
                for _ in range(110):
                    fh.write(row * 100_000)
                fh.write(b"</sheetData></worksheet>")
    start = time.monotonic()
    code, _out, err, rss = run(["validate", path])
    assert code == 2 and "rows.xlsx" in err and "超出大小上限" in err and "1048576" in err, err
    assert "Traceback" not in err and rss < CEILING_KB
    assert time.monotonic() - start < 60  # was minutes; a second or two now (not tighter: the machine may be loaded)


def test_numbered_places_tags_as_calamine_does():
    xml = (b'<worksheet><sheetData><row><c><v>1</v></c><c t="s"><v>0</v></c></row><row/><row></row>'
           b'<row r="7" spans="1:3"><c r="C7"><v>2</v></c><c/><c s="1"><v>3</v></c></row>'
           b"<row><c><v>4</v></c></row></sheetData></worksheet>")
    out = extent.Numbered(io.BytesIO(xml), 100).read()
    cells = re.findall(rb'<c r="([A-Z]+\d+)"', out)
    assert cells == [b"A1", b"B1", b"C7", b"D7", b"E7", b"A8"]
    assert re.findall(rb'<row r="(\d+)"', out) == [b"1", b"7", b"8"]  # rows without cells are left out


def test_numbered_counts_cells_against_the_cap():
    xml = b"<worksheet><sheetData>" + b"<row>" + b"<c><v>1</v></c>" * 50 + b"</row>" + b"</sheetData></worksheet>"
    with pytest.raises(extent.TooLarge, match="单元格"):
        extent.Numbered(io.BytesIO(xml), 40).read()
    with pytest.raises(extent.TooLarge, match="16384"):
        extent.Numbered(io.BytesIO(b"<row>" + b"<c/>" * 16385 + b"</row>"), 10**9).read()


# ------------------------------------------------------------------ .xls records (29.1b)

OLD_XLS = ROOT / "sample_ledgers" / "messy" / "查处台账.xls"


def patched_xls(tmp_path: Path, record: bytes, offset: int, value: int, name: str) -> Path:
    """A copy of the sample .xls whose first `record` (type and length bytes) has the u32 at `offset` (from
    the record's start) set to `value` (the stream is small and contiguous: patched in place)."""
    import struct

    data = bytearray(OLD_XLS.read_bytes())
    at = data.find(record)
    assert at > 0
    struct.pack_into("<I", data, at + offset, value)
    path = tmp_path / name
    path.write_bytes(bytes(data))
    return path


def test_an_xls_dimensions_claiming_2_31_rows_is_read_by_its_cells(tmp_path):
    path = patched_xls(tmp_path, b"\x00\x02\x0e\x00", 8, 2**31, "dims.xls")  # DIMENSIONS: rwMac
    code, out, err, rss = run(["validate", path, "--format", "json"])
    assert code in (0, 1), err
    clean = run(["validate", OLD_XLS, "--format", "json"])
    assert [{**f, "file": ""} for f in json.loads(out)["findings"]] == \
        [{**f, "file": ""} for f in json.loads(clean[1])["findings"]]
    assert json.loads(out)["findings"]  # the rows were read (the sample holds a total row, reported)
    assert "panicked" not in err and rss < CEILING_KB


def test_an_xls_boundsheet_past_the_end_is_a_chinese_error_without_a_panic(tmp_path):
    path = patched_xls(tmp_path, b"\x85\x00\x10\x00", 4, 0x7FFFFFF0, "bs.xls")  # BOUNDSHEET: lbPlyPos
    code, _out, err, rss = run(["validate", path])
    assert code == 2 and "bs.xls" in err and "文件损坏" in err and "另存为" in err
    assert "panicked" not in err and "backtrace" not in err and "Traceback" not in err and rss < CEILING_KB


# ------------------------------------------------------------------ ODS repeats (29.1c)

ODS_CONTENT = (b'<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:'
               b'opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               b'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               b'<table:table table:name="Sheet1">%s</table:table></office:spreadsheet></office:body>'
               b"</office:document-content>")

MANIFEST = (b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
            b'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
            b'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
            b'manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>')


def write_ods(path: Path, rows: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", b"application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED)
        z.writestr("content.xml", ODS_CONTENT % rows, zipfile.ZIP_DEFLATED)
        z.writestr("META-INF/manifest.xml", MANIFEST, zipfile.ZIP_DEFLATED)
    return path


def text_cell(text: bytes, extra: bytes = b"") -> bytes:
    return b'<table:table-cell office:value-type="string"%s><text:p>%s</text:p></table:table-cell>' % (extra, text)


@pytest.mark.parametrize("rows", [
    # 29M cells holding text: under the 30M cap on values, 4 GB as calamine and Python rows
    b'<table:table-row table:number-rows-repeated="1000000">'
    + text_cell(b"x", b' table:number-columns-repeated="29"') + b"</table:table-row>",
    # one text cell per row right of 1000 empty cells: 20M cells laid out, 20k of them hold anything
    b'<table:table-row table:number-rows-repeated="20000"><table:table-cell table:number-columns-repeated="1000"/>'
    + text_cell(b"x") + b"</table:table-row>",
], ids=["values", "empty-runs"])
def test_ods_repeats_are_held_to_the_extent_they_lay_out(tmp_path, rows):
    path = write_ods(tmp_path / "rep.ods", b"<table:table-row>" + text_cell("姓名".encode()) + b"</table:table-row>" + rows)
    assert path.stat().st_size < 5000
    code, _out, err, rss = run(["validate", path])
    assert code == 2 and "rep.ods" in err and "Sheet1" in err and "超出大小上限" in err and "列" in err, err
    assert rss < CEILING_KB


def test_an_ods_of_repeated_empty_rows_below_its_data_is_read(tmp_path):
    """Formatting far below the data (empty repeated rows and cells) lays nothing out: read, not refused."""
    rows = (b"<table:table-row>" + text_cell("姓名".encode()) + text_cell("公民身份号码".encode()) + b"</table:table-row>"
            + b'<table:table-row table:number-rows-repeated="1048000"><table:table-cell '
              b'table:number-columns-repeated="1024"/></table:table-row>')
    from jindu_metrics.ledgers.sources import read_rows

    sheets = read_rows(write_ods(tmp_path / "fmt.ods", rows))
    assert sheets[0].rows[0][:2] == ["姓名", "公民身份号码"]
