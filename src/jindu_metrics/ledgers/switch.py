"""The interpreter's switch interval while background reading runs (one counter for every reader)."""

from __future__ import annotations

import threading

_SWITCH: list = [0, None]  # prefetches running, the switch interval before the first
_SWITCH_LOCK = threading.Lock()


def quick_switch(on: bool) -> None:
    """A background thread that let go of the GIL (to inflate, to parse) waits for the thread holding it to
    be asked to let go, every switch interval: 5 ms by default, per hand-over. The scans and cut copies hand
    it over a few times per 16 MB; beside a busy thread they took 2.5× their CPU time at 5 ms, 1.3× at 1 ms.
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
