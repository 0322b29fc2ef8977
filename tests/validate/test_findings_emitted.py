"""Every finding kind findings.py declares is emitted by some input (a declared kind nothing emits is a lie),
and the checks on person state (level_contradiction, status_detail_mismatch, last_seizure_outdated) judge
the dates as the engine does, on the judgement day."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from builders import ID_A, ID_B, ID_C, PERSON_HEADER, person_rows, planted_sheets, write_csv, write_xlsx

from jindu_metrics import findings as F
from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.ledgers.ids import make_id
from jindu_metrics.validate import judgement_day, validate

ID_D = make_id("440607", "19800505", 41)
SEIZURE_HEADER = ["查处日期", "公民身份号码", "姓名", "所属村居", "处置结果"]
STATE_HEADER = PERSON_HEADER + ["末次查获日期", "管控等级"]


def _persons(path: Path, edit) -> Path:
    rows = [PERSON_HEADER] + person_rows()
    edit(rows)
    return write_xlsx(path, {"吸毒人员登记台帐": rows})


def _state_book(path: Path) -> Path:
    """Four persons whose recorded 管控等级 / 人员状态细分 / 末次查获日期 disagree with their dates."""
    persons = [STATE_HEADER,
               ["张三", ID_A, "乐平村", "乐平镇", "本地", dt.datetime(2010, 1, 1), "社会面", "是",
                dt.datetime(2014, 1, 1), "一级"],          # 2: abstinent 3 years, still given a level
               ["李四", ID_B, "乐平村", "乐平镇", "本地", dt.datetime(2010, 1, 1), "社会面", "是",
                dt.datetime(2018, 3, 1), None],            # 3: under control without a level; seized later
               ["王五", ID_C, "乐平村", "乐平镇", "本地", dt.datetime(2010, 1, 1), "社会面戒断三年未复吸", "是",
                dt.datetime(2017, 6, 1), "二级"],          # 4: says 3 years, detected 2017
               ["赵六", ID_D, "乐平村", "乐平镇", "本地", dt.datetime(2010, 1, 1), "社会面戒断不满三年", "是",
                dt.datetime(2015, 1, 1), None]]            # 5: says not 3 years, detected 2015
    seizures = [SEIZURE_HEADER, [dt.datetime(2018, 9, 1), ID_B, "李四", "乐平村", "行政拘留"]]
    return write_xlsx(path, {"吸毒人员登记台帐": persons, "查处台帐": seizures})


def _formula_book(path: Path) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "吸毒人员登记台帐"
    ws.append(PERSON_HEADER)
    for r in person_rows():
        ws.append(r)
    ws["G3"] = '=IF(1,"死亡","")'  # openpyxl saves no result
    ws["G4"] = "#N/A"
    ws.cell(row=2, column=300, value="备注")  # beyond column IV
    wb.save(path)
    return path


def _gbk_line(path: Path) -> Path:
    p = write_csv(path, [PERSON_HEADER] + person_rows())
    lines = p.read_bytes().split(b"\r\n")
    lines[2] = lines[2].decode("utf-8").encode("gbk")
    p.write_bytes(b"\r\n".join(lines))
    return p


def _copies(folder: Path) -> Path:
    one = _persons(folder / "台帐.xlsx", lambda rows: None)
    shutil.copy(one, folder / "台帐 - 副本.xlsx")
    return folder


def _misnamed(folder: Path) -> Path:
    book = _persons(folder / "x.xlsx", lambda rows: None)
    return book.rename(folder / "台帐.xls")


def _ids(rows):
    rows[1][1] = float("440607850312011")  # a 15-digit ID as a number
    rows[2][1] = ID_B[:6] + "\u200b" + ID_B[6:]  # a zero-width space inside
    rows.append(["钱七", make_id("440607", "20900101", 55), "乐平村", "乐平镇", "本地", None, "社会面", "是"])


def _extra_columns(rows):
    rows[0] = rows[0] + ["身份证号"]
    for r in rows[1:]:
        r.append("440607199901010000")
    rows.extend([["合计", "", "", "", "", "", "", ""]])


def _publicity(path: Path) -> Path:
    return write_xlsx(path, {"禁毒宣传台帐": [["日期", "形式", "数量"], [dt.datetime(2018, 5, 1), "讲座", "很多"]]})


def _before_birth(path: Path) -> Path:
    rows = [PERSON_HEADER] + person_rows()
    seiz = [SEIZURE_HEADER, [dt.datetime(1984, 5, 1), ID_A, "张三", "乐平村", "行政拘留"]]  # born 1985
    return write_xlsx(path, {"吸毒人员登记台帐": rows, "查处台帐": seiz})


def _order_dates(path: Path) -> Path:
    com = [["公民身份号码", "类别", "决定日期", "报到日期", "执行状态", "解除日期"],
           [ID_B, "社区戒毒", dt.datetime(2018, 5, 10), dt.datetime(2018, 5, 12), "执行中", dt.datetime(2018, 5, 1)]]
    return write_xlsx(path, {"吸毒人员登记台帐": [PERSON_HEADER] + person_rows(), "社区戒毒社区康复台帐": com})


def _units(path: Path) -> Path:
    rows = [PERSON_HEADER] + person_rows()
    rows[1][3] = rows[1][3] + "\u200b"  # 所属镇街 with a zero-width space
    rows[2][2] = "王五"  # 所属村居: a person's name
    return write_xlsx(path, {"吸毒人员登记台帐": rows})


def _notes(path: Path) -> Path:
    return write_xlsx(path, {"说明": [["填表说明"], ["每月5日前报送"]]})


PLANTED = ("unreadable_date", "date_out_of_range", "bad_id_checksum", "id_stored_as_number", "bad_id_format",
           "duplicate_person", "value_not_allowed", "unreadable_flag", "gender_mismatch", "required_empty",
           "unknown_person", "reported_before_decided", "reported_in_future", "status_contradiction",
           "missing_column", "sheet_unrecognized", "id_area_unknown")

# finding kind -> a builder of an input (file or folder under tmp) that emits it
BUILDERS = {
    **{code: lambda tmp: write_xlsx(tmp / "planted.xlsx", planted_sheets()) for code in PLANTED},
    "id_stored_as_number_15": lambda tmp: _persons(tmp / "ids.xlsx", _ids),
    "id_invisible_chars": lambda tmp: _persons(tmp / "ids.xlsx", _ids),
    "id_birth_in_future": lambda tmp: _persons(tmp / "ids.xlsx", _ids),
    "date_before_birth": lambda tmp: _before_birth(tmp / "birth.xlsx"),
    "cell_error": lambda tmp: _formula_book(tmp / "f.xlsx"),
    "formula_no_value": lambda tmp: _formula_book(tmp / "f.xlsx"),
    "columns_capped": lambda tmp: _formula_book(tmp / "f.xlsx"),
    "duplicate_column": lambda tmp: _persons(tmp / "cols.xlsx", _extra_columns),
    "row_skipped": lambda tmp: _persons(tmp / "cols.xlsx", _extra_columns),
    "duplicate_file": _copies,
    "csv_line_encoding": lambda tmp: _gbk_line(tmp / "persons.csv"),
    "unreadable_number": lambda tmp: _publicity(tmp / "pub.xlsx"),
    "no_ledger": lambda tmp: _notes(tmp / "说明.xlsx"),
    "ended_before_decided": lambda tmp: _order_dates(tmp / "order.xlsx"),
    "unit_invisible_chars": lambda tmp: _units(tmp / "units.xlsx"),
    "unit_looks_like_person": lambda tmp: _units(tmp / "units.xlsx"),
    "ended_before_reported": lambda tmp: _order_dates(tmp / "order.xlsx"),
    "format_mismatch": _misnamed,
    "level_contradiction": lambda tmp: _state_book(tmp / "state.xlsx"),
    "status_detail_mismatch": lambda tmp: _state_book(tmp / "state.xlsx"),
    "last_seizure_outdated": lambda tmp: _state_book(tmp / "state.xlsx"),
}

# kinds about a file or a sheet as a whole: no row, no column
WHOLE = {"no_ledger", "sheet_unrecognized", "duplicate_file", "format_mismatch", "columns_capped"}


def test_every_declared_kind_has_a_builder():
    declared = [k.code for k in F._KINDS]
    assert len(declared) == len(set(declared))
    assert set(BUILDERS) == set(declared), (set(declared) - set(BUILDERS), set(BUILDERS) - set(declared))


@pytest.mark.parametrize("code", [k.code for k in F._KINDS])
def test_every_declared_kind_is_emitted(tmp_path, code):
    assert code in BUILDERS, f"finding kind {code} is declared but no test input emits it"
    found = validate(load_ledgers([BUILDERS[code](tmp_path)]))
    hits = [f for f in found if f.code == code]
    assert hits, (code, sorted({f.code for f in found}))
    for f in hits:
        d = f.to_dict()
        assert d["file"] and d["message"].startswith(F.KINDS[code].title)
        if code not in WHOLE:
            assert f.sheet and f.row, f
        if f.column and code not in ("missing_column",):
            assert f.column_letter, f  # every cell finding names its column's letter


def test_state_checks_name_the_cells(tmp_path):
    ledgers = load_ledgers([_state_book(tmp_path / "state.xlsx")])
    assert judgement_day(ledgers) == dt.date(2018, 9, 1)  # the latest date in the data
    got = {(f.code, f.row, f.column, f.column_letter) for f in validate(ledgers)
           if f.code in ("level_contradiction", "status_detail_mismatch", "last_seizure_outdated")}
    assert got == {("level_contradiction", 2, "管控等级", "J"),       # abstinent 3 years with 一级
                   ("level_contradiction", 3, "管控等级", "J"),       # under control, no level
                   ("status_detail_mismatch", 4, "人员状态", "G"),    # says 3 years, detected 2017-06
                   ("status_detail_mismatch", 5, "人员状态", "G"),    # says not 3 years, detected 2015-01
                   ("last_seizure_outdated", 3, "末次查获日期", "I")}  # seized 2018-09-01 after 2018-03-01
    by = {(f.code, f.row): f for f in validate(ledgers)}
    assert "2018-09-01" in by[("last_seizure_outdated", 3)].message
    assert "社会面戒断三年未复吸" in by[("status_detail_mismatch", 4)].message
    assert "2017-06-01" in by[("status_detail_mismatch", 4)].message
    assert all(f.severity == "警告" for f in by.values() if f.code in ("level_contradiction", "last_seizure_outdated"))
    d = by[("level_contradiction", 2)].to_dict()
    assert ID_A not in str(d) and "张三" not in str(d)


def test_the_judgement_day_moves_the_three_year_line(tmp_path):
    """王五 (detected 2017-06-01, recorded 社会面戒断三年未复吸) is right from 2020-06-01 on; 张三's 一级 was
    right while 张三 was under control (before 2017-01-01)."""
    ledgers = load_ledgers([_state_book(tmp_path / "state.xlsx")])

    def codes(day):
        return {(f.code, f.row) for f in validate(ledgers, as_of=day)}

    assert ("status_detail_mismatch", 4) in codes(dt.date(2020, 5, 31))
    assert ("status_detail_mismatch", 4) not in codes(dt.date(2020, 6, 1))
    assert ("level_contradiction", 2) in codes(dt.date(2017, 1, 1))  # 2014-01-01 + 3 years
    assert ("level_contradiction", 2) not in codes(dt.date(2016, 12, 31))


@pytest.mark.parametrize("day", [dt.date(2016, 12, 31), dt.date(2017, 1, 1), dt.date(2018, 9, 1), dt.date(2020, 6, 1)])
def test_the_counted_state_findings_are_the_built_ones(tmp_path, day):
    """compute and explain count the person-state findings without building them (judged_summary): the same
    counts as the findings validate builds on that day, whichever checks fire."""
    from jindu_metrics.findings import summarize
    from jindu_metrics.validate import judged_summary

    ledgers = load_ledgers([_state_book(tmp_path / "state.xlsx")])
    found = validate(ledgers, state=False)
    built = validate(ledgers, as_of=day)
    assert len(built) > len(found)  # the state checks fired
    assert judged_summary(ledgers, found, day) == summarize(built)


def test_a_sheet_without_a_level_column_is_not_judged(tmp_path):
    rows = [PERSON_HEADER + ["末次查获日期"]] + [r + [dt.datetime(2018, 3, 1)] for r in person_rows()]
    found = validate(load_ledgers([write_xlsx(tmp_path / "p.xlsx", {"吸毒人员登记台帐": rows})]))
    assert not [f for f in found if f.code == "level_contradiction"]


def test_validate_cli_period_sets_the_judgement_day(tmp_path, jindu):
    import json

    path = _state_book(tmp_path / "state.xlsx")

    def rows(*extra):
        code, out, err = jindu(["validate", str(path), "--format", "json", *extra])
        assert code == 0, err
        return {(f["code"], f["row"]) for f in json.loads(out)["findings"]}

    assert ("status_detail_mismatch", 4) in rows()
    assert ("status_detail_mismatch", 4) not in rows("--period", "2020-06")


def test_compute_judges_person_state_on_its_period(tmp_path, jindu):
    path = _state_book(tmp_path / "state.xlsx")
    _code, _out, err = jindu(["compute", str(path), "--period", "2018-09", "--format", "json"])
    # the five findings of test_state_checks_name_the_cells, and two id_area_unknown (440607 set up in 2002)
    assert "警告 7 条" in err, err
    # on 2016-12-31 王五 (detections after that day not yet known) is abstinent but keeps 二级, and 赵六
    # (detected 2015-01-01) is under control without a level
    _code, _out, err = jindu(["compute", str(path), "--period", "2016-12", "--format", "json"])
    assert "警告 4 条" in err, err
