"""Ctrl-C and the other terminating signals from the first moment of the `jindu` program: a Chinese message
and exit 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), never a traceback.

Installed when the package is first imported by the program (before typer, pandas or anything heavy);
cli.main() then replaces it with a handler that unwinds (so temporaries are removed and worker processes
ended, as for Ctrl-C) and restores this one. A signal the caller set to be ignored (`nohup` ignores SIGHUP)
stays ignored. Imports only os, sys, contextlib and signal (quick: until the handler is installed, a Ctrl-C
gets Python's own traceback), and nothing happens when jindu_metrics is imported as a library. What this
cannot cover is the interpreter's own start (site, .pth files) before any jindu code runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys

EXIT_INTERRUPTED = 130
MESSAGE = "已中断。"
# Every signal that asks a console program to end: Ctrl-C, kill/systemd/CI (SIGTERM), the terminal closed
# (SIGHUP), Windows' Ctrl-Break.
SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, n))


def exit_code(signum: int) -> int:
    """The shell's status for a program ended by `signum` (128 + its number)."""
    return 128 + int(signum)


def _exit_now(signum, frame) -> None:
    with contextlib.suppress(OSError, LookupError, AttributeError, ValueError):
        os.write(2, (MESSAGE + "\n").encode(sys.stderr.encoding or "utf-8", "replace") if sys.stderr else b"")
    os._exit(exit_code(signum))


def _is_program() -> bool:
    """This process is `jindu` (the console script) or `python -m jindu_metrics` (argv[0] is "-m" meanwhile)."""
    arg0 = sys.argv[0] if sys.argv else ""
    stem = os.path.basename(arg0).lower().removesuffix(".exe").removesuffix("-script.py")
    return stem == "jindu" or arg0 == "-m"


def _default(signum) -> bool:
    """Whether `signum` still has the handler the interpreter started with (not ignored, not taken by a host)."""
    current = signal.getsignal(signum)
    return current is (signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)


def install(handler) -> dict:
    """`handler` for every terminating signal that is not ignored; {signal: previous handler} to restore().
    Only from the main thread (elsewhere nothing is installed)."""
    previous = {}
    for signum in SIGNALS:
        current = signal.getsignal(signum)
        if current is signal.SIG_IGN or current is None:
            continue
        try:
            signal.signal(signum, handler)
        except (ValueError, OSError):  # not the main thread; a signal this platform does not deliver
            continue
        previous[signum] = current
    return previous


def restore(previous: dict) -> None:
    for signum, handler in previous.items():
        with contextlib.suppress(ValueError, OSError):
            signal.signal(signum, handler)


def install_early(force: bool = False) -> None:
    if not (force or _is_program()) or not _default(signal.SIGINT):
        return
    install(_exit_now)


install_early()  # at import: jindu_metrics/__init__.py imports this module first
