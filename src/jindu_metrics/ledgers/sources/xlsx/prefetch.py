"""Background parsing of a workbook's sheets (Prefetch), and the interpreter's switch interval while it runs."""

from __future__ import annotations

import threading

_SWITCH: list = [0, None]  # prefetches running, the switch interval before the first
_SWITCH_LOCK = threading.Lock()


def quick_switch(on: bool) -> None:
    """A background thread that let go of the GIL (to inflate, to parse) waits for the thread holding it to
    be asked to let go, every switch interval: 5 ms by default, per hand-over. The scans and cut copies hand
    it over a few times per chunk read; beside a busy thread they took 2.5× their CPU time at 5 ms, 1.3× at 1 ms.
    So 1 ms while any prefetch runs, the interval before restored after the last."""
    import sys

    with _SWITCH_LOCK:
        if on:
            if _SWITCH[0] == 0:
                _SWITCH[1] = sys.getswitchinterval()
                sys.setswitchinterval(min(_SWITCH[1], 0.001))
            _SWITCH[0] += 1
        else:
            _SWITCH[0] -= 1
            if _SWITCH[0] == 0:
                sys.setswitchinterval(_SWITCH[1])


def unwinding() -> bool:
    """Whether an interrupt (Ctrl-C or another signal, as an exception) is unwinding through the caller, or
    the exit it led to. Then the read threads are not waited for: an interrupt that landed inside an import
    can leave a read thread stuck on that import's lock for good, and the program is ending anyway."""
    import sys

    exc = sys.exc_info()[1]
    while exc is not None:
        if not isinstance(exc, (Exception, SystemExit, GeneratorExit)):
            return True
        exc = exc.__context__
    return False


class Prefetch:
    """Loads the data columns of a workbook's fast-path sheets in background threads.

    fastexcel parses without holding the GIL, so on two cores the sheets are parsed while this thread
    imports pandas and normalises the sheets already loaded. The biggest sheet goes first, and the others
    are parsed beside it in a second thread (each with its own reader): the county's contacts sheet takes
    longer than all the others, so what is left after it is the normalising of one sheet. Results do not
    depend on timing: each body is computed exactly as if called here (body() itself turns any failure
    into None).
    """

    def __init__(self, book, bodies: list, headers: list, threads: bool = True):
        jobs = [(i, body, h.row + 1) for i, (body, h) in enumerate(zip(bodies, headers)) if h is not None]
        self.futures: dict = {}
        self.pool = None
        self.book = book  # closed with the prefetch (scan threads, open zip)
        if jobs and not threads:  # loaded when taken, in this thread, in sheet order
            self.futures = {i: _Now(body, start) for i, body, start in jobs}
        elif jobs:
            from concurrent.futures import ThreadPoolExecutor

            jobs.sort(key=lambda j: (-j[1].size, j[0]))
            book.scan([b.member for _, b, _ in jobs])
            import os

            workers = 2 if len(jobs) > 1 and (os.cpu_count() or 1) > 1 else 1
            self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="jindu-read")
            quick_switch(True)
            for i, body, start in jobs:
                self.futures[i] = self.pool.submit(body, start)
                if body.member in book.pieces and workers > 1:  # the other thread helps with its pieces first
                    self.pool.submit(book.help, body.member, start)

    def order(self, n: int):
        """The order to handle n sheets in: those not loaded here first, then each as soon as it is loaded
        (in sheet order when loaded in this thread). Each sheet is normalised on its own, so the order
        changes only when the work is done."""
        yield from (i for i in range(n) if i not in self.futures)
        if self.pool is None:
            yield from list(self.futures)
            return
        from concurrent.futures import as_completed

        index = {f: i for i, f in self.futures.items()}
        for f in as_completed(list(index)):
            yield index[f]

    def take(self, i: int):
        """body(start) of sheet i; None when it has no header."""
        f = self.futures.pop(i, None)
        return None if f is None else f.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=not unwinding(), cancel_futures=True)
            quick_switch(False)
            self.pool = None
        self.book.close()


class _Now:
    """A body loaded when its result is asked for (the Future interface Prefetch uses)."""

    def __init__(self, body, start: int):
        self.body, self.start = body, start

    def result(self):
        return self.body(self.start)
