"""`explain`: which rows make a figure — the numerator rows and the denominator-only rows, with locations."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .. import schema
from ..errors import UsageError
from ..ledgers.model import LedgerSet
from ..periods import Period
from ..privacy import NO_NAMES, Names, mask_id, mask_name, mask_value
from .catalog import Catalog, Indicator
from .display import MISSING, missing_reason
from .engine import (
    ID,
    Prepared,
    _display,
    aggregate,
    has_counts,
    mask,
    missing_ledgers,
    normalise,
    prepare,
    whole_unit_name,
)

# Source columns behind each derived column: what `explain` shows as the deciding values.
DERIVED_SOURCES = {
    "persons": {"在册": ("人员状态",), "社会面": ("人员状态",), "出境": ("人员状态",), "在所": ("人员状态",),
                "三年未复吸": ("人员状态", "末次检出日期"), "戒断一年以上": ("末次检出日期",),
                "管控": ("人员状态", "末次检出日期")},
    "community": {"在册": ("决定日期", "执行状态", "解除日期"), "已报到建档": ("报到日期", "已建档"),
                  "报到期内": ("决定日期", "报到日期")},
}
DATE_COLUMN = {"seizures": "查处日期", "contacts": "日期", "publicity": "日期"}


@dataclass
class ExplainRow:
    file: str
    sheet: str
    row: int
    id: str | None
    name: str | None
    values: dict  # deciding column -> text

    def to_dict(self, show_pii: bool = False, names: Names = NO_NAMES) -> dict:
        """The row for output; the person masked, and any ID or known name in the other values too."""
        return {"file": self.file, "sheet": self.sheet, "row": self.row,
                "公民身份号码": self.id if show_pii else mask_id(self.id),
                "姓名": self.name if show_pii else mask_name(self.name),
                "values": {c: mask_value(c, v, show_pii, names) for c, v in self.values.items()}}


@dataclass
class Explanation:
    indicator: Indicator
    period: Period
    unit: str
    numerator: int | float | None
    denominator: int | float | None
    display: str
    columns: list[str]
    numerator_rows: list[ExplainRow] = field(default_factory=list)
    other_rows: list[ExplainRow] = field(default_factory=list)  # in the denominator, not in the numerator
    denominator_rows: list[ExplainRow] = field(default_factory=list)  # units rows summed as a denominator
    notes: list[str] = field(default_factory=list)
    names: Names = NO_NAMES  # the ledgers' names, masked wherever a value holds one

    def to_dict(self, show_pii: bool = False) -> dict:
        ind = self.indicator
        return {
            "metric": ind.id, "name": ind.name, "definition": ind.definition, "pending": ind.pending,
            "pending_note": ind.pending_note, "period": self.period.to_dict(), "unit": self.unit,
            "numerator": self.numerator, "denominator": self.denominator, "display": self.display,
            "columns": self.columns,
            "numerator_rows": [r.to_dict(show_pii, self.names) for r in self.numerator_rows],
            "other_rows": [r.to_dict(show_pii, self.names) for r in self.other_rows],
            "denominator_rows": [r.to_dict(show_pii, self.names) for r in self.denominator_rows],
            "notes": self.notes,
        }


def _has_label(ledger: str, conds: tuple) -> str:
    vals = []
    for c in conds:
        if c[0] == "eq":
            vals.append(str(c[2]))
        elif c[0] == "in":
            vals.extend(c[2])
    return f"{schema.KINDS[ledger].name}记录数" + (f"（{'/'.join(vals)}）" if vals else "")


def _columns(ledger: str, conds: tuple, out: dict, has: list) -> None:
    for c in conds:
        if c[0] in ("eq", "in"):
            for src in DERIVED_SOURCES.get(ledger, {}).get(c[1], ()):
                out.setdefault(src, None)
            out.setdefault(c[1], None)
        elif c[0] == "not":
            _columns(ledger, c[1], out, has)
        elif c[0] == "any":
            for sub in c[1]:
                _columns(ledger, sub, out, has)
        elif c[0] == "has":
            has.append((c[1], c[2]))


def _text(v) -> str:
    if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)):
        return ""
    if isinstance(v, (bool,)) or type(v).__name__ in ("bool_", "BooleanDtype"):
        return "是" if v else "否"
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _rows(df: pd.DataFrame, cols: list[str], has_cols: dict) -> list[ExplainRow]:
    out = []
    if not len(df):
        return out
    df = df.sort_values([schema.ORIGIN_FILE, schema.ORIGIN_SHEET, schema.ORIGIN_ROW], kind="stable")
    for rec in df.to_dict("records"):  # explain output is read by a person: at most a few thousand rows
        values = {c: _text(rec.get(c)) for c in cols}
        for label, counts in has_cols.items():
            values[label] = str(int(counts.get(rec.get(ID), 0)))
        out.append(ExplainRow(str(rec.get(schema.ORIGIN_FILE) or ""), str(rec.get(schema.ORIGIN_SHEET) or ""),
                              int(rec.get(schema.ORIGIN_ROW) or 0), rec.get(ID), rec.get("姓名"), values))
    return out


def explain(ledgers: LedgerSet, catalog: Catalog, metric: str, period: Period, *,
            unit: str | None = None) -> Explanation:
    ind = catalog.get(metric)
    ledgers.require_any()
    whole = whole_unit_name(ledgers)
    gone = missing_ledgers(ind, ledgers.kinds_present)
    if gone:
        return Explanation(ind, period, unit or whole, None, None, MISSING, [],
                           notes=[f"{missing_reason(gone)}：此指标没有数值（不按0计）。"])
    base = normalise(ledgers)
    prep = prepare(base, period, whole)
    by = None
    if unit is not None and unit != whole:
        by = _unit_column(prep, unit)
        for led in prep.frames:
            df = prep.frames[led]
            if by in df.columns:
                prep.frames[led] = df[df[by] == unit]
        prep._masks.clear()
    ms = [ind.numerator] + ([ind.denominator] if ind.denominator else [])
    agg = aggregate(prep, ms, None)
    from .engine import WHOLE, _value
    v = _value(ind, agg, WHOLE)
    num_m, den_m = ind.numerator, ind.denominator
    cols: dict = {}
    has: list = []
    led = num_m.ledger
    date_col = DATE_COLUMN.get(led)
    if date_col:
        cols[date_col] = None
    _columns(led, num_m.where, cols, has)
    if den_m is not None and den_m.ledger == led:
        _columns(led, den_m.where, cols, has)
    if num_m.column:
        cols[num_m.column] = None
    colnames = [c for c in cols if c not in schema.PII_COLUMNS]
    has_cols = {_has_label(hl, hc): has_counts(prep, hl, hc) for hl, hc in dict.fromkeys(has)}
    df = prep.frames[led]
    nm = mask(prep, led, num_m.where)
    num_rows = _rows(df[nm], colnames, has_cols)
    other, den_rows, notes = [], [], []
    if den_m is not None and den_m.ledger == led:
        dm = mask(prep, led, den_m.where)
        rest = dm & ~nm
        if den_m.agg == "persons":
            counted = set(df.loc[nm, ID].dropna())
            rest = rest & ~df[ID].isin(counted).to_numpy()
        other = _rows(df[rest], colnames, has_cols)
    elif den_m is not None:
        u = prep.frames[den_m.ledger]
        u = u[mask(prep, den_m.ledger, den_m.where)]
        ucols = [c for c in ("所属镇街", "所属村居", den_m.column) if c in u.columns]
        den_rows = _rows(u, ucols, {})
    if num_m.agg == "persons" and len(num_rows) != (v.num or 0):
        notes.append(f"分子 {len(num_rows)} 行涉及 {int(v.num)} 人（同一人多行只计一次）。")
    if ind.pending:
        notes.append("口径待确认：" + (ind.pending_note or "此指标的口径尚无公布依据。"))
    for label, m in ind.extra:
        n = aggregate(prep, [m], None)[m.key()].get(WHOLE, 0)
        notes.append(f"{label}：{int(n)} 人（不计入分子分母）。")
    return Explanation(ind, period, unit or whole, _n(v.num), _n(v.den) if ind.kind == "ratio" else None,
                       _display(ind, v.exact), colnames + list(has_cols), num_rows, other, den_rows, notes,
                       Names.of(ledgers))


def _n(x):
    if x is None:
        return None
    return int(x) if x.denominator == 1 else float(x)


def _unit_column(prep: Prepared, unit: str) -> str:
    for col in ("所属村居", "所属镇街"):
        for df in prep.frames.values():
            if col in df.columns and (df[col] == unit).any():
                return col
    known = sorted({str(x) for df in prep.frames.values() for c in ("所属镇街", "所属村居") if c in df.columns
                    for x in df[c].dropna().unique()})
    raise UsageError(f"台帐中没有单位「{unit}」。可用的单位：{'、'.join(known[:30]) or '（无）'}")
