"""The county's side of a batch: the total over the townships (missing is not zero, also rolled up), the
roll-up check, ranks and scores, summary.json and the data of 汇总.xlsx / 汇总.html."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from ..periods import window_note
from ..report.trend import trend_periods, trend_values
from .model import BatchResult, UnitOutcome, UnitResult

# ---------------------------------------------------------------- the county total


def _union(parts: list[UnitResult], unit: str):
    """The townships' ledgers as one LedgerSet; a ledger is present when any of them gave it."""
    import pandas as pd

    from ..ledgers.model import LedgerSet

    kinds = parts[0].frames.keys()
    frames = {k: pd.concat([r.frames[k] for r in parts], ignore_index=True) for k in kinds}
    # a column is given when a township that gave the ledger had it (county_total leaves out the others)
    columns: dict[str, frozenset[str]] = {}
    for k in kinds:
        having = [r for r in parts if k in r.present]
        if having and all(k in r.columns for r in having):
            columns[k] = frozenset(c for r in having for c in r.columns[k])
    return LedgerSet(frames=frames, unit=unit, present=frozenset(k for r in parts for k in r.present),
                     columns=columns)


def _given(r: UnitResult):
    """What a township's input holds (ledger kinds and their columns), for missing_ledgers/missing_columns."""
    from ..ledgers.model import LedgerSet

    return LedgerSet(frames={}, present=frozenset(r.present), columns={k: frozenset(v) for k, v in r.columns.items()})


def _partial(ok: list[UnitResult], cat) -> dict[tuple[int, ...], list[str]]:
    """{townships that give what an indicator reads (positions in `ok`): the indicators totalled over them},
    for the indicators some townships cannot give."""
    from ..metrics.engine import missing_columns, missing_ledgers

    partial: dict[tuple[int, ...], list[str]] = {}
    given = [_given(r) for r in ok]
    for ind in cat.select(None):
        having = tuple(i for i, r in enumerate(ok)
                       if not missing_ledgers(ind, r.present) and not missing_columns(ind, given[i]))
        if having and len(having) < len(ok):
            partial.setdefault(having, []).append(ind.id)
    return partial


def county_total(ok: list[UnitResult], cat, period, unit: str, trend_ids, baseline: int | None = None,
                 started: dict | None = None) -> tuple[list, dict, dict[str, list[str]]]:
    """The county's rows and trend over the townships' union: (rows, trend, {metric: townships left out}).

    Missing is not zero, also when rolled up: an indicator is totalled over the townships that gave every
    ledger it reads; the others are left out of its total (and named), not added in as 0. No township
    has them: the total is missing too.
    """
    from ..metrics.engine import compute

    union = _union(ok, unit)
    union.started = dict(started or {})
    res = compute(union, cat, period, baseline=baseline)
    rows = [row if row.unit == unit else replace(row, unit=unit) for row in res.rows if row.unit == res.unit]
    trend = trend_values(union, cat, period, trend_ids)
    left_out: dict[str, list[str]] = {}
    for having, ids in _partial(ok, cat).items():
        sub = _union([ok[i] for i in having], unit)
        sub.started = dict(started or {})
        got = {r.metric: r for r in compute(sub, cat, period, metrics=ids, baseline=baseline).rows}
        rows = [replace(got[r.metric], unit=unit) if r.metric in got else r for r in rows]
        trend.update(trend_values(sub, cat, period, [m for m in trend_ids if m in ids]))
        names = sorted(r.unit for i, r in enumerate(ok) if i not in having)
        for mid in ids:
            left_out[mid] = names
    return rows, trend, left_out


def _sums(unit_rows) -> dict[str, list]:
    """{metric: [numerators' sum, denominators' sum, every numerator known]} over the townships' rows."""
    sums: dict[str, list] = {}
    for r in unit_rows:
        if r.absent:  # left out of the total as well (county_total)
            continue
        s = sums.setdefault(r.metric, [0, 0, True])
        if r.numerator is None:
            s[2] = False
        else:
            s[0] += r.numerator
        if r.denominator is not None:
            s[1] += r.denominator
    return sums


def check_rollup(total_rows, unit_rows) -> list[str]:
    """The county total's numerators/denominators must equal the sums of the townships' (metrics.md roll-up)."""
    sums = _sums(unit_rows)
    out = []
    for r in total_rows:
        s = sums.get(r.metric)
        if s is None or r.numerator is None or not s[2]:
            continue
        if Fraction(str(s[0])) != Fraction(str(r.numerator)) or (
                r.denominator is not None and Fraction(str(s[1])) != Fraction(str(r.denominator))):
            if r.denominator is None:
                out.append(f"{r.name}：全县{r.numerator}，各镇街之和{s[0]}")
            else:
                out.append(f"{r.name}：全县{r.numerator}/{r.denominator}，各镇街之和{s[0]}/{s[1]}")
    return out


def ranks_and_scores(cat, scheme, unit_rows, units: list[str]) -> tuple[dict, list, dict[tuple[str, str], str]]:
    """(each township's rank per indicator, the scheme's scores, {(township, metric): item score shown})."""
    from ..metrics.scoring import rank_rows

    ranks = rank_rows(unit_rows, {i.id: i.direction for i in cat.indicators})
    scores = []
    item_scores: dict[tuple[str, str], str] = {}
    if scheme is not None and units:
        from ..metrics.scoring import score_units

        scores = score_units(scheme, unit_rows, units)
        for s in scores:
            for it in s.items:
                item_scores[(s.unit, it.metric)] = it.display
    return ranks, scores, item_scores


# ---------------------------------------------------------------- summary.json


def window_dict(window, period) -> dict:
    """{start, end, label, note}: the window every figure of the run covers, said as the bulletins say it."""
    return {**window.to_dict(), "note": window_note(window),
            "requested": period.to_dict() if period != window else None}


def _summary_row(result: BatchResult, row, item_scores: dict) -> dict:
    d = row.to_dict(baseline=result.baseline is not None)  # the base year's figure and why it is absent
    d["rank"] = result.ranks.get((row.unit, row.metric)) if row.unit != result.total_unit else None
    if row.unit == result.total_unit and row.metric in result.left_out:
        d["excluded_units"] = result.left_out[row.metric]  # not in this total: their ledger is missing
    if item_scores:
        d["score"] = item_scores.get((row.unit, row.metric))
    d["window"] = result.window.label
    return d


def summary_json(result: BatchResult, item_scores: dict) -> dict:
    rows = [_summary_row(result, row, item_scores) for row in result.rows]
    out = {"period": result.period.to_dict(), "window": window_dict(result.window, result.period),
           "total_unit": result.total_unit, "units": [u.to_dict() for u in result.units], "rows": rows}
    if result.baseline is not None:
        from ..metrics.engine import BASELINE_ABSENT, baseline_window

        w = baseline_window(result.window, result.baseline)
        out["baseline"] = {**w.to_dict(), "year": result.baseline, "absent": BASELINE_ABSENT}
    if result.scores:
        from ..metrics.scoring import rank_rule

        out["scores"] = [s.to_dict() for s in result.scores]
        out["score_rule"] = rank_rule(result.scores[0].full_points)
    if result.mismatches:
        out["rollup_mismatches"] = result.mismatches
    if result.skipped:
        out["skipped"] = result.skipped
    return out


# ---------------------------------------------------------------- 汇总.xlsx and 汇总.html


def workbook_head(window, cat, ok: list[UnitResult], failed: list[UnitOutcome], total_unit: str) -> dict:
    """The plain data of 汇总.xlsx (outputs.county.build_workbook) and 汇总.html known before the county
    total: titles, indicators, units, and the 数据问题 sheet's findings and failures."""
    inds = [_indicator(i) for i in cat.indicators]
    findings = [f for r in ok for f in r.findings] + [f for r in ok for f in r.file_findings]
    failures = [{"file": u.file, "unit": u.unit, "error": u.error} for u in failed]
    return {"title": f"{window.label}各镇街禁毒工作指标汇总", "window": window_note(window),
            "indicators": inds, "units": [r.unit for r in ok], "total_unit": total_unit,
            "findings": findings, "failures": failures}


def _workbook_row(result: BatchResult, row) -> dict:
    total = row.unit == result.total_unit
    return {"unit": row.unit, "metric": row.metric, "exact": row.exact, "met": row.met,
            "rank": None if total else result.ranks.get((row.unit, row.metric)),
            "missing": row.reason if row.absent else None,
            "missing_display": row.display if row.absent else None,
            # --baseline: the base year's figure (exact), or why there is none
            "baseline": row.baseline.value if row.baseline is not None else None,
            "baseline_reason": row.comparison_notes.get("baseline"),
            "excluded_units": result.left_out.get(row.metric) if total else None}


def _workbook_scores(result: BatchResult, scheme) -> dict | None:
    if scheme is None:
        return None
    from ..metrics.scoring import points_text, rank_rule

    return {"name": scheme.name, "decimals": scheme.decimals, "rule": rank_rule(scheme.total_points),
            "items": [{"metric": i.metric, "name": i.name, "points": points_text(i.points)} for i in scheme.items],
            "units": [s.to_dict() for s in sorted(result.scores, key=lambda s: (s.rank, s.unit))]}


def workbook_rest(result: BatchResult, cat, scheme, ok: list[UnitResult], total_trend: dict, trend_ids) -> dict:
    """The rest of the workbook's data (workbook_head): every row's figure and rank, the scores, the 趋势
    sheet's values."""
    values = {r.unit: r.trend for r in ok}
    values[result.total_unit] = total_trend
    by_id = {i.id: i for i in cat.indicators}
    return {"rows": [_workbook_row(result, row) for row in result.rows], "scores": _workbook_scores(result, scheme),
            "baseline_year": result.baseline,
            "trend": {"months": [f"{p.end.month}月" for p in trend_periods(result.window)],
                      "metrics": [_indicator(by_id[m]) for m in trend_ids], "values": values}}


def _indicator(ind) -> dict:
    return {"id": ind.id, "name": ind.name, "format": ind.format, "decimals": ind.decimals, "target": ind.target,
            "direction": ind.direction}
