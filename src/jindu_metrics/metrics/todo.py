"""`jindu todo`: who is due for what on a day, person by person, from the ledgers the office keeps.

The worklist reuses what the figures are made of: the urine-test intervals are those of 尿检频次达标率
(metrics/schedule.py over the window from the first 报到日期 to the day), the person state is state.py's on
the day, an order's state is the engine's. The frequencies and terms are the catalog's rule tables
(catalog.Rules). One item per person and task, each pointing at the ledger row it comes from; an item
whose date cannot be known says what to fill in (its due is None).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from .. import schema
from ..periods import Period
from ..privacy import NO_NAMES, Names, mask_id, mask_name, mask_text
from ..state import order_end, states_of
from .engine import ID, REPORTING_DAYS, UNFILLED, Windows, normalise, whole_unit_name

if TYPE_CHECKING:
    from ..ledgers.model import LedgerSet
    from .catalog import Catalog, Rules

Kind = Literal["urine_due", "urine_overdue", "report_pending", "report_overdue", "file_pending", "order_ending",
               "abstinent_3y", "visit_due"]
# json `kind` -> the Chinese name shown in tables, counts and sheets (in this order)
KIND_LABELS: dict[str, str] = {
    "urine_overdue": "尿检逾期", "urine_due": "本期尿检", "report_overdue": "逾期未报到",
    "report_pending": "待报到", "file_pending": "未建档", "order_ending": "期满解除",
    "abstinent_3y": "满三年复核", "visit_due": "待走访",
}
DEFAULT_DAYS = 30
DEFAULT_BY = "所属村居"
_FAR = np.datetime64("2200-01-01", "D")


@dataclass(frozen=True)
class TodoItem:
    """One task for one person: what (kind, description), by when (due; None when a date must be filled in
    first), and the ledger row it comes from."""

    kind: Kind
    unit: str
    due: date | None
    description: str
    ledger: str  # ledger kind id of the row (community / persons)
    file: str
    sheet: str
    row: int
    id: str | None
    name: str | None
    start: date | None = None  # the interval's (or term's) first day, where the task has one

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    def to_dict(self, show_pii: bool = False, names: Names = NO_NAMES) -> dict:
        """The item for output: the person masked unless show_pii, and an ID or a name in the unit label too
        (the description holds dates only)."""
        return {"kind": self.kind, "label": self.label, "unit": self.unit if show_pii else mask_text(self.unit, names),
                "due": self.due.isoformat() if self.due else None,
                "start": self.start.isoformat() if self.start else None, "description": self.description,
                "公民身份号码": self.id if show_pii else mask_id(self.id),
                "姓名": self.name if show_pii else mask_name(self.name),
                "ledger": self.ledger, "file": self.file, "sheet": self.sheet, "row": self.row}


@dataclass(frozen=True)
class Worklist:
    """The items of one run, sorted by unit, then due date (undated last), kind and ledger row."""

    date: date
    days: int
    by: str | None
    unit: str  # the whole input's name
    items: tuple[TodoItem, ...]
    notes: tuple[str, ...] = ()
    names: Names = field(default=NO_NAMES, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.items)

    def counts(self) -> dict[str, int]:
        """Items per kind, every kind listed (in KIND_LABELS order)."""
        out = dict.fromkeys(KIND_LABELS, 0)
        for it in self.items:
            out[it.kind] += 1
        return out

    def units(self) -> dict[str, list[TodoItem]]:
        """The items by unit, in output order."""
        out: dict[str, list[TodoItem]] = {}
        for it in self.items:
            out.setdefault(it.unit, []).append(it)
        return out

    def counts_text(self) -> str:
        """`待办 12 项：尿检逾期 3、本期尿检 5……` (kinds without items left out)."""
        parts = [f"{KIND_LABELS[k]} {n}" for k, n in self.counts().items() if n]
        return f"待办 {len(self.items)} 项" + ("：" + "、".join(parts) if parts else "")

    def to_dict(self, show_pii: bool = False) -> dict:
        return {"date": self.date.isoformat(), "days": self.days,
                "until": (self.date + timedelta(days=self.days)).isoformat(), "by": self.by,
                "unit": self.label(self.unit, show_pii),
                "counts": self.counts(), "items": [it.to_dict(show_pii, self.names) for it in self.items],
                "notes": list(self.notes)}

    def to_frame(self, show_pii: bool = False) -> pd.DataFrame:
        """One row per item: kind, label, unit, due, start, description, 公民身份号码, 姓名 (masked unless
        show_pii), ledger, file, sheet, row. Example: ``wl.to_frame().groupby("kind").size()``."""
        cols = ["kind", "label", "unit", "due", "start", "description", "公民身份号码", "姓名", "ledger", "file",
                "sheet", "row"]
        return pd.DataFrame([it.to_dict(show_pii, self.names) for it in self.items], columns=cols)

    def label(self, unit: str, show_pii: bool = False) -> str:
        """A unit's name for output (masked like every value unless show_pii)."""
        return unit if show_pii else mask_text(unit, self.names)


# ---------------------------------------------------------------- helpers
def _day(v) -> date | None:
    if v is None or pd.isna(v):
        return None
    return pd.Timestamp(v).date()


def _days(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def _plus_years(d: date, years: int) -> date:
    """d + years as the civil code counts them (Feb 29 + 1 year = Feb 28)."""
    return (pd.Timestamp(d) + pd.DateOffset(years=years)).date()


class _Rows:
    """Builds the items of one ledger frame: its unit and origin per row, its person."""

    def __init__(self, df: pd.DataFrame, ledger: str, by: str | None, whole: str):
        self.df, self.ledger = df, ledger
        if by is None:
            self.units = [whole] * len(df)
        elif by in df.columns:
            self.units = [UNFILLED if v is None or pd.isna(v) or not str(v).strip() else str(v) for v in df[by]]
        else:
            self.units = [UNFILLED] * len(df)
        self.files = df[schema.ORIGIN_FILE].tolist() if schema.ORIGIN_FILE in df.columns else [""] * len(df)
        self.sheets = df[schema.ORIGIN_SHEET].tolist() if schema.ORIGIN_SHEET in df.columns else [""] * len(df)
        self.rows = df[schema.ORIGIN_ROW].tolist() if schema.ORIGIN_ROW in df.columns else [0] * len(df)
        self.ids = df[ID].tolist()
        self.names = df["姓名"].tolist() if "姓名" in df.columns else [None] * len(df)

    def item(self, i: int, kind: Kind, due: date | None, text: str, start: date | None = None) -> TodoItem:
        name = self.names[i]
        return TodoItem(kind, self.units[i], due, text, self.ledger, str(self.files[i] or ""),
                        str(self.sheets[i] or ""), int(self.rows[i] or 0), self.ids[i],
                        None if name is None or pd.isna(name) else str(name), start)


def _window(c: pd.DataFrame, day: date) -> Period:
    """From the first 报到日期 on or before the day (every interval of every order) to the day."""
    rep = _days(c["报到日期"]) if len(c) else np.zeros(0, dtype="datetime64[D]")
    rep = rep[~np.isnat(rep) & (rep <= np.datetime64(day, "D"))]
    start = min(pd.Timestamp(rep.min()).date(), day) if len(rep) else day
    return Period(start, day)


# ---------------------------------------------------------------- community orders
def _urine_items(win: Windows, rules: Rules, rows: _Rows) -> list[TodoItem]:
    """Missed intervals of running orders (urine_overdue), and the current interval without a test so far
    (urine_due: also when it ends on the day) — the schedule 尿检频次达标率 judges."""
    from .schedule import evaluate

    ev = evaluate(win, rules.urine_tests, 0)
    running = win.derived["community"][0]["在册"].to_numpy(dtype=bool)
    last = np.datetime64(win.periods[0].end, "D")
    out = []
    for i in np.flatnonzero(~ev.cell_hit & running[ev.cell_row]):
        r, start, end = int(ev.cell_row[i]), _day(ev.cell_start[i]), _day(ev.cell_end[i])
        span = f"{start}至{end}"
        if ev.cell_due[i] and ev.cell_end[i] < last:
            out.append(rows.item(r, "urine_overdue", end, f"{span} 的尿检区间未检（已逾期）", start))
        else:
            out.append(rows.item(r, "urine_due", end, f"本期区间 {span}，尚未尿检", start))
    return out


def _term_end(kind, reported: date | None, decided: date | None, rules: Rules) -> tuple[date | None, str]:
    """The last day of an order's statutory term (when 解除日期 is not given), and what it is counted from."""
    years = rules.term_years(kind) if isinstance(kind, str) else None
    start = reported or decided
    if years is None or start is None:
        return None, ""
    basis = f"自{'报到' if reported else '决定'}日期 {start} 起{years}年"
    return _plus_years(start, years) - timedelta(days=1), basis


def _order_items(c: pd.DataFrame, state: dict, day: date, days: int, rules: Rules, rows: _Rows,
                 filed_known: bool) -> list[TodoItem]:
    """report_pending / report_overdue / file_pending / order_ending, and orders without 决定日期."""
    running = state["在册"].to_numpy(dtype=bool)
    reported = state["已报到"].to_numpy(dtype=bool)
    filed = c["已建档"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    # an 解除日期 before the 决定日期 is not used (state.order_end, as by the figures): the term follows the statute
    ended_d = order_end(c).view("datetime64[ns]").astype("datetime64[D]")
    decided_d, reported_d = _days(c["决定日期"]), _days(c["报到日期"])
    ended_undated = c["执行状态"].isin(schema.ENDED_STATES).to_numpy(dtype=bool)
    d64, until = np.datetime64(day, "D"), day + timedelta(days=days)
    undecided = np.isnat(decided_d) & ~ended_undated & (np.isnat(ended_d) | (ended_d >= d64))
    out = []
    for i in np.flatnonzero(running | undecided):
        kind = c["类别"].iat[i]
        label = kind if isinstance(kind, str) else "决定"
        dec, rep, end = _day(decided_d[i]), _day(reported_d[i]), _day(ended_d[i])
        if undecided[i]:
            out.append(rows.item(i, "report_pending" if not reported[i] else "urine_due", None,
                                 f"{label}未填决定日期：不计为在执行，无法判断报到期限、尿检区间和期满日期，请补填决定日期"))
            continue
        if not reported[i]:
            due = dec + timedelta(days=REPORTING_DAYS - 1)
            if day <= due:
                out.append(rows.item(i, "report_pending", due, f"{dec} 决定{label}，尚未报到：报到期限至 {due}", dec))
            else:
                out.append(rows.item(i, "report_overdue", due,
                                     f"{dec} 决定{label}，{REPORTING_DAYS}日报到期限（至 {due}）已过仍未报到；"
                                     "已报到的请补填报到日期", dec))
        elif filed_known and not filed[i]:
            out.append(rows.item(i, "file_pending", rep, f"{rep} 已报到，尚未建档：建档后“已建档”填“是”", rep))
        term, basis = (end, "解除日期") if end is not None else _term_end(kind, rep if reported[i] else None, dec, rules)
        if term is None:
            out.append(rows.item(i, "order_ending", None, f"{label}未填类别，无法推算期满日期：请补填类别或解除日期"))
        elif term <= until:
            what = "期满，尚未解除：办理解除并填写解除日期、执行状态" if term < day else "期满：准备解除"
            out.append(rows.item(i, "order_ending", term, f"{label}期限至 {term}（{basis}）{what}",
                                 rep if reported[i] else dec))
    return out


# ---------------------------------------------------------------- persons
def _first_rows(p: pd.DataFrame) -> np.ndarray:
    """Per persons row: the person's first row (a person registered twice gets one item per task)."""
    ids = p[ID]
    return (ids.notna() & ~ids.duplicated(keep="first")).to_numpy(dtype=bool)


def _abstinent_items(p: pd.DataFrame, st: dict, day: date, days: int, rows: _Rows) -> list[TodoItem]:
    """Three years without detection complete within `days`, or have completed while 管控等级 is still set."""
    pop = (st["在册"] & ~st["出境"] & ~st["在所"]).to_numpy(dtype=bool) & _first_rows(p)
    social = st["社会面"].to_numpy(dtype=bool)
    latest = st["末次检出日期"]
    levels = p["管控等级"].tolist()
    until = day + timedelta(days=days)
    out = []
    for i in np.flatnonzero(pop):
        last = _day(latest.iat[i])
        if last is None:
            if social[i]:
                out.append(rows.item(i, "abstinent_3y", None, "未填末次查获日期和初次发现日期（也没有查处、阳性检测记录）："
                                     "无法判断何时满三年未复吸，请补填"))
            continue
        done = _plus_years(last, 3)
        level = levels[i] if isinstance(levels[i], str) else None
        if day < done <= until:
            out.append(rows.item(i, "abstinent_3y", done, f"末次检出 {last}，{done} 满三年未复吸：届时复核管控等级", last))
        elif done <= day and level:
            out.append(rows.item(i, "abstinent_3y", done, f"末次检出 {last}，已于 {done} 满三年未复吸，"
                                 f"管控等级仍为{level}：复核管控等级", last))
    return out


def _visit_items(win: Windows, p: pd.DataFrame, st: dict, day: date, rules: Rules, rows: _Rows) -> list[TodoItem]:
    """Managed persons without a visit (rules.visits.where) in the calendar interval holding the day."""
    from .catalog import VISIT_UNGRADED

    cont = win.base["contacts"]
    c_ids = win.ids.get("contacts", np.zeros(len(cont), dtype=np.int64))
    p_ids = win.ids.get("persons", np.full(len(p), -1, dtype=np.int64))
    c_days = _days(cont["日期"]) if len(cont) else np.zeros(0, dtype="datetime64[D]")
    visit = win.mask("contacts", rules.visits.where, 0) & (c_ids >= 0) & ~np.isnat(c_days)
    managed = st["管控"].to_numpy(dtype=bool) & _first_rows(p) & (p_ids >= 0)
    levels = p["管控等级"].tolist()
    seen: dict[int, np.ndarray] = {}
    out = []
    for i in np.flatnonzero(managed):
        level = levels[i] if isinstance(levels[i], str) else None
        n = rules.visits.interval(level)
        if not n:
            continue
        m0 = (day.month - 1) // n * n + 1
        start = date(day.year, m0, 1)
        end = date(day.year, m0 + n - 1, calendar.monthrange(day.year, m0 + n - 1)[1])
        if n not in seen:  # per interval length: the persons with a visit from its first day to the day
            hit = visit & (c_days >= np.datetime64(start, "D")) & (c_days <= np.datetime64(day, "D"))
            got = np.zeros(win.n_ids + 1, dtype=bool)
            got[c_ids[hit]] = True
            seen[n] = got
        if seen[n][p_ids[i]]:
            continue
        grade = f"{level}管控" if level else f"未填管控等级（按{VISIT_UNGRADED}）"
        out.append(rows.item(i, "visit_due", end, f"{grade}，每{'' if n == 1 else f'{n}个'}月走访一次：本期 {start}至{end} 尚未走访", start))
    return out


# ---------------------------------------------------------------- the worklist
_KIND_ORDER = {k: n for n, k in enumerate(KIND_LABELS)}


def _sort_key(it: TodoItem) -> tuple:
    return (it.unit == UNFILLED, it.unit, it.due is None, it.due or date.min, _KIND_ORDER[it.kind], it.file,
            it.sheet, it.row)


def todo(ledgers: LedgerSet, catalog: Catalog, day: date, days: int = DEFAULT_DAYS, *,
         by: str | None = DEFAULT_BY) -> Worklist:
    """The worklist on `day`, looking `days` ahead, grouped by the unit column `by` (None: the whole input)."""
    from ..errors import UsageError

    if days < 0:
        raise UsageError(f"--days 不能为负数（收到 {days}）。")
    if by is not None and by not in schema.UNIT_COLUMNS:
        raise UsageError(f"--by 只能是 {' 或 '.join(schema.UNIT_COLUMNS)}（收到「{by}」）。")
    ledgers.require_any()
    rules = catalog.rules
    base = normalise(ledgers)
    whole = whole_unit_name(ledgers)
    present = ledgers.kinds_present
    c = base["community"]
    win = Windows(ledgers, base, [_window(c, day)], whole)
    items: list[TodoItem] = []
    notes: list[str] = []
    if "community" in present:
        crow = _Rows(c, "community", by, whole)
        filed_known = bool(c["已建档"].notna().any()) or not len(c)
        if not filed_known:
            notes.append("社区戒毒社区康复台帐的“已建档”一栏全空：不列未建档事项。")
        items += _order_items(c, win.derived["community"][0], day, days, rules, crow, filed_known)
        if "contacts" in present:
            items += _urine_items(win, rules, crow)
        else:
            notes.append("未提供帮教管控台帐：不列尿检事项（无法判断是否已检）。")
    else:
        notes.append("未提供社区戒毒社区康复台帐：不列报到、建档、尿检、期满事项。")
    if "persons" in present:
        p = base["persons"]
        st = states_of(ledgers, [pd.Timestamp(day)])[0]
        prow = _Rows(p, "persons", by, whole)
        items += _abstinent_items(p, st, day, days, prow)
        if "contacts" in present:
            items += _visit_items(win, p, st, day, rules, prow)
        else:
            notes.append("未提供帮教管控台帐：不列走访事项。")
    else:
        notes.append("未提供吸毒人员登记台帐：不列满三年复核、走访事项。")
    items.sort(key=_sort_key)
    return Worklist(day, days, by, whole, tuple(items), tuple(notes), Names.of(ledgers))
