"""`explain`: which rows make a figure — the numerator rows and the denominator-only rows, with locations."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import derived, schema
from ..ledgers.model import LedgerSet
from ..periods import Period
from ..privacy import NO_NAMES, Names, mask_id, mask_name, mask_place, mask_value
from .catalog import Aggregation, Catalog, Indicator
from .display import MISSING, NO_COLUMN, missing_column_reason, missing_reason
from .engine import ID, figure, missing_columns, missing_ledgers, whole_unit_name
from .filters import Collect, Has, HasAfter, Where, required_values


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
        return {"file": mask_place(self.file, show_pii, names), "sheet": mask_place(self.sheet, show_pii, names),
                "row": self.row,
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
    excluded_rows: list[ExplainRow] = field(default_factory=list)  # schedule: orders in force, not reported

    def to_dict(self, show_pii: bool = False) -> dict:
        from ..periods import window_note

        ind = self.indicator
        return {
            "metric": ind.id, "name": ind.name, "definition": ind.definition, "pending": ind.pending,
            "pending_note": ind.pending_note, "period": self.period.to_dict(),
            "window": {"note": window_note(self.period)}, "unit": self.unit,
            "numerator": self.numerator, "denominator": self.denominator, "display": self.display,
            "columns": self.columns,
            "numerator_rows": [r.to_dict(show_pii, self.names) for r in self.numerator_rows],
            "other_rows": [r.to_dict(show_pii, self.names) for r in self.other_rows],
            "denominator_rows": [r.to_dict(show_pii, self.names) for r in self.denominator_rows],
            "excluded_rows": [r.to_dict(show_pii, self.names) for r in self.excluded_rows],
            "notes": self.notes,
        }

    def to_frame(self, show_pii: bool = False) -> pd.DataFrame:
        """The listed rows, one per ledger row: part (分子 / 分母未计入分子 / 分母), file, sheet, row, 公民身份号码,
        姓名 (masked unless show_pii), then the deciding columns. Example: ``ex.to_frame().groupby("part").size()``."""
        parts = (("分子", self.numerator_rows), ("分母未计入分子", self.other_rows), ("分母", self.denominator_rows),
                 ("不计入", self.excluded_rows))
        recs = []
        for part, rows in parts:
            for r in rows:
                d = r.to_dict(show_pii, self.names)
                recs.append({"part": part, "file": d["file"], "sheet": d["sheet"], "row": r.row,
                             "公民身份号码": d["公民身份号码"], "姓名": d["姓名"], **r.values})
        extra = list(dict.fromkeys(c for _, rows in parts for r in rows for c in r.values))
        return pd.DataFrame(recs, columns=["part", "file", "sheet", "row", "公民身份号码", "姓名", *extra])


def _has_label(ledger: str, conds: Where) -> str:
    vals = required_values(conds)
    return f"{schema.KINDS[ledger].name}记录数" + (f"（{'/'.join(vals)}）" if vals else "")


class _Listed(Collect):
    """What explain lists beside a row: the columns a filter tests (a derived column after the columns it is
    computed from) as names, and its `has` conditions as ("has", ledger, where) / ("latest", ledger, where)."""

    def column(self, ledger: str, column: str) -> list:
        d = derived.get(ledger, column)
        return [*(d.sources if d else ()), column]

    def has(self, ledger: str, c: Has) -> list:
        return [("has", c.ledger, c.where)]

    def has_after(self, ledger: str, c: HasAfter) -> list:
        """The row's own date beside the latest matching event (see _latest_dates)."""
        return [c.after, ("latest", c.ledger, c.where)]


def _columns(ledger: str, conds: Where, out: dict, has: list) -> None:
    for x in _Listed().where(ledger, conds):
        if isinstance(x, str):
            out.setdefault(x, None)
        else:
            has.append(x)


def _latest_dates(fig, ledger: str, conds: Where) -> pd.Series:
    """Per person (ID): the latest date of a matching row of `ledger` in the window (what `has … after` tests)."""
    win = fig.windows
    latest = win.latest(ledger, conds, 0)[: win.n_ids]
    hit = np.flatnonzero(latest != np.iinfo(np.int64).min)
    days = latest[hit].view("datetime64[ns]").astype("datetime64[D]").astype(str)
    return pd.Series(days, index=pd.Index(win.id_values[hit], dtype=object), dtype=object)


def _text(v) -> str:
    if v is None or (not isinstance(v, (list, tuple)) and pd.isna(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
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
            v = counts.get(rec.get(ID))
            values[label] = v if isinstance(v, str) else str(int(v or 0))
        out.append(ExplainRow(str(rec.get(schema.ORIGIN_FILE) or ""), str(rec.get(schema.ORIGIN_SHEET) or ""),
                              int(rec.get(schema.ORIGIN_ROW) or 0), rec.get(ID), rec.get("姓名"), values))
    return out


def explain(ledgers: LedgerSet, catalog: Catalog, metric: str, period: Period, *,
            unit: str | None = None) -> Explanation:
    """The figure compute() gives for `metric` (whole input, or `unit`), and the rows it counted."""
    ind = catalog.get(metric)
    ledgers.require_any()
    gone = missing_ledgers(ind, ledgers.kinds_present)
    if gone:
        return Explanation(ind, period, unit or whole_unit_name(ledgers), None, None, MISSING, [],
                           notes=[f"{missing_reason(gone)}：此指标没有数值（不按0计）。"])
    cols = missing_columns(ind, ledgers)
    if cols:
        return Explanation(ind, period, unit or whole_unit_name(ledgers), None, None, NO_COLUMN, [],
                           notes=[f"{missing_column_reason(cols)}：此指标没有数值（不按0计），请在台帐中增加此列。"])
    fig = figure(ledgers, catalog, metric, period, unit=unit)
    if fig.indicator.schedule is not None:
        return _explain_schedule(fig, Names.of(ledgers))
    return _explain_rows(fig, period, Names.of(ledgers))


def _deciding(ind: Indicator) -> tuple[list[str], list]:
    """The columns listed beside each numerator row (the row's date, the filters' columns, the summed column;
    no PII), and the `has` conditions whose per-person counts or dates are listed too."""
    num_m, den_m = ind.numerator, ind.denominator
    led = num_m.ledger
    cols: dict = {}
    has: list = []
    date_col = schema.KINDS[led].date_column
    if date_col:
        cols[date_col] = None
    _columns(led, num_m.where, cols, has)
    if den_m is not None and den_m.ledger == led:
        _columns(led, den_m.where, cols, has)
    if num_m.column:
        cols[num_m.column] = None
    return [c for c in cols if c not in schema.PII_COLUMNS], has


def _explain_rows(fig, period: Period, names: Names) -> Explanation:
    """A count, sum or ratio: the numerator rows, the denominator's other rows (same ledger) or the units rows
    summed as its denominator, and notes on how rows become the figure."""
    ind, row = fig.indicator, fig.row
    num_m, den_m = ind.numerator, ind.denominator
    led = num_m.ledger
    colnames, has = _deciding(ind)
    has_cols = {_has_label(*h[1:]) if h[0] == "has" else _has_label(*h[1:]).replace("记录数", "期内最近日期"):
                fig.has_counts(*h[1:]) if h[0] == "has" else _latest_dates(fig, *h[1:]) for h in dict.fromkeys(has)}
    df = fig.frame(led)
    nm = fig.rows(num_m)
    num_rows = _rows(df[nm], colnames, has_cols)
    other, den_rows, notes = [], [], []
    if den_m is not None and den_m.ledger == led:
        # every denominator row is listed: a person's other rows too, when one of their rows is in the numerator
        dm = fig.rows(den_m)
        rest = dm & ~nm
        other = _rows(df[rest], colnames, has_cols)
        if den_m.agg == Aggregation.PERSONS and row.denominator is not None:
            counted = df[ID].isin(set(df.loc[nm, ID].dropna())).to_numpy()
            also = int((rest & counted).sum())
            notes.append(f"分母 {int((dm | nm).sum())} 行涉及 {int(row.denominator)} 人（同一人多行只计一次）"
                         + (f"；“分母未计入分子”中有 {also} 行的人员已通过另一行计入分子。" if also else "。"))
    elif den_m is not None:
        u = fig.frame(den_m.ledger)[fig.rows(den_m)]
        ucols = [c for c in ("所属镇街", "所属村居", den_m.column) if c in u.columns]
        den_rows = _rows(u, ucols, {})
    if num_m.agg == Aggregation.PERSONS and len(num_rows) != (row.numerator or 0):
        notes.append(f"分子 {len(num_rows)} 行涉及 {int(row.numerator)} 人（同一人多行只计一次）。")
    notes += _about(ind, row, led, colnames)
    return Explanation(ind, period, row.unit, row.numerator, row.denominator, row.display,
                       colnames + list(has_cols), num_rows, other, den_rows, notes, names)


def _about(ind: Indicator, row, led: str, colnames: list[str]) -> list[str]:
    """Notes on the indicator itself: pending 口径, columns the tool computed, the extra counts."""
    notes = []
    if ind.pending:
        notes.append("口径待确认：" + (ind.pending_note or "此指标的口径尚无公布依据。"))
    for c in colnames:  # the columns the tool computed: how (from the one registry)
        d = derived.get(led, c)
        if d is not None and d.stage == derived.WINDOW:
            notes.append(f"「{c}」由工具按统计期最后一天计算：{d.description}。")
    for label, _m in ind.extra:
        notes.append(f"{label}：{int(row.extra[label])} 人（不计入分子分母）。")
    return notes


SCHEDULE_COLUMNS = ["类别", "决定日期", "报到日期", "解除日期", "到期区间数", "未检区间", "本期区间"]


def _span(start: str, end: str) -> str:
    return f"{start}至{end}"


def _explain_schedule(fig, names: Names) -> Explanation:
    """A schedule indicator: the persons who met it, the persons behind with the intervals they missed (the
    month's to-do list), and the orders left out because they were not reported."""
    ind, row = fig.indicator, fig.row
    win = fig.windows
    ev = win.schedule(ind.numerator, 0)
    group = win.in_group("community", fig.by, fig.group)
    df = fig.frame("community").copy(deep=False)
    met, due = fig.rows(ind.numerator), fig.rows(ind.denominator)
    listed = np.flatnonzero(due | (ev.open & group))
    due_n, missed, current = {}, {}, {}
    for i in listed:  # a person reads these: a few hundred rows at most
        cells = ev.intervals(int(i))
        due_n[i] = str(sum(d for _, _, d, _ in cells))
        missed[i] = "、".join(_span(a, b) for a, b, d, hit in cells if d and not hit)
        current[i] = "".join(f"{_span(a, b)}（{'已检' if hit else '待检'}）" for a, b, d, hit in cells if not d)
    for col, vals in (("到期区间数", due_n), ("未检区间", missed), ("本期区间", current)):
        s = pd.Series("", index=df.index, dtype=object)
        if vals:
            s.iloc[list(vals)] = list(vals.values())
        df[col] = s
    cols = [c for c in SCHEDULE_COLUMNS if c in df.columns]
    notes = []
    if len(set(df.loc[due, ID].dropna())) != len(np.flatnonzero(due)):
        notes.append("同一人有多个决定时按人计：任何一个决定有未检区间，此人即未达标。")
    for label, _m in ind.extra:
        notes.append(f"{label}：{int(row.extra[label])} 人（期末所在的检测区间尚未到期、也还没有尿检；不计入分子分母）。")
    excluded = ev.unreported & group
    if excluded.any():
        notes.append(f"{int(excluded.sum())} 个期内执行的决定尚未报到（未填报到日期或报到日期晚于期末），"
                     "无法起算检测区间，不计入此指标（见“不计入”各行）。")
    notes.append("报到日期之前的尿检不落在任何检测区间内，不计入，也不算数据问题。")
    return Explanation(ind, win.periods[0], row.unit, row.numerator, row.denominator,
                       row.display, cols, _rows(df[met], cols, {}), _rows(df[due & ~met], cols, {}),
                       excluded_rows=_rows(df[excluded], cols, {}), notes=notes, names=names)
