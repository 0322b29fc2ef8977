"""Output safety (issue 14, data-loss family): every output goes through outputs.py, which refuses to replace
an input, a folder, a link, a read-only file, treats `-`, devices and FIFOs as streams, and explains a missing
or unwritable folder; batch builds its folder whole beside the target, reads only ledgers and never its own
outputs; text that XML cannot hold and township names no file system takes do not crash the writers."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from builders import PERSON_HEADER, person_rows, write_csv
from conftest import run_cli, run_forked
from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics import outputs
from jindu_metrics.outputs import MAX_NAME_BYTES, safe_name

PERIOD = "2018-01..2018-10"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    """A small 乐平镇 workbook."""
    from support import samples
    from support.workbooks import write_canonical

    recs = {k: v[:40] for k, v in samples.leping_records().items()}
    return write_canonical(recs, tmp_path_factory.mktemp("ledger") / "乐平镇台帐.xlsx")


def _fingerprint(path: Path) -> tuple:
    st_ = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st_.st_mtime_ns, st_.st_ino, stat.S_IMODE(st_.st_mode)


def _copy(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(src.read_bytes())
    return dst


# ---------------------------------------------------------------- an output equal to an input

def _csv_ledger(folder: Path) -> Path:
    return write_csv(folder / "人员.csv", [PERSON_HEADER, *person_rows()])


CASES = {
    # name: (make the input in tmp, the command given the input path and the output path)
    "compute xlsx over the xlsx ledger": ("xlsx", lambda i, o: ["compute", "-p", PERIOD, "-f", "xlsx", "-o", o, i]),
    "compute csv over a CSV ledger": ("csv", lambda i, o: ["compute", "-p", PERIOD, "-f", "csv", "-o", o, i]),
    "compute json over the ledger": ("xlsx", lambda i, o: ["compute", "-p", PERIOD, "-f", "json", "-o", o, i]),
    "compute table over the ledger": ("xlsx", lambda i, o: ["compute", "-p", PERIOD, "-o", o, i]),
    "report docx over the ledger": ("xlsx", lambda i, o: ["report", "-p", PERIOD, "-f", "docx", "-o", o, i]),
    "report txt over the ledger": ("csv", lambda i, o: ["report", "-p", PERIOD, "-o", o, i]),
}


@pytest.mark.parametrize("spelling", ["same", "dotted", "hard link", "read-only"])
@pytest.mark.parametrize("case", list(CASES))
def test_output_equal_to_an_input_is_refused_and_the_input_is_untouched(ledger, tmp_path, case, spelling):
    kind, args = CASES[case]
    inp = _copy(ledger, tmp_path / "in" / ledger.name) if kind == "xlsx" else _csv_ledger(tmp_path / "in")
    out = inp
    if spelling == "dotted":
        out = inp.parent / ".." / "in" / "." / inp.name
    elif spelling == "hard link":
        out = tmp_path / ("链接" + inp.suffix)
        os.link(inp, out)
    elif spelling == "read-only":
        inp.chmod(0o444)
    before = _fingerprint(inp)
    code, _, err = run_cli(args(inp, out))
    assert code == 2, (code, err)
    assert "Traceback" not in err and "内部错误" not in err
    assert f"「{out}」" in err and f"「{inp}」" in err and "未写入" in err, err
    assert _fingerprint(inp) == before, "the input changed"
    assert sorted(p.name for p in inp.parent.iterdir()) == [inp.name], "a temporary was left beside the input"


def test_output_inside_an_input_folder_as_a_ledger_file_is_refused(ledger, tmp_path):
    folder = tmp_path / "台帐"
    _copy(ledger, folder / ledger.name)
    before = {p.name: _fingerprint(p) for p in folder.iterdir()}
    for name in ("结果.csv", "结果.xlsx", ledger.name):
        code, _, err = run_cli(["compute", "-p", PERIOD, "-f", "csv", "-o", folder / name, folder])
        assert code == 2 and "输入文件夹" in err and f"「{folder}」" in err, err
    assert {p.name: _fingerprint(p) for p in folder.iterdir()} == before
    # a bulletin beside the ledgers is not a ledger: allowed
    code, _, err = run_cli(["report", "-p", PERIOD, "-f", "docx", "-o", folder / "通报.docx", folder])
    assert code in (0, 1) and "错误：" not in err, err  # 1: the small ledger's own findings


def test_catalog_and_template_are_inputs_too(ledger, tmp_path):
    tpl = tmp_path / "模板.txt.j2"
    tpl.write_text("{{ unit }}通报\n", encoding="utf-8")
    before = _fingerprint(tpl)
    code, _, err = run_cli(["report", "-p", PERIOD, "-t", tpl, "-o", tpl, ledger])
    assert code == 2 and "输入文件" in err, err
    assert _fingerprint(tpl) == before


# ---------------------------------------------------------------- links, devices, FIFOs, folders

def test_symlink_output_is_refused_and_neither_link_nor_target_change(ledger, tmp_path):
    target = tmp_path / "上月.csv"
    target.write_bytes(b"last month")
    link = tmp_path / "本月.csv"
    link.symlink_to(target)
    code, _, err = run_cli(["compute", "-p", PERIOD, "-f", "csv", "-o", link, ledger])
    assert code == 2 and "符号链接" in err and "上月.csv" in err, err
    assert link.is_symlink() and os.readlink(link) == str(target) and target.read_bytes() == b"last month"


def test_dev_null_is_written_to_not_replaced(ledger):
    code, _, err = run_cli(["compute", "-p", PERIOD, "-f", "xlsx", "-o", "/dev/null", ledger])
    assert code in (0, 1) and "错误：" not in err, err  # 1: the small ledger's own findings
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_dash_is_stdout(ledger):
    code, out, err = run_cli(["compute", "-p", PERIOD, "-f", "csv", "-o", "-", ledger])
    assert code in (0, 1) and "错误：" not in err, err  # 1: the small ledger's own findings
    assert out.startswith("\ufeff统计期,单位") and "seizures" in out


def test_fifo_is_a_stream(ledger, tmp_path):
    fifo = tmp_path / "管道"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    code, _, err = run_cli(["compute", "-p", PERIOD, "-f", "json", "-o", fifo, ledger])
    reader.join(60)
    assert code in (0, 1) and "错误：" not in err, err  # 1: the small ledger's own findings
    assert json.loads(got[0].decode("utf-8"))["period"]["start"] == "2018-01-01"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("where,message", [
    ("folder", "是一个文件夹"), ("missing", "不存在"), ("read-only file", "只读"), ("under a file", "不是文件夹")])
def test_unusable_destinations_get_a_message_and_exit_2(ledger, tmp_path, where, message):
    out = {"folder": tmp_path, "missing": tmp_path / "没有这个文件夹" / "x.csv",
           "read-only file": tmp_path / "ro.csv", "under a file": tmp_path / "f.txt" / "x.csv"}[where]
    if where == "read-only file":
        out.write_bytes(b"keep")
        out.chmod(0o444)
    if where == "under a file":
        out.parent.write_bytes(b"a file")
    code, _, err = run_cli(["compute", "-p", PERIOD, "-f", "csv", "-o", out, ledger])
    assert code == 2 and message in err and "内部错误" not in err, err
    if where == "read-only file":
        assert out.read_bytes() == b"keep"


def test_unwritable_folder(ledger, tmp_path, monkeypatch):
    """(The tests run as root, for whom a chmod'ed folder stays writable: the refusal itself is simulated.)"""
    real = os.access
    monkeypatch.setattr(outputs.os, "access", lambda p, m, **k: False if Path(p) == tmp_path else real(p, m, **k))
    code, _, err = run_cli(["report", "-p", PERIOD, "-f", "docx", "-o", tmp_path / "r.docx", ledger])
    assert code == 2 and "没有权限写入文件夹" in err and str(tmp_path) in err, err


def test_permission_denied_while_writing(ledger, tmp_path, monkeypatch):
    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(outputs.tempfile, "mkstemp", denied)
    code, _, err = run_cli(["compute", "-p", PERIOD, "-f", "xlsx", "-o", tmp_path / "x.xlsx", ledger])
    assert code == 2 and "无法写入" in err and "没有写入权限" in err, err


# ---------------------------------------------------------------- batch: a folder written whole

def _town_file(folder: Path, town: str, seed: int) -> Path:
    from support.workbooks import write_canonical
    from test_batch import town_records

    folder.mkdir(parents=True, exist_ok=True)
    return write_canonical(town_records(town, seed, n=15), folder / f"{town}台帐.xlsx")


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def last_month(tmp_path) -> tuple[Path, Path]:
    """(input folder of two townships, the output folder of a batch run on it for 2018-10)."""
    inp = tmp_path / "in"
    _town_file(inp, "甲镇", 1)
    _town_file(inp, "乙镇", 2)
    out = tmp_path / "out"
    assert run_cli(["batch", "-p", "2018-10", "-j", "1", "-o", out, inp])[0] == 0
    return inp, out


def test_batch_replaces_the_previous_output_whole(tmp_path, last_month):
    inp, out = last_month
    assert (out / "乙镇" / "通报.txt").is_file() and outputs.is_output_folder(out)
    (inp / "乙镇台帐.xlsx").unlink()
    code, _, err = run_cli(["batch", "-p", "2018-09", "-j", "1", "-o", out, inp])
    assert code in (0, 1) and "错误：" not in err, err  # 1: the small ledger's own findings
    assert not (out / "乙镇").exists(), "a township of the previous run was left behind (two runs mixed)"
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["period"]["end"] == "2018-09-30"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"], "a temporary folder was left"


def test_batch_interrupted_while_writing_leaves_the_previous_output_whole(tmp_path, last_month, monkeypatch):
    inp, out = last_month
    previous = _tree(out)
    writes = {"n": 0}
    real = outputs.os.replace

    def replace_then_ctrl_c(src, dst):
        real(src, dst)
        writes["n"] += 1
        if writes["n"] == 3:  # two bulletins and 汇总.xlsx are written, summary.json is next
            os.kill(os.getpid(), signal.SIGINT)
    monkeypatch.setattr(outputs.os, "replace", replace_then_ctrl_c)
    code, _, err = run_cli(["batch", "-p", "2018-09", "-j", "1", "-o", out, inp])
    assert code == 130 and "已中断" in err, (code, err)
    assert writes["n"] == 3
    assert _tree(out) == previous, "the previous output was changed by an interrupted run"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"], "the temporary folder was left"


_KILL_AT_SECOND_FILE = """
import os, signal, sys
from jindu_metrics import outputs
real = outputs.os.replace
n = [0]
def replace(src, dst):
    real(src, dst); n[0] += 1
    if n[0] == 2:
        os.kill(os.getpid(), signal.SIGKILL)
outputs.os.replace = replace
sys.argv = ["jindu", *sys.argv[1:]]
from jindu_metrics.cli import run
run()
"""


def test_batch_killed_while_writing_leaves_the_previous_output_whole(tmp_path, last_month):
    inp, out = last_month
    previous = _tree(out)
    r = run_forked(["batch", "-p", "2018-09", "-j", "1", "-o", out, inp], timeout=300, text=False,
                   script=_KILL_AT_SECOND_FILE)
    assert r.returncode == -signal.SIGKILL, r.stderr[-500:]
    assert _tree(out) == previous
    left = [p.name for p in tmp_path.iterdir() if p.name not in ("in", "out")]
    assert left and all(n.startswith(".out.") and n.endswith(".tmp") for n in left), left  # hidden, beside
    # the next run is not disturbed by what the killed one left, and sweeps it away
    assert run_cli(["batch", "-p", "2018-09", "-j", "1", "-o", out, inp])[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out"]


def test_a_stage_of_a_running_batch_is_left_alone(tmp_path):
    out = tmp_path / "out"
    live = tmp_path / ".out.abcd1234.tmp"
    live.mkdir()
    (live / outputs.OWNER).write_text(str(os.getpid()), encoding="ascii")  # this process: alive
    dead = tmp_path / ".out.efgh5678.tmp"
    dead.mkdir()
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (dead / outputs.OWNER).write_text(child.stdout.strip(), encoding="ascii")  # exited: gone
    with outputs.FreshFolder(out, lambda e: False) as stage:
        (stage / "a.txt").write_text("x", encoding="utf-8")
    assert live.is_dir() and not dead.exists()
    assert sorted(p.name for p in out.iterdir()) == [outputs.MARKER, "a.txt"]  # the owner file is not shipped


def test_batch_refuses_an_output_folder_holding_other_files(tmp_path):
    inp = tmp_path / "in"
    _town_file(inp, "甲镇", 1)
    out = tmp_path / "out"
    out.mkdir()
    (out / "备注.docx").write_bytes(b"mine")
    code, _, err = run_cli(["batch", "-p", "2018-10", "-j", "1", "-o", out, inp])
    assert code == 2 and "备注.docx" in err and "不是 jindu batch 写出" in err, err
    assert [p.name for p in out.iterdir()] == ["备注.docx"] and (out / "备注.docx").read_bytes() == b"mine"
    # the input folder itself as --out: its ledgers are "other files"
    before = _tree(inp)
    code, _, err = run_cli(["batch", "-p", "2018-10", "-j", "1", "-o", inp, inp])
    assert code == 2 and "甲镇台帐.xlsx" in err, err
    assert _tree(inp) == before


def test_batch_reads_only_ledgers_and_reports_what_it_skipped(tmp_path):
    inp = tmp_path / "in"
    _town_file(inp, "甲镇", 1)
    (inp / "说明.txt").write_text("各镇街台帐说明：\n请于每月5日前报送。\n", encoding="utf-8")
    (inp / "说明.docx").write_bytes(b"PK\x03\x04 not a ledger")
    out = tmp_path / "out"
    code, _, err = run_cli(["batch", "-p", "2018-10", "-j", "1", "-o", out, inp, inp / "说明.docx"])
    assert code in (0, 1) and "错误：" not in err, err  # 1: the small ledger's own findings
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [u["unit"] for u in s["units"]] == ["甲镇"]
    assert not (out / "说明").exists()
    skipped = {Path(x["file"]).name: x["reason"] for x in s["skipped"]}
    assert set(skipped) == {"说明.txt", "说明.docx"} and "不是台帐" in skipped["说明.txt"]
    assert err.count("跳过：") == 3 and "说明.txt" in err  # 说明.docx: in the folder and given by name


@pytest.mark.slow
def test_batch_never_reads_its_own_outputs_back(tmp_path, last_month):
    inp, _ = last_month
    out = inp / "汇总"  # --out inside the input folder
    assert run_cli(["batch", "-p", "2018-10", "-j", "1", "-o", out, inp])[0] == 0
    first = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    # the next month, given everything in the input folder (a shell glob): the output folder and its files
    every = sorted(inp.iterdir()) + sorted(out.iterdir())
    code, _, err = run_cli(["batch", "-p", "2018-10", "-j", "1", "-o", out, *every])
    assert code in (0, 1) and "错误：" not in err, err  # 1: the small ledger's own findings
    again = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert [u["unit"] for u in again["units"]] == [u["unit"] for u in first["units"]] == ["乙镇", "甲镇"]
    assert again["rows"] == first["rows"]
    # a copy of last run's 汇总.xlsx elsewhere is recognised by its content: no ledger sheet, no township
    (tmp_path / "别处").mkdir()
    _copy(out / "汇总.xlsx", tmp_path / "别处" / "汇总.xlsx")
    code, _, err = run_cli(["batch", "-p", "2018-10", "-j", "1", "-o", tmp_path / "o2", inp, tmp_path / "别处"])
    assert code == 0 and "汇总.xlsx" in err and "不是台帐" in err, err
    assert [u["unit"] for u in json.loads((tmp_path / "o2" / "summary.json").read_text("utf-8"))["units"]] == \
        ["乙镇", "甲镇"]


# ---------------------------------------------------------------- text and names at the writer boundary

@pytest.fixture()
def hostile(tmp_path) -> Path:
    """A CSV persons ledger: control characters in a village and a township, two 301/302-byte townships
    sharing their first 300 bytes."""
    rows = person_rows()
    rows[0][2], rows[0][3] = "乐平\x01村", "乐平\x07镇"
    rows[1][3] = "长" * 100 + "a"
    rows[2][3] = "长" * 100 + "b"
    return write_csv(tmp_path / "in" / "人员.csv", [PERSON_HEADER, *rows])


def test_control_characters_reach_xlsx_and_docx_escaped(hostile, tmp_path):
    from docx import Document
    from openpyxl import load_workbook

    x = tmp_path / "x.xlsx"
    code, _, err = run_cli(["compute", "-p", "2018-10", "--by", "所属村居", "-f", "xlsx", "-o", x, hostile])
    assert code in (0, 1) and "错误：" not in err, err  # 1: the small ledger's own findings
    units = {c.value for c in load_workbook(x).active["B"]}
    assert "乐平\\x01村" in units
    d = tmp_path / "r.docx"
    code, _, err = run_cli(["report", "-p", "2018-10", "-f", "docx", "-o", d, "--unit", "乐平\x07镇", hostile])
    assert code in (0, 1) and "错误：" not in err, err  # 1: the small ledger's own findings
    text = "\n".join(p.text for p in Document(str(d)).paragraphs)
    assert "乐平\\x07镇" in text and "\x07" not in text


def test_batch_with_control_characters_and_overlong_township_names(hostile, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "out"
    code, _, err = run_cli(["batch", "-p", "2018-10", "-j", "1", "-f", "docx", "-o", out, hostile.parent])
    assert code in (0, 1) and "错误：" not in err, err  # 1: the small ledger's own findings
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert len(folders) == 3 and "乐平_镇" in folders
    assert all(len(n.encode("utf-8")) <= MAX_NAME_BYTES for n in folders)
    assert all((out / n / "通报.docx").is_file() for n in folders)
    towns = {c.value for c in load_workbook(out / "汇总.xlsx")["指标汇总"]["A"]}
    assert "乐平\\x07镇" in towns and "长" * 100 + "a" in towns and "长" * 100 + "b" in towns


def test_safe_name_cases():
    assert safe_name("../../etc") == "_.._etc" and safe_name("..") == "_"
    assert safe_name("CON") == "_CON" and safe_name("nul.txt") == "_nul.txt"
    assert safe_name("a.") == "a" and safe_name(" 乐平镇 ") == "乐平镇"
    taken: set[str] = set()
    assert safe_name("甲镇", taken) == "甲镇"
    second = safe_name("甲镇", taken)
    assert second != "甲镇" and second.startswith("甲镇-") and len(second) == len("甲镇-") + 8
    assert safe_name("ABC", taken) != safe_name("abc", taken)  # Windows: one name


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=150), min_size=1, max_size=6))
def test_safe_names_are_valid_bounded_and_unique(texts):
    taken: set[str] = set()
    names = [safe_name(t, taken) for t in texts]
    for n in names:
        assert n and n not in (".", "..") and not n.startswith(".") and not n.endswith((" ", "."))
        assert len(n.encode("utf-8")) <= MAX_NAME_BYTES
        assert not any(c in n for c in '\\/:*?"<>|') and not any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in n)
    assert len({n.casefold() for n in names}) == len(names)


def test_xml_text_keeps_legal_text_and_shows_the_rest():
    from jindu_metrics.outputs.compute import sheet_text, xml_text

    assert xml_text("乐平镇\t\n\r") == "乐平镇\t\n\r"
    assert xml_text("a\x00b\x1fc\ufffe\ud800") == "a\\x00b\\x1fc\\ufffe\\ud800"
    assert sheet_text("=1+1\x01") == "'=1+1\\x01" and sheet_text(3) == 3


def test_compute_xlsx_writes_each_value_format_on_its_own_row(ledger, tmp_path):
    """compute_xlsx addresses rows by index (no per-row max_row scan): each row's 数值 keeps its own format."""
    from openpyxl import load_workbook

    x = tmp_path / "x.xlsx"
    assert run_cli(["compute", "-p", PERIOD, "--by", "所属村居", "-f", "xlsx", "-o", x, ledger])[0] in (0, 1)
    ws = load_workbook(io.BytesIO(x.read_bytes())).active
    head = [c.value for c in ws[2]]  # row 1 names the window
    fmt = {r[head.index("指标代码")].value: r[head.index("数值")].number_format for r in ws.iter_rows(min_row=3)}
    assert fmt["seizures"] == "0" and fmt["detention_ratio"].endswith("%"), fmt


def test_compute_xlsx_does_not_scan_the_sheet_per_row(ledger, monkeypatch):
    """Issue 17: ws.max_row walks every cell; asked once per row it made the writer quadratic (53.7 s on a
    county by village). Its use must not grow with the rows written."""
    import dataclasses

    import openpyxl.worksheet.worksheet as worksheet

    from jindu_metrics.ledgers import load_ledgers
    from jindu_metrics.metrics.catalog import load_catalog
    from jindu_metrics.metrics.engine import compute
    from jindu_metrics.outputs import compute as export
    from jindu_metrics.periods import parse_period

    asked = {"n": 0}
    real = worksheet.Worksheet.max_row

    def counted(self):
        asked["n"] += 1
        return real.fget(self)
    monkeypatch.setattr(worksheet.Worksheet, "max_row", property(counted))
    cat = load_catalog()
    res = compute(load_ledgers([ledger]), cat, parse_period(PERIOD), by="所属村居")
    uses = []
    for k in (1, 5):
        asked["n"] = 0
        export.compute_xlsx(dataclasses.replace(res, rows=res.rows * k), cat)
        uses.append(asked["n"])
    assert len(res.rows) >= 50 and uses[0] == uses[1] <= 2, uses


def test_compute_xlsx_comparison_cells_are_numbers_with_the_indicator_format(ledger, tmp_path):
    """Issue 28 point 8: 环比/同比/较YYYY年 cells hold numbers (not "6", "16.67%" as text, which Excel flags),
    on the scale of the indicator's format, and equal the comparison's exact value."""
    from openpyxl import load_workbook

    x = tmp_path / "x.xlsx"
    j = tmp_path / "x.json"
    args = ["compute", "-p", "2018-10", "--baseline", "2017", ledger]
    assert run_cli([*args[:-1], "-f", "xlsx", "-o", x, args[-1]])[0] in (0, 1)
    assert run_cli([*args[:-1], "-f", "json", "-o", j, args[-1]])[0] in (0, 1)
    rows = {r["metric"]: r for r in json.loads(j.read_text(encoding="utf-8"))["rows"]}
    ws = load_workbook(io.BytesIO(x.read_bytes())).active
    head = [c.value for c in ws[2]]  # row 1 names the window
    seen = 0
    for r in ws.iter_rows(min_row=3):
        metric = r[head.index("指标代码")].value
        for col, key in (("环比", "previous"), ("同比", "yoy"), ("较2017年", "baseline")):
            cell, cmp = r[head.index(col)], rows[metric][key]
            assert not isinstance(cell.value, str), (metric, col, cell.value)
            if cmp is None or cmp["value"] is None:
                assert cell.value is None, (metric, col, cell.value)
                continue
            seen += 1
            assert cell.number_format == r[head.index("数值")].number_format
            scale = 10000 if cell.number_format.endswith('"‱"') else 1000 if cell.number_format.endswith('"‰"') else 1
            assert cell.value == pytest.approx(cmp["value"] * scale), (metric, col)
    assert seen >= 10
