"""Issue 14, cell values: inputs that used to give silently wrong figures or unclear messages.

Each case is a small generated ledger with the expected exit code and finding or figure.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from builders import ID_A, ID_B, ID_C, PERSON_HEADER, person_rows, write_csv, write_xlsx

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.ledgers.ids import make_id
from jindu_metrics.ledgers.sources import ERROR_VALUES
from jindu_metrics.ledgers.sources.xlsx.cellscan import Scan
from jindu_metrics.validate import validate

SEIZURE_HEADER = ["查处日期", "公民身份号码", "姓名", "所属村居", "处置结果"]


def figures(jindu, *args) -> dict:
    code, out, err = jindu(["compute", *map(str, args), "--format", "json"])
    assert code in (0, 1), err
    return {r["metric"]: r for r in json.loads(out)["rows"]}


def codes(paths) -> list[tuple]:
    return [(f.code, f.row, f.column) for f in validate(load_ledgers(paths))]


# ---------------------------------------------------------------- dates with a time of day

@pytest.mark.parametrize("when", ["2018-10-31 09:15", "2018/10/31 23:59:59", dt.datetime(2018, 10, 31, 9, 15)])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_seizure_with_a_time_of_day_counts_in_its_month(tmp_path, jindu, when, fmt):
    rows = [PERSON_HEADER] + person_rows()
    seiz = [SEIZURE_HEADER, [when, ID_A, "张三", "乐平村", "行政拘留"],
            [dt.datetime(2018, 10, 1), ID_B, "李四", "南边村", "行政拘留"]]
    if fmt == "xlsx":
        write_xlsx(tmp_path / "台帐.xlsx", {"吸毒人员登记台帐": rows, "查处台帐": seiz})
    else:
        if isinstance(when, dt.datetime):
            seiz[1][0] = when.strftime("%Y-%m-%d %H:%M:%S")
        write_csv(tmp_path / "persons.csv", rows)
        write_csv(tmp_path / "seizures.csv", seiz)
    got = figures(jindu, tmp_path, "--period", "2018-10")
    assert got["seizures"]["numerator"] == 2
    assert figures(jindu, tmp_path, "--period", "2018-10-31..2018-10-31")["seizures"]["numerator"] == 1
    frame = load_ledgers([tmp_path])["seizures"]
    assert (frame["查处日期"] == frame["查处日期"].dt.normalize()).all()


def test_three_years_boundary_ignores_the_time_of_day(tmp_path, jindu):
    header = PERSON_HEADER + ["末次查获日期"]
    rows = [header] + [r + [dt.datetime(2015, 12, 20, 18, 30)] for r in person_rows()[:1]]
    write_xlsx(tmp_path / "台帐.xlsx", {"吸毒人员登记台帐": rows})
    # 2015-12-20 at any hour counts as abstinent three years on 2018-12-20 (the window is of days)
    assert figures(jindu, tmp_path / "台帐.xlsx", "--period", "2018-12-01..2018-12-20")["abstinent_3y"]["numerator"] == 1
    assert figures(jindu, tmp_path / "台帐.xlsx", "--period", "2018-12-01..2018-12-19")["abstinent_3y"]["numerator"] == 0


def test_frames_from_elsewhere_lose_the_time_of_day():
    from jindu_metrics.ledgers.frames import from_records

    df = from_records("seizures", [{"查处日期": "2018-10-31 09:15", "公民身份号码": ID_A}])
    assert df["查处日期"].iloc[0] == dt.datetime(2018, 10, 31)


# ---------------------------------------------------------------- error cells, formulas without a result

def _persons_with_status(tmp_path, status_cell, *, mixed=False):
    """Four persons, all 社会面 and 纳入网格化 except the second: 死亡 in truth, its 人员状态 cell replaced."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "吸毒人员登记台帐"
    ws.append(PERSON_HEADER + ["备注"])
    people = person_rows() + [["赵六", make_id("440607", "19700101", 44), "乐平村", "乐平镇", "本地",
                                 dt.datetime(2015, 1, 1), "社会面", "是"]]
    for r in people:
        r[6] = "社会面"
        r[7] = "是"
        ws.append(r + [dt.datetime(2018, 1, 1) if mixed else "x"])
    ws["H3"] = "否"
    if mixed:
        ws["I3"] = "文字"  # a column of dates and text: the sheet is read by python-calamine
    ws["G3"] = status_cell
    path = tmp_path / "台帐.xlsx"
    wb.save(path)
    return path


@pytest.mark.parametrize("mixed", [False, True], ids=["fast", "calamine"])
@pytest.mark.parametrize("literal", sorted(ERROR_VALUES & {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!",
                                                            "#NULL!"}))
def test_an_error_status_is_unknown_not_social(tmp_path, jindu, literal, mixed):
    path = _persons_with_status(tmp_path, literal, mixed=mixed)  # openpyxl stores these as error cells
    ls = load_ledgers([path])
    found = [f for f in ls.findings if f.code == "cell_error"]
    assert [(f.row, f.column, f.value) for f in found] == [(3, "人员状态", literal)]
    assert found[0].severity == "错误" and literal in found[0].message
    got = figures(jindu, path, "--period", "2018-10")
    # the unknown person is in neither count: 3 of 3 rather than 3 of 4 (75.0%)
    assert got["registered"]["numerator"] == 3
    assert (got["grid_inclusion_rate"]["numerator"], got["grid_inclusion_rate"]["denominator"]) == (3, 3)
    code, out, _ = jindu(["validate", str(path)])
    assert code == 1 and "单元格是错误值" in out


@pytest.mark.parametrize("mixed", [False, True], ids=["fast", "calamine"])
def test_a_formula_without_a_result_is_a_finding(tmp_path, jindu, mixed):
    path = _persons_with_status(tmp_path, '=IF(1,"死亡","")', mixed=mixed)  # openpyxl saves no result
    ls = load_ledgers([path])
    found = [(f.code, f.row, f.column, f.severity) for f in ls.findings if f.code == "formula_no_value"]
    assert found == [("formula_no_value", 3, "人员状态", "错误")]
    assert figures(jindu, path, "--period", "2018-10")["in_society"]["numerator"] == 3


@pytest.mark.parametrize("mixed", [False, True], ids=["fast", "calamine"])
def test_error_cells_come_from_the_one_extent_scan(tmp_path, monkeypatch, mixed):
    """Extent, merged ranges and error cells in one pass over each sheet's XML, also when calamine reads
    the sheet after the fast path refused it (it reuses the fast path's scan)."""
    from jindu_metrics.ledgers.sources.xlsx import extent

    calls = []
    real = extent.scan

    def counting(fh, strings, *rest, **kw):
        calls.append(1)
        return real(fh, strings, *rest, **kw)

    monkeypatch.setattr(extent, "scan", counting)
    path = _persons_with_status(tmp_path, "#REF!", mixed=mixed)
    found = [(f.row, f.column, f.value) for f in load_ledgers([path]).findings if f.code == "cell_error"]
    assert found == [(3, "人员状态", "#REF!")]
    assert len(calls) == 1


@pytest.mark.parametrize("mixed", [False, True], ids=["fast", "calamine"])
def test_error_cells_of_a_sheet_cut_to_its_data(tmp_path, mixed):
    """A stray cell far below the data: the sheet is read from a cut copy; its error cells are still found."""
    import openpyxl

    path = _persons_with_status(tmp_path, "#N/A", mixed=mixed)
    wb = openpyxl.load_workbook(path)
    wb.active["A900000"] = " "
    wb.save(path)
    found = [(f.code, f.row, f.column) for f in load_ledgers([path]).findings if f.code in ("cell_error",)]
    assert found == [("cell_error", 3, "人员状态")]


@pytest.mark.parametrize("mixed", [False, True], ids=["fast", "calamine"])
def test_error_cells_of_an_encrypted_workbook(tmp_path, mixed):
    """Decrypted in memory (never a path to scan): the error cells come from the decrypted bytes."""
    import io

    from msoffcrypto.format.ooxml import OOXMLFile

    plain = _persons_with_status(tmp_path, '=IF(1,"死亡","")', mixed=mixed)
    out = io.BytesIO()
    with open(plain, "rb") as fh:
        OOXMLFile(fh).encrypt("jindu", out)
    path = tmp_path / "加密.xlsx"
    path.write_bytes(out.getvalue())
    found = [(f.row, f.column) for f in load_ledgers([path], password="jindu").findings
             if f.code == "formula_no_value"]
    assert found == [(3, "人员状态")]


def test_error_text_in_a_csv_is_a_finding(tmp_path, jindu):
    rows = [PERSON_HEADER] + person_rows()
    rows[2][6] = "#N/A"
    rows[3][5] = "#VALUE!"
    write_csv(tmp_path / "persons.csv", rows)
    assert sorted(c for c in codes([tmp_path / "persons.csv"]) if c[0] == "cell_error") == [
        ("cell_error", 3, "人员状态"), ("cell_error", 4, "初次发现日期")]
    assert load_ledgers([tmp_path])["persons"]["人员状态"].iloc[1] != "社会面"


def test_an_ods_error_cell_is_a_finding(tmp_path):
    import zipfile

    from builders import write_ods

    rows = [PERSON_HEADER] + person_rows()
    rows[1][6] = "@STATUS@"
    src = write_ods(tmp_path / "src.ods", rows)
    error = ('<table:table-cell table:formula="of:=1/0" office:value-type="float" office:value="0" '
             'calcext:value-type="error"><text:p>#DIV/0!</text:p></table:table-cell>')
    path = tmp_path / "台帐.ods"
    with zipfile.ZipFile(src) as zi, zipfile.ZipFile(path, "w") as zo:
        for info in zi.infolist():
            data = zi.read(info)
            if info.filename == "content.xml":  # LibreOffice keeps an error's cached number (0) beside it
                data = data.decode().replace(
                    '<table:table-cell office:value-type="string"><text:p>@STATUS@</text:p></table:table-cell>',
                    error).encode()
            zo.writestr(info, data)
    ls = load_ledgers([path])
    assert [(f.code, f.row, f.column, f.value) for f in ls.findings if f.code == "cell_error"] == [
        ("cell_error", 2, "人员状态", "#DIV/0!")]
    assert ls["persons"]["人员状态"].iloc[0] not in ("社会面", None)


def test_a_libreoffice_error_number_is_a_finding(tmp_path):
    rows = [PERSON_HEADER] + person_rows()
    rows[1][7] = "Err:502"
    rows[2][7] = "Err:5020"  # not LibreOffice's: a value that cannot be read
    write_csv(tmp_path / "persons.csv", rows)
    got = {f.row: f.code for f in load_ledgers([tmp_path]).findings if f.column == "纳入网格化"}
    assert got == {2: "cell_error", 3: "unreadable_flag"}


def test_a_status_not_allowed_is_unknown_too(tmp_path, jindu):
    rows = [PERSON_HEADER] + person_rows()
    rows[1][6] = "社回面"  # a typo: reported, and no longer counted as 社会面 by default
    write_xlsx(tmp_path / "台帐.xlsx", {"吸毒人员登记台帐": rows})
    got = figures(jindu, tmp_path, "--period", "2018-10")
    assert got["in_society"]["numerator"] == 1  # 李四 (社区戒毒); 王五 is in a facility


def test_scan_finds_cells_across_chunk_boundaries():
    xml = (b'<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="e"><v>#REF!</v></c></row>'
           b'<row r="2"><c r="C2"><f>A1+1</f><v></v></c><c r="D2" t="str"><f>""</f><v></v></c>'
           b'<c r="E2"><f>A1</f><v>3</v></c><c r="AA2"><f t="shared" si="0"/></c></row></sheetData>')
    for size in (1, 7, 64, len(xml)):
        scan = Scan()
        for i in range(0, len(xml), size):
            scan.feed(xml[i:i + size])
        assert set(scan.cells) == {(0, 1), (1, 2), (1, 26)}, size  # D2: a cached empty text; E2: cached
        assert scan.cells[(0, 1)] == "#REF!"


# ---------------------------------------------------------------- CSV encodings

def test_a_gbk_line_in_a_utf8_csv_is_read_and_located(tmp_path, jindu):
    rows = [PERSON_HEADER] + person_rows()
    path = write_csv(tmp_path / "persons.csv", rows)
    lines = path.read_bytes().split(b"\r\n")
    lines[2] = lines[2].decode("utf-8").encode("gbk")  # 李四's row pasted from a GBK file
    path.write_bytes(b"\r\n".join(lines))
    ls = load_ledgers([path])
    assert list(ls["persons"]["姓名"]) == ["张三", "李四", "王五"]
    notes = [(f.code, f.row, f.severity) for f in ls.findings if f.code == "csv_line_encoding"]
    assert notes == [("csv_line_encoding", 3, "警告")]
    assert figures(jindu, path, "--period", "2018-10")["registered"]["numerator"] == 3


def _values(frame) -> list:
    """A ledger frame's cells without the reader's own columns (_file …)."""
    return frame[[c for c in frame.columns if not c.startswith("_")]].astype(str).values.tolist()


def test_a_gbk_name_in_a_utf8_line_garbles_nothing_else(tmp_path, jindu):
    """Decoded by byte run (issue 29): only the pasted name's bytes are GB18030; the line's other fields
    (所属村居, 人员状态 …) stay UTF-8, so the figures are those of the clean file."""
    rows = [PERSON_HEADER] + person_rows()
    clean = write_csv(tmp_path / "clean" / "persons.csv", rows)
    path = tmp_path / "persons.csv"
    data = clean.read_bytes()
    path.write_bytes(data.replace("李四".encode(), "李四".encode("gbk"), 1))
    ls, ref = load_ledgers([path]), load_ledgers([clean])
    assert _values(ls["persons"]) == _values(ref["persons"])
    notes = [(f.code, f.row) for f in ls.findings if f.code == "csv_line_encoding"]
    assert notes == [("csv_line_encoding", 3)]
    assert figures(jindu, path, "--period", "2018-10") == figures(jindu, clean, "--period", "2018-10")


def test_the_sample_persons_as_csv_with_one_gbk_name_keep_424_registered(tmp_path, jindu):
    """Built like the issue's case: the sample's persons ledger saved as UTF-8 CSV, one name pasted from a
    GBK file; 在册 stays 424 (decoded by line, the row's 人员状态 was garbled: 423)."""
    import csv
    from pathlib import Path

    import openpyxl

    sample = Path(__file__).resolve().parents[2] / "sample_ledgers" / "乐平镇台帐.xlsx"
    ws = openpyxl.load_workbook(sample, read_only=True)["吸毒人员登记台帐"]
    lines = []
    for r in ws.iter_rows(values_only=True):
        out = __import__("io").StringIO()
        csv.writer(out, lineterminator="").writerow(["" if v is None else v.date().isoformat()
                                                     if isinstance(v, dt.datetime) else v for v in r])
        lines.append(out.getvalue().encode("utf-8"))
    clean = tmp_path / "clean" / "persons.csv"
    clean.parent.mkdir()
    clean.write_bytes(b"\r\n".join(lines))
    name = lines[1].split(b",")[0].decode("utf-8")
    pasted = tmp_path / "persons.csv"
    pasted.write_bytes(b"\r\n".join([*lines[:1], lines[1].replace(name.encode(), name.encode("gbk"), 1), *lines[2:]]))
    for path in (clean, pasted):
        assert figures(jindu, path, "--period", "2018-01..2018-10")["registered"]["numerator"] == 424


def test_a_cesu8_surrogate_garbles_nothing_else_on_its_line(tmp_path):
    rows = [PERSON_HEADER] + person_rows()
    clean = write_csv(tmp_path / "clean" / "persons.csv", rows)
    path = tmp_path / "persons.csv"
    path.write_bytes(clean.read_bytes().replace("李四".encode(), "李".encode() + b"\xed\xa0\x80", 1))
    ls, ref = load_ledgers([path]), load_ledgers([clean])
    assert list(ls["persons"]["姓名"]) == ["张三", "李\ufffd", "王五"]
    assert _values(ls["persons"].drop(columns="姓名")) == _values(ref["persons"].drop(columns="姓名"))
    assert [f.row for f in ls.findings if f.code == "csv_line_encoding"] == [3]


def test_a_bom_before_a_gbk_body(tmp_path):
    path = write_csv(tmp_path / "persons.csv", [PERSON_HEADER] + person_rows(), encoding="gbk")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    ls = load_ledgers([path])
    assert list(ls["persons"]["姓名"]) == ["张三", "李四", "王五"]
    assert not [f for f in ls.findings if f.code == "sheet_unrecognized"]


# ---------------------------------------------------------------- copies of a ledger file

def test_copies_of_a_ledger_beside_it_are_counted_once(tmp_path, jindu):
    seiz = [SEIZURE_HEADER, [dt.datetime(2018, 10, 3), ID_A, "张三", "乐平村", "行政拘留"]]
    sheets = {"吸毒人员登记台帐": [PERSON_HEADER] + person_rows(), "查处台帐": seiz}
    single = write_xlsx(tmp_path / "one" / "台帐.xlsx", sheets)
    base = figures(jindu, single, "--period", "2018-10")
    folder = tmp_path / "many"
    for name in ("台帐 - 副本.xlsx", "台帐.xlsx", "台帐(1).xlsx"):
        write_xlsx(folder / name, sheets)
    got = figures(jindu, folder, "--period", "2018-10")
    assert got["seizures"]["numerator"] == base["seizures"]["numerator"] == 1
    assert got["registered"]["numerator"] == base["registered"]["numerator"]
    dup = [f for f in load_ledgers([folder]).findings if f.code == "duplicate_file"]
    assert sorted((f.file.rsplit("/", 1)[-1], f.sheet) for f in dup) == [
        ("台帐 - 副本.xlsx", "吸毒人员登记台帐"), ("台帐 - 副本.xlsx", "查处台帐"),
        ("台帐(1).xlsx", "吸毒人员登记台帐"), ("台帐(1).xlsx", "查处台帐")]
    assert all(f.severity == "警告" and "台帐.xlsx" in f.message for f in dup)
    # a file with other rows is no copy
    seiz2 = seiz + [[dt.datetime(2018, 10, 4), ID_B, "李四", "南边村", "行政拘留"]]
    write_xlsx(folder / "台帐(1).xlsx", {"查处台帐": seiz2})
    assert len(load_ledgers([folder])["seizures"]) == 3  # 台帐.xlsx's row and the two of 台帐(1).xlsx


# ---------------------------------------------------------------- header

def test_a_duplicate_header_column_is_named(tmp_path):
    rows = [PERSON_HEADER + ["身份证号"]] + [r + ["440607199901010000"] for r in person_rows()]
    path = write_xlsx(tmp_path / "台帐.xlsx", {"吸毒人员登记台帐": rows})
    ls = load_ledgers([path])
    dup = [f for f in ls.findings if f.code == "duplicate_column"]
    assert len(dup) == 1 and dup[0].severity == "警告" and dup[0].column == "公民身份号码"
    assert "B列「公民身份号码」" in dup[0].message and "I列「身份证号」" in dup[0].message
    assert "读取的是B列" in dup[0].message
    assert list(ls["persons"]["公民身份号码"]) == [ID_A, ID_B, ID_C]


# ---------------------------------------------------------------- dates against the ID's birth date

def test_dates_before_birth_and_births_in_the_future(tmp_path, jindu):
    future = make_id("440607", "20900101", 55)
    rows = [PERSON_HEADER] + person_rows() + [["钱七", future, "乐平村", "乐平镇", "本地", None, "社会面", "是"]]
    seiz = [SEIZURE_HEADER, [dt.datetime(1984, 5, 1), ID_A, "张三", "乐平村", "行政拘留"],  # born 1985-03-12
            [dt.datetime(2018, 5, 1), ID_B, "李四", "南边村", "行政拘留"]]
    path = write_xlsx(tmp_path / "台帐.xlsx", {"吸毒人员登记台帐": rows, "查处台帐": seiz})
    found = validate(load_ledgers([path]))
    before = [f for f in found if f.code == "date_before_birth"]
    assert [(f.sheet, f.row, f.column) for f in before] == [("查处台帐", 2, "查处日期")]
    assert before[0].severity == "错误" and "1985" not in before[0].message  # the birth date is masked PII
    assert [(f.row, f.severity) for f in found if f.code == "id_birth_in_future"] == [(5, "错误")]
    assert jindu(["validate", str(path)])[0] == 1


# ---------------------------------------------------------------- ID messages

def test_scientific_notation_text_says_stored_as_number(tmp_path):
    rows = [PERSON_HEADER] + person_rows()
    rows[1][1] = "4.42721E+17"
    write_csv(tmp_path / "persons.csv", rows)
    f = [f for f in load_ledgers([tmp_path]).findings if f.row == 2 and f.column == "公民身份号码"]
    assert [x.code for x in f] == ["id_stored_as_number"]
    assert "科学计数法" in f[0].message and "末位已丢失" in f[0].message


def test_a_15_digit_id_stored_as_a_number_is_read(tmp_path):
    id15 = "440607850312011"
    rows = [PERSON_HEADER] + person_rows()
    rows[1][1] = float(id15)  # a numeric cell: 15 digits fit a double exactly
    path = write_xlsx(tmp_path / "台帐.xlsx", {"吸毒人员登记台帐": rows})
    ls = load_ledgers([path])
    from jindu_metrics.ledgers.ids import upgrade15

    assert ls["persons"]["公民身份号码"].iloc[0] == upgrade15(id15)
    got = [(f.code, f.severity) for f in ls.findings
           if f.column == "公民身份号码" and f.row == 2 and f.code != "id_area_unknown"]
    assert got == [("id_stored_as_number_15", "警告")]


def test_an_18_digit_id_stored_as_a_number_is_refused(tmp_path):
    rows = [PERSON_HEADER] + person_rows()
    rows[1][1] = float(ID_A)
    path = write_xlsx(tmp_path / "台帐.xlsx", {"吸毒人员登记台帐": rows})
    got = [f for f in load_ledgers([path]).findings
           if f.column == "公民身份号码" and f.row == 2 and f.code != "id_area_unknown"]
    assert [f.code for f in got] == ["id_stored_as_number"]


@pytest.mark.parametrize("char,name", [("\u200d", "零宽连字符"), ("\u00ad", "软连字符"), ("\u200b", "零宽空格"),
                                       ("\ufeff", "BOM"), ("\u00a0", "不换行空格")])
def test_invisible_characters_in_an_id_are_named(tmp_path, char, name):
    rows = [PERSON_HEADER] + person_rows()
    rows[1][1] = ID_A[:6] + char + ID_A[6:]
    rows[2][1] = ID_B[:5] + char + ID_B[6:]  # one digit short besides
    path = write_xlsx(tmp_path / "台帐.xlsx", {"吸毒人员登记台帐": rows})
    ls = load_ledgers([path])
    assert ls["persons"]["公民身份号码"].iloc[0] == ID_A
    by_row = {f.row: f for f in ls.findings if f.column == "公民身份号码" and f.code != "id_area_unknown"}
    assert by_row[2].code == "id_invisible_chars" and by_row[2].severity == "警告" and name in by_row[2].message
    assert by_row[3].code == "bad_id_format" and name in by_row[3].message


# ---------------------------------------------------------------- IDs in other digits (issue 29)

@pytest.mark.parametrize("digits", ["٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹", "०१२३४५६७८९"], ids=["arabic-indic", "persian", "devanagari"])
def test_an_id_in_digits_of_another_script_names_them(tmp_path, digits):
    """Not a check-digit error: the characters are named, so the user sees why a "valid-looking" ID fails."""
    rows = [PERSON_HEADER] + person_rows()
    rows[1][1] = rows[1][1][:17].translate(str.maketrans("0123456789", digits)) + rows[1][1][17]
    found = [f for f in load_ledgers([write_xlsx(tmp_path / "p.xlsx", {"吸毒人员登记台帐": rows})]).findings
             if f.column == "公民身份号码" and f.row == 2]
    assert [(f.code, f.row) for f in found] == [("bad_id_format", 2)]
    assert "非 0-9 的数字" in found[0].message and any(f"「{d}」" in found[0].message for d in digits)
    assert all(f.code != "bad_id_checksum" for f in found)
