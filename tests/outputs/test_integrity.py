"""Integrity (issue 8.5) and untrusted configuration (8.6).

- inputs are never changed (sha256 before/after every command) and never opened for writing (audit hook);
- every output is written through a temporary file and a rename (audit hook: no write-open of a final name);
- two runs of every output-producing command are byte-identical;
- a write that fails midway (os.replace or the write itself) leaves the previous file whole and no temp file;
- catalog, scoring scheme and jindu.toml from another office: unknown keys, wrong types, expressions →
  ConfigError naming the line; no eval/exec/DataFrame.query/pd.eval anywhere in src/.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import pytest
from builders import half_write_script
from conftest import run_cli, run_forked

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"
MESSY = ROOT / "sample_ledgers" / "messy"
PERIOD = "2018-01..2018-10"

# ------------------------------------------------------------------ an audit hook watching every open()
_WATCH: dict = {"on": False, "opens": []}


def _hook(event, args):
    if _WATCH["on"] and event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        path, mode, flags = args[0], args[1], args[2]
        writing = (mode is not None and any(c in str(mode) for c in "wax+")) or \
            (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))
        _WATCH["opens"].append((os.fsdecode(path), bool(writing)))


sys.addaudithook(_hook)  # audit hooks cannot be removed; it records only while _WATCH["on"]


def _run_watched(args) -> tuple[int, str, str, list]:
    _WATCH["opens"] = []
    _WATCH["on"] = True
    try:
        code, out, err = run_cli([str(a) for a in args])
    finally:
        _WATCH["on"] = False
    return code, out, err, list(_WATCH["opens"])


def _digests(paths) -> dict[str, str]:
    files = []
    for p in paths:
        p = Path(p)
        files += sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
    return {str(f): hashlib.sha256(f.read_bytes()).hexdigest() + str(f.stat().st_mtime_ns) for f in files}


def _outputs(folder: Path) -> dict[str, bytes]:
    return {str(f.relative_to(folder)): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}


def _commands(inp: Path, out: Path, full: bool = True) -> list[list]:
    if not full:  # reading through every input format; the writers are exercised by the full list
        return [["validate", inp], ["compute", "-p", PERIOD, "--by", "所属村居", "-f", "csv", "-o", out / "c.csv", inp],
                ["explain", "seizures", "-p", PERIOD, inp], ["report", "-p", PERIOD, "-o", out / "r.txt", inp]]
    return [
        ["validate", inp], ["validate", "-f", "json", inp],
        ["compute", "-p", PERIOD, "--by", "所属村居", "-f", "xlsx", "-o", out / "c.xlsx", inp],
        ["compute", "-p", PERIOD, "--by", "所属村居", "-f", "csv", "-o", out / "c.csv", inp],
        ["compute", "-p", PERIOD, "-f", "json", "-o", out / "c.json", inp],
        ["compute", "-p", PERIOD, "-o", out / "c.txt", inp],
        ["explain", "seizures", "-p", PERIOD, inp],
        ["report", "-p", PERIOD, "-o", out / "r.txt", inp],
        ["report", "-p", PERIOD, "-f", "md", "-o", out / "r.md", inp],
        ["report", "-p", PERIOD, "-f", "docx", "-o", out / "r.docx", inp],
        ["batch", "-p", PERIOD, "-j", "1", "-o", out / "batch", *(sorted(inp.glob("*.xlsx")) if inp.is_dir() else [inp])],
        ["metrics"],
    ]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    """A small canonical workbook, and a messy folder: the messy sample's xlsx and xls plus a GBK CSV (small,
    so that every command runs twice within the time budget)."""
    from support import samples
    from support.workbooks import write_canonical, write_csv

    d = tmp_path_factory.mktemp("inputs")
    recs = {k: v[:60] for k, v in samples.leping_records().items()}
    write_canonical(recs, d / SAMPLE.name)
    (d / "messy").mkdir()
    for f in MESSY.iterdir():
        if f.suffix in (".xlsx", ".xls"):
            shutil.copy(f, d / "messy" / f.name)
    write_csv({"contacts": recs["contacts"]}, d / "messy", encoding="gbk")
    return d


@pytest.mark.slow
@pytest.mark.parametrize("which", ["sample", "messy"])
def test_inputs_unchanged_outputs_atomic_and_byte_identical(inputs, tmp_path, which):
    inp = inputs / SAMPLE.name if which == "sample" else inputs / "messy"
    before = _digests([inputs])
    out = tmp_path / "out"
    out.mkdir()
    first = None
    for round_ in (1, 2):
        for args in _commands(inp, out, full=which == "sample"):
            if round_ == 2 and "-o" not in args:
                continue  # the second round only re-makes outputs
            code, _, err, opens = _run_watched(args)
            assert code in (0, 1), (args, err)
            assert _digests([inputs]) == before, f"{args} changed an input"
            for path, writing in opens:
                p = Path(path).resolve()
                if p.is_relative_to(inputs.resolve()):
                    assert not writing, f"{args} opened input {path} for writing"
                if writing and p.is_relative_to(out.resolve()):
                    assert p.name.startswith(".") and p.name.endswith(".tmp"), f"{args} wrote {path} in place"
        if round_ == 1:
            first = _outputs(out)
    second = _outputs(out)
    assert len(first) >= (10 if which == "sample" else 2) and set(first) == set(second)
    for name in first:
        assert first[name] == second[name], f"{name} differs between two runs"
    assert not [n for n in second if n.endswith(".tmp")]


# ------------------------------------------------------------------ interrupted writes
WRITERS = [
    ("compute xlsx", lambda o, i: ["compute", "-p", PERIOD, "-f", "xlsx", "-o", o / "x.xlsx", i], "x.xlsx"),
    ("compute csv", lambda o, i: ["compute", "-p", PERIOD, "-f", "csv", "-o", o / "x.csv", i], "x.csv"),
    ("report docx", lambda o, i: ["report", "-p", PERIOD, "-f", "docx", "-o", o / "r.docx", i], "r.docx"),
    ("report txt", lambda o, i: ["report", "-p", PERIOD, "-o", o / "r.txt", i], "r.txt"),
    ("batch", lambda o, i: ["batch", "-p", PERIOD, "-j", "1", "-o", o / "b", i], "b/汇总.xlsx"),
]


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """A small 乐平镇 workbook (the first 40 records of each ledger): the writers, not the data, are tested."""
    from support import samples
    from support.workbooks import write_canonical

    recs = {k: v[:40] for k, v in samples.leping_records().items()}
    return write_canonical(recs, tmp_path_factory.mktemp("small") / "乐平镇.xlsx")


CASES = [(f, *w) for f in ("replace", "write") for w in WRITERS] + [("interrupt", *WRITERS[1])]


@pytest.mark.parametrize("fault,label,args,target", CASES, ids=[f"{c[1]}-{c[0]}" for c in CASES])
def test_failed_write_leaves_previous_file_whole(tmp_path, monkeypatch, small, fault, label, args, target):
    path = tmp_path / target
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = b"PK\x03\x04 the previous run's output " * 100
    path.write_bytes(previous)

    from jindu_metrics import outputs

    if fault == "replace":
        def boom(*a, **k):
            raise OSError(28, "No space left on device")
        monkeypatch.setattr(outputs.os, "replace", boom)
    else:
        real_fdopen = os.fdopen

        class Half:
            """A file object that writes half of the data, then fails (disk full / Ctrl-C)."""

            def __init__(self, fh):
                self.fh = fh

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.fh.close()

            def write(self, data):
                self.fh.write(data[: len(data) // 2])
                self.fh.flush()
                if fault == "write":
                    raise OSError(28, "No space left on device")
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, delivered as the real signal

            def __getattr__(self, name):
                return getattr(self.fh, name)

        monkeypatch.setattr(outputs.os, "fdopen", lambda fd, *a, **k: Half(real_fdopen(fd, *a, **k)))
    code, _out, err = run_cli([str(a) for a in args(tmp_path, small)])
    assert "Traceback" not in err
    if fault == "interrupt":  # Ctrl-C: a Chinese word and the shell's 128 + SIGINT
        assert code == 130 and "已中断" in err, (code, err)
    else:
        assert code == 2 and err.strip(), (code, err)
    assert path.read_bytes() == previous, "the previous file was damaged"
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, leftovers


# the process dies mid-write: no handler, no cleanup
_KILL_MID_WRITE = half_write_script("os.kill(os.getpid(), signal.SIGKILL)")


@pytest.mark.parametrize("label,args,target", [WRITERS[0], WRITERS[2], WRITERS[4]], ids=["xlsx", "docx", "batch"])
def test_killed_process_mid_write_leaves_previous_file_whole(tmp_path, small, label, args, target):
    """A real SIGKILL of the jindu process in the middle of writing an output file."""
    path = tmp_path / target
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = b"PK\x03\x04 the previous run's output " * 100
    path.write_bytes(previous)
    r = run_forked(args(tmp_path, small), timeout=300, text=False, script=_KILL_MID_WRITE)
    assert r.returncode == -signal.SIGKILL, (r.returncode, r.stderr[-500:])
    assert path.read_bytes() == previous, "the previous file was damaged"
    # what the killed process could not clean up is a hidden temporary, never the output's own name
    half = [p for p in tmp_path.rglob("*.tmp")]
    assert half and all(p.name.startswith(".") for p in half), half


def test_atomic_write_keeps_mode_and_replaces(tmp_path):
    from jindu_metrics.outputs import atomic_write_bytes

    p = tmp_path / "a.bin"
    atomic_write_bytes(p, b"one")
    atomic_write_bytes(p, b"two")
    assert p.read_bytes() == b"two" and [x.name for x in tmp_path.iterdir()] == ["a.bin"]
    assert p.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


# ------------------------------------------------------------------ untrusted configuration
def _config_error(fn, text: str, tmp_path: Path, name: str):
    from jindu_metrics.errors import ConfigError

    p = tmp_path / name
    p.write_text(text, "utf-8")
    with pytest.raises(ConfigError) as e:
        fn(p)
    return str(e.value)


# test_scoring covers colour/points/rule/total/TOML-syntax; these add unknown item keys, unknown tables and
# expressions where a threshold or an indicator is expected.
@pytest.mark.parametrize("text,line", [
    ('[scheme]\nname = "x"\n[[item]]\nmetric = "纳入率"\npoints = 1\ntarget = "95%"\nformula = "a/b"\n', 7),
    ('[scheme]\nname = "x"\n[[item]]\nmetric = "纳入率"\npoints = 1\ntarget = "__import__(\'os\')"\n', 6),
    ('[scheme]\nname = "x"\n[[item]]\nmetric = "纳入率"\npoints = 1\ntarget = "≥90%+5%"\n', 6),
    ('[scheme]\nname = "x"\n[[item]]\nmetric = "纳入率 or 1"\npoints = 1\ntarget = "95%"\n', 4),
    ('[scheme]\nname = "x"\n[[item]]\nmetric = "纳入率"\npoints = 1\ntarget = "95%"\nfloor = 0.8\n', 7),
    ('[scheme]\nname = "x"\n\n[hook]\ncmd = "calc"\n[[item]]\nmetric = "纳入率"\npoints = 1\ntarget = "95%"\n', 4),
])
def test_scoring_scheme_refusals_name_the_line(tmp_path, text, line):
    from jindu_metrics.metrics.catalog import load_catalog
    from jindu_metrics.metrics.scoring import load_scheme

    msg = _config_error(lambda p: load_scheme(p, catalog=load_catalog()), text, tmp_path, "s.toml")
    assert re.search(r"[\u4e00-\u9fff]", msg) and f"第{line}行" in msg, msg


@pytest.mark.parametrize("text,line", [
    ('[workspace]\nunit = "乐平镇"\nhook = "calc"\n', 3),  # unknown key
    ('[workspace]\nunit = "乐平镇"\n\n[danger]\nx = 1\n', 4),  # unknown table
    ('[workspace]\nunit = 5\n', 2),  # wrong type
    ('[workspace]\nunit = "乐平镇"\nlevel = "__import__(\'os\')"\n', 3),  # not a level
    ('[workspace]\nunit = "乐平镇"\n[workspace.targets]\n"纳入率" = ["95%"]\n', 4),  # target not text
    ('[workspace]\nunit = "乐平镇\n', 2),  # TOML syntax error
])
def test_workspace_toml_refusals_name_the_line(tmp_path, text, line):
    from jindu_metrics.workspace import load_workspace

    msg = _config_error(load_workspace, text, tmp_path, "jindu.toml")
    assert f"第{line}行" in msg or f"第 {line} 行" in msg, msg


def test_no_eval_exec_or_query_in_src():
    src = ROOT / "src" / "jindu_metrics"
    pattern = re.compile(r"(?<![\w.])(eval|exec|compile|__import__)\s*\(|\.(query|eval)\s*\(|pd\.eval\b|"
                         r"pickle\.loads?\(|yaml\.load\(")
    hits = []
    for f in sorted(src.rglob("*.py")):
        for i, line in enumerate(f.read_text("utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            code = re.sub(r"(\"[^\"]*\"|'[^']*')", '""', code)  # strings (messages) are not calls
            if pattern.search(code):
                hits.append(f"{f.relative_to(ROOT)}:{i}: {line.strip()}")
    assert not hits, "\n".join(hits)
    # the pattern itself works
    assert pattern.search("df.query('a > 1')") and pattern.search("eval(x)") and not pattern.search("re.compile(x)")
