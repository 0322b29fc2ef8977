"""The generic engine: evaluates catalog declarations over a LedgerSet for a period.

One pass per ledger: every filter becomes a boolean column (vectorised), then one group-by aggregates all
measures of that ledger for the whole input and for each unit at once. Values stay exact (ints and
Fractions); rounding happens only in display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import ceil

import numpy as np
import pandas as pd

from .. import schema
from ..errors import UsageError
from ..ledgers.model import LedgerSet
from ..periods import Period
from .catalog import Catalog, Indicator, Measure
from .display import DASH, format_change, format_number, format_value
from .model import Comparison, MetricRow

ID = "公民身份号码"
WHOLE = "\x00whole"  # group key of the whole input (never a real unit name)
UNFILLED = "（未填）"
REPORTING_DAYS = 15  # 戒毒条例: report within 15 days of the decision
SOCIAL = ("社会面", "社区戒毒", "社区康复", "失联")
IN_FACILITY = ("强制隔离戒毒", "羁押", "服刑")
NOT_REGISTERED = ("死亡", "注销")
TESTS = ("尿检", "毛发检测", "外出帮教尿检")
ENDED_STATES = ("期满解除", "提前解除", "严重违反协议", "死亡", "脱失", "收监")
# Date columns whose earliest value says from when a ledger covers events (for 环比/同比).
COVERAGE_COLUMNS = {"seizures": "查处日期", "contacts": "日期", "publicity": "日期", "community": "决定日期",
                    "persons": "初次发现日期"}
FLOW_DATE = {"seizures": "查处日期", "contacts": "日期", "publicity": "日期"}


# ---------------------------------------------------------------- results
@dataclass
class ComputeResult:
    period: Period
    unit: str
    by: str | None
    rows: list[MetricRow]
    whole_rows: int = 0  # the first `whole_rows` rows are the whole input's
    groups: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"period": self.period.to_dict(), "rows": [r.to_dict() for r in self.rows]}

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

    def for_unit(self, unit: str | None = None) -> list[MetricRow]:
        if unit is None:
            return self.rows[: self.whole_rows]
        return [r for r in self.rows[self.whole_rows:] if r.unit == unit]


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


def _fill_units(df: pd.DataFrame, persons: pd.DataFrame, unit: str | None) -> pd.DataFrame:
    """Fill 所属村居/所属镇街 missing on a row from the person's entry, then 所属镇街 from the unit."""
    if not len(df):
        return df
    df = df.copy()
    if ID in df.columns and len(persons):
        p = persons.dropna(subset=[ID]).drop_duplicates(ID).set_index(ID)
        for col in schema.UNIT_COLUMNS + ("姓名",):
            if col in df.columns and col in p.columns:
                miss = df[col].isna()
                if miss.any():
                    df.loc[miss, col] = _lookup(df.loc[miss, ID], p[col]).to_numpy()
    if unit and "所属镇街" in df.columns:
        df["所属镇街"] = df["所属镇街"].where(df["所属镇街"].notna(), unit)
    for col in schema.UNIT_COLUMNS:
        if col in df.columns:
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


@dataclass
class Prepared:
    """Frames for one window: flows cut to the window, derived columns added."""

    period: Period
    frames: dict[str, pd.DataFrame]
    full: dict[str, pd.DataFrame]  # whole ledgers (filled, derived), for coverage and explain
    unit: str
    _masks: dict = field(default_factory=dict)
    _has: dict = field(default_factory=dict)


def normalise(ledgers: LedgerSet) -> dict[str, pd.DataFrame]:
    """Window-independent preparation (unit filling, 新发现); done once per compute."""
    unit = ledgers.unit
    persons = ledgers.frames["persons"]
    if unit and len(persons):
        persons = _fill_units(persons, persons.iloc[0:0], unit)
    out = {"persons": persons}
    for kind in ("seizures", "community", "contacts"):
        out[kind] = _fill_units(ledgers.frames[kind], persons, unit)
    out["seizures"] = _derive_new(out["seizures"], persons)
    out["publicity"] = ledgers.frames["publicity"]
    units = ledgers.frames["units"]
    if unit and len(units):
        units = units.copy()
        units["所属镇街"] = units["所属镇街"].where(units["所属镇街"].notna(), unit)
    out["units"] = units
    return out


def prepare(base: dict[str, pd.DataFrame], period: Period, unit: str) -> Prepared:
    start, last = pd.Timestamp(period.start), pd.Timestamp(period.end)
    frames: dict[str, pd.DataFrame] = {}
    for kind, col in FLOW_DATE.items():
        df = base[kind]
        d = df[col]
        frames[kind] = df[(d >= start) & (d <= last)]
    frames["persons"] = _derive_persons(base, last)
    frames["community"] = _derive_community(base["community"], last)
    frames["units"] = base["units"]
    return Prepared(period, frames, base, unit)


def _lookup(keys: pd.Series, table: pd.Series) -> pd.Series:
    """keys.map(table) that keeps table's dtype (also when table is empty)."""
    if not len(table):
        return pd.Series(pd.NaT if table.dtype.kind == "M" else None, index=keys.index, dtype=table.dtype)
    return pd.Series(table.reindex(keys.to_numpy()).to_numpy(), index=keys.index)


def _latest_by_id(df: pd.DataFrame, col: str, mask: pd.Series) -> pd.Series:
    sub = df.loc[mask, [ID, col]].dropna()
    if not len(sub):
        return pd.Series([], dtype="datetime64[ns]")
    return sub.groupby(ID)[col].max()


def _derive_persons(base: dict[str, pd.DataFrame], last: pd.Timestamp) -> pd.DataFrame:
    p = base["persons"].copy()
    seiz, cont = base["seizures"], base["contacts"]
    ids = p[ID]
    own = p["末次查获日期"].where(p["末次查获日期"] <= last)
    s_last = _lookup(ids, _latest_by_id(seiz, "查处日期", seiz["查处日期"] <= last))
    pos = (cont["结果"] == "阳性") & cont["方式"].isin(TESTS) & (cont["日期"] <= last)
    c_last = _lookup(ids, _latest_by_id(cont, "日期", pos))
    latest = pd.concat([own, pd.to_datetime(s_last), pd.to_datetime(c_last)], axis=1).max(axis=1)
    first = p["初次发现日期"]
    latest = latest.where(latest.notna(), first.where(first <= last))
    p["末次检出日期"] = latest.astype("datetime64[ns]")
    s_first = _lookup(ids, seiz.dropna(subset=[ID, "查处日期"]).groupby(ID)["查处日期"].min())
    known_from = pd.concat([first, s_first], axis=1).min(axis=1)
    known = known_from.isna() | (known_from <= last)
    status = p["人员状态"]
    registered = known & ~status.isin(NOT_REGISTERED)
    abroad = (status == "出境").fillna(False).astype(bool)
    inside = status.isin(IN_FACILITY)
    # Vectorised "+N years" with the civil-code rule (Feb 29 + 1 year -> Feb 28).
    plus3 = latest + pd.DateOffset(years=3)
    plus1 = latest + pd.DateOffset(years=1)
    p["在册"] = registered
    p["出境"] = abroad
    p["在所"] = inside
    p["社会面"] = registered & (status.isin(SOCIAL) | status.isna())
    p["三年未复吸"] = registered & ~abroad & ~inside & (plus3 <= last).fillna(False)
    p["戒断一年以上"] = registered & (plus1 <= last).fillna(False)
    p["管控"] = p["社会面"] & ~p["三年未复吸"]
    return p


def _derive_community(c: pd.DataFrame, last: pd.Timestamp) -> pd.DataFrame:
    c = c.copy()
    decided = c["决定日期"]
    end = c["解除日期"]
    ended = (end < last) | (end.isna() & c["执行状态"].isin(ENDED_STATES))
    reported = c["报到日期"] <= last
    c["在册"] = ((decided <= last) & ~ended).fillna(False).astype(bool)
    c["已报到建档"] = (reported & _flag(c["已建档"])).astype(bool)
    window_start = last - pd.Timedelta(days=REPORTING_DAYS - 1)
    c["报到期内"] = ((decided >= window_start) & (decided <= last) & ~reported).fillna(False).astype(bool)
    return c


# ---------------------------------------------------------------- filters
def mask(prep: Prepared, ledger: str, conds: tuple) -> np.ndarray:
    key = (ledger, conds)
    if key in prep._masks:
        return prep._masks[key]
    df = prep.frames[ledger]
    m = np.ones(len(df), dtype=bool)
    for c in conds:
        m &= _cond(prep, ledger, df, c)
    prep._masks[key] = m
    return m


def _cond(prep: Prepared, ledger: str, df: pd.DataFrame, c: tuple) -> np.ndarray:
    op = c[0]
    if op == "eq":
        col, v = c[1], c[2]
        s = df[col]
        if isinstance(v, bool):
            b = _flag(s).to_numpy()
            return b if v else ~b
        return (s == v).fillna(False).to_numpy(dtype=bool)
    if op == "in":
        return df[c[1]].isin(list(c[2])).to_numpy(dtype=bool)
    if op == "not":
        return ~mask(prep, ledger, c[1])
    if op == "any":
        out = np.zeros(len(df), dtype=bool)
        for sub in c[1]:
            out |= mask(prep, ledger, sub)
        return out
    if op == "has":
        counts = has_counts(prep, c[1], c[2])
        return df[ID].isin(counts.index).to_numpy(dtype=bool)
    raise ValueError(op)


def has_counts(prep: Prepared, ledger: str, conds: tuple) -> pd.Series:
    """Rows of `ledger` in the window matching `conds`, counted per person."""
    key = (ledger, conds)
    if key not in prep._has:
        df = prep.frames[ledger]
        m = mask(prep, ledger, conds)
        prep._has[key] = df.loc[m, ID].dropna().value_counts()
    return prep._has[key]


# ---------------------------------------------------------------- aggregation
def _group_series(df: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series(WHOLE, index=df.index, dtype=object)
    if by not in df.columns:
        return pd.Series(UNFILLED, index=df.index, dtype=object)
    return df[by].astype(object).where(df[by].notna(), UNFILLED)


def aggregate(prep: Prepared, measures: list[Measure], by: str | None) -> dict[tuple, dict[str, Fraction]]:
    """{measure key: {group: value}} for every measure, one group-by per ledger."""
    out: dict[tuple, dict[str, Fraction]] = {}
    by_ledger: dict[str, list[Measure]] = {}
    for m in measures:
        by_ledger.setdefault(m.ledger, [])
        if m not in by_ledger[m.ledger]:
            by_ledger[m.ledger].append(m)
    for ledger, ms in by_ledger.items():
        if ledger == "units":
            for m in ms:
                out[m.key()] = _units_sum(prep, m, by)
            continue
        df = prep.frames[ledger]
        g = _group_series(df, by)
        cols = {}
        for i, m in enumerate(ms):
            cols[f"m{i}"] = mask(prep, ledger, m.where)
        masks = pd.DataFrame(cols, index=df.index)
        persons = [i for i, m in enumerate(ms) if m.agg == "persons"]
        rows = [i for i, m in enumerate(ms) if m.agg == "rows"]
        sums = [i for i, m in enumerate(ms) if m.agg == "sum"]
        res: dict[int, pd.Series] = {}
        if persons:
            sub = masks[[f"m{i}" for i in persons]].copy()
            sub["_g"] = g.to_numpy()
            sub["_id"] = df[ID].to_numpy()
            sub = sub[sub["_id"].notna()]
            per = sub.groupby(["_g", "_id"], sort=False).any().groupby(level=0).sum()
            for i in persons:
                res[i] = per[f"m{i}"]
        if rows:
            per = masks[[f"m{i}" for i in rows]].groupby(g.to_numpy()).sum()
            for i in rows:
                res[i] = per[f"m{i}"]
        if sums:
            vals = pd.DataFrame({f"m{i}": masks[f"m{i}"] * df[ms[i].column].fillna(0).to_numpy() for i in sums},
                                index=df.index)
            per = vals.groupby(g.to_numpy()).sum()
            for i in sums:
                res[i] = per[f"m{i}"]
        for i, m in enumerate(ms):
            out[m.key()] = {str(k): _exact(v) for k, v in res[i].items()}
    return out


def _exact(v) -> Fraction:
    if isinstance(v, (int, np.integer)):
        return Fraction(int(v))
    f = float(v)
    if f.is_integer():
        return Fraction(int(f))
    return Fraction(repr(f))  # the decimal the ledger shows, not the binary float


def _units_sum(prep: Prepared, m: Measure, by: str | None) -> dict[str, Fraction]:
    """Σ of a units column. A township row (所属村居 empty) stands for its township; otherwise its villages add up."""
    df = prep.frames["units"]
    if not len(df):
        return {}
    df = df[mask(prep, "units", m.where)]
    vals = df[m.column]
    village = df["所属村居"].notna() if "所属村居" in df.columns else pd.Series(False, index=df.index)
    town = df["所属镇街"].astype(object).where(df["所属镇街"].notna(), prep.unit) if "所属镇街" in df.columns else \
        pd.Series(prep.unit, index=df.index)
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


# ---------------------------------------------------------------- rows
def _measures(indicators: list[Indicator]) -> list[Measure]:
    out = []
    for ind in indicators:
        out.append(ind.numerator)
        if ind.denominator is not None:
            out.append(ind.denominator)
        out.extend(m for _, m in ind.extra)
    return out


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
    num = agg[ind.numerator.key()].get(group, Fraction(0))
    if ind.kind != "ratio":
        return _Value(num, None, num)
    den = agg[ind.denominator.key()].get(group, Fraction(0))
    return _Value(num, den, (num / den) if den else None)


def _gap(ind: Indicator, v: _Value) -> int | None:
    t = ind.target_spec
    if t is None or v.exact is None or t.met(v.exact):
        return None
    if ind.kind == "ratio":
        k = t.value * v.den - v.num if t.op == ">=" else v.num - t.value * v.den
    else:
        k = t.value - v.num if t.op == ">=" else v.num - t.value
    return max(int(ceil(k)), 0)


def _target_applies(ind: Indicator, period: Period) -> bool:
    if ind.target_window == "year":
        return period.start.month == 1 and period.start.day == 1 and period.end.month == 12 \
            and period.end.day == 31 and period.start.year == period.end.year
    return True


def _display(ind: Indicator, exact: Fraction | None) -> str:
    if ind.kind == "ratio":
        return format_value(exact, ind.format, ind.decimals)
    return format_number(exact, ind.decimals)


def _reason(ind: Indicator, v: _Value, catalog_names: dict) -> str:
    if v.exact is not None:
        return ""
    den = ind.denominator
    if den is not None and den.ledger == "units":
        return f"分母为0：单位信息表中没有{den.column}数"
    return "分母为0：统计期内没有符合分母口径的人员或记录"


def _comparison(ind: Indicator, now: _Value, then: _Value | None, window: Period) -> Comparison | None:
    if then is None:
        return None
    change = None
    words = ""
    if now.exact is not None and then.exact is not None:
        delta = now.exact - then.exact
        change = float(delta) if ind.kind == "ratio" else _num(delta)
        words = format_change(delta, ind.format, ind.decimals, ind.unit_label if ind.kind != "ratio" else "")
    return Comparison(start=window.start.isoformat(), end=window.end.isoformat(),
                      value=None if then.exact is None else float(then.exact),
                      display=_display(ind, then.exact), numerator=_num(then.num),
                      denominator=_num(then.den) if ind.kind == "ratio" else None,
                      change=change, change_display=words)


def _covered(ind: Indicator, window: Period, earliest: dict[str, pd.Timestamp | None]) -> bool:
    start = pd.Timestamp(window.start)
    for led in ind.ledgers:
        if led == "units":
            continue
        e = earliest.get(led)
        if e is None or e > start:
            return False
    return True


def _earliest(base: dict[str, pd.DataFrame]) -> dict[str, pd.Timestamp | None]:
    out = {}
    for led, col in COVERAGE_COLUMNS.items():
        s = base[led][col].dropna()
        out[led] = s.min() if len(s) else None
    if out["persons"] is None and len(base["persons"]):
        out["persons"] = pd.Timestamp.min  # a registry without dates: a stock as recorded, always comparable
    return out


def compute(ledgers: LedgerSet, catalog: Catalog, period: Period, *, by: str | None = None,
            metrics: list[str] | None = None, compare: bool = True) -> ComputeResult:
    """Every selected indicator for the period, for the whole input and for each `by` group."""
    if by is not None and by not in schema.UNIT_COLUMNS:
        raise UsageError(f"--by 只能是单位列：{'、'.join(schema.UNIT_COLUMNS)}（收到「{by}」）。")
    indicators = catalog.select(metrics)
    unit = whole_unit_name(ledgers)
    base = normalise(ledgers)
    measures = _measures(indicators)
    prep = prepare(base, period, unit)
    levels = [None] + ([by] if by else [])
    aggs = {lvl: aggregate(prep, measures, lvl) for lvl in levels}
    windows = {}
    if compare:
        earliest = _earliest(base)
        done: dict = {}  # for a whole year, 环比 and 同比 are the same window: evaluated once
        for name, w in (("previous", period.previous()), ("yoy", period.year_earlier())):
            todo = [i for i in indicators if _covered(i, w, earliest)]
            if todo:
                key = (w.start, w.end, tuple(i.id for i in todo))
                if key not in done:
                    wp = prepare(base, w, unit)
                    done[key] = {lvl: aggregate(wp, _measures(todo), lvl) for lvl in levels}
                windows[name] = (w, {i.id for i in todo}, done[key])
    groups: list[str] = []
    if by:
        seen = set()
        for led in ("persons", "seizures", "community", "contacts", "publicity", "units"):
            df = prep.frames[led] if led in FLOW_DATE else base[led]
            if by in df.columns and len(df):
                seen.update(_group_series(df, by).unique())
        for per_measure in aggs[by].values():
            seen.update(per_measure)
        groups = sorted(str(g) for g in seen)
    rows: list[MetricRow] = []
    for lvl, gs in ((None, [WHOLE]), (by, groups)):
        if lvl is None and gs != [WHOLE]:
            continue
        if lvl is not None and not by:
            continue
        for g in gs:
            for ind in indicators:
                rows.append(_row(ind, aggs[lvl], g, unit if g == WHOLE else g, period, windows, lvl))
    whole = len(indicators)
    return ComputeResult(period=period, unit=unit, by=by, rows=rows, whole_rows=whole, groups=groups)


def _row(ind: Indicator, agg: dict, group: str, unit_name: str, period: Period, windows: dict, lvl) -> MetricRow:
    v = _value(ind, agg, group)
    applies = _target_applies(ind, period)
    met = None
    if ind.target_spec is not None and applies and v.exact is not None:
        met = ind.target_spec.met(v.exact)
    gap = _gap(ind, v) if applies else None
    cmp = {}
    for name in ("previous", "yoy"):
        if name in windows and ind.id in windows[name][1]:
            w, _, waggs = windows[name]
            cmp[name] = _comparison(ind, v, _value(ind, waggs[lvl], group), w)
    extra = {label: _num(agg[m.key()].get(group, Fraction(0))) for label, m in ind.extra}
    if ind.target_spec is not None and not applies:
        extra["目标说明"] = "目标只适用于整年统计期"
    return MetricRow(
        unit=unit_name, metric=ind.id, name=ind.name, area=ind.area, kind=ind.kind,
        numerator=_num(v.num), denominator=_num(v.den) if ind.kind == "ratio" else None,
        exact=v.exact, display=_display(ind, v.exact), reason=_reason(ind, v, {}),
        target=ind.target, met=met, gap=gap, unit_label=ind.unit_label,
        previous=cmp.get("previous"), yoy=cmp.get("yoy"), extra=extra,
    )


__all__ = ["compute", "ComputeResult", "prepare", "normalise", "aggregate", "mask", "DASH"]
