"""Planted faults of every finding kind, reported with code, sheet, row and column; CLI exit codes."""

from __future__ import annotations

import json

import pytest
from builders import ID_A, PERSON_HEADER, person_rows, planted_sheets, write_xlsx
from conftest import run_forked

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.validate import validate


def planted(tmp_path):
    return write_xlsx(tmp_path / "faults.xlsx", planted_sheets())


EXPECTED = {
    ("unreadable_date", "吸毒人员登记台帐", 2, "初次发现日期"),
    ("date_out_of_range", "吸毒人员登记台帐", 3, "初次发现日期"),
    ("bad_id_checksum", "吸毒人员登记台帐", 4, "公民身份号码"),
    ("id_stored_as_number", "吸毒人员登记台帐", 5, "公民身份号码"),
    ("bad_id_format", "吸毒人员登记台帐", 6, "公民身份号码"),
    ("duplicate_person", "吸毒人员登记台帐", 7, "公民身份号码"),
    ("value_not_allowed", "吸毒人员登记台帐", 8, "人员类别"),
    ("unreadable_flag", "吸毒人员登记台帐", 8, "纳入网格化"),
    ("gender_mismatch", "吸毒人员登记台帐", 8, "性别"),
    ("required_empty", "吸毒人员登记台帐", 9, "所属村居"),
    ("unknown_person", "查处台帐", 2, "公民身份号码"),
    ("reported_before_decided", "社区戒毒社区康复台帐", 2, "报到日期"),
    ("reported_in_future", "社区戒毒社区康复台帐", 3, "报到日期"),
    ("status_contradiction", "吸毒人员登记台帐", 3, "人员状态"),
    ("missing_column", "帮教管控台帐", 1, "公民身份号码"),
    ("sheet_unrecognized", "说明", None, None),
    ("id_area_unknown", "吸毒人员登记台帐", 2, "公民身份号码"),
}


def test_planted_faults_every_kind(tmp_path):
    found = validate(load_ledgers([planted(tmp_path)]))
    got = {(f.code, f.sheet, f.row, f.column) for f in found}
    missing = EXPECTED - got
    assert not missing, (missing, sorted(got, key=str))
    by = {(f.code, f.row): f for f in found}
    assert by[("value_not_allowed", 8)].allowed == "本地、外来"
    assert by[("bad_id_checksum", 4)].severity == "错误"
    assert by[("id_area_unknown", 2)].severity == "警告"


def test_valid_15_digit_and_lowercase_x_raise_no_error(tmp_path):
    from jindu_metrics.ledgers.ids import check_digit

    body = next(b for b in (f"44060719800101{n:03d}" for n in range(1000)) if check_digit(b) == "X")
    rows = [PERSON_HEADER, ["甲", "440607850312011", "乐平村", "乐平镇", "本地", None, "社会面", "是"],
            ["乙", body + "x", "乐平村", "乐平镇", "本地", None, "社会面", "是"]]
    found = validate(load_ledgers([write_xlsx(tmp_path / "ok.xlsx", {"S": rows})]))
    assert not [f for f in found if f.severity == "错误"], found


def jindu(*args, cwd=None):
    return run_forked(args, timeout=60, cwd=cwd)


def test_cli_json_masks_and_exit_1(tmp_path):
    p = planted(tmp_path)
    r = jindu("validate", p, "--format", "json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc["findings"][0]) == {"code", "severity", "file", "sheet", "row", "column", "column_letter", "value",
                                      "message"}
    assert ID_A not in r.stdout and "赵六" not in r.stdout
    assert doc["summary"]["错误"] >= 10 and doc["summary"]["files"] == [str(p)]
    assert {"file", "sheet", "kind", "rows"} <= set(doc["summary"]["sheets"][0])
    again = jindu("validate", p, "--format", "json")
    assert again.stdout == r.stdout  # byte-stable
    shown = jindu("validate", p, "--format", "json", "--show-pii")
    assert ID_A in shown.stdout


def test_cli_table_exit_0_on_clean(tmp_path):
    p = write_xlsx(tmp_path / "clean.xlsx", {"吸毒人员登记台帐": [PERSON_HEADER] + person_rows()})
    r = jindu("validate", p)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "共 0 个错误" in r.stdout and ID_A not in r.stdout


def _encrypted_xlsx(path):
    # an OLE2 container holding EncryptionInfo/EncryptedPackage streams, as Excel writes password files
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504 + "EncryptionInfo".encode("utf-16-le")
                     + b"\x00" * 1000)
    return path


def _w(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("make,reason", [
    (lambda p: _w(p / "empty.xlsx", b""), "0 字节"),
    (lambda p: _w(p / "note.xls", "这不是表格，是一段文字说明。\n".encode()), "不是表格文件"),
    (lambda p: _w(p / "bin.xlsx", bytes(range(256)) * 4), "不是表格文件"),
    (lambda p: _w(p / "cut.xlsx", b"PK\x03\x04" + b"\x00" * 200), "损坏"),
    (lambda p: _encrypted_xlsx(p / "secret.xlsx"), "加密"),
])
def test_unreadable_inputs_exit_2(tmp_path, make, reason):
    path = make(tmp_path)
    r = jindu("validate", path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert str(path) in r.stderr and reason in r.stderr, r.stderr


def test_truncated_real_workbook_exit_2(tmp_path):
    p = write_xlsx(tmp_path / "t.xlsx", {"S": [PERSON_HEADER] + person_rows()})
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    r = jindu("validate", p)
    assert r.returncode == 2 and "Traceback" not in r.stderr and str(p) in r.stderr


def test_workspace_inputs(tmp_path):
    (tmp_path / "台帐").mkdir()
    (tmp_path / "jindu.toml").write_text('[workspace]\nunit = "乐平镇"\nledgers = "台帐"\n', encoding="utf-8")
    rows = [PERSON_HEADER[:3]] + [r[:3] for r in person_rows()]
    write_xlsx(tmp_path / "台帐" / "a.xlsx", {"吸毒人员登记台帐": rows})
    r = jindu("validate", "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["summary"]["sheets"][0]["rows"] == 3


# ---------------------------------------------------------------- the order's dates out of order (issue 29)


def test_every_date_pair_of_an_order_is_checked_and_a_bad_end_drops_no_running_order(tmp_path, jindu):
    """解除日期 before 决定日期: a finding, and the order (执行中) still counts as in force (docs/台帐格式.md)."""
    import datetime as dt

    from builders import ID_B

    header = ["公民身份号码", "类别", "决定日期", "报到日期", "已建档", "执行状态", "解除日期"]

    def book(end_a, path):
        com = [header,
               [ID_A, "社区康复", dt.datetime(2018, 3, 1), dt.datetime(2018, 3, 5), "是", "执行中", end_a],
               [ID_B, "社区戒毒", dt.datetime(2018, 4, 1), dt.datetime(2018, 3, 20), "是", "执行中", None]]
        return write_xlsx(path, {"吸毒人员登记台帐": [PERSON_HEADER] + person_rows(), "社区戒毒社区康复台帐": com})

    bad = book(dt.datetime(2018, 2, 1), tmp_path / "bad.xlsx")
    clean = book(None, tmp_path / "clean.xlsx")
    _code, out, _err = jindu(["validate", bad, "--format", "json"])
    found = {(f["code"], f["row"], f["column"]) for f in json.loads(out)["findings"]}
    assert {("ended_before_decided", 2, "解除日期"), ("ended_before_reported", 2, "解除日期"),
            ("reported_before_decided", 3, "报到日期")} <= found

    def rows(path):
        _code, out, _err = jindu(["compute", path, "--period", "2018-10", "--format", "json"])
        return {r["metric"]: (r["numerator"], r["denominator"]) for r in json.loads(out)["rows"]}

    assert rows(bad) == rows(clean)
    assert rows(bad)["community_orders"][0] == 2 and rows(bad)["community_execution_rate"] == (2, 2)
