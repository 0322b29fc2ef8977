"""Ctrl-C and the other terminating signals from the first moment of the `jindu` program: a Chinese message
and exit 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), never a traceback.

Installed when the package is first imported by the program, which is the first jindu code the console
script runs (its `from jindu_metrics.cli import run` imports the package before anything of the CLI);
cli.main() then replaces it with a handler that unwinds (so temporaries are removed and worker processes
ended, as for Ctrl-C) and restores this one. A signal the caller set to be ignored (`nohup` ignores SIGHUP)
stays ignored. Nothing happens when jindu_metrics is imported as a library. Until the handler is installed a
Ctrl-C gets Python's own traceback, so this module imports nothing the interpreter has not loaded already
(`_signal` is the C module behind `signal`, loaded at start-up; `signal` itself would import its enums).
What this cannot cover is the interpreter's own start (site and the .pth files it runs, the console
script's `import re`) before any jindu code runs: benchmarks/ctrl_c_window.py measures it.
"""

import _signal
import os
import sys

EXIT_INTERRUPTED = 130
MESSAGE = "已中断。"
# Every signal that asks a console program to end: Ctrl-C, kill/systemd/CI (SIGTERM), the terminal closed
# (SIGHUP), Windows' Ctrl-Break.
SIGNALS = tuple(getattr(_signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(_signal, n))


def exit_code(signum: int) -> int:
    """The shell's status for a program ended by `signum` (128 + its number)."""
    return 128 + int(signum)


def _exit_now(signum, frame) -> None:
    try:  # noqa: SIM105 - not contextlib.suppress: nothing imported before the handler is installed
        os.write(2, (MESSAGE + "\n").encode(sys.stderr.encoding or "utf-8", "replace") if sys.stderr else b"")
    except (OSError, LookupError, AttributeError, ValueError):
        pass
    os._exit(exit_code(signum))


def _is_program() -> bool:
    """This process is `jindu` (the console script) or `python -m jindu_metrics` (argv[0] is "-m" meanwhile)."""
    arg0 = sys.argv[0] if sys.argv else ""
    stem = os.path.basename(arg0).lower().removesuffix(".exe").removesuffix("-script.py")
    return stem == "jindu" or arg0 == "-m"


def _default(signum) -> bool:
    """Whether `signum` still has the handler the interpreter started with (not ignored, not taken by a host)."""
    current = _signal.getsignal(signum)
    if signum == _signal.SIGINT:
        return current is _signal.default_int_handler
    return current is not None and not callable(current) and current == _signal.SIG_DFL


def install(handler) -> dict:
    """`handler` for every terminating signal that is not ignored; {signal: previous handler} to restore().
    Only from the main thread (elsewhere nothing is installed)."""
    previous = {}
    for signum in SIGNALS:
        current = _signal.getsignal(signum)
        if current is None or (not callable(current) and current == _signal.SIG_IGN):
            continue
        try:
            _signal.signal(signum, handler)
        except (ValueError, OSError):  # not the main thread; a signal this platform does not deliver
            continue
        previous[signum] = current
    return previous


def restore(previous: dict) -> None:
    for signum, handler in previous.items():
        try:  # noqa: SIM105 - as above
            _signal.signal(signum, handler)
        except (ValueError, OSError):
            pass


def install_early(force: bool = False) -> None:
    if not (force or _is_program()) or not _default(_signal.SIGINT):
        return
    install(_exit_now)


install_early()  # at import: jindu_metrics/__init__.py imports this module first
