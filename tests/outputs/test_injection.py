"""Formula injection (issue 8.3, OWASP CSV injection): village and township names, category values and sheet
names that a spreadsheet would run as formulas. In every xlsx output no cell is a formula and every text cell
starting with = + - @ tab CR is prefixed with '; every csv output starts with the UTF-8 BOM, its such cells are
prefixed and its numbers stay plain numbers."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest

PAYLOADS = ['=HYPERLINK("http://x","点")', "+cmd|' /C calc'!A0", "@SUM(1,2)", "-2+3", "\tX", "\rX"]
# The reader trims surrounding whitespace, so "\tX" and "\rX" reach outputs as plain "X"; the other four must
# reach them, escaped.
SURVIVING = PAYLOADS[:4]
DANGER = ("=", "+", "-", "@", "\t", "\r")
EVIL_TOWN = '=HYPERLINK("http://y","镇")'
PERIOD = "2018-01..2018-10"


def _records(village_map: dict, town: str | None = None) -> dict:
    from support import samples

    recs = samples.leping_records()
    out = {}
    for kind, rows in recs.items():
        new = []
        for r in rows[::6]:  # every 6th record: every village present, small enough to be quick
            r = dict(r)
            if r.get("所属村居") in village_map:
                r["所属村居"] = village_map[r["所属村居"]]
            if town and r.get("所属镇街"):
                r["所属镇街"] = town
            new.append(r)
        out[kind] = new
    return out


def _as_text(wb):
    """openpyxl writes "=..." values as formulas; a ledger holds them as text cells."""
    for sheet in wb.worksheets:
        for row in sheet.iter_rows():
            for c in row:
                if c.data_type == "f":
                    c.data_type = "s"
    return wb


@pytest.fixture(scope="module")
def evil(tmp_path_factory) -> dict:
    """Two township workbooks: 乐平镇 with payload village names (plus a payload category value and a
    payload sheet name, so findings carry them), and a township whose name is itself a formula."""
    from openpyxl import load_workbook
    from support import samples
    from support.workbooks import write_canonical

    root = tmp_path_factory.mktemp("inj")
    vmap = {v: PAYLOADS[i % len(PAYLOADS)] + ("" if i < len(PAYLOADS) else str(i)) for i, v in
            enumerate(samples.VILLAGES)}
    recs = _records(vmap)
    recs["persons"][0]["人员类别"] = "@SUM(1,2)"  # an invalid category: a finding whose value is a payload
    a = write_canonical(recs, root / "in" / "乐平镇.xlsx")
    wb = _as_text(load_workbook(a))
    ws = wb.create_sheet("+cmd")
    ws.append(["=无关内容"])
    wb.save(a)
    assert any(c.value == PAYLOADS[0] and c.data_type == "s" for c in load_workbook(a).worksheets[0]["C"])
    b = write_canonical(_records({}, town=EVIL_TOWN), root / "in" / "其他镇.xlsx")
    _as_text(load_workbook(b)).save(b)
    return {"root": root, "a": a, "b": b, "villages": set(vmap.values())}


def assert_xlsx_safe(data: bytes, where: str) -> int:
    """No formula cell and no live formula-like text in any worksheet; returns the number of text cells seen."""
    from openpyxl import load_workbook

    zf = zipfile.ZipFile(io.BytesIO(data))
    for name in zf.namelist():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            xml = zf.read(name)
            assert not re.search(rb"<(\w+:)?f[ >/]", xml), f"{where}: a formula element in {name}"
    wb = load_workbook(io.BytesIO(data))
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{where}: formula cell {ws.title}!{c.coordinate} = {c.value!r}"
                if isinstance(c.value, str):
                    seen += 1
                    assert not c.value.startswith(DANGER), f"{where}: live text {ws.title}!{c.coordinate} {c.value!r}"
    return seen


def assert_csv_safe(data: bytes, where: str) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), f"{where}: csv without the UTF-8 BOM"
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    for row in rows:
        for v in row:
            assert not v.startswith(DANGER), f"{where}: live csv cell {v!r}"
    return rows


def _has_payload_text(values, payloads) -> set:
    """Which payloads appear (prefixed with ') among the values."""
    return {p for p in payloads for v in values if isinstance(v, str) and v.startswith("'" + p)}


def test_compute_xlsx_and_csv_by_village(jindu, evil, tmp_path):
    from openpyxl import load_workbook

    xlsx, csv_ = tmp_path / "c.xlsx", tmp_path / "c.csv"
    code, _, err = jindu(["compute", "-p", PERIOD, "--by", "所属村居", "-f", "xlsx", "-o", xlsx, evil["a"]])
    assert code in (0, 1), err
    code, _, err = jindu(["compute", "-p", PERIOD, "--by", "所属村居", "-f", "csv", "-o", csv_, evil["a"]])
    assert code in (0, 1), err

    assert assert_xlsx_safe(xlsx.read_bytes(), "compute xlsx") > 0
    ws = load_workbook(xlsx).active
    units = [c.value for c in ws["B"][2:]]  # row 1: the window, row 2: the header
    assert _has_payload_text(units, PAYLOADS) == set(SURVIVING)  # every payload reached the output, escaped
    numbers = [c for c in ws["E"][2:] + ws["F"][2:] if c.value is not None]
    assert numbers and all(c.data_type == "n" and not isinstance(c.value, str) for c in numbers)

    rows = assert_csv_safe(csv_.read_bytes(), "compute csv")
    header, body = rows[0], rows[1:]
    assert _has_payload_text([r[header.index("单位")] for r in body], PAYLOADS) == set(SURVIVING)
    for col in ("分子", "分母", "数值"):
        vals = [r[header.index(col)] for r in body if r[header.index(col)]]
        assert vals and all(re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", v) for v in vals), (col, vals[:5])


def test_batch_summary_workbook_and_json(jindu, evil, tmp_path):
    out = tmp_path / "out"
    code, _, err = jindu(["batch", "-p", PERIOD, "-j", "1", "-o", out, evil["a"].parent])
    assert code in (0, 1), err
    data = (out / "汇总.xlsx").read_bytes()
    assert assert_xlsx_safe(data, "batch 汇总.xlsx") > 0
    from openpyxl import load_workbook

    texts = [c.value for ws in load_workbook(io.BytesIO(data)).worksheets for r in ws.iter_rows() for c in r]
    assert "'" + EVIL_TOWN in texts  # the formula-named township is listed, escaped
    assert any(isinstance(v, str) and v.startswith("'+cmd") for v in texts)  # the payload sheet in 数据问题
    # charts keep their own range formulas (not cells): they point at sheet ranges, not at input text
    zf = zipfile.ZipFile(io.BytesIO(data))
    refs = [f for name in zf.namelist() if name.startswith("xl/charts/")
            for f in re.findall(rb"<(?:c:)?f>([^<]*)</(?:c:)?f>", zf.read(name))]
    assert refs  # the trend sheet's line charts
    for f in refs:
        assert re.fullmatch(rb"'?[^'!]+'?!\$?[A-Z]+\$?\d+(:\$?[A-Z]+\$?\d+)?", f), f
        assert b"HYPERLINK" not in f and b"cmd" not in f
    summary = json.loads((out / "summary.json").read_text("utf-8"))  # JSON keeps text as data
    assert EVIL_TOWN in [u["unit"] for u in summary["units"]]
    for csv_file in out.rglob("*.csv"):
        assert_csv_safe(csv_file.read_bytes(), str(csv_file))
    for x in out.rglob("*.xlsx"):
        assert_xlsx_safe(x.read_bytes(), str(x))
    # the township name cannot choose where the bulletin goes
    assert all(p.resolve().is_relative_to(out.resolve()) for p in out.rglob("*"))


def test_validate_json_and_report_keep_payloads_as_inert_text(jindu, evil, tmp_path):
    code, out, err = jindu(["validate", "-f", "json", evil["a"]])
    assert code in (0, 1), err
    doc = json.loads(out)
    assert "@SUM(1,2)" in json.dumps(doc, ensure_ascii=False)
    for fmt in ("txt", "md"):
        code, out, err = jindu(["report", "-p", PERIOD, "-f", fmt, evil["a"]])
        assert code in (0, 1), err
        assert out.strip()
    docx = tmp_path / "r.docx"
    code, _, err = jindu(["report", "-p", PERIOD, "-f", "docx", "-o", docx, evil["a"]])
    assert code in (0, 1), err
    zf = zipfile.ZipFile(docx)
    for name in zf.namelist():
        if name.endswith(".xml"):
            xml = zf.read(name)
            # field codes: only the page number of the footer, none (HYPERLINK, DDE...) from input text
            instr = re.findall(rb"<w:instrText[^>]*>([^<]*)</w:instrText>", xml) + \
                re.findall(rb'<w:fldSimple [^>]*w:instr="([^"]*)"', xml)
            assert all(i.split()[0] in (b"PAGE", b"NUMPAGES") for i in instr if i.strip()), (name, instr)
            markup = re.sub(rb"<w:t(?: [^>]*)?>[^<]*</w:t>", b"", xml)  # payload text inside w:t is inert text
            assert b"ddeLink" not in markup and b"HYPERLINK" not in markup and b"<w:hyperlink" not in markup, name


def test_neutralize_contract():
    from jindu_metrics.outputs.compute import neutralize

    for p in PAYLOADS:
        assert neutralize(p) == "'" + p
    assert neutralize(-2) == -2 and neutralize(3.5) == 3.5 and neutralize("乐平村") == "乐平村"
    assert neutralize("") == ""
