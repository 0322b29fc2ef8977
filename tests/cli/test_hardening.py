"""Issue 14, config/template/period hardening: every case ends in exit 2 with a Chinese message naming what is
wrong (and the file and line where there is one), never 内部错误 or a traceback; Ctrl-C exits 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"


def _refused(args, *expect: str) -> str:
    code, out, err = run_cli(args)
    assert code == 2, (code, out, err)
    assert "内部错误" not in err and "Traceback" not in err
    for e in expect:
        assert e in err, (e, err)
    return err


# ---- periods

@pytest.mark.parametrize("period", ["0000", "0001-01", "9999", "9999-12", "0000-Q1", "9999-H2", "1949-12",
                                    "2101-01", "0001-01-01..0001-01-05", "2018-01..9999-12"])
def test_period_out_of_range(period):
    _refused(["compute", SAMPLE, "--period", period], f"统计期「{period}」超出范围", "1950年至2100年")


def test_period_edges_in_range_still_work():
    code, _out, err = run_cli(["compute", SAMPLE, "--period", "2100-12", "--format", "json"])
    assert code in (0, 1), err


# ---- deeply nested TOML

def test_deeply_nested_catalog(tmp_path):
    cat = tmp_path / "目录.toml"
    cat.write_text('[[indicator]]\nid = "x"\nwhere = ' + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    _refused(["metrics", "--catalog", cat], str(cat), "第3行", "嵌套层数过多")


def test_nested_tables_below_the_recursion_limit_are_refused_too(tmp_path):
    cat = tmp_path / "目录.toml"
    cat.write_text("x = " + "{a = " * 200 + "1" + "}" * 200 + "\n", encoding="utf-8")
    _refused(["metrics", "--catalog", cat], "第1行", "嵌套层数过多")


def test_deeply_nested_workspace_config(tmp_path, monkeypatch):
    cfg = tmp_path / "jindu.toml"
    cfg.write_text('[workspace]\nunit = "乐平镇"\ntargets = ' + "{a = " * 3000 + "1" + "}" * 3000 + "\n",
                   encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _refused(["metrics"], "jindu.toml", "第3行", "工作区配置嵌套层数过多")


# ---- templates: bounded in time and size, and literal numbers out of range

@pytest.mark.parametrize(("source", "expect"), [
    ("{{ 10**(10**9) }}", "乘方结果过大"),
    ("{{ lipsum(10**6) }}", "过大"),
    ("{{ range(10**9)|length }}", "过大"),
    ('{{ "a"|center(10**9) }}', "过大"),
    ('{{ "x" * 10**8 }}', "过长"),
    ('{% set ns = namespace(s="ab") %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}', "过长"),
    ('{% set s = "ab" %}' + "{% set s = s ~ s %}\n" * 60, "过长"),
    ("{{ 1e309 }}", "数字超出范围"),
])
def test_template_bounds(tmp_path, source, expect):
    t = tmp_path / "模板.txt.j2"
    t.write_text(source, encoding="utf-8")
    _refused(["report", SAMPLE, "--period", "2018-10", "--template", t], str(t), expect)


def test_template_loops_stop_at_the_deadline(tmp_path, monkeypatch):
    from jindu_metrics.report import render

    monkeypatch.setattr(render, "MAX_SECONDS", 0.5)
    t = tmp_path / "模板.txt.j2"
    cases = [
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
        '{% for a in "x"*100000 %}{% for b in "x"*100000 %}{% endfor %}{% endfor %}',
    ]
    for source in cases:
        t.write_text(source, encoding="utf-8")
        start = time.monotonic()
        _refused(["report", SAMPLE, "--period", "2018-10", "--template", t], "模板运行超过", "秒")
        assert time.monotonic() - start < 30


def test_ordinary_template_arithmetic_still_renders(tmp_path):
    t = tmp_path / "模板.txt.j2"
    t.write_text("{{ 2**10 }} {{ 3|cn }} {{ '%s'|format(7) }} {{ range(3)|list|length }} {{ m.seizures }}",
                 encoding="utf-8")
    code, out, err = run_cli(["report", SAMPLE, "--period", "2018-01..2018-10", "--template", t])
    assert code in (0, 1), err
    assert out.strip() == "1024 三 7 3 49"


# ---- Ctrl-C

def _spawn():
    return subprocess.Popen([sys.executable, "-X", "importtime", "-m", "jindu_metrics", "compute", str(SAMPLE),
                             "--period", "2018-01..2018-10"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _interrupt_once_handled(p: subprocess.Popen, after: float) -> None:
    """SIGINT to `p` `after` seconds past jindu_metrics.interrupt's import (the import-time trace on its
    stderr says when): jindu's handler exits 130 with 已中断。 and no traceback."""
    seen = []
    for raw in p.stderr:
        line = raw.decode("utf-8", "replace")
        seen.append(line)
        if "jindu_metrics.interrupt" in line:
            break
    time.sleep(after)
    p.send_signal(signal.SIGINT)
    rest = p.stderr.read().decode("utf-8", "replace")
    p.wait(timeout=60)
    text = "".join(seen) + rest
    assert p.returncode == 130, text[-2000:]
    assert "已中断。" in rest and "Traceback" not in text and "KeyboardInterrupt" not in text


@pytest.mark.parametrize("after", [0.0, 0.05, 0.1])
def test_ctrl_c_while_still_importing_exits_130_without_traceback(after):
    """The signal arrives right after jindu_metrics.interrupt is imported (import-time trace on stderr tells
    when), i.e. while typer, click and pandas are still loading."""
    _interrupt_once_handled(_spawn(), after)


def test_a_ctrl_c_lost_in_a_finaliser_still_ends_as_interrupted(monkeypatch):
    """A signal whose exception is raised inside a finaliser (a generator being closed, a __del__) is lost
    there, printed as "Exception ignored … Traceback" by default: jindu ends as interrupted all the same
    (130, 已中断。), with nothing of the kind printed."""
    from conftest import run_forked

    from jindu_metrics.cli import terminal

    class Finalised:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGINT)
            for _ in range(100_000):  # the handler runs here, inside the finaliser
                pass

    flush = terminal.flush_stdout

    def flush_after_a_lost_signal():
        Finalised()  # dropped at once: its __del__ runs
        return flush()

    monkeypatch.setattr(terminal, "flush_stdout", flush_after_a_lost_signal)
    r = run_forked(["metrics"], timeout=120)
    assert r.returncode == 130, r.stderr
    assert "已中断。" in r.stderr
    assert "Traceback" not in r.stderr and "Exception ignored" not in r.stderr


def _console_script() -> list[str]:
    """The `jindu` console script pip wrote beside this interpreter (python -m jindu_metrics without one)."""
    script = Path(sys.executable).parent / "jindu"
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "jindu_metrics"]


def _source_first_env(**extra) -> dict:
    src = str(ROOT / "src")  # this tree's jindu_metrics, whatever is installed
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
            **extra}


@pytest.mark.parametrize("after", [0.0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.04])
def test_ctrl_c_at_early_delays_through_the_console_script(after):
    """Through the console script itself: SIGINT 0–40 ms after jindu's first module (its handler) is in,
    while the CLI's own imports run. Earlier than that only the interpreter's start and the script's
    `import re` run (benchmarks/ctrl_c_window.py measures that window)."""
    p = subprocess.Popen([*_console_script(), "compute", str(SAMPLE), "--period", "2018-01..2018-10"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env=_source_first_env(PYTHONPROFILEIMPORTTIME="1", PYTHONUNBUFFERED="1"))
    _interrupt_once_handled(p, after)


def _imported_before(marker: str, *argv: str) -> list[str]:
    """The modules imported, in order, before the import-time line naming `marker` (all of them without it),
    by `python -S -X importtime ARGV` (no site: only what the interpreter and ARGV import)."""
    r = subprocess.run([sys.executable, "-S", "-X", "importtime", *argv], capture_output=True, text=True,
                       timeout=120, env=_source_first_env())
    names = [line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")]
    return names[:names.index(marker)] if marker in names else names


def test_the_handler_is_the_first_thing_jindu_imports():
    """Before jindu_metrics.interrupt has installed the handler, the program imports nothing that the
    interpreter's start (site imports os), and the console script's `import re, sys` do not import anyway:
    the handler is the first thing jindu does, and what is left of the window is not jindu's."""
    script = _console_script()
    assert script[1] != "-m", "no console script beside this interpreter"
    before = _imported_before("jindu_metrics.interrupt", script[1], "--version")
    assert "jindu_metrics" not in before and before, before
    baseline = set(_imported_before("", "-c", "import os, re, sys"))
    assert set(before) - baseline == set(), set(before) - baseline


def test_early_handler_is_not_installed_for_library_use():
    code = ("import signal, jindu_metrics; "
            "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "True", r.stderr


# ---- workspace targets: file and line

def test_workspace_target_errors_name_file_and_line(tmp_path, monkeypatch):
    cfg = tmp_path / "jindu.toml"
    monkeypatch.chdir(tmp_path)
    cfg.write_text('[workspace]\nunit = "乐平镇"\n\n[workspace.targets]\n"纳入率" = "95%"\n"不存在" = "90%"\n',
                   encoding="utf-8")
    _refused(["metrics"], str(cfg), "第6行", "「不存在」不存在")
    cfg.write_text('[workspace]\nunit = "乐平镇"\n\n[workspace.targets]\n"纳入率" = "abc"\n', encoding="utf-8")
    _refused(["metrics"], str(cfg), "第5行", "「abc」无法识别")
    _refused(["batch", tmp_path, "--period", "2018-10", "--out", tmp_path / "out"], str(cfg), "第5行")


# ---- init --unit

@pytest.mark.parametrize("unit", ["乐平\n镇", "乐平\t镇", "乐平\x01镇", " "])
def test_init_refuses_control_characters(tmp_path, unit):
    _refused(["init", tmp_path / "ws", "--unit", unit], "--unit", "控制字符")
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize("unit", ['乐"平镇', "乐平\\镇", "乐平镇'", "[乐平镇]", "乐平镇 # 注"])
def test_init_writes_any_printable_name_that_reads_back(tmp_path, unit, monkeypatch):
    code, _out, err = run_cli(["init", tmp_path / "ws", "--unit", unit])
    assert code == 0, err
    data = tomllib.loads((tmp_path / "ws" / "jindu.toml").read_text(encoding="utf-8"))
    assert data["workspace"]["unit"] == unit
    monkeypatch.chdir(tmp_path / "ws")
    code, _out, err = run_cli(["metrics"])
    assert code == 0, err


# ---- catalog: counting modes and duplicate ids

_ROWS_OVER_PERSONS = """
[[indicator]]
id = "rows_over_persons"
name = "查处记录占比"
kind = "ratio"
area = "查处"
denominator = { ledger = "seizures", count = "persons" }
numerator = { ledger = "seizures", count = "rows" }
"""


def test_catalog_refuses_rows_over_persons(tmp_path):
    cat = tmp_path / "目录.toml"
    cat.write_text(_ROWS_OVER_PERSONS, encoding="utf-8")
    _refused(["metrics", "--catalog", cat], str(cat), "第8行", "按记录数", "按人数", "计数方式")


def test_catalog_refuses_a_duplicate_id_with_both_lines(tmp_path):
    cat = tmp_path / "目录.toml"
    one = '[[indicator]]\nid = "my_count"\nname = "{}"\nkind = "count"\narea = "查处"\nledger = "seizures"\n'
    cat.write_text(one.format("计数一") + "\n" + one.format("计数二"), encoding="utf-8")
    _refused(["metrics", "--catalog", cat], "「my_count」重复", "第2行和第9行")


def test_overriding_a_default_indicator_by_id_is_still_allowed(tmp_path):
    cat = tmp_path / "目录.toml"
    cat.write_text('[[indicator]]\nid = "grid_inclusion_rate"\ntarget = "95%"\n', encoding="utf-8")
    code, out, err = run_cli(["metrics", "--catalog", cat])
    assert code == 0, err
    assert "95%" in out
