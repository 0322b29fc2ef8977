"""`jindu init`: workspace config and the blank ledger workbook."""

from __future__ import annotations

import hashlib

import openpyxl
import pytest
from conftest import run_forked
from typer.testing import CliRunner

from jindu_metrics import schema
from jindu_metrics.cli import app
from jindu_metrics.errors import UsageError
from jindu_metrics.workspace import load_workspace

runner = CliRunner()


def _init(path, *args):
    return runner.invoke(app, ["init", str(path), *args])


def test_init_creates_workspace(tmp_path):
    ws = tmp_path / "乐平镇禁毒办"
    res = _init(ws, "--unit", "乐平镇")
    assert res.exit_code == 0, res.output
    cfg = load_workspace(ws / "jindu.toml")
    assert cfg.unit == "乐平镇" and cfg.level == "镇街" and cfg.office == "乐平镇禁毒委员会办公室"
    assert cfg.ledgers == ws / "台帐" and (ws / "台帐" / "台帐.xlsx").is_file()


def test_blank_workbook_headers_formats_validations(tmp_path):
    _init(tmp_path / "w", "--unit", "乐平镇", "--office", "某办")
    wb = openpyxl.load_workbook(tmp_path / "w" / "台帐" / "台帐.xlsx")
    assert wb.sheetnames == [k.name for k in schema.KINDS.values()] + ["说明"]
    for kind in schema.KINDS.values():
        ws = wb[kind.name]
        assert tuple(c.value for c in ws[1]) == kind.column_names
        assert ws.freeze_panes == "A2"
        lists = {}
        for dv in ws.data_validations.dataValidation:
            assert dv.type == "list"
            for rng in str(dv.sqref).split():
                lists[rng.split(":")[0].rstrip("0123456789")] = (dv.formula1, rng)
        for i, col in enumerate(kind.columns, start=1):
            letter = openpyxl.utils.get_column_letter(i)
            dim = ws.column_dimensions[letter]
            assert dim.width and dim.width >= 8
            if col.type == schema.ID:
                assert dim.number_format == "@"
            if col.type == schema.DATE:
                assert dim.number_format == "yyyy-mm-dd"
            if col.type == schema.FLAG:
                assert lists[letter] == ('"是,否"', f"{letter}2:{letter}5000")
            elif col.type == schema.CATEGORY and col.allowed:
                assert lists[letter][0] == '"' + ",".join(col.allowed) + '"'
            else:
                assert letter not in lists
    assert "填表说明" in wb["说明"]["A1"].value


def test_init_is_byte_identical(tmp_path):
    digests = []
    for name in ("a", "b"):
        assert _init(tmp_path / name, "--unit", "乐平镇").exit_code == 0
        digests.append([hashlib.sha256((tmp_path / name / f).read_bytes()).hexdigest()
                        for f in ("jindu.toml", "台帐/台帐.xlsx")])
    assert digests[0] == digests[1]


def test_init_refuses_to_overwrite(tmp_path):
    ws = tmp_path / "w"
    assert _init(ws, "--unit", "乐平镇").exit_code == 0
    before = (ws / "jindu.toml").read_bytes()
    res = _init(ws, "--unit", "别的镇")
    assert isinstance(res.exception, UsageError) and (ws / "jindu.toml").read_bytes() == before
    # A ledger workbook already there is never overwritten either.
    other = tmp_path / "x"
    (other / "台帐").mkdir(parents=True)
    (other / "台帐" / "台帐.xlsx").write_bytes(b"mine")
    assert isinstance(_init(other).exception, UsageError)
    assert (other / "台帐" / "台帐.xlsx").read_bytes() == b"mine" and not (other / "jindu.toml").exists()


def test_init_rejects_bad_level(tmp_path):
    res = _init(tmp_path / "w", "--level", "省")
    assert isinstance(res.exception, UsageError) and not (tmp_path / "w").exists()


def test_cli_messages_in_chinese_and_validate_blank_workspace_exits_0(tmp_path):
    ws = tmp_path / "w"
    r = run_forked(["init", ws, "--unit", "乐平镇"])
    assert r.returncode == 0 and "已创建工作区" in r.stdout
    r = run_forked(["init", ws])
    assert r.returncode == 2 and "已存在" in r.stderr and "Traceback" not in r.stderr
    r = run_forked(["validate"], cwd=ws)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 个错误、0 个警告" in r.stdout


@pytest.mark.parametrize("kind", list(schema.KINDS))
def test_blank_workbook_reads_as_empty_ledgers(tmp_path, kind):
    from jindu_metrics.ledgers import load_ledgers

    _init(tmp_path / "w")
    ls = load_ledgers([tmp_path / "w" / "台帐"])
    assert len(ls[kind]) == 0
    assert any(s.kind == kind for s in ls.sheets)
