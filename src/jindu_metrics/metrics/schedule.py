"""Schedule indicators (kind "schedule"): are a community order's tests as frequent as its schedule asks?

An order in force on some day of the window and reported (报到日期 on or before the last day) gets test
intervals counted from 报到日期: order year y (y = 1, 2, …) is cut into intervals of the schedule's length for
its 类别 and year (the last length for later years), so every year starts on the 报到日期's anniversary. An
interval is *due* when it ends inside the window (and not after the order's 解除日期); it is *met* when a
matching contact of the person falls inside it. A person is behind when any due interval of theirs is missed,
met otherwise; *open* (本期待检) when the interval holding the last day, not yet due, has no test so far.
Contacts before 报到日期 fall in no interval, so they count for nothing (and are no finding). Everything is
array arithmetic: orders × intervals as a matrix, contacts found by binary search on (person, day).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..state import order_end
from .declarations import Part, Schedule

_DAY_SPAN = 1 << 20  # days per person slot in the sorted contact keys (dates 1950–2100 fit with the offset)
_DAY_OFFSET = 1 << 19


@dataclass
class Evaluation:
    """One schedule in one window, per row of the whole community ledger, plus the intervals behind it."""

    due: np.ndarray  # the order has at least one due interval
    behind: np.ndarray  # the order has a missed due interval
    met: np.ndarray  # due, and the person is behind in none of their orders
    open: np.ndarray  # the interval holding the last day is not yet due and has no test so far
    unreported: np.ndarray  # in force in the window but not reported by the last day (excluded)
    # The intervals that are due or open, one entry each: order row, first and last day (datetime64[D]),
    # due, tested.
    cell_row: np.ndarray
    cell_start: np.ndarray
    cell_end: np.ndarray
    cell_due: np.ndarray
    cell_hit: np.ndarray

    def rows(self, part: Part) -> np.ndarray:
        return {Part.DUE: self.due, Part.MET: self.met, Part.OPEN: self.open}[part]

    def intervals(self, row: int) -> list[tuple[str, str, bool, bool]]:
        """The due/open intervals of one order row: (first day, last day, due, tested), in date order."""
        at = np.flatnonzero(self.cell_row == row)
        at = at[np.argsort(self.cell_start[at], kind="stable")]
        return [(str(self.cell_start[i]), str(self.cell_end[i]), bool(self.cell_due[i]), bool(self.cell_hit[i]))
                for i in at]


def _days(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """days[:, None] + months[None, :] calendar months; a day missing in the target month becomes its last
    day (2018-01-31 + 1 month = 2018-02-28), as 民法典 counts a period of months."""
    month0 = days.astype("datetime64[M]")
    dom = (days - month0.astype("datetime64[D]")).astype(np.int64)  # 0-based day of month
    target = month0.astype(np.int64)[:, None] + months[None, :]
    first = target.astype("datetime64[M]").astype("datetime64[D]")
    length = ((target + 1).astype("datetime64[M]").astype("datetime64[D]") - first).astype(np.int64)
    return first + np.minimum(dom[:, None], length - 1)


def _offsets(lengths: tuple[int, ...], years: int) -> np.ndarray:
    """Month offsets from 报到日期 of the interval boundaries over `years` order years (K + 1 values)."""
    out = []
    for y in range(years):
        step = lengths[min(y, len(lengths) - 1)]
        out.extend(range(12 * y, 12 * (y + 1), step))
    out.append(12 * years)
    return np.asarray(out, dtype=np.int64)


def _contact_keys(win, sched: Schedule) -> np.ndarray:
    """Sorted person × day keys of the contacts matching the schedule (any date: an interval may start
    before the window)."""
    cont = win.base["contacts"]
    ids = win.ids.get("contacts", np.zeros(0, dtype=np.int64))
    if not len(cont):
        return np.zeros(0, dtype=np.int64)
    days = _days(cont["日期"])
    sel = win.mask("contacts", sched.where, 0) & (ids >= 0) & ~np.isnat(days)
    keys = ids[sel].astype(np.int64) * _DAY_SPAN + days[sel].astype(np.int64) + _DAY_OFFSET
    return np.sort(keys)


def _any_between(keys: np.ndarray, ids: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Per interval: a key of person `ids` with a day in [lo, hi]."""
    base = ids.astype(np.int64) * _DAY_SPAN + _DAY_OFFSET
    a = np.searchsorted(keys, base + lo.astype(np.int64), side="left")
    b = np.searchsorted(keys, base + hi.astype(np.int64), side="right")
    return b > a


def evaluate(win, sched: Schedule, k: int) -> Evaluation:
    """The schedule over the community ledger in window k of `win` (an engine.Windows)."""
    c = win.base["community"]
    n = len(c)
    period = win.periods[k]
    first, last = np.datetime64(period.start, "D"), np.datetime64(period.end, "D")
    derived = win.derived["community"][k]
    ids = win.ids.get("community", np.full(n, -1, dtype=np.int64))
    in_force = derived["期内在册"].to_numpy(dtype=bool)
    on_last = derived["在册"].to_numpy(dtype=bool)
    reported_day = _days(c["报到日期"]) if n else np.zeros(0, dtype="datetime64[D]")
    reported = ~np.isnat(reported_day) & (reported_day <= last)
    ended_day = (order_end(c).view("datetime64[ns]").astype("datetime64[D]") if n
                 else np.zeros(0, dtype="datetime64[D]"))
    ended_day = np.where(np.isnat(ended_day), np.datetime64("2200-01-01", "D"), ended_day)
    kinds = c["类别"].to_numpy(dtype=object) if n else np.zeros(0, dtype=object)
    pop = in_force & reported & (ids >= 0)
    if (sched, "keys") not in win._schedules:  # the same for every window of the run
        win._schedules[(sched, "keys")] = _contact_keys(win, sched)
    keys = win._schedules[(sched, "keys")]
    due = np.zeros(n, dtype=bool)
    behind = np.zeros(n, dtype=bool)
    open_ = np.zeros(n, dtype=bool)
    cells: list[tuple] = []
    for kind, lengths in sched.months:
        idx = np.flatnonzero(pop & (kinds == kind))
        if not len(idx):
            continue
        r = reported_day[idx]
        years = int((last.astype("datetime64[Y]") - r.min().astype("datetime64[Y]")).astype(np.int64)) + 2
        off = _offsets(lengths, max(years, 1))
        starts = add_months(r, off[:-1])
        ends = add_months(r, off[1:]) - np.timedelta64(1, "D")
        owed = ends <= ended_day[idx][:, None]  # an interval the order outlives (none after 解除日期)
        is_due = (ends >= first) & (ends <= last) & owed
        is_open = (starts <= last) & (ends > last) & owed & on_last[idx][:, None]
        o, j = np.nonzero(is_due | is_open)
        cell_due = is_due[o, j]
        hi = np.where(cell_due, ends[o, j], last)  # an open interval: tests so far (never after the last day)
        hit = _any_between(keys, ids[idx][o], starts[o, j], hi)
        rows = idx[o]
        due[rows[cell_due]] = True
        behind[rows[cell_due & ~hit]] = True
        open_[rows[~cell_due & ~hit]] = True
        cells.append((rows, starts[o, j], ends[o, j], cell_due, hit))
    late = np.zeros(max(win.n_ids, 0) + 1, dtype=bool)
    late[ids[behind]] = True
    met = due & ~late[np.maximum(ids, 0)]
    if cells:
        cell_row, cell_start, cell_end, cell_due, cell_hit = (np.concatenate(x) for x in zip(*cells))
    else:
        cell_row = np.zeros(0, dtype=np.int64)
        cell_start = cell_end = np.zeros(0, dtype="datetime64[D]")
        cell_due = cell_hit = np.zeros(0, dtype=bool)
    unreported = in_force & ~reported & (ids >= 0) & np.isin(kinds, [kd for kd, _ in sched.months])
    return Evaluation(due, behind, met, open_, unreported, cell_row, cell_start, cell_end, cell_due, cell_hit)
