"""Every leniency variation of ledgers.md reads to the canonical frame (one test per variation)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from builders import (
    ID_A,
    ID_B,
    ID_C,
    PERSON_HEADER,
    canonical_persons,
    comparable,
    person_rows,
    write_csv,
    write_ods,
    write_xlsx,
)

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.ledgers.ids import upgrade15


@pytest.fixture
def canon(tmp_path):
    return canonical_persons(tmp_path / "c")


def read_persons(path):
    s = load_ledgers([path])
    errors = [f for f in s.findings if f.severity == "错误"]
    assert not errors, [(f.code, f.row, f.column, f.value) for f in errors]
    return comparable(s["persons"]), s


def test_canonical_reading_is_typed(canon):
    assert list(canon["公民身份号码"]) == [ID_A, ID_B, ID_C]
    assert canon["初次发现日期"].iloc[0] == pd.Timestamp("2018-10-05")
    assert list(canon["纳入网格化"]) == [True, False, True]
    assert str(canon["纳入网格化"].dtype) == "boolean"


def test_title_rows_and_blank_rows(tmp_path, canon):
    rows = [["乐平镇吸毒人员登记台帐"], [], ["填报单位：乐平镇禁毒办"], PERSON_HEADER] + person_rows()
    p = write_xlsx(tmp_path / "t.xlsx", {"Sheet1": rows}, merges={"Sheet1": ["A1:H1"]})
    df, s = read_persons(p)
    pd.testing.assert_frame_equal(df, canon)
    assert list(s["persons"]["_row"]) == [5, 6, 7]  # title rows counted


def test_merged_two_row_header(tmp_path, canon):
    top = ["姓名", "公民身份号码", "所属村居", "所属镇街", "人员类别", "初次发现日期", "人员状态", "纳入网格化", "外来人员", ""]
    sub = ["", "", "", "", "", "", "", "", "已见面", "已建档"]
    rows = [top, sub] + [r + ["是", "否"] for r in person_rows()]
    p = write_xlsx(tmp_path / "m.xlsx", {"Sheet1": rows}, merges={"Sheet1": ["I1:J1"] + [f"{c}1:{c}2" for c in "ABCDEFGH"]})
    df, s = read_persons(p)
    pd.testing.assert_frame_equal(df.drop(columns=["已见面", "已建档"]), canon.drop(columns=["已见面", "已建档"]))
    assert list(df["已见面"]) == [True] * 3 and list(df["已建档"]) == [False] * 3
    assert list(s["persons"]["_row"]) == [3, 4, 5]


def test_joined_header_label(tmp_path):
    rows = [PERSON_HEADER + ["外来人员已见面", "外来人员已建档"]] + [r + ["是", "否"] for r in person_rows()]
    df, _ = read_persons(write_xlsx(tmp_path / "j.xlsx", {"S": rows}))
    assert list(df["已见面"]) == [True] * 3 and list(df["已建档"]) == [False] * 3


@pytest.mark.parametrize("alias", ["身份证号", "身份证号码", "证件号码"])
def test_alias_id(tmp_path, canon, alias):
    h = list(PERSON_HEADER)
    h[1] = alias
    df, _ = read_persons(write_xlsx(tmp_path / "a.xlsx", {"S": [h] + person_rows()}))
    pd.testing.assert_frame_equal(df, canon)


@pytest.mark.parametrize("alias", ["村(居)", "村居", "社区", "所在村居", "所属网格"])
def test_alias_village(tmp_path, canon, alias):
    h = list(PERSON_HEADER)
    h[2] = alias
    df, _ = read_persons(write_xlsx(tmp_path / "a.xlsx", {"S": [h] + person_rows()}))
    pd.testing.assert_frame_equal(df, canon)


@pytest.mark.parametrize("alias", ["镇街", "乡镇(街道)"])
def test_alias_town(tmp_path, canon, alias):
    h = list(PERSON_HEADER)
    h[3] = alias
    df, _ = read_persons(write_xlsx(tmp_path / "a.xlsx", {"S": [h] + person_rows()}))
    pd.testing.assert_frame_equal(df, canon)


def test_alias_seizure_columns(tmp_path):
    persons = [PERSON_HEADER] + person_rows()
    seizures = [["查获日期", "身份证号", "处理结果"], [dt.datetime(2018, 9, 1), ID_A, "强戒"]]
    s = load_ledgers([write_xlsx(tmp_path / "s.xlsx", {"人员": persons, "查处": seizures})])
    df = s["seizures"]
    assert df["查处日期"].iloc[0] == pd.Timestamp("2018-09-01")
    assert df["处置结果"].iloc[0] == "强制隔离戒毒"
    assert df["姓名"].iloc[0] == "张三" and df["所属村居"].iloc[0] == "乐平村"  # filled from persons
    s2 = load_ledgers([write_xlsx(tmp_path / "s2.xlsx", {"查处": [["查处时间", "证件号码", "处置情况"],
                                                                   ["2018-09-01", ID_A, "刑拘"]]})])
    assert s2["seizures"]["处置结果"].iloc[0] == "刑事拘留"


def test_alias_kind_specific_in_persons(tmp_path):
    h = PERSON_HEADER + ["查获日期", "管控级别", "关注程度"]
    rows = [h] + [r + [dt.datetime(2018, 1, 2), "二级", None] for r in person_rows()]
    df, _ = read_persons(write_xlsx(tmp_path / "k.xlsx", {"S": rows}))
    assert (df["末次查获日期"] == pd.Timestamp("2018-01-02")).all()
    assert (df["管控等级"] == "二级").all()


def test_grid_platform_export(tmp_path):
    rows = [["姓名", "身份证号码", "所属网格", "首吸时间", "关注程度"],
            ["张三", ID_A, "乐平村", "2015-01-01", "严重"], ["李四", ID_B, "南边村", "2016-01-01", "一般"]]
    df, _ = read_persons(write_xlsx(tmp_path / "g.xlsx", {"S": rows}))
    assert list(df["管控等级"]) == ["一级", "三级"]
    assert df["初次发现日期"].iloc[0] == pd.Timestamp("2015-01-01")


def test_traditional_header(tmp_path, canon):
    h = ["姓名", "公民身份號碼", "所屬村居", "所屬鎮街", "人員類別", "初次發現日期", "人員狀態", "納入網格化"]
    df, _ = read_persons(write_xlsx(tmp_path / "f.xlsx", {"S": [h] + person_rows()}))
    pd.testing.assert_frame_equal(df, canon)


def test_fullwidth_and_whitespace_header(tmp_path, canon):
    h = [" 姓　名 ", "公民身份号码：", "村（居）", "镇 街", "人员类别", "初次发现日期", "人员状态\n", "纳入网格化"]
    df, _ = read_persons(write_xlsx(tmp_path / "w.xlsx", {"S": [h] + person_rows()}))
    pd.testing.assert_frame_equal(df, canon)


def test_taizhang_sheet_name(tmp_path, canon):
    p = write_xlsx(tmp_path / "z.xlsx", {"吸毒人员登记台账": [PERSON_HEADER] + person_rows()})
    df, s = read_persons(p)
    pd.testing.assert_frame_equal(df, canon)
    assert s.sheets[0].kind == "persons"


def test_shifou_prefix(tmp_path, canon):
    h = list(PERSON_HEADER)
    h[7] = "是否纳入网格化管理"
    df, _ = read_persons(write_xlsx(tmp_path / "y.xlsx", {"S": [h + ["是否病残"]] + [r + ["是"] for r in person_rows()]}))
    pd.testing.assert_frame_equal(df.drop(columns=["病残"]), canon.drop(columns=["病残"]))
    assert df["病残"].all()


@pytest.mark.parametrize("text", ["2018-10-05", "2018/10/5", "2018.10.5", "20181005", "2018年10月5日",
                                  "2018-10-05 14:30", " 2018-10-05 ", "２０１８－１０－０５"])
def test_text_dates(tmp_path, canon, text):
    rows = person_rows()
    rows[0][5] = text
    df, _ = read_persons(write_xlsx(tmp_path / "d.xlsx", {"S": [PERSON_HEADER] + rows}))
    assert df["初次发现日期"].iloc[0].normalize() == pd.Timestamp("2018-10-05")
    pd.testing.assert_frame_equal(df.iloc[1:], canon.iloc[1:])


@pytest.mark.parametrize("serial", [43378, 43378.0, "43378"])
def test_serial_dates(tmp_path, serial):
    rows = person_rows()
    rows[0][5] = serial
    df, _ = read_persons(write_xlsx(tmp_path / "n.xlsx", {"S": [PERSON_HEADER] + rows}))
    assert df["初次发现日期"].iloc[0] == pd.Timestamp("2018-10-05")


def test_number_yyyymmdd(tmp_path):
    rows = person_rows()
    rows[0][5] = 20181005
    df, _ = read_persons(write_xlsx(tmp_path / "n.xlsx", {"S": [PERSON_HEADER] + rows}))
    assert df["初次发现日期"].iloc[0] == pd.Timestamp("2018-10-05")


def test_1904_date_system(tmp_path, canon):
    df, _ = read_persons(write_xlsx(tmp_path / "m.xlsx", {"S": [PERSON_HEADER] + person_rows()}, date1904=True))
    pd.testing.assert_frame_equal(df, canon)


@pytest.mark.parametrize("true,false", [("是", "否"), ("是的", "否"), ("Y", "N"), ("yes", "no"), ("YES", "No"),
                                        ("√", "×"), ("✓", ""), ("1", "0"), (1, 0), (True, False),
                                        ("TRUE", "FALSE")])
def test_flag_forms(tmp_path, true, false):
    rows = person_rows()
    rows[0][7], rows[1][7] = true, false
    df, _ = read_persons(write_xlsx(tmp_path / "fl.xlsx", {"S": [PERSON_HEADER] + rows}))
    assert df["纳入网格化"].iloc[0] is True or bool(df["纳入网格化"].iloc[0]) is True
    if false == "":
        assert pd.isna(df["纳入网格化"].iloc[1])
    else:
        assert bool(df["纳入网格化"].iloc[1]) is False


@pytest.mark.parametrize("raw,canonical", [("强戒", "强制隔离戒毒"), ("社戒", "社区戒毒"), ("社康", "社区康复"),
                                           (" 社会面 ", "社会面"), ("在控", "社会面"), ("失控", "失联"),
                                           ("社會面", "社会面"), ("社会面戒断三年未复吸", "社会面")])
def test_category_variants(tmp_path, raw, canonical):
    rows = person_rows()
    rows[0][6] = raw
    df, s = read_persons(write_xlsx(tmp_path / "cv.xlsx", {"S": [PERSON_HEADER] + rows}))
    assert df["人员状态"].iloc[0] == canonical
    if raw.startswith("社会面戒断"):
        assert s["persons"]["人员状态细分"].iloc[0] == raw


@pytest.mark.parametrize("raw,disposal", [("刑拘", "刑事拘留"), ("行拘", "行政拘留"), ("强戒", "强制隔离戒毒")])
def test_disposal_variants(tmp_path, raw, disposal):
    p = write_xlsx(tmp_path / "d.xlsx", {"查处": [["查处日期", "公民身份号码", "处置结果"], ["2018-01-01", ID_A, raw]]})
    assert load_ledgers([p])["seizures"]["处置结果"].iloc[0] == disposal


def _with_id(tmp_path, value):
    rows = person_rows()
    rows[0][1] = value
    return read_persons(write_xlsx(tmp_path / "id.xlsx", {"S": [PERSON_HEADER] + rows}))


def test_id_with_spaces(tmp_path, canon):
    df, _ = _with_id(tmp_path, f" {ID_A[:6]} {ID_A[6:14]} {ID_A[14:]} ")
    pd.testing.assert_frame_equal(df, canon)


def test_id_fullwidth_digits(tmp_path, canon):
    full = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in ID_A)
    df, _ = _with_id(tmp_path, full)
    pd.testing.assert_frame_equal(df, canon)


def test_id_lowercase_x(tmp_path):
    from jindu_metrics.ledgers.ids import check_digit

    body = next(b for b in (f"44060719800101{n:03d}" for n in range(1000)) if check_digit(b) == "X")
    df, _s = _with_id(tmp_path, body + "x")
    assert df["公民身份号码"].iloc[0] == body + "X"


def test_id_15_digits_upgraded(tmp_path):
    id15 = "440607850312011"
    df, _s = _with_id(tmp_path, id15)
    assert df["公民身份号码"].iloc[0] == upgrade15(id15)
    assert len(df["公民身份号码"].iloc[0]) == 18


def test_total_and_footnote_rows_skipped(tmp_path, canon):
    rows = [PERSON_HEADER] + person_rows() + [["合计", "", "", "", "", "", "", ""], ["填表人：张某", "", "", "", "", "", "", ""],
                                              ["备注：本表每月更新"]]
    s = load_ledgers([write_xlsx(tmp_path / "tot.xlsx", {"S": rows})])
    pd.testing.assert_frame_equal(comparable(s["persons"]), canon)
    skipped = [f for f in s.findings if f.code == "row_skipped"]
    assert [f.row for f in skipped] == [5, 6, 7]


def test_empty_rows_skipped_silently(tmp_path, canon):
    r = person_rows()
    rows = [PERSON_HEADER, r[0], [None] * 8, r[1], [], r[2]]
    s = load_ledgers([write_xlsx(tmp_path / "e.xlsx", {"S": rows})])
    pd.testing.assert_frame_equal(comparable(s["persons"]), canon)
    assert list(s["persons"]["_row"]) == [2, 4, 6]
    assert [f.code for f in s.findings] == ["id_area_unknown"]  # 440607 postdates stdnum's table: a warning only


@pytest.mark.parametrize("encoding,delimiter", [("gbk", ","), ("gb18030", ","), ("utf-8-sig", ","), ("utf-8", ";"),
                                                ("utf-8", "\t")])
def test_csv_variants(tmp_path, canon, encoding, delimiter):
    p = write_csv(tmp_path / "p.csv", [PERSON_HEADER] + person_rows(), encoding=encoding, delimiter=delimiter)
    df, s = read_persons(p)
    pd.testing.assert_frame_equal(df, canon)
    assert list(s["persons"]["_row"]) == [2, 3, 4]


def test_ods(tmp_path, canon):
    df, _ = read_persons(write_ods(tmp_path / "p.ods", [PERSON_HEADER] + person_rows()))
    pd.testing.assert_frame_equal(df, canon)


def test_unknown_extra_column_kept(tmp_path, canon):
    rows = [PERSON_HEADER + ["序号备注"]] + [r + ["x"] for r in person_rows()]
    s = load_ledgers([write_xlsx(tmp_path / "x.xlsx", {"S": rows})])
    assert {f.code for f in s.findings} == {"id_area_unknown"}
    assert list(s["persons"]["序号备注"]) == ["x"] * 3
    pd.testing.assert_frame_equal(comparable(s["persons"]), canon)


def test_merged_village_cells_in_data(tmp_path, canon):
    rows = [PERSON_HEADER] + person_rows()
    rows[3][2] = None  # 王五's village comes from a merged cell C3:C4? no: merge C2:C4 below needs same value
    rows[2][2] = "乐平村"
    p = write_xlsx(tmp_path / "mg.xlsx", {"S": rows}, merges={"S": ["C3:C4"]})
    df, _ = read_persons(p)
    assert list(df["所属村居"]) == ["乐平村", "乐平村", "乐平村"]


def test_sheet_classified_by_columns_not_name(tmp_path):
    p = write_xlsx(tmp_path / "c.xlsx", {"查处台帐": [PERSON_HEADER] + person_rows(),
                                          "说明": [["本工作簿说明"], ["每月5日前报送"]]})
    s = load_ledgers([p])
    assert {x.sheet: x.kind for x in s.sheets} == {"查处台帐": "persons", "说明": None}
    assert [f.code for f in s.findings if f.code != "id_area_unknown"] == ["sheet_unrecognized"]


def test_county_file_several_towns_and_unit_fill(tmp_path):
    rows = [PERSON_HEADER] + person_rows()
    rows[2][3] = "芦苞镇"
    s = load_ledgers([write_xlsx(tmp_path / "county.xlsx", {"S": rows})])
    assert set(s["persons"]["所属镇街"]) == {"乐平镇", "芦苞镇"} and s.unit is None
    rows = [PERSON_HEADER[:3]] + [r[:3] for r in person_rows()]
    s = load_ledgers([write_xlsx(tmp_path / "town.xlsx", {"S": rows})], unit="乐平镇")
    assert set(s["persons"]["所属镇街"]) == {"乐平镇"} and s.unit == "乐平镇"


def test_folder_non_recursive_skips_lock_files(tmp_path):
    write_xlsx(tmp_path / "a.xlsx", {"S": [PERSON_HEADER] + person_rows()})
    (tmp_path / "~$a.xlsx").write_bytes(b"lock")
    (tmp_path / ".hidden.csv").write_text("x")
    write_xlsx(tmp_path / "sub" / "b.xlsx", {"S": [PERSON_HEADER] + person_rows()})
    s = load_ledgers([tmp_path])
    assert len(s["persons"]) == 3 and s.files == [str(tmp_path / "a.xlsx")]
