"""Shared test helpers: `jindu` runs the CLI in-process through its console entry point; `golden` compares
an output with its reviewed golden file."""

from __future__ import annotations

import contextlib
import io
import locale
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Compiled modules are kept between runs, in Python's own __pycache__ beside each source (ignored by git) even
# where the environment says not to write them (PYTHONDONTWRITEBYTECODE): otherwise every xdist worker compiles
# jindu and rewrites the test modules' asserts again (~2.5 s of CPU each), and every `python -m jindu_metrics`
# a test starts compiles its share of jindu (children read what the workers wrote).
sys.dont_write_bytecode = False

# Timing checks measure the machine, not the code: a 2-core CI box under load trips them on correct code.
settings.register_profile("jindu", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("jindu")


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """`jindu ARGS` through jindu_metrics.cli.main (the one error boundary): (exit code, stdout, stderr)."""
    from jindu_metrics.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.argv
    sys.argv = ["jindu", *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        sys.argv = old
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def jindu():
    return run_cli


def run_forked(args: list, timeout: float = 600, encoding: str | None = None, cwd=None,
               text: bool = True, stdout=None, script: str | None = None) -> subprocess.CompletedProcess:
    """`jindu ARGS` as the executable runs it (cli.run: main(), then os._exit), in a child forked from this
    process: its own exit code, stdout and stderr through pipes, killed after `timeout` seconds
    (subprocess.TimeoutExpired), a native crash confined to it — what `subprocess.run([python, "-m",
    "jindu_metrics", ...])` proves, without starting Python and importing pandas again (≈0.8 s of CPU each).
    The interpreter's own start is tests/cli/test_entry_point.py's. Where fork is missing: that subprocess.
    `stdout`, a file or descriptor, is the child's standard output instead of a pipe (then not captured).
    `script`: the child runs it as `python -c SCRIPT ARGS` would (sys.argv ["-c", *ARGS]) instead of jindu,
    such as a script that patches jindu and then runs it."""
    argv = [str(a) for a in args]
    given = stdout.fileno() if hasattr(stdout, "fileno") else stdout
    if not hasattr(os, "fork"):
        start = ["-c", script] if script is not None else ["-m", "jindu_metrics"]
        return subprocess.run([sys.executable, *start, *argv], text=text, encoding=encoding,
                              timeout=timeout, cwd=cwd, stderr=subprocess.PIPE,
                              stdout=subprocess.PIPE if given is None else given)
    out_r, out_w = os.pipe() if given is None else (None, given)
    err_r, err_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child never returns into pytest, whatever happens
        _child(argv, out_w, err_w, (out_r, out_w, err_r, err_w), cwd, script)
    if given is None:
        os.close(out_w)
    os.close(err_w)
    chunks: dict[int, list[bytes]] = {fd: [] for fd in (out_r, err_r) if fd is not None}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        for fd in chunks:
            sel.register(fd, selectors.EVENT_READ)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                for fd in chunks:
                    os.close(fd)
                raise subprocess.TimeoutExpired(["jindu", *argv], timeout)
            for key, _ in sel.select(left):
                data = os.read(key.fd, 1 << 16)
                if data:
                    chunks[key.fd].append(data)
                else:
                    sel.unregister(key.fd)
    for fd in chunks:
        os.close(fd)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    out, err = (b"".join(chunks.get(fd, [])) for fd in (out_r, err_r))
    if text:
        enc = encoding or locale.getpreferredencoding(False)
        out, err = out.decode(enc), err.decode(enc)
    return subprocess.CompletedProcess(["jindu", *argv], code, out, err)


def _child(argv: list[str], out_w: int, err_w: int, fds: tuple, cwd, script: str | None = None) -> None:
    """run_forked's child: `jindu ARGV` (or `script`) on the given standard output and error, then os._exit."""
    code = 70
    try:
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        for fd in fds:
            if fd is not None and fd > 2:
                os.close(fd)
        if cwd is not None:
            os.chdir(cwd)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        # fresh standard streams on the pipes, as a new interpreter would open them (pytest's are captures)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, errors="backslashreplace")  # noqa: SIM115
        if script is not None:
            code = _run_script(script, argv)
        else:
            sys.argv = ["jindu", *argv]
            from jindu_metrics.cli import run

            run()
    except BaseException:  # noqa: BLE001 - run() ends in os._exit; anything else is shown, as Python would
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _run_script(script: str, argv: list[str]) -> int:
    """`python -c SCRIPT ARGV` in this (forked) process: its exit status, an uncaught exception printed (1)."""
    sys.argv = ["-c", *argv]
    try:
        exec(compile(script, "<string>", "exec"), {"__name__": "__main__"})
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, int | None):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - as Python prints an uncaught exception
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def assert_golden(path: Path, text: str) -> None:
    """`text` equals the golden file. A missing golden fails: JINDU_WRITE_GOLDEN=1 (re)writes it, to be
    reviewed by eye and committed; a test never writes its own expectation otherwise."""
    if os.environ.get("JINDU_WRITE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path.name} is missing: rerun with JINDU_WRITE_GOLDEN=1, review it, commit it"
    assert text == path.read_text(encoding="utf-8"), path.name


@pytest.fixture
def golden():
    return assert_golden


def pytest_collection_modifyitems(config, items):
    """Files holding the most `slow` tests run first (pytest-xdist hands out whole files in this order), so
    that the longest overlap the many short ones instead of ending the run alone."""
    slow: dict = {}
    for item in items:
        slow[item.path] = slow.get(item.path, 0) + bool(item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.path])  # stable: the order within a file is kept


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than the cores. Many tests wait on a child (Wine, LibreOffice, a forked or
    spawned jindu), and a third worker on this 2-core machine takes the suite from ~3.7 to ~3.0 minutes."""
    return (os.cpu_count() or 1) + 1
