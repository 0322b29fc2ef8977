"""Batch's processes: a pool whose workers end with their parent, and Beside, one job built in a forked child
while the parent goes on. Linux forks workers that inherit the heavy modules; elsewhere the platform's default."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor


@contextlib.contextmanager
def worker_pool(n: int, ctx):
    """A pool of `n` worker processes that never outlive this run: left by an error, Ctrl-C, SIGTERM or SIGHUP
    (cli.main turns each into an exception), the workers are killed at once rather than waited for; should
    this process die without unwinding (SIGKILL), Linux ends them too (worker_start)."""
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=worker_start, initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        _kill_workers(pool)
        raise
    pool.shutdown(wait=True)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AssertionError, AttributeError):
            p.join(timeout=5)


def worker_start(parent: int) -> None:
    """In each worker (and Beside's child) as it starts: the terminating signals are the parent's to handle
    (Ctrl-C reaches the whole process group; the parent ends its workers), SIGTERM/SIGHUP sent to a worker
    itself end it, and on Linux the kernel ends it when the parent dies, however it dies."""
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) is not signal.SIG_IGN:
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def pool_context():
    """Linux: fork workers after the heavy modules are imported here, so that each worker starts with
    pandas, the reader and the engine loaded (≈0.8 s each otherwise) and this process, which needs them
    afterwards for the county total, does not import them once the workers are done. No Python thread
    runs here at that point (the reader's threads are joined per file; OpenBLAS's pool is fork-safe).
    Elsewhere: the platform's default start method."""
    import multiprocessing
    import sys

    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return None
    import cn2an  # noqa: F401  (≈0.3 s to import; every bulletin and the county's need it)
    import jinja2.sandbox  # noqa: F401

    from ..ledgers import normalize  # noqa: F401
    from ..metrics import engine  # noqa: F401
    from ..report import render  # noqa: F401
    from ..validate import cross_checks  # noqa: F401 (`from . import validate` is the API function)

    return multiprocessing.get_context("fork")


def forks(ctx) -> bool:
    """Whether `ctx` (pool_context) forks its workers: they then inherit what this process holds."""
    return ctx is not None and ctx.get_start_method() == "fork"


class Beside:
    """`build(first, rest)` run in a forked process while this one goes on (Linux, when enabled): the child
    starts on `first` at once; `rest` (small, pickled) follows through a pipe with send(), and result()
    returns what the child built. `build` calls its second argument once, to get `rest`.

    Without fork, or when the child fails in any way, result() builds here instead, so that an error is
    raised and reported as it would be without this. Leaving the `with` block ends the child."""

    def __init__(self, build: Callable, first, enabled: bool = True):
        self.build, self.first, self.rest, self.proc = build, first, None, None
        ctx = pool_context() if enabled else None
        if forks(ctx):
            self.conn, child = ctx.Pipe()
            self.proc = ctx.Process(target=_beside, args=(build, first, child, os.getpid()), daemon=True)
            self.proc.start()
            child.close()

    def send(self, rest) -> None:
        self.rest = rest
        if self.proc is not None:
            try:
                self.conn.send(rest)
            except OSError:  # the child is gone: result() builds here
                self.close()

    def result(self):
        if self.proc is not None:
            try:
                done, value = self.conn.recv()
            except (EOFError, OSError):
                done, value = False, None
            self.close()
            if done:
                return value
        return self.build(self.first, lambda: self.rest)

    def discard(self) -> None:
        """End the child, its work unwanted."""
        if self.proc is not None:
            self.proc.kill()
        self.close()

    def close(self) -> None:
        if self.proc is None:
            return
        self.conn.close()  # a child still waiting for `rest` ends on EOF
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            self.discard()  # unwinding (an error, Ctrl-C): its work is not wanted
        self.close()


def _beside(build: Callable, first, conn, parent: int) -> None:
    """Beside's child: build, send (ok, value) back; quietly, whatever happens (the parent reports errors)."""
    worker_start(parent)  # Ctrl-C is the parent's to handle; it ends this process
    try:
        out = (True, build(first, conn.recv))
    except BaseException:  # noqa: BLE001 - the parent builds again and reports the error itself
        out = (False, None)
    with contextlib.suppress(OSError):  # the parent has gone on without it
        conn.send(out)
