"""The reader's entry against hostile and odd files (issues 13, 14, 17): encrypted workbooks, cells far
beyond the data, native-library panics, FIFOs, wrong extensions, Parquet types, thousands of columns."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from builders import patch_sheet

from jindu_metrics.errors import InputError
from jindu_metrics.findings import excel_column
from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.ledgers.sources import open_file
from jindu_metrics.ledgers.sources.xlsx import extent

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"
OLD_XLS = ROOT / "sample_ledgers" / "messy" / "查处台账.xls"
PERIOD = "2018-01..2018-10"
PASSWORD = "禁毒2018密码"


def stray(text: str, ref: str = "XFD1048576"):
    """An edit: no <dimension>, one inline-string cell at `ref` after the data."""
    row = re.sub(r"[A-Z]+", "", ref)

    def edit(xml: bytes) -> bytes:
        xml = re.sub(rb"<dimension[^>]*/>", b"", xml)
        cell = f'<row r="{row}"><c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c></row>'.encode()
        return xml.replace(b"</sheetData>", cell + b"</sheetData>")
    return edit


def claim(xml: bytes) -> bytes:
    """An edit: a <dimension> that claims the whole sheet."""
    xml = re.sub(rb"<dimension[^>]*/>", b"", xml)
    return xml.replace(b"<sheetViews>", b'<dimension ref="A1:XFD1048576"/><sheetViews>', 1)


def formatted(last: int = 200_000):
    """An edit: styled empty cells on every row down to `last`, one whitespace cell at row 1,048,576."""
    def edit(xml: bytes) -> bytes:
        top = max(int(r) for r in re.findall(rb'<row r="(\d+)"', xml))
        rows = b"".join(b'<row r="%d" s="1" customFormat="1"><c r="A%d" s="1"/><c r="H%d" s="1"/></row>'
                        % (r, r, r) for r in range(top + 1, last + 1))
        rows += b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t> </t></is></c></row>'
        return xml.replace(b"</sheetData>", rows + b"</sheetData>")
    return edit


def figures(code_out) -> list:
    code, out, err = code_out
    assert code == 0, err
    return [(r["unit"], r["metric"], r["numerator"], r["denominator"], r["value"]) for r in json.loads(out)["rows"]]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    from conftest import run_cli

    return figures(run_cli(["compute", SAMPLE, "--period", PERIOD, "--format", "json"]))


# ------------------------------------------------------------------ encrypted workbooks (issue 13.7)


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory) -> Path:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    with open(SAMPLE, "rb") as fh:
        OOXMLFile(fh).encrypt(PASSWORD, out)
    path = tmp_path_factory.mktemp("enc") / "加密台帐.xlsx"
    path.write_bytes(out.getvalue())
    return path


def test_encrypted_sample_gives_the_same_figures_with_the_password(jindu, encrypted, clean):
    got = figures(jindu(["compute", encrypted, "--period", PERIOD, "--format", "json", "--password", PASSWORD]))
    assert got == clean


def test_encrypted_password_from_environment(jindu, encrypted, clean, monkeypatch):
    monkeypatch.setenv("JINDU_PASSWORD", PASSWORD)
    assert figures(jindu(["compute", encrypted, "--period", PERIOD, "--format", "json"])) == clean


@pytest.mark.parametrize("command", [["validate"], ["compute", "--period", PERIOD], ["explain", "送戒率"],
                                     ["report", "--period", "2018-10"]])
def test_encrypted_without_password_is_exit_2_naming_the_file(jindu, encrypted, command, monkeypatch):
    monkeypatch.delenv("JINDU_PASSWORD", raising=False)
    args = [command[0], *command[1:2], encrypted, *command[2:]] if command[0] == "explain" else \
        [command[0], encrypted, *command[1:]]
    code, _out, err = jindu(args)
    assert code == 2
    assert str(encrypted) in err and "已加密" in err and "--password" in err and "JINDU_PASSWORD" in err
    assert "取消密码" not in err


def test_wrong_password_is_exit_2_and_never_echoed(jindu, encrypted):
    wrong = "错误的密码XYZ"
    code, out, err = jindu(["compute", encrypted, "--period", PERIOD, "--password", wrong])
    assert code == 2
    assert "密码不正确" in err and str(encrypted) in err
    assert wrong not in out + err


def test_decrypted_bytes_never_touch_the_disk(encrypted, tmp_path, monkeypatch):
    """Every file opened for writing while an encrypted ledger is read: none."""
    import builtins

    written = []
    real_open = builtins.open

    def spy(file, mode="r", *a, **k):
        if any(c in mode for c in "wax+"):
            written.append(file)
        return real_open(file, mode, *a, **k)

    monkeypatch.setattr(builtins, "open", spy)
    monkeypatch.setattr(os, "open", lambda p, flags, *a, _o=os.open: (written.append(p) if flags & (
        os.O_WRONLY | os.O_RDWR | os.O_CREAT) else None) or _o(p, flags, *a))
    ledgers = load_ledgers([encrypted], password=PASSWORD)
    assert len(ledgers.frames["persons"]) > 0
    assert written == []


def test_prompt_asks_on_a_terminal_and_retries(encrypted):
    """The prompt (getpass) names the file; a wrong answer is asked again; the right one opens it."""
    from jindu_metrics.cli.common import _Prompt

    answers = iter(["不对", PASSWORD])
    prompts = []
    prompt = _Prompt()
    import getpass

    real = getpass.getpass
    getpass.getpass = lambda text: prompts.append(text) or next(answers)
    try:
        ledgers = load_ledgers([encrypted], password=prompt)
    finally:
        getpass.getpass = real
    assert len(ledgers.frames["persons"]) > 0
    assert str(encrypted) in prompts[0] and "密码" in prompts[0]
    assert "不正确" in prompts[1]


def test_batch_reads_encrypted_files_with_one_password(tmp_path, encrypted, monkeypatch):
    from jindu_metrics.batch import run_batch

    folder = tmp_path / "县"
    folder.mkdir()
    shutil.copy(encrypted, folder / "乐平镇.xlsx")
    monkeypatch.delenv("JINDU_PASSWORD", raising=False)
    without = run_batch([folder], period=PERIOD, out=tmp_path / "out1", jobs=1)
    assert [u.status for u in without.units] == ["failed"] and "已加密" in without.units[0].error
    with_pw = run_batch([folder], period=PERIOD, out=tmp_path / "out2", jobs=1, password=PASSWORD)
    assert [u.status for u in with_pw.units] == ["ok"]


def test_read_ahead_of_an_encrypted_file_leaves_the_reading_to_load_ledgers(encrypted):
    from jindu_metrics.ledgers import _AHEAD, read_ahead

    assert read_ahead([encrypted]) is False  # no password there: nothing started, nothing asked
    assert not _AHEAD
    assert len(load_ledgers([encrypted], password=PASSWORD).frames["persons"]) > 0


# ------------------------------------------------------------------ cells far beyond the data (14, 17.2)


def test_stray_blank_cell_at_xfd1048576_reads_the_same_figures(jindu, tmp_path, clean):
    path = patch_sheet(SAMPLE, tmp_path / "stray.xlsx", stray(" "))
    assert figures(jindu(["compute", path, "--period", PERIOD, "--format", "json"])) == clean


def test_stray_text_at_xfd1048576_is_cut_with_a_finding(jindu, tmp_path, clean):
    path = patch_sheet(SAMPLE, tmp_path / "stray.xlsx", stray("备注"))
    assert figures(jindu(["compute", path, "--period", PERIOD, "--format", "json"])) == clean
    _code, out, _err = jindu(["validate", path, "--format", "json"])
    capped = [f for f in json.loads(out)["findings"] if f["code"] == "columns_capped"]
    assert len(capped) == 1 and "1 个单元格" in capped[0]["message"] and "IV" in capped[0]["message"]


def test_stray_cell_on_the_exact_path_too(tmp_path):
    """The calamine path (no fast path) is guarded the same way."""
    from jindu_metrics.ledgers.sources.xlsx import exact

    path = patch_sheet(SAMPLE, tmp_path / "stray.xlsx", stray("x"))
    sheets = exact.read(path, "stray.xlsx")
    first = sheets[0]
    assert len(first.rows) < 1000 and max(len(r) for r in first.rows) <= extent.MAX_COLUMNS
    assert [c for c, _, _ in first.notes] == ["columns_capped"]


def test_a_claimed_dimension_of_the_whole_sheet_is_read_not_refused(jindu, tmp_path, clean):
    path = patch_sheet(SAMPLE, tmp_path / "claim.xlsx", claim)
    assert figures(jindu(["compute", path, "--period", PERIOD, "--format", "json"])) == clean


def test_formatting_down_to_row_200000_costs_no_rows(tmp_path):
    """The scan finds the last row with data; the body read holds only the sheet's real rows."""
    path = patch_sheet(SAMPLE, tmp_path / "formatted.xlsx", formatted())
    with zipfile.ZipFile(path) as zf, zf.open("xl/worksheets/sheet1.xml") as fh:
        ext = extent.scan(fh, lambda i: "")
    assert ext.last_row == 1_048_576 and ext.data_row < 1000 and ext.needs_trim(30_000_000)
    clean, fmt = _first_sheet(SAMPLE), _first_sheet(path)
    assert fmt.header == clean.header and fmt.rows == clean.rows < 1000


def _first_sheet(path):
    reading = open_file(path)
    try:
        return min(reading, key=lambda s: s.index)
    finally:
        reading.close()


@pytest.mark.parametrize("edit", ["formatted", "claim"])
def test_bounded_memory_on_a_sheet_claiming_a1_xfd1048576(tmp_path, edit):
    """Peak RSS of reading the formatted / claiming copy stays within 1.3× of the clean workbook's (time
    is not asserted: the machine may be loaded)."""
    path = patch_sheet(SAMPLE, tmp_path / f"{edit}.xlsx", formatted() if edit == "formatted" else claim)
    code = ("import resource, sys; from jindu_metrics.ledgers import load_ledgers; "
            "s = load_ledgers([sys.argv[1]]); print(sum(map(len, s.frames.values())), "
            "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    runs = {}
    for p in (SAMPLE, path):
        r = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, env=env,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        rows, rss = map(int, r.stdout.split())
        runs[p] = rows, rss
    assert runs[path][0] == runs[SAMPLE][0]
    assert runs[path][1] <= 1.3 * runs[SAMPLE][1], runs


def test_trim_keeps_every_row_with_data():
    xml = (b'<worksheet><dimension ref="A1:XFD1048576"/><sheetData>'
           b'<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c></row>'
           b'<row r="2"><c r="B2"><v>1</v></c><c r="IW2"><v>9</v></c></row>'
           b'<row r="3"><c r="A3" s="1"/></row>'
           b'<row r="900000"><c r="A900000" t="inlineStr"><is><t>  </t></is></c></row>'
           b'</sheetData><mergeCells><mergeCell ref="A1:B1"/></mergeCells></worksheet>')
    ext = extent.scan(io.BytesIO(xml), lambda i: "")
    assert (ext.last_row, ext.data_row, ext.width) == (900000, 2, 257)
    assert ext.merged == [((0, 0), (0, 1))]
    out, dropped = extent.trim(xml, ext, lambda i: "")
    assert dropped == 1
    assert b"IW2" not in out and b"900000" not in out and b"dimension" not in out
    assert b'<c r="B2"><v>1</v></c></row></sheetData>' in out


# ------------------------------------------------------------------ panics, batch failed units (14)


class PanicException(BaseException):
    """Stands for pyo3_runtime.PanicException (a BaseException, as pyo3 defines it)."""


def _panicking(*a, **k):
    raise PanicException("index out of bounds")


def test_a_native_panic_is_a_chinese_error_for_that_file(jindu, tmp_path, monkeypatch):
    import python_calamine

    from jindu_metrics.ledgers.sources.xlsx import fast

    monkeypatch.setattr(fast, "_open_reader", _panicking)
    monkeypatch.setattr(python_calamine, "load_workbook", _panicking)
    code, _out, err = jindu(["validate", SAMPLE])
    assert code == 2
    assert str(SAMPLE) in err and "无法读取" in err and "Traceback" not in err and "内部错误：" not in err


def test_a_panic_while_loading_sheets_is_an_input_error(monkeypatch):
    from jindu_metrics.ledgers import normalize

    monkeypatch.setattr(normalize, "normalize_sheet", _panicking)
    with pytest.raises(InputError) as exc:
        load_ledgers([SAMPLE], threads=False)
    assert exc.value.file == str(SAMPLE)


def _county(folder: Path) -> None:
    from support.workbooks import write_canonical
    from test_batch import town_records

    folder.mkdir()
    for i, town in enumerate(["甲镇", "乙镇", "丙镇"]):
        write_canonical(town_records(town, i, n=12, id_base=100 * i), folder / f"{town}台帐.xlsx")


def test_batch_county_folder_with_a_stray_xfd1048576_file(tmp_path):
    """The file with a stray cell is read (cut, with its finding); the others are computed alongside."""
    from jindu_metrics.batch import run_batch

    folder = tmp_path / "县"
    _county(folder)
    bad = folder / "乙镇台帐.xlsx"
    tmp = tmp_path / "b.xlsx"
    patch_sheet(bad, tmp, stray("x"))
    shutil.move(tmp, bad)
    result = run_batch([folder], period=PERIOD, out=tmp_path / "out", jobs=2)
    assert sorted((u.unit, u.status) for u in result.units) == [("丙镇", "ok"), ("乙镇", "ok"), ("甲镇", "ok")]
    codes = [f["code"] for u in result.units if u.unit == "乙镇" for f in u.findings]
    assert "columns_capped" in codes


def test_batch_a_file_that_kills_its_worker_is_a_failed_unit(tmp_path, monkeypatch):
    """A reader that aborts the process (what the stray cell did): that file fails, the others are computed."""
    from jindu_metrics import batch
    from jindu_metrics.ledgers.sources import sniff

    if batch.pool_context() is None:
        pytest.skip("needs fork workers to carry the patched reader")  # Linux has them
    folder = tmp_path / "县"
    _county(folder)
    real = sniff.open_file

    def aborting(path, *a, **k):
        if "乙镇" in str(path):
            import faulthandler

            faulthandler.disable()  # pytest's handler would print the worker's stack
            os.abort()
        return real(path, *a, **k)

    monkeypatch.setattr(sniff, "open_file", aborting)
    result = batch.run_batch([folder], period=PERIOD, out=tmp_path / "out", jobs=2)
    status = {u.file: (u.status, u.error) for u in result.units}
    assert status["甲镇台帐.xlsx"][0] == status["丙镇台帐.xlsx"][0] == "ok"
    assert status["乙镇台帐.xlsx"][0] == "failed" and "异常终止" in status["乙镇台帐.xlsx"][1]
    assert result.exit_code == 1


def test_batch_a_panic_is_a_failed_unit(tmp_path, monkeypatch):
    from jindu_metrics.batch import run_batch
    from jindu_metrics.ledgers.sources import sniff

    folder = tmp_path / "县"
    _county(folder)
    real = sniff.open_file
    monkeypatch.setattr(sniff, "open_file",
                        lambda path, *a, **k: _panicking() if "丙镇" in str(path) else real(path, *a, **k))
    result = run_batch([folder], period=PERIOD, out=tmp_path / "out", jobs=1)
    status = {u.file: u.status for u in result.units}
    assert status == {"甲镇台帐.xlsx": "ok", "乙镇台帐.xlsx": "ok", "丙镇台帐.xlsx": "failed"}


# ------------------------------------------------------------------ FIFOs, wrong extensions (14)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_before_it_is_opened(jindu, tmp_path):
    fifo = tmp_path / "台帐.xlsx"
    os.mkfifo(fifo)
    code, _out, err = jindu(["validate", fifo])  # would block for ever if opened
    assert code == 2 and str(fifo) in err and "不是普通文件" in err


@pytest.mark.parametrize(("src", "name"), [(OLD_XLS, "查处台账.xlsx"), (SAMPLE, "乐平镇台帐.xls")])
def test_content_decides_the_format_not_the_extension(jindu, tmp_path, src, name):
    renamed = tmp_path / name
    shutil.copy(src, renamed)
    code, out, err = jindu(["validate", renamed, "--format", "json"])
    ref_code, ref_out, _ = jindu(["validate", src, "--format", "json"])
    assert code == ref_code in (0, 1), err
    got, ref = json.loads(out), json.loads(ref_out)
    mismatch = [f for f in got["findings"] if f["code"] == "format_mismatch"]
    assert len(mismatch) == 1 and "扩展名" in mismatch[0]["message"]
    strip = lambda fs: [(f["code"], f["sheet"], f["row"], f["column"]) for f in fs if f["code"] != "format_mismatch"]  # noqa: E731
    assert strip(got["findings"]) == strip(ref["findings"])


# ------------------------------------------------------------------ Parquet types, many columns (14)


def test_parquet_int64_ids_and_list_columns(jindu, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq
    from builders import ID_A, ID_B

    table = pa.table({"姓名": ["张三", "李四"], "公民身份号码": pa.array([int(ID_A[:17] + "0"), int(ID_B[:17] + "0")]),
                      "所属村居": ["一村", "二村"], "标签": pa.array([[1, 2], [3]])})
    path = tmp_path / "persons.parquet"
    pq.write_table(table, path)
    code, out, err = jindu(["validate", path, "--format", "json"])
    assert code == 1, err
    codes = [f["code"] for f in json.loads(out)["findings"]]
    assert codes.count("id_stored_as_number") == 2


def test_sixteen_thousand_header_columns_are_capped_with_a_finding(jindu, tmp_path):
    def edit(xml: bytes) -> bytes:
        m = re.search(rb'<row r="1"[^>]*>(.*?)</row>', xml, re.S)
        extra = b"".join(b'<c r="%s1" t="inlineStr"><is><t>c%d</t></is></c>' % (excel_column(i - 1).encode(), i)
                         for i in range(40, 16385))
        return xml[:m.end(1)] + extra + xml[m.end(1):]
    path = patch_sheet(SAMPLE, tmp_path / "wide.xlsx", edit)
    _code, out, _err = jindu(["validate", path, "--format", "json"])
    capped = [f for f in json.loads(out)["findings"] if f["code"] == "columns_capped"]
    assert len(capped) == 1 and f"{16384 - 256} 个单元格" in capped[0]["message"]


def test_a_csv_of_100000_columns_is_capped_with_a_finding(jindu, tmp_path):
    from builders import ID_A

    path = tmp_path / "wide.csv"
    header = ["姓名", "公民身份号码", "所属村居"] + [f"c{i}" for i in range(100_000)]
    row = ["张三", ID_A, "一村"] + ["x"] * 100_000
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    _code, out, _err = jindu(["validate", path, "--format", "json"])
    capped = [f for f in json.loads(out)["findings"] if f["code"] == "columns_capped"]
    assert len(capped) == 1 and f"{2 * (100_003 - 256)} 个单元格" in capped[0]["message"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_prompt_on_a_real_terminal(encrypted, tmp_path):
    """`jindu compute` with stdin a terminal and no password asks for it (not echoed) and computes."""
    import pty
    import select
    import time

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("JINDU_PASSWORD", None)
    out = tmp_path / "out.json"
    pid, fd = pty.fork()
    if pid == 0:  # the child: jindu on the terminal
        os.execve(sys.executable, [sys.executable, "-m", "jindu_metrics", "compute", str(encrypted), "--period",
                                   PERIOD, "--format", "json", "--output", str(out)], env)
    seen = b""
    deadline = time.monotonic() + 120
    sent = False
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 1)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        if not sent and "请输入密码".encode() in seen:
            os.write(fd, PASSWORD.encode() + b"\n")
            sent = True
    _, status = os.waitpid(pid, 0)
    text = seen.decode("utf-8", "replace")
    assert sent and str(encrypted) in text, text
    assert PASSWORD not in text  # not echoed
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert json.loads(out.read_text(encoding="utf-8"))["rows"]


def test_cut_rows_streams_up_to_the_last_row_with_data(monkeypatch):
    """Rows after the last non-blank value are dropped, whatever the chunk boundaries."""
    rows = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (r, r, r) for r in range(1, 3001))
    tail = b"".join(b'<row r="%d" s="1"><c r="A%d" s="1"/></row>' % (r, r) for r in range(3001, 9000))
    xml = (b'<worksheet><sheetData>' + rows + tail + b'<row r="99999"><c r="A99999" t="inlineStr"><is><t> </t>'
           b'</is></c></row></sheetData><mergeCells><mergeCell ref="A1:B1"/></mergeCells></worksheet>')
    monkeypatch.setattr(extent, "_CHUNK", 4096)  # many chunks, cells cut at their boundaries
    ext = extent.scan(io.BytesIO(xml), lambda i: "")
    assert (ext.last_row, ext.data_row) == (99999, 3000)
    out = []
    extent.cut_rows(io.BytesIO(xml), out.append, ext)
    assert b"".join(out) == (b'<worksheet><sheetData>' + rows + b'</sheetData><mergeCells><mergeCell ref="A1:B1"/>'
                             b'</mergeCells></worksheet>')


# ------------------------------------------------------------------ an encryption jindu cannot undo (29.5)


@pytest.fixture(scope="module")
def unknown_hash(encrypted, tmp_path_factory) -> Path:
    data = encrypted.read_bytes()
    assert b'hashAlgorithm="SHA512"' in data
    path = tmp_path_factory.mktemp("enc") / "未知加密.xlsx"
    path.write_bytes(data.replace(b'hashAlgorithm="SHA512"', b'hashAlgorithm="MD9999"'))
    return path


@pytest.mark.parametrize("password", [None, PASSWORD])
def test_an_unknown_hash_algorithm_is_an_encrypted_file_it_cannot_open(jindu, unknown_hash, password, monkeypatch):
    monkeypatch.delenv("JINDU_PASSWORD", raising=False)
    code, _out, err = jindu(["validate", unknown_hash, *(["--password", password] if password else [])])
    assert code == 2 and "未知加密.xlsx" in err
    assert "已加密" in err and "不受支持" in err and "另存为 .xlsx" in err and "不是表格文件" not in err
