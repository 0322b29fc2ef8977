"""The generic engine: evaluates catalog declarations over a LedgerSet for a period.

One pass per ledger: every filter becomes a boolean column (vectorised), then one group-by aggregates all
measures of that ledger for the whole input and for each unit at once. Values stay exact (ints and
Fractions); rounding happens only in display. `Windows` is the only interpreter of the filters (its
`_Masks`, a filters.FilterVisitor, evaluates each node over a whole ledger): `compute` aggregates through it,
and `figure` gives `explain` the same row together with the rows each measure counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil

import numpy as np
import pandas as pd

from .. import derived, schema
from ..errors import UsageError
from ..ledgers.link import FILLED, FILLED_KINDS, fill_from_persons
from ..ledgers.model import LedgerSet
from ..periods import Period
from ..state import NAT, order_end, states_of
from ..state import ns as _ns
from .catalog import Aggregation, Catalog, Indicator, Kind, Measure
from .display import (
    DASH,
    MISSING,
    NO_COLUMN,
    change_words,
    format_number,
    format_value,
    missing_column_reason,
    missing_reason,
)
from .filters import AnyOf, Eq, FilterVisitor, Has, HasAfter, In, Not, Where
from .model import Comparison, MetricRow

ID = "公民身份号码"
WHOLE = "\x00whole"  # group key of the whole input (never a real unit name)
UNFILLED = "（未填）"  # the group of rows whose `by` cell is empty
NO_UNIT = "\x00no-unit"  # the rows of a ledger without the `by` column (publicity has no 所属村居): no group
REPORTING_DAYS = 15  # 戒毒条例: report within 15 days of the decision


# ---------------------------------------------------------------- results
@dataclass
class ComputeResult:
    period: Period
    unit: str
    by: str | None
    rows: list[MetricRow]
    whole_rows: int = 0  # the first `whole_rows` rows are the whole input's
    groups: list[str] = field(default_factory=list)
    baseline: Period | None = None  # the same window in the base year (--baseline), when asked

    def to_dict(self) -> dict:
        if self.baseline is None:
            return {"period": self.period.to_dict(), "window": self.window_dict(),
                    "rows": [r.to_dict() for r in self.rows]}
        return {"period": self.period.to_dict(), "window": self.window_dict(),
                "baseline": {**self.baseline.to_dict(), "year": self.baseline.start.year,
                             "absent": BASELINE_ABSENT},
                "rows": [r.to_dict(baseline=True) for r in self.rows]}

    def window_dict(self) -> dict:
        """The window in words and the windows it is compared with (json's "window")."""
        from ..periods import comparisons_note, window_note

        p = self.period
        return {"note": window_note(p), "comparisons": comparisons_note(p, self.baseline),
                "previous": p.previous().to_dict(), "yoy": p.year_earlier().to_dict()}

    def to_frame(self) -> pd.DataFrame:
        """One row per (unit, indicator): the whole input's rows first (`whole` True), then each `by` group's.
        Columns: unit, metric, name, area, kind, numerator, denominator, value (exact value as a float; None
        when 分母为0), display, reason, target, met, gap, unit_label, previous, yoy (the 环比/同比 displays), baseline (with --baseline).
        Example: ``df = result.to_frame(); df[df["metric"] == "rehab_rate"][["unit", "display"]]``."""
        fields = ("unit", "metric", "name", "area", "kind", "numerator", "denominator", "value", "display",
                  "reason", "target", "met", "gap", "unit_label")
        recs = [{"whole": i < self.whole_rows, **{f: getattr(r, f) for f in fields},
                 "previous": r.previous.display if r.previous else None, "yoy": r.yoy.display if r.yoy else None}
                for i, r in enumerate(self.rows)]
        cols = ["whole", *fields, "previous", "yoy"]
        if self.baseline is not None:  # the base year's display beside 同比 (--baseline only)
            cols.append("baseline")
            for rec, r in zip(recs, self.rows):
                rec["baseline"] = r.baseline.display if r.baseline else None
        frame = pd.DataFrame(recs, columns=cols)
        for col in ("numerator", "denominator", "gap"):  # counts stay integers beside None (not 374.0)
            if all(isinstance(r[col], int) for r in recs if r[col] is not None):
                frame[col] = frame[col].astype("Int64")
        return frame

    def get(self, metric_id: str, unit: str | None = None) -> MetricRow:
        rows = self.rows[: self.whole_rows] if unit is None else self.rows[self.whole_rows:]
        for r in rows:
            if (r.metric == metric_id or r.name == metric_id) and (unit is None or r.unit == unit):
                return r
        if unit is not None:  # a unit equal to the whole input's name (e.g. --by 所属镇街 of one township)
            for r in self.rows[: self.whole_rows]:
                if r.metric == metric_id and r.unit == unit:
                    return r
        raise KeyError(f"{metric_id} / {unit}")

    @property
    def missing_ledgers(self) -> tuple[str, ...]:
        """Ledger kinds (schema order) the input lacks that some indicator of the result reads."""
        need = {k for r in self.rows for k in r.missing}
        return tuple(k for k in schema.KINDS if k in need)

    @property
    def missing_columns(self) -> tuple[tuple[str, str], ...]:
        """(ledger kind, column) pairs the given ledgers lack that some indicator of the result reads."""
        return tuple(dict.fromkeys(c for r in self.rows for c in r.missing_columns))

    def for_unit(self, unit: str | None = None) -> list[MetricRow]:
        if unit is None:
            return self.rows[: self.whole_rows]
        return self.by_unit().get(unit, [])

    def by_unit(self) -> dict[str, list[MetricRow]]:
        """The groups' rows by unit, in one pass (for_unit per unit would be quadratic at county scale)."""
        out: dict[str, list[MetricRow]] = {}
        for r in self.rows[self.whole_rows:]:
            out.setdefault(r.unit, []).append(r)
        return out


# ---------------------------------------------------------------- preparation
def _flag(s: pd.Series) -> pd.Series:
    return s.astype("boolean").fillna(False).astype(bool)


def whole_unit_name(ledgers: LedgerSet) -> str:
    if ledgers.unit:
        return ledgers.unit
    names: set = set()
    for kind in ("persons", "seizures", "community", "units"):
        df = ledgers.frames.get(kind)
        if df is not None and "所属镇街" in df.columns and len(df):
            names.update(v for v in df["所属镇街"].dropna().unique() if str(v).strip())
    if len(names) == 1:
        return str(next(iter(names)))
    return "合计"


def _fill_units(df: pd.DataFrame, persons: pd.DataFrame, unit: str | None, rows=None, *,
                filled: bool = False) -> pd.DataFrame:
    """Fill 所属村居/所属镇街 (and 姓名) missing on a row from the person's entry (ledgers.link; `rows`: its
    person_rows when known), then 所属镇街 from the unit; unit columns as Python objects with None for empty.
    `filled`: the reader filled the columns df has from these persons already (link.FILLED): a person filled
    with the unit since gives what the unit gives below."""
    if not len(df):
        return df
    df = fill_from_persons(df, persons, add=True, rows=rows, only_added=filled).copy(deep=False)  # replaced whole
    if unit and "所属镇街" in df.columns:
        df["所属镇街"] = df["所属镇街"].where(df["所属镇街"].notna(), unit)
    for col in schema.UNIT_COLUMNS:  # canonical text is object with None already (ledgers.frames)
        if col in df.columns and df[col].dtype != object:
            df[col] = df[col].astype(object).where(df[col].notna(), None)
    return df


def _derive_new(seizures: pd.DataFrame, persons: pd.DataFrame) -> pd.DataFrame:
    """新发现 when empty: no earlier seizure of the person and no earlier 初次发现日期."""
    if not len(seizures) or not seizures["新发现"].isna().any():
        return seizures
    s = seizures.copy()
    d = s["查处日期"]
    first = d.groupby(s[ID]).transform("min")
    first_found = _lookup(s[ID], persons.dropna(subset=[ID]).drop_duplicates(ID).set_index(ID)["初次发现日期"])
    derived = ~(first < d) & ~(first_found < d)
    s["新发现"] = s["新发现"].astype("boolean").where(s["新发现"].notna(), derived.astype("boolean"))
    return s


def normalise(ledgers: LedgerSet) -> dict[str, pd.DataFrame]:
    """Window-independent preparation (unit filling, 新发现), kept on the LedgerSet for its unit: a batch
    township's figures, bulletin and trend are several computes over the same ledgers."""
    return ledgers.kept(f"normalised {ledgers.unit}", tuple(schema.KINDS), lambda: _normalise(ledgers))


def _normalise(ledgers: LedgerSet) -> dict[str, pd.DataFrame]:
    unit = ledgers.unit
    persons = ledgers.frames["persons"]
    if unit and len(persons):
        persons = _fill_units(persons, persons.iloc[0:0], unit)
    out = {"persons": persons}
    ids = ledgers.ids()
    filled = ledgers.kept(FILLED, FILLED_KINDS, lambda: False)  # by the reader, and no frame replaced since
    for kind in ("seizures", "community", "contacts"):
        df = ledgers.frames[kind]
        out[kind] = _fill_units(df, persons, unit, ids.person_rows(kind) if kind in ids.codes else None,
                                filled=filled)
    out["seizures"] = _derive_new(out["seizures"], persons)
    out["publicity"] = ledgers.frames["publicity"]
    units = ledgers.frames["units"]
    if unit and len(units):
        units = units.copy()
        units["所属镇街"] = units["所属镇街"].where(units["所属镇街"].notna(), unit)
    out["units"] = units
    return out


def _lookup(keys: pd.Series, table: pd.Series) -> pd.Series:
    """keys.map(table) that keeps table's dtype (also when table is empty)."""
    if not len(table):
        return pd.Series(pd.NaT if table.dtype.kind == "M" else None, index=keys.index, dtype=table.dtype)
    return pd.Series(table.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


def _community_window(c: pd.DataFrame, last: pd.Timestamp, first: pd.Timestamp) -> dict[str, pd.Series]:
    """The community orders' state in the window [first, last], by array operations on the dates as int64
    nanoseconds (NaT compares as nothing: each comparison is guarded by its date being known)."""
    decided, end, rep = _ns(c["决定日期"]), order_end(c), _ns(c["报到日期"])
    has_decided, has_end = decided != NAT, end != NAT
    lv, fv = last.value, first.value
    ended_undated = ~has_end & c["执行状态"].isin(schema.ENDED_STATES).to_numpy(dtype=bool)
    ended = (has_end & (end < lv)) | ended_undated
    reported = (rep != NAT) & (rep <= lv)
    in_force = has_decided & (decided <= lv)
    window_start = (last - pd.Timedelta(days=REPORTING_DAYS - 1)).value
    idx = c.index
    return {"在册": pd.Series(in_force & ~ended, index=idx),
            "已报到建档": pd.Series(reported & _flag(c["已建档"]).to_numpy(), index=idx),
            "报到期内": pd.Series(in_force & (decided >= window_start) & ~reported, index=idx),
            # in force on some day of the window [first, last]
            "期内在册": pd.Series(in_force & ~(has_end & (end < fv)) & ~ended_undated, index=idx),
            "已报到": pd.Series(reported, index=idx)}


# ---------------------------------------------------------------- aggregation
def _group_series(df: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series(WHOLE, index=df.index, dtype=object)
    if by not in df.columns:
        return pd.Series(NO_UNIT, index=df.index, dtype=object)
    return df[by].astype(object).where(df[by].notna(), UNFILLED)


def _group_codes(df: pd.DataFrame, by: str | None) -> tuple[np.ndarray, list[str]]:
    """Each row's group (codes) and the groups' names, as pd.factorize of _group_series gives them."""
    if by is None:  # one group, the whole: a constant column is not hashed row by row
        return np.zeros(len(df), dtype=np.intp), [str(WHOLE)] if len(df) else []
    codes, names = pd.factorize(_group_series(df, by))
    return codes, [str(x) for x in names]


def _exact(v) -> Fraction:
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    f = float(v)
    if f.is_integer():
        return Fraction(int(f))
    return Fraction(repr(f))  # the decimal the ledger shows, not the binary float


def _units_sum(win: Windows, m: Measure, by: str | None) -> dict[str, Fraction]:
    """Σ of a units column. A township row (所属村居 empty) stands for its township; otherwise its villages add up."""
    df = win.base["units"]
    if not len(df):
        return {}
    df = df[win.mask("units", m.where, 0)]
    vals = df[m.column]
    village = df["所属村居"].notna() if "所属村居" in df.columns else pd.Series(False, index=df.index)
    town = df["所属镇街"].astype(object).where(df["所属镇街"].notna(), win.unit) if "所属镇街" in df.columns else \
        pd.Series(win.unit, index=df.index)
    if by == "所属村居":
        sub = vals[village & vals.notna()]
        per = sub.groupby(df.loc[sub.index, "所属村居"]).sum()
        return {str(k): _exact(v) for k, v in per.items()}
    per_town: dict[str, Fraction] = {}
    for t in sorted(set(town)):  # units ledgers hold a few hundred rows at most
        in_t = town == t
        own = vals[in_t & ~village & vals.notna()]
        per_town[str(t)] = _exact(own.sum()) if len(own) else _exact(vals[in_t & village].fillna(0).sum())
    if by == "所属镇街":
        return per_town
    if by is None:
        return {WHOLE: sum(per_town.values(), Fraction(0))}
    return {}


# ---------------------------------------------------------------- several windows in one pass
# The columns that differ per window (derived as of each last day).
_PER_WINDOW = {led: tuple(derived.of(led, derived.WINDOW)) for led in derived.LEDGERS}


class Windows:
    """The one interpreter of the catalog's filters, for `compute` and `explain` alike.

    The main window and the comparison windows are evaluated together: flows are not cut per window but
    masked, conditions on recorded columns are evaluated once for all windows, and only the derived stock
    columns (as of each window's last day) and `has` differ per window. IDs are integer codes shared by
    all ledgers, so distinct-person counts are array operations. Every mask is over a whole ledger of `base`."""

    def __init__(self, ledgers: LedgerSet, base: dict[str, pd.DataFrame], periods: list[Period], unit: str):
        """`base`: normalise(ledgers)."""
        self.base, self.periods, self.unit = base, periods, unit
        lasts = [pd.Timestamp(w.end) for w in periods]
        self.in_window: dict[str, list[np.ndarray]] = {}
        for kind, col in schema.FLOW_DATE.items():
            d = _ns(base[kind][col])
            self.in_window[kind] = [(d != NAT) & (d >= pd.Timestamp(w.start).value) & (d <= last.value)
                                    for w, last in zip(periods, lasts)]
        self.derived: dict[str, list[dict]] = {
            "persons": states_of(ledgers, lasts),  # on the persons' index, which normalise keeps
            "community": [_community_window(base["community"], last, pd.Timestamp(w.start))
                          for w, last in zip(periods, lasts)],
        }
        ids = ledgers.ids()  # base keeps the ledgers' rows (normalise)
        self.n_ids = ids.n
        self.id_values = ids.values  # code -> ID
        self.ids: dict[str, np.ndarray] = {k: c for k, c in ids.codes.items() if ID in base[k].columns}  # -1: none
        self._static: dict = {}
        self._masks: dict = {}
        self._has: dict = {}
        self._cols: dict = {}
        self._groups: dict = {}
        self._schedules: dict = {}

    def _depends(self, ledger: str, conds: Where) -> bool:
        """Whether the conditions read a derived column or another ledger's window (so differ per window)."""
        return _DEPENDS.where(ledger, conds)

    def column(self, ledger: str, col: str, k: int) -> pd.Series:
        d = self.derived.get(ledger)
        if d is not None and col in d[k]:
            return d[k][col]
        return self.base[ledger][col]

    def mask(self, ledger: str, conds: Where, k: int) -> np.ndarray:
        """Rows of the whole ledger matching `conds` in window k (the flow's own window not applied)."""
        if not self._depends(ledger, conds):
            key = (ledger, conds)
            if key not in self._static:
                self._static[key] = self._eval(ledger, conds, 0)
            return self._static[key]
        key = (ledger, conds, k)
        if key not in self._masks:
            self._masks[key] = self._eval(ledger, conds, k)
        return self._masks[key]

    def _eval(self, ledger: str, conds: Where, k: int) -> np.ndarray:
        return _Masks(self, k).where(ledger, conds)

    def _is_derived(self, ledger: str, col: str, k: int) -> bool:
        d = self.derived.get(ledger)
        return d is not None and col in d[k]

    def _flag_of(self, ledger: str, col: str, k: int) -> np.ndarray:
        key = (ledger, col, k if self._is_derived(ledger, col, k) else None)
        if key not in self._cols:
            s = self.column(ledger, col, k)
            self._cols[key] = s.to_numpy() if s.dtype == bool else _flag(s).to_numpy()
        return self._cols[key]

    def _codes_of(self, ledger: str, col: str) -> tuple[np.ndarray, np.ndarray]:
        """A recorded column's codes and distinct values, so that = and in compare distinct values only."""
        key = (ledger, col, "codes")
        if key not in self._cols:
            codes, uniq = pd.factorize(self.base[ledger][col])
            self._cols[key] = (codes, pd.Series(np.asarray(uniq, dtype=object)))
        return self._cols[key]

    def latest(self, ledger: str, conds: Where, k: int) -> np.ndarray:
        """Per ID code (+1 spare slot): the latest date of a row of `ledger` in window k matching `conds` (NaT
        as the smallest int64 when none)."""
        key = (ledger, conds, k, "latest")
        if key not in self._has:
            rows = self.rows(ledger, conds, k)
            ids = self.ids[ledger]
            sel = rows & (ids >= 0)
            out = np.full(self.n_ids + 1, NAT, dtype=np.int64)
            np.maximum.at(out, ids[sel], _ns(self.base[ledger][schema.FLOW_DATE[ledger]])[sel])
            self._has[key] = out
        return self._has[key]

    def measure_rows(self, m: Measure, k: int) -> np.ndarray:
        """The rows a measure counts in window k (a schedule's orders, or its filter's rows)."""
        if m.schedule is None:
            return self.rows(m.ledger, m.where, k)
        return self.schedule(m, k).rows(m.part)

    def schedule(self, m: Measure, k: int):
        """The schedule's evaluation in window k (metrics/schedule.py), once per schedule and window."""
        key = (m.schedule, k)
        if key not in self._schedules:
            from .schedule import evaluate

            self._schedules[key] = evaluate(self, m.schedule, k)
        return self._schedules[key]

    def rows(self, ledger: str, conds: Where, k: int) -> np.ndarray:
        """The measure's rows in window k: its conditions and, for a flow, the window's dates."""
        m = self.mask(ledger, conds, k)
        if ledger in self.in_window:
            m = m & self.in_window[ledger][k]
        return m

    def in_group(self, ledger: str, by: str | None, group: str) -> np.ndarray:
        """Rows of the whole ledger that `aggregate(..., by)` puts in `group` (all rows when by is None)."""
        df = self.base[ledger]
        if by is None:
            return np.ones(len(df), dtype=bool)
        return (_group_series(df, by) == group).to_numpy(dtype=bool)

    def frame(self, ledger: str, k: int) -> pd.DataFrame:
        """The whole ledger with its derived columns as of window k's last day (for listing rows)."""
        df = self.base[ledger]
        d = self.derived.get(ledger)
        if d is None:
            return df
        df = df.copy(deep=False)
        for col, v in d[k].items():
            df[col] = v
        return df

    def has_counts(self, ledger: str, conds: Where, k: int) -> pd.Series:
        """Per person (ID): rows of `ledger` in window k matching `conds` — the count behind `has`."""
        ids = self.ids[ledger][self.rows(ledger, conds, k)]
        counts = np.bincount(ids[ids >= 0], minlength=self.n_ids)
        hit = np.flatnonzero(counts)
        return pd.Series(counts[hit], index=pd.Index(self.id_values[hit], dtype=object))

    def has(self, ledger: str, conds: Where, k: int) -> np.ndarray:
        """Per ID code: the person has a row of `ledger` in window k matching `conds`."""
        key = (ledger, conds, k)
        if key not in self._has:
            ids = self.ids[ledger][self.rows(ledger, conds, k)]
            out = np.zeros(self.n_ids + 1, dtype=bool)  # + 1: never empty, so code 0 can be looked up
            out[ids[ids >= 0]] = True
            self._has[key] = out
        return self._has[key]

    def aggregate(self, measures: list[Measure], by: str | None) -> list[dict[tuple, dict[str, Fraction]]]:
        """For each window, {measure key: {group: value}} (the shape `aggregate` gives for one window)."""
        out: list[dict] = [{} for _ in self.periods]
        seen: dict[tuple, Measure] = {}
        for m in measures:
            seen.setdefault(m.key(), m)
        groups: dict[str, tuple] = {}
        for key, m in seen.items():
            if m.ledger == "units":
                v = _units_sum(self, m, by)
                for res in out:
                    res[key] = v
                continue
            if m.ledger not in groups:
                df = self.base[m.ledger]
                groups[m.ledger] = _group_codes(df, by)
            gcodes, gnames = groups[m.ledger]
            n_groups = len(gnames)
            for k in range(len(self.periods)):
                rows = self.measure_rows(m, k)
                present = self._present(m.ledger, k, gcodes, n_groups, m.agg, by)
                if m.agg == Aggregation.ROWS:
                    counts = np.bincount(gcodes[rows], minlength=n_groups)
                elif m.agg == Aggregation.PERSONS:
                    ids = self.ids[m.ledger]
                    sel = rows & (ids >= 0)
                    if n_groups == 1:  # one group: mark each person once
                        hit = np.zeros(self.n_ids, dtype=bool)
                        hit[ids[sel]] = True
                        counts = np.array([hit.sum()])
                    else:
                        width = max(self.n_ids, 1)
                        pairs = np.unique(gcodes[sel].astype(np.int64) * width + ids[sel])
                        counts = np.bincount(pairs // width, minlength=n_groups)
                else:
                    counts = self._sum(m, k, rows, gcodes, n_groups)
                out[k][key] = {gnames[g]: _exact(counts[g]) for g in np.flatnonzero(present)}
        return out

    def _present(self, ledger: str, k: int, gcodes: np.ndarray, n_groups: int, agg: Aggregation, by) -> np.ndarray:
        """Groups a one-window group-by would list: those with rows in the window (with an ID, for persons)."""
        key = (ledger, k, agg == Aggregation.PERSONS, by)
        if key not in self._groups:
            self._groups[key] = self._present_groups(ledger, k, gcodes, n_groups, agg)
        return self._groups[key]

    def _present_groups(self, ledger: str, k: int, gcodes: np.ndarray, n_groups: int, agg: Aggregation) -> np.ndarray:
        sel = self.in_window[ledger][k] if ledger in self.in_window else np.ones(len(gcodes), dtype=bool)
        if agg == Aggregation.PERSONS:
            sel = sel & (self.ids[ledger] >= 0)
        return np.bincount(gcodes[sel], minlength=n_groups) > 0

    def _sum(self, m: Measure, k: int, rows: np.ndarray, gcodes: np.ndarray, n_groups: int) -> np.ndarray:
        # Summed over exactly the window's rows, in order, by pandas (compensated sums): the same floats
        # as the one-window path gives.
        df = self.base[m.ledger]
        win = self.in_window[m.ledger][k] if m.ledger in self.in_window else np.ones(len(df), dtype=bool)
        vals = rows[win] * df[m.column].fillna(0).to_numpy()[win]
        per = pd.Series(vals).groupby(gcodes[win]).sum()
        counts = np.zeros(n_groups, dtype=object)
        for g, v in per.items():
            counts[g] = v
        return counts



class _Depends(FilterVisitor[bool]):
    """Whether a filter reads a column derived per window or looks into another ledger's window."""

    def combine(self, results: list[bool]) -> bool:
        return any(results)

    def column(self, ledger: str, column: str) -> bool:
        return column in _PER_WINDOW.get(ledger, ())

    def has(self, ledger: str, c: Has) -> bool:
        return True

    def has_after(self, ledger: str, c: HasAfter) -> bool:
        return True


_DEPENDS = _Depends()


class _Masks(FilterVisitor[np.ndarray]):
    """A filter evaluated over a whole ledger in window k, vectorised: one boolean per row. Inner filters
    (not, any, has) go through the Windows' caches, so a filter shared by several measures is evaluated once."""

    def __init__(self, win: Windows, k: int):
        self.win, self.k = win, k

    def where(self, ledger: str, where: Where) -> np.ndarray:
        m = np.ones(len(self.win.base[ledger]), dtype=bool)
        for c in where:
            m &= self.node(ledger, c)
        return m

    def eq(self, ledger: str, c: Eq) -> np.ndarray:
        win, k, v = self.win, self.k, c.value
        if isinstance(v, bool):
            b = win._flag_of(ledger, c.column, k)
            return b if v else ~b
        if win._is_derived(ledger, c.column, k):
            return (win.column(ledger, c.column, k) == v).fillna(False).to_numpy(dtype=bool)
        codes, uniq = win._codes_of(ledger, c.column)
        # the distinct values (no NA among them) compared one by one, as pandas compares objects
        hit = np.append(np.asarray(uniq.to_numpy() == v, dtype=bool), False)  # code -1: empty
        return hit[codes]

    def in_(self, ledger: str, c: In) -> np.ndarray:
        win, k = self.win, self.k
        if win._is_derived(ledger, c.column, k):
            return win.column(ledger, c.column, k).isin(list(c.values)).to_numpy(dtype=bool)
        codes, uniq = win._codes_of(ledger, c.column)
        return np.append(uniq.isin(list(c.values)).to_numpy(dtype=bool), False)[codes]

    def not_(self, ledger: str, c: Not) -> np.ndarray:
        return ~self.win.mask(ledger, c.where, self.k)

    def any_(self, ledger: str, c: AnyOf) -> np.ndarray:
        out = np.zeros(len(self.win.base[ledger]), dtype=bool)
        for w in c.options:
            out |= self.win.mask(ledger, w, self.k)
        return out

    def has(self, ledger: str, c: Has) -> np.ndarray:
        ids = self.win.ids[ledger]
        has = self.win.has(c.ledger, c.where, self.k)
        return (ids >= 0) & has[np.maximum(ids, 0)]

    def has_after(self, ledger: str, c: HasAfter) -> np.ndarray:
        """A matching row in the window dated after this row's own date column."""
        ids = self.win.ids[ledger]
        latest = self.win.latest(c.ledger, c.where, self.k)[np.maximum(ids, 0)]
        own = _ns(self.win.base[ledger][c.after])
        return (ids >= 0) & (own != NAT) & (latest != NAT) & (latest > own)


# ---------------------------------------------------------------- rows
def _measures(indicators: list[Indicator]) -> list[Measure]:
    out = []
    for ind in indicators:
        out.append(ind.numerator)
        if ind.denominator is not None:
            out.append(ind.denominator)
        out.extend(m for _, m in ind.extra)
    return out


_ZERO = Fraction(0)  # the default of every lookup below: built once, not once per row and indicator


def _num(x: Fraction | None):
    if x is None:
        return None
    return int(x) if x.denominator == 1 else float(x)


@dataclass
class _Value:
    num: Fraction
    den: Fraction | None
    exact: Fraction | None


def _value(ind: Indicator, agg: dict, group: str) -> _Value:
    num = agg[ind.numerator.key()].get(group, _ZERO)
    if ind.kind != Kind.RATIO:
        return _Value(num, None, num)
    den = agg[ind.denominator.key()].get(group, _ZERO)
    return _Value(num, den, (num / den) if den else None)


def _gap(ind: Indicator, v: _Value) -> int | None:
    t = ind.target_spec
    if t is None or v.exact is None or t.met(v.exact):
        return None
    if ind.kind == Kind.RATIO:
        k = t.value * v.den - v.num if t.op == ">=" else v.num - t.value * v.den
    else:
        k = t.value - v.num if t.op == ">=" else v.num - t.value
    return max(ceil(k), 0)


def _target_applies(ind: Indicator, period: Period) -> bool:
    if ind.target_window == "year":
        return period.start.month == 1 and period.start.day == 1 and period.end.month == 12 \
            and period.end.day == 31 and period.start.year == period.end.year
    return True


def _display(ind: Indicator, exact: Fraction | None) -> str:
    if ind.kind == Kind.RATIO:
        return format_value(exact, ind.format, ind.decimals)
    return format_number(exact, ind.decimals)


def _reason(ind: Indicator, v: _Value) -> str:
    if v.exact is not None:
        return ""
    den = ind.denominator
    if den is not None and den.ledger == "units":
        return f"分母为0：单位信息表中没有{den.column}数"
    return "分母为0：统计期内没有符合分母口径的人员或记录"


BASELINE_ABSENT = "台帐未覆盖基准年同期的指标没有基准年对比（baseline 为 null，baseline_reason 说明原因）"


def _comparison(ind: Indicator, now: _Value, then: _Value | None, window: Period,
                relative: bool = False) -> Comparison | None:
    """`relative`: a count's change also in percent of its base (同比, base year), as seed bulletins write it."""
    if then is None:
        return None
    change = None
    words = ""
    if now.exact is not None and then.exact is not None:
        delta = now.exact - then.exact
        change = float(delta) if ind.kind == Kind.RATIO else _num(delta)
        words = change_words(now.exact, then.exact, ind.format, ind.decimals,
                             ind.unit_label if ind.kind != Kind.RATIO else "", relative=relative)
    return Comparison(start=window.start.isoformat(), end=window.end.isoformat(),
                      value=None if then.exact is None else float(then.exact),
                      display=_display(ind, then.exact), numerator=_num(then.num),
                      denominator=_num(then.den) if ind.kind == Kind.RATIO else None,
                      change=change, change_display=words,
                      note=STATUS_NOTE if ("persons", "人员状态") in ind.columns else "")


# The registry holds each person's status today, not when it changed: an earlier window's stock reads it too.
STATUS_NOTE = ("以往统计期的人数按台帐现在的人员状态计（台帐没有状态变更的日期：现已死亡、注销、出境或在所的人员，"
               "在以往统计期也按现在的状态计）")


COMPARISON_WORDS = {"previous": "环比", "yoy": "同比", "baseline": "基准年同期"}
STARTED_KEY = "[workspace.started]"


class Coverage:
    """Whether a ledger covers a comparison window, by evidence: its earliest dated row (schema coverage_column)
    falls in the window's first month or before, or the workspace declares the ledger was kept from such a day
    (jindu.toml [workspace.started]). One rule for every command: with --by 所属镇街 each township is judged on
    its own rows (as batch and compute of its own file judge it); the whole input and villages on all rows."""

    def __init__(self, base: dict[str, pd.DataFrame], started: dict, by: str | None):
        self.started = {k: pd.Timestamp(v) for k, v in started.items()}
        self.by = by if by == "所属镇街" else None
        self._said: dict[tuple, str] = {}
        self.earliest: dict[str, dict[str, pd.Timestamp | None]] = {}
        for kind in schema.KINDS.values():
            if not kind.coverage_column or kind.id == "units":
                continue
            df = base[kind.id]
            self.earliest[kind.id] = per = {WHOLE: _earliest_of(df, kind.coverage_column, kind.id)}
            if self.by and len(df):
                keys = _group_series(df, self.by)
                for g, part in df.groupby(keys, sort=False):
                    per[str(g)] = _earliest_of(part, kind.coverage_column, kind.id)

    def _start(self, led: str, group: str) -> pd.Timestamp | None:
        per = self.earliest.get(led, {})
        e = per.get(group if self.by and group != WHOLE else WHOLE)
        declared = self.started.get(led)
        if declared is not None and (e is None or declared < e):
            return declared
        return e

    def reason(self, ind: Indicator, window: Period, name: str, group: str = WHOLE) -> str:
        """"" when every ledger of `ind` covers `window` for `group`; else why not, in Chinese (asked once per
        row and window: kept per ledger set, window and group, as a county's villages are many)."""
        key = (ind.ledgers, window, name, group if self.by else WHOLE)
        if key not in self._said:
            self._said[key] = self._reason(ind, window, name, key[3])
        return self._said[key]

    def _reason(self, ind: Indicator, window: Period, name: str, group: str) -> str:
        first_month_end = pd.Timestamp(window.start) + pd.offsets.MonthEnd(0)
        words = COMPARISON_WORDS.get(name, "对比期")
        span = f"{words}（{window.start.isoformat()}至{window.end.isoformat()}）"
        for led in ind.ledgers:
            if led not in self.earliest:
                continue
            e = self._start(led, group)
            ledger = schema.KINDS[led].name
            if e is None:
                return f"{ledger}没有带日期的记录，无法判断是否覆盖{span}"
            if e > first_month_end:
                return (f"{ledger}最早的记录在{e:%Y-%m-%d}，晚于{span}的第一个月，台帐未覆盖{words}；"
                        f"如台帐更早已建立，可在 jindu.toml 的 {STARTED_KEY} 写明开始记录的日期")
        return ""

    def any_covered(self, indicators: list[Indicator], window: Period) -> bool:
        groups = {WHOLE} | {g for per in self.earliest.values() for g in per}
        return any(not self.reason(i, window, "", g) for i in indicators for g in groups)


def _earliest_of(df: pd.DataFrame, col: str, led: str) -> pd.Timestamp | None:
    s = df[col].dropna()
    if len(s):
        return s.min()
    if led == "persons" and len(df):
        return pd.Timestamp.min  # a registry without dates: a stock as recorded, always comparable
    return None


def missing_ledgers(ind: Indicator, present) -> tuple[str, ...]:
    """The ledger kinds `ind` reads (its catalog declaration) that are not in `present`, in schema order."""
    return tuple(k for k in schema.KINDS if k in ind.ledgers and k not in present)


def missing_columns(ind: Indicator, ledgers: LedgerSet) -> tuple[tuple[str, str], ...]:
    """The (ledger, column) pairs `ind` reads (Indicator.columns) that its given ledgers lack; columns the tool
    fills when empty (derived.FILLED) are never missing, and a ledger not given at all is missing_ledgers'."""
    present = ledgers.kinds_present
    return tuple((k, c) for k, c in ind.columns
                 if k in present and (k, c) not in derived.FILLED and not ledgers.has_column(k, c))


def compute(ledgers: LedgerSet, catalog: Catalog, period: Period, *, by: str | None = None,
            metrics: list[str] | None = None, compare: bool = True, baseline: int | None = None) -> ComputeResult:
    """Every selected indicator for the period, for the whole input and for each `by` group; `baseline`: also
    compared with the same window in that (earlier) year, where the ledgers cover it."""
    if by is not None and by not in schema.UNIT_COLUMNS:
        raise UsageError(f"--by 只能是单位列：{'、'.join(schema.UNIT_COLUMNS)}（收到「{by}」）。")
    ledgers.require_any()
    indicators = catalog.select(metrics)
    unit = whole_unit_name(ledgers)
    base = normalise(ledgers)
    base_window = baseline_window(period, baseline)
    wanted = _compared(period, compare, base_window)
    # Coverage by evidence (Coverage): a township's comparison is judged on its own rows, in compute as in
    # compute --by 所属镇街 and batch; a window none covers is not computed.
    coverage = Coverage(base, getattr(ledgers, "started", None) or {}, by) if wanted else None
    # The main window and the comparison windows (环比, 同比; for a whole year they coincide) in one pass.
    periods = [period]
    for _name, w in wanted:
        if w not in periods and coverage.any_covered(indicators, w):
            periods.append(w)
    win = Windows(ledgers, base, periods, unit)
    measures = _measures(indicators)
    levels = [None] + ([by] if by else [])
    per_level = {lvl: win.aggregate(measures, lvl) for lvl in levels}
    aggs = {lvl: per_level[lvl][0] for lvl in levels}
    windows = {name: (w, coverage, {lvl: per_level[lvl][periods.index(w)] if w in periods else None
                                    for lvl in levels})
               for name, w in wanted}
    groups = _groups(win, by, aggs[by]) if by else []
    present = ledgers.kinds_present
    absent = {ind.id: (missing_ledgers(ind, present), missing_columns(ind, ledgers)) for ind in indicators}
    rows: list[MetricRow] = []
    for lvl, gs in ((None, [WHOLE]), *(((by, groups),) if by else ())):
        for g in gs:
            name = unit if g == WHOLE else g
            for ind in indicators:
                gone, cols = absent[ind.id]
                rows.append(_missing_row(ind, name, gone, cols, tuple(windows)) if gone or cols else
                            _row(ind, aggs[lvl], g, name, period, windows, lvl))
    return ComputeResult(period=period, unit=unit, by=by, rows=rows, whole_rows=len(indicators), groups=groups,
                         baseline=base_window)


def _compared(period: Period, compare: bool, base_window: Period | None) -> list[tuple[str, Period]]:
    """The comparison windows asked for, by name: 环比 and 同比 (unless not `compare`), and the base year's."""
    out = [("previous", period.previous()), ("yoy", period.year_earlier())] if compare else []
    if base_window is not None:
        out.append(("baseline", base_window))
    return out


def _groups(win: Windows, by: str, agg: dict) -> list[str]:
    """The `by` groups listed: every value of the column on a row in the main window (stocks: any row), and
    every group a measure gave a value for; rows of a ledger without the column belong to none."""
    seen = set()
    for led in ("persons", "seizures", "community", "contacts", "publicity", "units"):
        df = win.base[led]
        if by in df.columns and len(df):
            g = _group_series(df, by)
            if led in win.in_window:
                g = g[win.in_window[led][0]]
            seen.update(g.unique())
    for per_measure in agg.values():
        seen.update(per_measure)
    seen.discard(NO_UNIT)
    return sorted(str(g) for g in seen)


def baseline_window(period: Period, year: int | None) -> Period | None:
    """The period moved to the base year; UsageError unless the year is before the period's."""
    if year is None:
        return None
    if not 1900 <= year < period.start.year:
        raise UsageError(f"--baseline 应为统计期之前的年份（统计期从{period.start.year}年开始，收到「{year}」）。")
    return period.in_year(year)


def exact_values(ledgers: LedgerSet, catalog: Catalog, periods: list[Period], *,
                 metrics: list[str] | None = None) -> dict[str, list]:
    """Each selected indicator's exact value (Fraction; None when 分母为0 or its ledger is missing) for each
    period, for the whole input: what compute() gives period by period, in one pass (trend lines of a year)."""
    indicators = catalog.select(metrics)
    distinct = list(dict.fromkeys(periods))
    aggs = Windows(ledgers, normalise(ledgers), distinct, whole_unit_name(ledgers)).aggregate(_measures(indicators), None)
    present = ledgers.kinds_present
    return {ind.id: [None if missing_ledgers(ind, present) or missing_columns(ind, ledgers)
                     else _value(ind, aggs[distinct.index(p)], WHOLE).exact
                     for p in periods] for ind in indicators}


def _missing_row(ind: Indicator, unit_name: str, gone: tuple[str, ...],
                 columns: tuple[tuple[str, str], ...] = (), compared: tuple[str, ...] = ()) -> MetricRow:
    """An indicator whose ledger, or a column it reads, is absent: no value, no target judgement, no comparison
    (missing, not 0). A missing ledger is said first: it lacks every column."""
    if gone:
        columns = ()
    reason = missing_reason(gone) if gone else missing_column_reason(columns)
    return MetricRow(unit=unit_name, metric=ind.id, name=ind.name, area=ind.area, kind=ind.kind, numerator=None,
                     denominator=None, exact=None, display=MISSING if gone else NO_COLUMN,
                     reason=reason, target=ind.target, unit_label=ind.unit_label, missing=gone,
                     missing_columns=columns, comparison_notes={n: reason for n in compared})


@dataclass(frozen=True)
class Figure:
    """One indicator for one unit in the main window, with the engine that computed it: the rows `explain`
    lists are the rows `compute` counted."""

    indicator: Indicator
    row: MetricRow  # the figure, exactly as compute() gives it (no 环比/同比)
    windows: Windows
    by: str | None  # the unit column the unit was found in; None for the whole input
    group: str

    def rows(self, measure: Measure) -> np.ndarray:
        """Per row of the measure's whole ledger: counted by the measure for this unit in the main window."""
        return self.windows.measure_rows(measure, 0) & self.windows.in_group(measure.ledger, self.by, self.group)

    def frame(self, ledger: str) -> pd.DataFrame:
        """The whole ledger with the main window's derived columns; `rows()` indexes it."""
        return self.windows.frame(ledger, 0)

    def has_counts(self, ledger: str, conds: Where) -> pd.Series:
        """Per person: rows of `ledger` in the main window matching `conds` (what a `has` condition tests)."""
        return self.windows.has_counts(ledger, conds, 0)


def figure(ledgers: LedgerSet, catalog: Catalog, metric: str, period: Period, *,
           unit: str | None = None) -> Figure:
    """One indicator for the whole input or for one unit (a 所属村居 or 所属镇街 value), through the same
    engine and row builder as compute(); UsageError naming the known units when `unit` is in no ledger."""
    ind = catalog.get(metric)
    whole = whole_unit_name(ledgers)
    win = Windows(ledgers, normalise(ledgers), [period], whole)
    by = None if unit is None or unit == whole else _unit_column(win, unit)
    group = WHOLE if by is None else unit
    agg = win.aggregate(_measures([ind]), by)[0]
    return Figure(ind, _row(ind, agg, group, unit or whole, period, {}, by), win, by, group)


def _unit_column(win: Windows, unit: str) -> str:
    """The unit column holding `unit` in the main window's rows (flows in the window, stocks whole)."""
    def values(col: str):
        for led, df in win.base.items():
            if col in df.columns:
                s = df[col]
                yield s[win.in_window[led][0]] if led in win.in_window else s

    for col in ("所属村居", "所属镇街"):
        if any((s == unit).any() for s in values(col)):
            return col
    known = sorted({str(x) for c in ("所属镇街", "所属村居") for s in values(c) for x in s.dropna().unique()})
    raise UsageError(f"台帐中没有单位「{unit}」。可用的单位：{'、'.join(known[:30]) or '（无）'}")


def _row(ind: Indicator, agg: dict, group: str, unit_name: str, period: Period, windows: dict, lvl) -> MetricRow:
    v = _value(ind, agg, group)
    applies = _target_applies(ind, period)
    met = None
    if ind.target_spec is not None and applies and v.exact is not None:
        met = ind.target_spec.met(v.exact)
    gap = _gap(ind, v) if applies else None
    cmp, notes = {}, {}
    for name in ("previous", "yoy", "baseline"):
        if name not in windows:
            continue
        w, coverage, waggs = windows[name]
        why = coverage.reason(ind, w, name, group if lvl == "所属镇街" else WHOLE)
        if why:
            notes[name] = why
        else:
            cmp[name] = _comparison(ind, v, _value(ind, waggs[lvl], group), w, relative=name != "previous")
    extra = {label: _num(agg[m.key()].get(group, _ZERO)) for label, m in ind.extra}
    if ind.target_spec is not None and not applies:
        extra["目标说明"] = "目标只适用于整年统计期"
    return MetricRow(
        unit=unit_name, metric=ind.id, name=ind.name, area=ind.area, kind=ind.kind,
        numerator=_num(v.num), denominator=_num(v.den) if ind.kind == Kind.RATIO else None,
        exact=v.exact, display=_display(ind, v.exact), reason=_reason(ind, v),
        target=ind.target, met=met, gap=gap, unit_label=ind.unit_label,
        previous=cmp.get("previous"), yoy=cmp.get("yoy"), baseline=cmp.get("baseline"), extra=extra,
        comparison_notes=notes,
    )


__all__ = ["DASH", "MISSING", "NO_COLUMN", "ComputeResult", "Figure", "Windows", "baseline_window", "compute",
           "exact_values", "figure", "missing_columns", "missing_ledgers", "normalise"]
