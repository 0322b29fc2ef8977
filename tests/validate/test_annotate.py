"""Column letters of findings, and `jindu validate --annotate`: the marked copy of each input workbook.

Planted faults (builders.planted_sheets) in xlsx, xls and GBK CSV: every finding's cell is filled and
commented, 问题清单 has one row per finding with a link to its cell, the input is unchanged, the copy is
byte-stable, validating the copy gives the same findings, LibreOffice opens it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from builders import PERSON_HEADER, person_rows, planted_sheets, write_csv, write_xls, write_xlsx

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.ledgers.header import canonical
from jindu_metrics.outputs import annotate
from jindu_metrics.outputs.annotate import FILLS
from jindu_metrics.validate import validate


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _key(findings) -> list[tuple]:
    """What a finding says about the ledger, without the file it was found in."""
    return sorted((f.code, f.sheet, f.row, f.column, f.column_letter, f.value, f.detail) for f in findings)


# ---------------------------------------------------------------- column letters

def test_letters_name_the_column_in_the_planted_workbook(tmp_path):
    p = write_xlsx(tmp_path / "faults.xlsx", planted_sheets())
    ledgers = load_ledgers([p])
    found = validate(ledgers)
    wb = openpyxl.load_workbook(p)
    kinds = {s.sheet: s.kind for s in ledgers.sheets}
    lettered = [f for f in found if f.column_letter]
    assert len(lettered) >= 15
    for f in lettered:  # the header above the letter is the finding's column (row 1 holds the headers)
        head = wb[f.sheet][f"{f.column_letter}1"].value
        assert canonical(kinds[f.sheet], head) == f.column, (f, head)
    by = {(f.code, f.sheet): f for f in found}
    assert by[("bad_id_checksum", "吸毒人员登记台帐")].cell == "B4"
    assert by[("unreadable_flag", "吸毒人员登记台帐")].cell == "H8"
    assert by[("reported_before_decided", "社区戒毒社区康复台帐")].cell == "D2"  # a cross-ledger check
    assert by[("missing_column", "帮教管控台帐")].column_letter is None  # the column is not there
    assert by[("gender_mismatch", "吸毒人员登记台帐")].column_label == "性别（I列）"


def test_letters_follow_title_rows_merged_headers_and_an_offset(tmp_path):
    # two empty columns, a merged title row, then a two-row header: 外来人员 merged over 已见面/已建档
    header_top = [None, None, "姓名", "公民身份号码", "所属村居", "外来人员", None, "人员类别"]
    header_low = [None, None, None, None, None, "已见面", "已建档", None]
    rows = [[None, None, "乐平镇吸毒人员登记台帐"], header_top, header_low,
            [None, None, "张三", "123", "乐平村", "也许", "是", "本地"]]
    p = write_xlsx(tmp_path / "t.xlsx", {"登记": rows},
                   merges={"登记": ["C1:H1", "C2:C3", "D2:D3", "E2:E3", "F2:G2", "H2:H3"]})
    found = {(f.code, f.column): f for f in validate(load_ledgers([p]))}
    assert found[("bad_id_format", "公民身份号码")].cell == "D4"
    assert found[("unreadable_flag", "已见面")].cell == "F4"


def test_csv_letter_is_the_field_position_and_json_carries_it(tmp_path, jindu):
    rows = [["序号"] + PERSON_HEADER] + [[i] + r for i, r in enumerate(person_rows(), 1)]
    rows[2][6] = "2018-02-30"
    write_csv(tmp_path / "登记.csv", rows, encoding="gbk")
    code, out, _ = jindu(["validate", tmp_path / "登记.csv", "--format", "json"])
    assert code == 1
    (f,) = [f for f in json.loads(out)["findings"] if f["code"] == "unreadable_date"]
    assert (f["row"], f["column"], f["column_letter"]) == (3, "初次发现日期", "G")
    code, out, _ = jindu(["validate", tmp_path / "登记.csv"])
    assert "初次发现日期（G列）" in out


# ---------------------------------------------------------------- the annotated copy

def _formula_text(sheets: dict) -> dict:
    """The planted sheets with a 备注 column whose text looks like a formula (it must stay text)."""
    persons = [row + ["=SUM(1,2)" if i == 1 else None] for i, row in enumerate(sheets["吸毒人员登记台帐"])]
    persons[0][-1] = "备注"
    return {**sheets, "吸毒人员登记台帐": persons}


def _xlsx(tmp: Path) -> list[Path]:
    p = write_xlsx(tmp / "台帐.xlsx", _formula_text(planted_sheets()))
    wb = openpyxl.load_workbook(p)
    wb["吸毒人员登记台帐"]["J2"].data_type = "s"  # builders wrote it as a formula: make it the text it is
    wb.save(p)
    return [p]


def _xls(tmp: Path) -> list[Path]:
    return [write_xls(tmp / "台帐.xls", _formula_text(planted_sheets()), hidden=("说明",))]


def _csv(tmp: Path) -> list[Path]:
    folder = tmp / "csv台帐"
    sheets = _formula_text(planted_sheets())
    return [write_csv(folder / f"{name}.csv", rows, encoding="gbk") for name, rows in sheets.items()
            if name != "说明"]


def _list_rows(ws) -> list[tuple]:
    """The findings table of a 问题清单 sheet: (级别, 工作表, 单元格 cell object, 列名, 说明)."""
    out = []
    for row in ws.iter_rows(min_row=5, max_col=5):
        if row[0].value is None:
            break
        out.append((row[0].value, row[1].value, row[2], row[3].value, row[4].value))
    return out


@pytest.mark.parametrize("make", [_xlsx, _xls, _csv], ids=["xlsx", "xls", "gbk-csv"])
def test_annotated_copy_marks_every_finding(tmp_path, jindu, make):
    inputs = make(tmp_path)
    before = {p: _digest(p) for p in inputs}
    found = validate(load_ledgers(inputs))
    out = tmp_path / "标注"
    code, _, err = jindu(["validate", *inputs, "--annotate", out])
    assert code == 1, err
    assert {p: _digest(p) for p in inputs} == before  # the inputs are never written
    copies = {}
    for p in inputs:
        copy = out / f"{p.stem}_问题标注.xlsx"
        assert copy.is_file() and str(copy) in err
        copies[str(p)] = copy
    again = validate(load_ledgers(list(copies.values())))
    assert _key(again) == _key(found)  # the marks change nothing the reader reads
    checked = 0
    for label, copy in copies.items():
        mine = [f for f in found if f.file == label]
        wb = openpyxl.load_workbook(copy)
        assert wb.sheetnames[0] == "问题清单" and wb.active.title == "问题清单"
        listed = _list_rows(wb["问题清单"])
        marked = [f for f in mine if f.code != "sheet_unrecognized"]
        assert len(listed) == len(marked)
        assert sorted(r[4] for r in listed) == sorted(f.message for f in marked)
        for level, sheet, link, _, message in listed:  # every link leads to a cell marked with its finding
            target = link.hyperlink.location
            name, coord = target.rsplit("!", 1)
            assert name.strip("'") == sheet and coord == link.value
            cell = wb[sheet][coord]
            assert message in cell.comment.text and f"【{level}】" in cell.comment.text
            assert cell.fill.fgColor.rgb in {FILLS[s] for s in ("错误", "警告", "提示")}
        for f in marked:  # and every finding's own cell is filled with its severity and commented
            if f.cell:
                cell = wb[f.sheet][f.cell]
                assert f.message in cell.comment.text
                worst = min((g.severity for g in marked if g.sheet == f.sheet and g.cell == f.cell),
                            key=["错误", "警告", "提示"].index)
                assert cell.fill.fgColor.rgb == FILLS[worst]
        if "帮教管控台帐" in wb.sheetnames:
            (missing,) = [r for r in listed if "缺少必需列" in r[4]]
            assert missing[2].value == "C1"  # beside the header of 帮教管控台帐 (日期, 方式)
        if "吸毒人员登记台帐" in wb.sheetnames:
            formula = wb["吸毒人员登记台帐"]["J2"]
            assert (formula.value, formula.data_type) == ("=SUM(1,2)", "s")  # text like a formula stays text
            checked += 1
    assert checked == 1
    if make is _xls:
        wb = openpyxl.load_workbook(copies[str(inputs[0])])
        assert wb["说明"].sheet_state == "hidden"
        texts = [c.value for row in wb["问题清单"].iter_rows() for c in row if isinstance(c.value, str)]
        assert "说明" in texts and any("未找到可识别的表头" in t for t in texts)  # the skipped sheet and why
        assert any("只保留了单元格的值" in t for t in texts)  # what the copy could not keep


def test_same_input_same_bytes_and_input_untouched(tmp_path):
    (p,) = _xlsx(tmp_path)
    before = _digest(p)
    found = validate(load_ledgers([p]))
    a = annotate.annotated_bytes(p, str(p), found)
    b = annotate.annotated_bytes(p, str(p), found)
    assert a == b and _digest(p) == before


def test_workbook_kept_as_it_was(tmp_path):
    from openpyxl.worksheet.datavalidation import DataValidation

    rows = [["乐平镇吸毒人员登记台帐"], PERSON_HEADER] + person_rows()
    rows[3][1] = rows[3][1][:10]  # a bad ID in B4
    p = write_xlsx(tmp_path / "台帐.xlsx", {"登记": rows, "旧表": [["备用"]]}, merges={"登记": ["A1:H1"]})
    wb = openpyxl.load_workbook(p)
    ws = wb["登记"]
    ws.column_dimensions["B"].width = 31
    ws["F3"].number_format = "yyyy年m月d日"
    dv = DataValidation(type="list", formula1='"本地,外来"', allow_blank=True)
    dv.add("E3:E100")
    ws.add_data_validation(dv)
    ws["A5"].comment = openpyxl.comments.Comment("原有批注", "专干")
    wb["旧表"].sheet_state = "hidden"
    wb.save(p)
    copy = tmp_path / "副本.xlsx"
    annotate.write_annotated(p, str(p), validate(load_ledgers([p])), copy)
    wb2 = openpyxl.load_workbook(copy)
    ws2 = wb2["登记"]
    assert ws2.column_dimensions["B"].width == 31 and ws2["F3"].number_format == "yyyy年m月d日"
    assert [str(r) for r in ws2.merged_cells.ranges] == ["A1:H1"]
    assert [str(d.sqref) for d in ws2.data_validations.dataValidation] == ["E3:E100"]
    assert wb2["旧表"].sheet_state == "hidden"
    assert [[c.value for c in r] for r in ws2.iter_rows()] == [[c.value for c in r] for r in ws.iter_rows()]
    assert "身份证号格式错误" in ws2["B4"].comment.text
    assert not [w.title for w in wb2.worksheets if w.sheet_view.tabSelected and w.title != "问题清单"]


def test_whole_row_findings_mark_the_first_cell(tmp_path):
    rows = [PERSON_HEADER] + person_rows() + [["合计", "3人"]]
    p = write_xlsx(tmp_path / "台帐.xlsx", {"吸毒人员登记台帐": rows})
    found = validate(load_ledgers([p]))
    (skipped,) = [f for f in found if f.code == "row_skipped"]
    copy = tmp_path / "c.xlsx"
    annotate.write_annotated(p, str(p), found, copy)
    cell = openpyxl.load_workbook(copy)["吸毒人员登记台帐"][f"A{skipped.row}"]
    assert "合计或备注行已跳过" in cell.comment.text and cell.fill.fgColor.rgb == FILLS["提示"]


# ---------------------------------------------------------------- where copies go

def test_default_names_beside_each_input_and_folders_skip_them(tmp_path, jindu):
    folder = tmp_path / "台帐"
    write_xlsx(folder / "乐平.xlsx", planted_sheets())
    write_csv(folder / "乐平.csv", [PERSON_HEADER] + person_rows())  # same stem: the format goes in the name
    code, out1, err = jindu(["validate", folder, "--annotate", "--format", "json"])
    assert code == 1, err
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["乐平.csv", "乐平.xlsx", "乐平_csv_问题标注.xlsx", "乐平_xlsx_问题标注.xlsx"]
    code, out2, _ = jindu(["validate", folder, "--format", "json"])  # copies beside originals are not read
    assert json.loads(out2)["summary"]["files"] == json.loads(out1)["summary"]["files"]
    one = tmp_path / "单个.xlsx"
    shutil.copy(folder / "乐平.xlsx", one)
    code, _, err = jindu(["validate", one, "--annotate"])
    assert (tmp_path / "单个_问题标注.xlsx").is_file(), err


def test_refused_destinations(tmp_path, jindu):
    p = write_xlsx(tmp_path / "台帐.xlsx", planted_sheets())
    other = write_xlsx(tmp_path / "别的.xlsx", {"S": [["x"]]})
    before = _digest(other)
    for target, words in ((p, "就是输入的台帐文件"), (other, "不是 jindu 写的标注副本")):
        code, _, err = jindu(["validate", p, "--annotate", target])
        assert code == 2 and words in err, err
    assert _digest(other) == before
    batch_out = tmp_path / "汇总"
    batch_out.mkdir()
    (batch_out / "summary.json").write_text("{}", encoding="utf-8")
    (batch_out / "全县通报.txt").write_text("", encoding="utf-8")
    code, _, err = jindu(["validate", p, "--annotate", batch_out / "x.xlsx"])
    assert code == 2 and "批量汇总的输出文件夹" in err and not (batch_out / "x.xlsx").exists()
    code, _, err = jindu(["validate", p, other, "--annotate", tmp_path / "一个.xlsx"])
    assert code == 2 and "文件夹" in err
    code, _, err = jindu(["validate", "--annotate", p])  # the ledger taken for the copy's name
    assert code == 2 and f"jindu validate {p} --annotate" in err
    link = tmp_path / "链接.xlsx"
    link.symlink_to(other)
    code, _, err = jindu(["validate", p, "--annotate", link])
    assert code == 2 and "链接" in err and _digest(other) == before


def test_annotating_a_copy_again_replaces_its_list(tmp_path):
    p = write_xlsx(tmp_path / "台帐.xlsx", planted_sheets())
    found = validate(load_ledgers([p]))
    first = tmp_path / "一.xlsx"
    annotate.write_annotated(p, str(p), found, first)
    again = validate(load_ledgers([first]))
    second = tmp_path / "二.xlsx"
    annotate.write_annotated(first, str(first), again, second)
    wb = openpyxl.load_workbook(second)
    assert [n for n in wb.sheetnames if n.startswith("问题清单")] == ["问题清单"]
    assert len(_list_rows(wb["问题清单"])) == len([f for f in found if f.code != "sheet_unrecognized"])


# ---------------------------------------------------------------- LibreOffice

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed: cannot check that it opens the copy")
def test_libreoffice_opens_the_copy(tmp_path):
    (p,) = _xls(tmp_path)
    copy = tmp_path / "副本.xlsx"
    annotate.write_annotated(p, str(p), validate(load_ledgers([p])), copy)
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                    "--outdir", str(tmp_path / "out"), str(copy)], capture_output=True, timeout=240, check=True)
    text = (tmp_path / "out" / "副本.csv").read_text(encoding="utf-8", errors="replace")
    assert "jindu 台帐校验问题清单" in text and "身份证号校验位错误" in text  # the first sheet, as LibreOffice read it


def test_rebuilt_values_keep_their_types(tmp_path):
    rows = [PERSON_HEADER, ["张三", "440607198503121234", "乐平村", "乐平镇", "本地", dt.datetime(2018, 10, 5),
                            "社会面", "是"], ["李四", "\x01控制", None, None, None, None, None, None]]
    p = write_xls(tmp_path / "x.xls", {"登记": rows})
    copy = tmp_path / "c.xlsx"
    annotate.write_annotated(p, str(p), [], copy)
    ws = openpyxl.load_workbook(copy)["登记"]
    assert ws["F2"].value == dt.datetime(2018, 10, 5) and ws["B2"].data_type == "s"
    assert ws["B3"].value == "_x0001_控制"  # the control character as the escape Excel reads back


def test_formulas_keep_their_results(tmp_path):
    """A 性别 worked out by formula: the copy keeps the formula and its last result, so the reader sees the
    same 性别 (and the same gender findings) in the copy as in the input."""
    import re
    import zipfile

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "吸毒人员登记台帐"
    ws.append(PERSON_HEADER + ["性别"])
    for i, r in enumerate(person_rows(), start=2):
        ws.append(r + [f'=IF(MOD(MID(B{i},17,1),2)=1,"女","男")'])  # reversed on purpose: every row is wrong
    raw = tmp_path / "raw.xlsx"
    wb.save(raw)
    ids = {f"I{i}": r[1] for i, r in enumerate(person_rows(), start=2)}

    def result(m):  # what the reversed formula gives
        sex = "女" if int(ids[m.group(1).decode()][16]) % 2 else "男"
        return b'<c r="%s" t="str"><f>%s</f><v>%s</v>' % (m.group(1), m.group(2), sex.encode())

    p = tmp_path / "台帐.xlsx"  # as Excel saves it: each formula with its result
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(p, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb'<c r="(I\d+)"><f>([^<]*)</f><v></v>', result, body)
            dst.writestr(info, body)
    found = validate(load_ledgers([p]))
    assert len([f for f in found if f.code == "gender_mismatch"]) == 3
    copy = tmp_path / "c.xlsx"
    annotate.write_annotated(p, str(p), found, copy)
    assert _key(validate(load_ledgers([copy]))) == _key(found)
    cell = openpyxl.load_workbook(copy)["吸毒人员登记台帐"]["I2"]
    assert cell.data_type == "f" and cell.value.startswith("=IF(") and "性别与身份证号不符" in cell.comment.text
