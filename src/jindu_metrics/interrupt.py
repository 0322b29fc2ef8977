"""Ctrl-C from the first moment of the `jindu` program: a Chinese message and exit 130, never a traceback.

Installed when the package is first imported by the program (before typer, pandas or anything heavy);
cli.main() then replaces it with a handler that unwinds (so outputs are cleaned up) and restores this one.
Stdlib only, and nothing happens when jindu_metrics is imported as a library.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

EXIT_INTERRUPTED = 130
MESSAGE = "已中断。"


def _exit_now(signum, frame) -> None:
    with contextlib.suppress(OSError, LookupError):
        os.write(2, (MESSAGE + "\n").encode(sys.stderr.encoding or "utf-8", "replace") if sys.stderr else b"")
    os._exit(EXIT_INTERRUPTED)


def _is_program() -> bool:
    """This process is `jindu` (the console script) or `python -m jindu_metrics` (argv[0] is "-m" meanwhile)."""
    arg0 = sys.argv[0] if sys.argv else ""
    stem = os.path.basename(arg0).lower().removesuffix(".exe").removesuffix("-script.py")
    return stem == "jindu" or arg0 == "-m"


def install_early(force: bool = False) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    if not (force or _is_program()) or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        return
    signal.signal(signal.SIGINT, _exit_now)


install_early()  # at import: jindu_metrics/__init__.py imports this module first
