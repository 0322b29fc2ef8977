"""Issue 29, the output / process / CLI side of the third round of bad input: what the user protected is
never replaced, signals clean up as Ctrl-C does, the same input given twice counts once, stdout write
errors end in exit 2, templates stop at their deadline inside filters too, config paths are regular files,
long and control-character names are handled, and cells cannot reach a terminal's escape sequences."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import half_write_script
from conftest import run_cli, run_forked

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"
PERIOD = "2018-01..2018-10"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    """A small 乐平镇 workbook."""
    from support import samples
    from support.workbooks import write_canonical

    recs = {k: v[:40] for k, v in samples.leping_records().items()}
    return write_canonical(recs, tmp_path_factory.mktemp("ledger") / "乐平镇台帐.xlsx")


def _tree(folder: Path) -> dict[str, tuple]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None,
                                         p.stat().st_mode, p.stat().st_ino)
            for p in sorted(folder.rglob("*"))}


def _refused(args, *expect: str) -> str:
    code, out, err = run_cli(args)
    assert code == 2, (code, out, err)
    assert "内部错误" not in err and "Traceback" not in err, err
    for e in expect:
        assert e in err, (e, err)
    return err


# ---------------------------------------------------------------- 1. what the user made read-only

@pytest.fixture()
def last_month(tmp_path, ledger) -> Path:
    """A batch output folder of last month."""
    out = tmp_path / "out"
    code, _, err = run_cli(["batch", "-p", "2018-09", "-j", "1", "-o", out, ledger])
    assert code in (0, 1), err
    return out


def _unprotect(folder: Path) -> None:
    for p in [folder, *folder.rglob("*")]:
        if not p.is_symlink():
            p.chmod(p.stat().st_mode | 0o200)


@pytest.mark.parametrize("what", ["folder", "township folder", "file", "parent"])
def test_batch_refuses_an_output_folder_made_read_only(tmp_path, ledger, last_month, what):
    target = {"folder": last_month, "township folder": next(p for p in last_month.iterdir() if p.is_dir()),
              "file": last_month / "summary.json", "parent": tmp_path}[what]
    target.chmod(0o555 if target.is_dir() else 0o444)
    before = _tree(last_month)
    try:
        err = _refused(["batch", "-p", "2018-10", "-j", "1", "-o", last_month, ledger], "只读", "未写入")
        assert _tree(last_month) == before, "the protected folder was replaced"
        assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    finally:
        _unprotect(tmp_path)
    assert "输出" in err or what == "parent"


@pytest.mark.parametrize("fmt", ["json", "csv", "xlsx"])
def test_output_into_a_read_only_folder_is_refused(tmp_path, ledger, fmt):
    folder = tmp_path / "只读"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        _refused(["compute", ledger, "-p", PERIOD, "-f", fmt, "-o", folder / f"x.{fmt}"], "只读", str(folder))
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_output_file_made_read_only_is_kept(tmp_path, ledger):
    out = tmp_path / "r.txt"
    out.write_text("上月的通报", encoding="utf-8")
    out.chmod(0o444)
    _refused(["report", ledger, "-p", PERIOD, "-o", out], "只读")
    assert out.read_text(encoding="utf-8") == "上月的通报"


@pytest.mark.parametrize("where", ["copy", "folder beside", "folder given"])
def test_annotate_refuses_what_was_made_read_only(tmp_path, ledger, where):
    inp = tmp_path / "in"
    inp.mkdir()
    src = inp / "台帐.xlsx"
    src.write_bytes(ledger.read_bytes())
    copy = inp / "台帐_问题标注.xlsx"
    run_cli(["validate", src, "--annotate"])
    assert copy.is_file()
    before = copy.read_bytes()
    (copy if where == "copy" else inp).chmod(0o444 if where == "copy" else 0o555)
    given = tmp_path / "副本"
    if where == "folder given":
        inp.chmod(0o755)
        given.mkdir()
        given.chmod(0o555)
    try:
        _refused(["validate", src, f"--annotate={given if where == 'folder given' else ''}"], "只读")
        assert copy.read_bytes() == before
        if where == "folder given":
            assert list(given.iterdir()) == []
    finally:
        _unprotect(tmp_path)


# ---------------------------------------------------------------- 4. stdout that cannot be written to

def _jindu(*args, stdout=None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`jindu ARGS` as its own process (forked: a new interpreter proves nothing more here), its standard
    output `stdout` (a pipe when None), its stderr as bytes."""
    return run_forked(args, timeout=timeout, text=False, stdout=stdout)


@pytest.mark.parametrize("args", [["compute", "-f", "json"], ["compute"], ["explain", "送戒率"], ["report"],
                                  ["validate"]], ids=lambda a: " ".join(a))
def test_stdout_on_a_full_disk_exits_2_with_a_message(args):
    with open("/dev/full", "wb") as full:
        r = _jindu(*args, SAMPLE, *(["-p", PERIOD] if args[0] != "validate" else []), stdout=full)
    err = r.stderr.decode("utf-8")
    assert r.returncode == 2, err
    assert "无法写出到标准输出：磁盘空间不足" in err and "Traceback" not in err and "内部错误" not in err


def test_stdout_pipe_closed_by_its_reader_exits_2():
    read, write = os.pipe()
    os.close(read)  # `| head -1` gone before anything was written
    try:
        r = _jindu("compute", SAMPLE, "-p", PERIOD, "-f", "json", stdout=write)
    finally:
        os.close(write)
    err = r.stderr.decode("utf-8")
    assert r.returncode == 2 and "标准输出已被关闭" in err and "Traceback" not in err, err


class _FillsAfter(io.RawIOBase):
    """A disk that fills after `room` bytes."""

    def __init__(self, room: int):
        self.room, self.kept = room, bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        n = min(len(b), self.room - len(self.kept))
        if not n:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.kept += bytes(b)[:n]
        return n  # a short write: the next one fails


@pytest.mark.parametrize("args", [["compute", "-f", "json"], ["compute", "-f", "csv"], ["compute"],
                                  ["explain", "送戒率"], ["explain", "送戒率", "-f", "json"]],
                         ids=lambda a: " ".join(a))
def test_a_disk_filling_midway_is_never_exit_0(args, monkeypatch):
    from jindu_metrics.cli import main

    raw = _FillsAfter(2048)
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BufferedWriter(raw, 4096), encoding="utf-8"))
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setattr(sys, "argv", ["jindu", *args, str(SAMPLE), "-p", PERIOD])
    with pytest.raises(SystemExit) as exc:
        main()
    err = sys.stderr.getvalue()
    assert exc.value.code == 2, (err, bytes(raw.kept[:300]).decode("utf-8", "replace"))
    assert "磁盘空间不足" in err and "内部错误" not in err, err
    assert len(raw.kept) == 2048


# ---------------------------------------------------------------- 3. the same file given twice counts once

def _figures(*inputs) -> dict:
    code, out, err = run_cli(["compute", *inputs, "-p", PERIOD, "-f", "json"])
    assert code in (0, 1), err
    return {r["metric"]: (r["numerator"], r["denominator"], r["display"]) for r in json.loads(out)["rows"]}


@pytest.mark.parametrize("spelling", ["twice", "dotted", "file and its folder", "link", "copy elsewhere"])
def test_an_input_given_twice_is_read_once(tmp_path, monkeypatch, spelling):
    folder = tmp_path / "台帐"
    folder.mkdir()
    a = folder / "乐平镇台帐.xlsx"
    a.write_bytes(SAMPLE.read_bytes())
    once = _figures(a)
    assert once["campaigns"][0] and once["current_users_per_mille"][1], once  # sums of rows, not persons
    monkeypatch.chdir(folder)
    if spelling == "link":
        (tmp_path / "链接.xlsx").symlink_to(a)
    if spelling == "copy elsewhere":
        (tmp_path / "别处").mkdir()
        (tmp_path / "别处" / "乐平镇台帐.xlsx").write_bytes(a.read_bytes())
    args = {"twice": [a, a], "dotted": ["乐平镇台帐.xlsx", "./乐平镇台帐.xlsx"], "file and its folder": [a, folder],
            "link": [a, tmp_path / "链接.xlsx"], "copy elsewhere": [a, tmp_path / "别处" / "乐平镇台帐.xlsx"]}[spelling]
    assert _figures(*args) == once


# ---------------------------------------------------------------- 6. config paths are regular files

@pytest.mark.parametrize(("option", "what"), [("--template", "模板文件"), ("--catalog", "指标目录"),
                                              ("--scoring", "考评方案"), ("--county-template", "模板文件")])
@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_config_path_to_a_fifo_or_device_is_refused_not_waited_on(tmp_path, ledger, option, what, kind):
    if kind == "fifo":
        path = tmp_path / "配置"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    if option in ("--scoring", "--county-template"):
        args = ["batch", ledger, "-p", PERIOD, "-o", tmp_path / "out", option, path]
    else:
        args = ["report", ledger, "-p", PERIOD, option, path]
    r = _jindu(*args, timeout=120)  # a hang fails here
    err = r.stderr.decode("utf-8")
    assert r.returncode == 2, err
    assert what in err and "不是普通文件" in err and str(path) in err and "Traceback" not in err, err


def test_config_files_are_read_up_to_their_limit(tmp_path):
    from jindu_metrics.errors import ConfigError
    from jindu_metrics.tomlread import read_bytes

    big = tmp_path / "目录.toml"
    big.write_bytes(b"# " + b"x" * 2_000_000 + b"\n")
    with pytest.raises(ConfigError, match="过大"):
        read_bytes(big, "指标目录")
    assert read_bytes(big, "指标目录", limit=3_000_000).startswith(b"# x")
    with pytest.raises(ConfigError, match="文件夹"):
        read_bytes(tmp_path, "指标目录")
    with pytest.raises(ConfigError, match="不存在"):
        read_bytes(tmp_path / "没有.toml", "指标目录")


# ---------------------------------------------------------------- 9. a bulletin printed to a terminal

class _Console(io.StringIO):
    def isatty(self) -> bool:
        return True


ESCAPES = ["\x1b[2J\x1b[H", "\x1b]0;标题\x07", "\u202e"]


@pytest.fixture(scope="module")
def escapes_ledger(tmp_path_factory) -> Path:
    """A CSV persons ledger whose township and village names hold escape sequences (clear screen, set the
    title, a bidi override)."""
    from builders import PERSON_HEADER, person_rows, write_csv

    rows = person_rows()
    for r in rows:
        r[3] = "乐平" + ESCAPES[1] + "镇"
    rows[0][2], rows[1][2] = "乐平" + ESCAPES[0] + "村", "南边" + ESCAPES[2] + "村"
    return write_csv(tmp_path_factory.mktemp("esc") / "人员.csv", [PERSON_HEADER, *rows])


def test_report_to_a_terminal_shows_escape_sequences_from_cells_inert(escapes_ledger, monkeypatch):
    from jindu_metrics.cli import main

    console = _Console()
    monkeypatch.setattr(sys, "stdout", console)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    monkeypatch.setattr(sys, "argv", ["jindu", "report", str(escapes_ledger), "-p", "2018"])
    with pytest.raises(SystemExit) as exc:
        main()
    text = console.getvalue()
    assert exc.value.code in (0, 1), sys.stderr.getvalue()
    assert "乐平\\x1b]0;标题\\x07镇" in text, text  # the township, shown with its escapes written out
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text


def test_report_to_a_file_or_pipe_keeps_the_text(escapes_ledger):
    code, out, err = run_cli(["report", escapes_ledger, "-p", "2018"])
    assert code in (0, 1), err
    assert any(e in out for e in ESCAPES)  # not a console: the bulletin's text as the template made it


# ---------------------------------------------------------------- 2. SIGTERM and SIGHUP as Ctrl-C

# the real signal, between writing the temporary and renaming it; then the user presses Ctrl-C as the
# temporary is being removed
_SIGNAL_MID_WRITE = half_write_script(
    "SENT.append(SIG); os.kill(os.getpid(), SIG)",
    setup="""real_unlink, SIG = os.unlink, int(sys.argv.pop(1))
SENT = []
def unlink(path, *a, **k):
    if SENT:
        os.kill(os.getpid(), signal.SIGINT)
    real_unlink(path, *a, **k)""",
    patches="outputs.os.unlink = unlink")

SIGNAL_WRITERS = {
    "compute xlsx": (lambda o, i: ["compute", "-p", PERIOD, "-f", "xlsx", "-o", o / "x.xlsx", i], "x.xlsx"),
    "annotate": (lambda o, i: ["validate", i, f"--annotate={o / '副本.xlsx'}"], "副本.xlsx"),
    "batch": (lambda o, i: ["batch", "-p", PERIOD, "-j", "1", "-o", o / "b", i], "b/汇总.xlsx"),
}


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP"])
@pytest.mark.parametrize("writer", list(SIGNAL_WRITERS))
def test_a_terminating_signal_mid_write_removes_the_temporary(tmp_path, ledger, signame, writer):
    import signal

    args, target = SIGNAL_WRITERS[writer]
    path = tmp_path / target
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = b"PK\x03\x04 the previous run's output " * 100
    path.write_bytes(previous)
    if writer == "batch":
        (path.parent / ".jindu-batch").write_text("", encoding="utf-8")
    else:
        (tmp_path / "副本.xlsx").unlink(missing_ok=True)
    signum = getattr(signal, signame)
    r = run_forked([int(signum), *args(tmp_path, ledger)], timeout=300, text=False, script=_SIGNAL_MID_WRITE)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 128 + signum, (r.returncode, err[-800:])
    assert "已中断" in err and "Traceback" not in err, err
    if writer != "annotate":
        assert path.read_bytes() == previous, "the previous output was damaged"
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, leftovers  # an annotated copy's temporary would hold names and IDs


def _children(pid: int) -> set[int]:
    """Every process descended from `pid` (from /proc)."""
    parents = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat_ = (d / "stat").read_text()
            except OSError:
                continue
            parents[int(d.name)] = int(stat_.rsplit(")", 1)[1].split()[1])
    out, todo = set(), [pid]
    while todo:
        p = todo.pop()
        kids = {c for c, pp in parents.items() if pp == p}
        out |= kids
        todo += kids
    return out


def _alive(pids) -> set[int]:
    out = set()
    for p in pids:
        try:
            state = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(p)
    return out


@pytest.fixture(scope="module")
def slow_batch(tmp_path_factory, ledger) -> tuple[Path, Path]:
    """(folder of three townships' copies, a bulletin template that keeps each worker busy for seconds)."""
    root = tmp_path_factory.mktemp("slow")
    inp = root / "in"
    inp.mkdir()
    from support.workbooks import write_canonical
    from test_batch import town_records

    for i, town in enumerate(("甲镇", "乙镇", "丙镇")):
        write_canonical(town_records(town, i, n=15), inp / f"{town}台帐.xlsx")
    template = root / "慢.txt.j2"
    template.write_text("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
                        encoding="utf-8")
    return inp, template


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGKILL"])
def test_batch_workers_end_with_their_parent(tmp_path, slow_batch, signame):
    import signal
    import time

    inp, template = slow_batch
    p = subprocess.Popen([sys.executable, "-m", "jindu_metrics", "batch", inp, "-p", "2018-10", "-j", "3",
                          "--template", template, "-o", tmp_path / "out"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
            workers = _children(p.pid)
        assert len(workers) >= 2, "the workers never started"
        time.sleep(0.5)  # at work on the bulletins
        p.send_signal(getattr(signal, signame))
        p.wait(timeout=30)
        gone = time.monotonic() + 10
        while _alive(workers) and time.monotonic() < gone:
            time.sleep(0.05)
        assert not _alive(workers), "workers outlived their parent"
        out = p.stdout.read()  # EOF: no worker holds the caller's pipe any more
        err = p.stderr.read().decode("utf-8", "replace")
    finally:
        p.kill()
    if signame != "SIGKILL":
        assert p.returncode == 128 + getattr(signal, signame), err
        assert "已中断" in err and "Traceback" not in err, err
    assert out == b""
    assert not (tmp_path / "out").exists()
    assert not [x for x in tmp_path.iterdir() if x.name.endswith(".tmp")] or signame == "SIGKILL"


# ---------------------------------------------------------------- 5. the template deadline holds inside filters

@pytest.mark.parametrize("source", [
    '{{ ("a"*4999999)|wordwrap(1) }}',
    '{{ ("a "*2000000)|wordwrap(2)|wordcount }}',
    '{{ ("ab "*1000000)|replace(" ", "")|wordwrap(1) }}',
])
def test_a_slow_filter_stops_at_the_deadline(tmp_path, ledger, monkeypatch, source):
    import time

    from jindu_metrics.report import render

    monkeypatch.setattr(render, "MAX_SECONDS", 1.0)
    t = tmp_path / "模板.txt.j2"
    t.write_text(source, encoding="utf-8")
    start = time.monotonic()
    _refused(["report", ledger, "-p", PERIOD, "--template", t], "模板运行超过", str(t))
    assert time.monotonic() - start < 10  # the limit (1 s here) plus reading the ledger, not minutes


def test_filters_still_render_within_the_deadline(tmp_path, ledger):
    t = tmp_path / "模板.txt.j2"
    t.write_text('{{ "甲乙丙 丁戊"|wordwrap(3) }}|{{ m.seizures|cn }}|{{ "a,b"|replace(",", "、") }}', encoding="utf-8")
    code, out, err = run_cli(["report", ledger, "-p", PERIOD, "--template", t])
    assert code in (0, 1), err
    assert out.strip().startswith("甲乙丙\n丁戊|") and out.strip().endswith("|a、b"), out


# jindu's own filters on the largest input the size caps allow: each of these runs for seconds unbounded
# (table over a million rows ≈ 5 s here, three times over ≈ 17 s; sentence over 2.4M separators ≈ 3 s).
_SLOW_OWN_FILTERS = [
    '{{ ("|a|\\n"*1000000)|table }}',
    '{{ ("|a|\\n"*1000000)|table|table|table }}',
    '{{ ("，a"*2400000)|sentence }}',
    '{% filter sentence %}{{ "，a"*2400000 }}{% endfilter %}',
    '{{ [("|a|\\n"*1000000)]|map("table")|list|length }}',  # called by a Jinja filter (traced itself)
]


@pytest.mark.parametrize("source", _SLOW_OWN_FILTERS)
def test_jindu_filters_stop_at_the_deadline(monkeypatch, source):
    import time

    from jindu_metrics.errors import ConfigError
    from jindu_metrics.report import render

    monkeypatch.setattr(render, "MAX_SECONDS", 0.3)
    # CPU seconds of this (the rendering) thread: the work done before the stop, whatever the machine's load
    # (wall time on a loaded 2-core machine stretched a 0.3 s stop past 3 s)
    start, cpu = time.monotonic(), time.thread_time()
    with pytest.raises(ConfigError, match=r"模板运行超过 0\.3 秒，已停止") as caught:
        render.render_source(source, {}, name="模板.txt.j2")
    assert time.thread_time() - cpu < 2.0  # the limit and the C call under way, not the filter's seconds
    assert time.monotonic() - start < 30
    assert caught.value.row == 1
    # nothing raised for the deadline is left to arrive later, and the next rendering is unaffected
    time.sleep(0.1)
    assert sum(i for i in range(200_000)) == 19_999_900_000
    assert render.render_source("{{ 3|cn }}|{{ '，a，'|sentence }}", {}, name="模板.txt.j2") == "三|a\n"


def test_a_jindu_filter_that_loses_the_stop_is_stopped_again(monkeypatch):
    """The watchdog's stop can be lost (one landing in a generator being finalised is printed as "Exception
    ignored"): a filter that runs on is stopped again, not left to run to its end. On a constant, too: Jinja
    would fold `1|stubborn` while compiling, before the rendering's deadline is set."""
    import time

    from jindu_metrics.errors import ConfigError
    from jindu_metrics.report import render

    def stubborn(value):
        for _ in range(2):  # the first stop taken and lost, as a finalised generator loses it; then on again
            end = time.monotonic() + 20
            try:
                while time.monotonic() < end:
                    pass
            except render._Overtime:
                pass
        return value

    monkeypatch.setattr(render, "MAX_SECONDS", 0.3)
    monkeypatch.setitem(render.FILTERS, "stubborn", stubborn)
    start = time.monotonic()
    with pytest.raises(ConfigError, match=r"模板运行超过 0\.3 秒，已停止"):
        render.render_source("{{ 1|stubborn }}", {}, name="模板.txt.j2")
    assert time.monotonic() - start < 10  # not the 40 s it runs unstopped


def test_a_stop_lost_in_a_finaliser_is_not_printed(monkeypatch):
    """The stop landing in a finaliser is lost there (what sentence's generators met under load): it is
    neither printed ("Exception ignored … Traceback") nor the end of the deadline: it is raised again."""
    import time

    from jindu_metrics.errors import ConfigError
    from jindu_metrics.report import render

    class Finalised:
        def __del__(self):
            end = time.monotonic() + 1.0
            while time.monotonic() < end:  # the deadline passes here, inside the finaliser
                pass

    def lossy(value):
        Finalised()  # dropped at once: its __del__ runs
        end = time.monotonic() + 20
        while time.monotonic() < end:
            pass
        return value

    monkeypatch.setattr(render, "MAX_SECONDS", 0.3)
    monkeypatch.setitem(render.FILTERS, "lossy", lossy)
    printed = []  # what the interpreter would print as "Exception ignored in: … Traceback …"
    monkeypatch.setattr(sys, "unraisablehook", printed.append)
    start = time.monotonic()
    with pytest.raises(ConfigError, match=r"模板运行超过 0\.3 秒，已停止"):
        render.render_source("{{ 1|lossy }}", {}, name="模板.txt.j2")
    assert time.monotonic() - start < 10
    assert printed == []


def test_a_jindu_filter_past_the_deadline_exits_2(tmp_path, ledger, monkeypatch):
    import time

    from jindu_metrics.report import render

    monkeypatch.setattr(render, "MAX_SECONDS", 0.5)
    t = tmp_path / "模板.txt.j2"
    t.write_text(_SLOW_OWN_FILTERS[1], encoding="utf-8")
    start = time.monotonic()
    _refused(["report", ledger, "-p", PERIOD, "--template", t], "模板运行超过 0.5 秒，已停止", str(t), "第1行")
    assert time.monotonic() - start < 10  # not the ≈17 s the filters take unbounded


def test_jindu_filters_called_outside_a_rendering_are_not_bounded():
    from jindu_metrics.report.filters import FILTERS

    assert FILTERS["cn"](21) == "二十一" and FILTERS["sentence"]("，a，") == "a"


# ---------------------------------------------------------------- 7. long names

def test_annotate_beside_a_245_byte_name(tmp_path, ledger):
    folder = tmp_path / "台帐"
    folder.mkdir()
    src = folder / ("台" * 80 + ".xlsx")
    assert len(src.name.encode("utf-8")) == 245
    src.write_bytes(ledger.read_bytes())
    code, _, err = run_cli(["validate", src, "--annotate"])
    assert code in (0, 1) and "内部错误" not in err and "Errno" not in err, err
    copies = [p for p in folder.iterdir() if p != src]
    assert len(copies) == 1 and copies[0].name.endswith("_问题标注.xlsx"), copies
    assert len(copies[0].name.encode("utf-8")) <= 200 and copies[0].name.startswith("台" * 40)
    assert "已写出标注副本" in err
    # the folder read again: the copy is skipped as the original's, not counted a second time
    alone = json.loads(run_cli(["validate", src, "-f", "json"])[1])["summary"]
    both = json.loads(run_cli(["validate", folder, "-f", "json"])[1])["summary"]
    assert both["files"] == alone["files"] == [str(src)]
    # into a folder, and a second run replaces its own copy
    out = tmp_path / "副本"
    for _ in range(2):
        code, _, err = run_cli(["validate", src, f"--annotate={out}"])
        assert code in (0, 1) and "内部错误" not in err, err
    assert [p.name for p in out.iterdir()] == [copies[0].name]


def test_an_output_name_too_long_is_refused_in_chinese(tmp_path, ledger):
    long = tmp_path / ("长" * 90 + ".xlsx")  # 275 bytes: no file system takes it
    _refused(["validate", ledger, f"--annotate={long}"], "文件名过长")
    _refused(["compute", ledger, "-p", PERIOD, "-f", "xlsx", "-o", long], "文件名过长")
    _refused(["batch", ledger, "-p", PERIOD, "-o", tmp_path / ("长" * 90)], "文件名过长")


# ---------------------------------------------------------------- 8. control characters in names; suggested commands

def test_a_newline_in_a_file_name_is_shown_escaped_and_the_command_quoted(tmp_path, ledger):
    src = tmp_path / "乐平\n镇 台帐.xlsx"
    src.write_bytes(ledger.read_bytes())
    shown_name = "乐平\\n镇 台帐.xlsx"
    code, out, err = run_cli(["compute", src, "-p", PERIOD])
    assert code == 1, err  # the small ledger's findings: the line suggesting validate is printed
    assert str(src) not in err and str(src) not in out
    line = next(x for x in err.splitlines() if "查看明细" in x)
    suggested = line.split("查看明细：", 1)[1]
    assert shown_name in suggested and suggested.startswith("jindu validate $'"), suggested
    # pasted into bash it names the very file
    r = subprocess.run(["bash", "-c", "printf '%s\\0' " + suggested.removeprefix("jindu validate ")],
                       capture_output=True, timeout=60)
    assert r.stdout.split(b"\0")[:-1] == [os.fsencode(src), b"--period", b"2018-10-31"], r

    code, out, err = run_cli(["validate", src])
    assert str(src) not in out and f"读取：{tmp_path}/{shown_name} ｜" in out, out
    code, out, err = run_cli(["validate", src, "--annotate"])
    assert code in (0, 1) and f"已写出标注副本：{tmp_path}/乐平\\n镇 台帐_问题标注.xlsx" in err, err
    assert (tmp_path / "乐平\n镇 台帐_问题标注.xlsx").is_file()


def test_errors_name_files_with_control_characters_escaped(tmp_path):
    bad = tmp_path / "坏\x1b[2J文件.xlsx"
    bad.write_bytes(b"not a workbook")
    err = _refused(["compute", bad, "-p", PERIOD], "坏\\x1b[2J文件.xlsx")
    assert "\x1b" not in err


@pytest.mark.parametrize(("arg", "posix", "windows"), [
    ("乐平镇台帐.xlsx", "乐平镇台帐.xlsx", "乐平镇台帐.xlsx"),
    ("台帐 10月.xlsx", "'台帐 10月.xlsx'", '"台帐 10月.xlsx"'),
    ("a&b.xlsx", "'a&b.xlsx'", '"a&b.xlsx"'),
    ("it's.xlsx", "'it'\"'\"'s.xlsx'", '"it\'s.xlsx"'),
    ("a\nb.xlsx", "$'a\\nb.xlsx'", '"a\nb.xlsx"'),
    ("C:\\台帐\\a.xlsx", "'C:\\台帐\\a.xlsx'", "C:\\台帐\\a.xlsx"),
])
def test_suggested_commands_are_quoted_for_the_shell(arg, posix, windows):
    from jindu_metrics.errors import _quote

    assert _quote(arg, False) == posix
    assert _quote(arg, True) == windows
