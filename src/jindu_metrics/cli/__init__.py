"""`jindu` command line: a thin layer over the library. Library errors become a Chinese message here."""

from __future__ import annotations

import functools
import os
import sys

from . import chinese, common
from .root import app


def _register() -> None:
    # Each command lives in its own module; none imports pandas at import time.
    from . import commands  # noqa: F401


_register()


@functools.cache
def _command():
    """The click command built from the typer app, once per process: building it evaluates every option's
    annotations (≈12 ms), and main() runs more than once in a process that calls it (the tests, the API)."""
    from typer.main import get_command

    return get_command(app)


class _Interrupted(BaseException):
    """Ctrl-C, SIGTERM, SIGHUP. Not KeyboardInterrupt: click would turn that into an English "Aborted!" with
    exit 1. Unwinding removes temporaries and ends worker processes (outputs, batch)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


_UNWINDING: list[int] = []


def _on_signal(signum, frame) -> None:
    if _UNWINDING:  # a second Ctrl-C (or SIGTERM after it) must not break off the cleanup of the first
        return
    _UNWINDING.append(signum)
    raise _Interrupted(signum)


def _unraisable(info) -> None:
    """sys.unraisablehook while jindu runs: an interrupt raised in a finaliser (a generator closed, a __del__)
    is lost there, not printed as "Exception ignored … Traceback"; main() ends as interrupted all the same."""
    if not isinstance(info.exc_value, _Interrupted):
        sys.__unraisablehook__(info)


def main() -> None:
    """Console entry point: run the app, turning library errors into Chinese messages and exit codes."""
    from .. import interrupt
    from ..errors import EXIT_UNUSABLE, JinduError
    from ..interrupt import EXIT_INTERRUPTED, MESSAGE
    from . import readahead, terminal

    terminal.guard_streams()  # a GBK stdout (Chinese Windows, redirected) degrades what it cannot hold

    # typer converts option values with pydantic, whose first use looks through the entry points of every
    # installed package for pydantic plugins (≈10 ms, more in a crowded environment); jindu uses none
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    debug = "--debug" in sys.argv or os.environ.get("JINDU_DEBUG") == "1"
    if not debug:  # a library's English warning (openpyxl: "Unknown extension…") is no news for the user
        import warnings

        warnings.simplefilter("ignore")
        # a panic of the Rust readers becomes a Chinese error; its backtrace is the developer's
        os.environ["RUST_BACKTRACE"] = "0"
    _UNWINDING.clear()
    previous = interrupt.install(_on_signal)
    previous_hook, sys.unraisablehook = sys.unraisablehook, _unraisable
    reading = False
    try:
        command = _command()
        # --debug is taken wherever it stands (`jindu compute … --debug`), not only before the command
        args = ["--debug", *(a for a in sys.argv[1:] if a != "--debug")] if debug else sys.argv[1:]
        reading = readahead.start(command, args)
        # not standalone: usage errors come here to be worded in Chinese; Exit(code) comes back as code
        code = command.main(args, prog_name="jindu", standalone_mode=False)
        terminal.flush_stdout()  # a full disk or a closed pipe may show only now: exit 2, not the command's code
        if _UNWINDING:  # the signal's exception was lost (raised in a finaliser or a __del__, printed as ignored)
            raise _Interrupted(_UNWINDING[0])
    except (_Interrupted, KeyboardInterrupt) as exc:
        common.err(MESSAGE)
        sys.exit(interrupt.exit_code(exc.signum) if isinstance(exc, _Interrupted) else EXIT_INTERRUPTED)
    except JinduError as exc:
        if debug:
            raise
        common.err(f"错误：{exc}")
        sys.exit(exc.exit_code)
    except MemoryError:
        common.err("错误：内存不足，输入文件过大。")
        sys.exit(EXIT_UNUSABLE)
    except OSError as exc:  # a file or stream the system refused (a name too long, a full disk...)
        if debug:
            raise
        common.err(f"错误：{_os_error(exc)}")
        sys.exit(EXIT_UNUSABLE)
    except Exception as exc:  # the one boundary where anything unexpected becomes a message
        if chinese.is_usage_error(exc):
            if chinese.is_help_request(exc):  # `jindu` or `jindu compute` alone: its help
                common.echo(exc.ctx.get_help())
                sys.exit(0)
            common.err(chinese.usage_message(exc))
            sys.exit(EXIT_UNUSABLE)
        if chinese.is_abort(exc):
            common.err(MESSAGE)
            sys.exit(EXIT_INTERRUPTED)
        if debug:
            raise
        common.err("内部错误：程序遇到了意外情况，未能完成（输入文件没有改动）。请加 --debug 重新运行，"
                   "并把屏幕上的输出发给开发者。")
        sys.exit(EXIT_UNUSABLE)
    finally:
        interrupt.restore(previous)
        sys.unraisablehook = previous_hook
        if reading:  # the command stopped before it read the file (a usage error, say)
            from ..ledgers import discard_read_ahead

            discard_read_ahead()
    sys.exit(code if isinstance(code, int) else 0)


def _os_error(exc: OSError) -> str:
    """An OSError that reached the boundary, in Chinese: a failed write to stdout (click's own output), or the
    file the system refused and why."""
    import errno

    from ..errors import os_reason, shown
    from . import terminal

    if exc.filename is None and exc.errno in (errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG):
        return str(terminal.stream_error(exc))
    where = f"「{shown(os.fsdecode(exc.filename))}」" if exc.filename is not None else ""
    return f"无法访问{where}：{os_reason(exc)}。"


def _tune_allocator() -> None:
    """glibc only: a fixed mmap threshold of 32 MB (the most glibc's own adjustment would reach).

    By default glibc raises its mmap threshold each time a large block is freed, so how much memory the
    process keeps depends on the order its threads free their buffers: on the county workbook formatted
    down to row 200,000, peak RSS was 400 MB against 325 MB for the clean one. A threshold fixed at 1 MB
    kept RSS lowest, but every array of a county column (10^5 rows: a megabyte or more) was then mapped
    and unmapped afresh: a quarter more system time, 9% more wall time. Fixed at 32 MB, the two workbooks
    peak within 10% of each other (the reader's chunks and pieces of XML, 2–4 MB, come from the heap too). (As
    MALLOC_MMAP_THRESHOLD_=33554432 would.) Elsewhere (Windows, musl, macOS): nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = getattr(libc, "mallopt", None)  # absent from musl
        if mallopt is not None:
            mallopt(-3, 1 << 25)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError, TypeError):  # no C library to ask: the defaults stay
        pass


def run() -> None:
    """The `jindu` executable: main(), then exit at once once the output is flushed.

    The interpreter's normal teardown frees every object one by one: after a county ledger (10⁵ rows of
    Python strings) that alone took ≈0.35 s. Nothing is left to do by then (outputs are written and
    renamed, worker threads joined), so the process ends with os._exit. Tests call main() instead.
    """
    code: int = 0
    _tune_allocator()
    try:
        main()
    except SystemExit as exc:
        if isinstance(exc.code, int):
            code = exc.code
        elif exc.code is not None:  # sys.exit("text"): printed, status 1, as Python does
            print(exc.code, file=sys.stderr)
            code = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):  # main() flushed stdout and said why; this is a last failure
        code = code if code >= 2 else 2
    os._exit(code)
