"""The template context of a bulletin: plain, documented names (docs/templates.md), no PII.

Only aggregate figures reach a template: the engine's MetricRow holds counts and ratios, never a person.
"""

from __future__ import annotations

import calendar
import functools
import math
import re
from datetime import date as Date
from fractions import Fraction

from ..metrics.catalog import Wording
from ..metrics.display import DASH, cn_date, missing_reason

# The signature when the real unit is unknown (a county batch outside a workspace, ledgers without 所属镇街):
# marked as a blank to fill in, never a made-up office (README: set it with jindu.toml `office`).
OFFICE_PLACEHOLDER = "【落款单位】"


def known_ids() -> tuple[str, ...]:
    """The default catalog's shown indicator ids, in catalog order: present in every context, as "—" when the
    result lacks them, so that the default templates render whatever catalog an office uses."""
    return tuple(i.id for i in _default_catalog().indicators if i.show)


@functools.cache
def _default_catalog():
    from ..metrics.catalog import load_catalog

    return load_catalog()


class Comparison:
    """A 同比/环比/base-year figure; falsy (and every field "—") when the data do not cover the earlier window."""

    __slots__ = ("change", "change_display", "denominator", "display", "end", "note", "numerator", "reason", "start",
                 "value")

    def __init__(self, c=None, reason: str = ""):
        self.start = getattr(c, "start", None)
        self.end = getattr(c, "end", None)
        self.value = getattr(c, "value", None)
        self.display = getattr(c, "display", None) or DASH
        self.numerator = getattr(c, "numerator", None)
        self.denominator = getattr(c, "denominator", None)
        self.change = getattr(c, "change", None)
        self.change_display = getattr(c, "change_display", None) or DASH
        self.reason = reason or ""  # why there is no figure (台帐未覆盖…), "" when there is one
        self.note = getattr(c, "note", "") or ""  # what the earlier figure rests on (today's 人员状态…)

    def __bool__(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        return self.display


class Indicator:
    """One indicator's figures for one unit; prints as its display text ("24.49%", "49", "—")."""

    __slots__ = (
        "absent",
        "amount",
        "area",
        "baseline",
        "decimals",
        "definition",
        "denominator",
        "direction",
        "display",
        "exact",
        "extra",
        "format",
        "gap",
        "gap_text",
        "id",
        "kind",
        "lagging",
        "met",
        "missing",
        "missing_column",
        "missing_columns",
        "missing_text",
        "name",
        "notes",
        "numerator",
        "pending",
        "phrase",
        "previous",
        "problem",
        "reason",
        "remedies",
        "state",
        "target",
        "target_text",
        "unit",
        "unit_label",
        "unit_word",
        "value",
        "why",
        "wording",
        "yoy",
    )

    def __init__(self, row=None, spec=None, unit: str = ""):
        self._name(row, spec, unit)
        self._declaration(spec)
        self._figures(row, spec)
        self._comparisons(row)
        self._lacks(row)
        self._prose(row, spec)
        self.lagging: list[Indicator] = []

    def _name(self, row, spec, unit: str) -> None:
        """What the figure is and how it prints: id, name, unit, area, kind, display text, unit label."""
        self.id = getattr(row, "metric", None) or getattr(spec, "id", None)
        self.name = getattr(row, "name", None) or getattr(spec, "name", None) or self.id
        self.unit = getattr(row, "unit", None) or unit
        self.area = getattr(row, "area", None) or getattr(spec, "area", None)
        self.kind = getattr(row, "kind", None) or getattr(spec, "kind", None) or "count"
        self.display = (getattr(row, "display", None) or DASH) if row is not None else DASH
        self.unit_label = getattr(row, "unit_label", None) or getattr(spec, "unit_label", None) or ""

    def _declaration(self, spec) -> None:
        """The catalog's declaration (its defaults without one), never guessed from the display text."""
        self.format = getattr(spec, "format", None) or ("percent" if self.kind == "ratio" else "count")
        dec = getattr(spec, "decimals", None)
        self.decimals = dec if dec is not None else (1 if self.kind == "ratio" else 0)
        self.definition = getattr(spec, "definition", None)
        self.pending = bool(getattr(spec, "pending", False))

    def _figures(self, row, spec) -> None:
        """The exact value, its parts, and how it stands against its target."""
        self.exact = getattr(row, "exact", None)
        self.value = None if self.exact is None else float(self.exact)
        self.numerator = getattr(row, "numerator", None)
        self.denominator = getattr(row, "denominator", None)
        self.reason = getattr(row, "reason", "") or ("无数据" if row is None else "")
        self.target = getattr(row, "target", None) if row is not None else getattr(spec, "target", None)
        self.target_text = _target_text(self.target)
        self.direction = getattr(spec, "direction", None) or (
            "lower" if (self.target or "").startswith(("≤", "<=")) else "higher")
        self.met = getattr(row, "met", None)
        self.gap = getattr(row, "gap", None)
        self.extra = dict(getattr(row, "extra", None) or {})

    def _comparisons(self, row) -> None:
        notes = getattr(row, "comparison_notes", None) or {}
        self.previous = Comparison(getattr(row, "previous", None), notes.get("previous"))
        self.yoy = Comparison(getattr(row, "yoy", None), notes.get("yoy"))
        self.baseline = Comparison(getattr(row, "baseline", None), notes.get("baseline"))  # only with --baseline

    def _lacks(self, row) -> None:
        """What the input lacks for this figure: the ledger kind ids it reads that were not given, else the
        columns its (given) ledgers lack; empty when it has a value. The templates leave such a figure out
        (never print it as 0) and name it in missing_note / missing_sentence with `notes`, one reason each,
        and the `remedies` a reason calls for (请在台帐中增加此列)."""
        ledgers = list(getattr(row, "missing", None) or ())
        self.missing_columns = [] if ledgers else list(getattr(row, "missing_columns", None) or ())  # (kind, column)
        self.missing_column = [c for _, c in self.missing_columns]
        self.missing = ledgers or list(self.missing_column)
        self.absent = bool(self.missing)
        self.notes, self.remedies = ([missing_reason([k]) for k in ledgers], {}) if ledgers \
            else _column_notes(self.missing_columns)
        # all of it in one phrase: 未提供吸毒人员登记台帐、帮教管控台帐
        self.missing_text = missing_reason(ledgers) or "；".join(f"{n}，{self.remedies[n]}" for n in self.notes)

    def _prose(self, row, spec) -> None:
        """How a sentence states the figure: the catalog's wording, the amount, why it has no value, its gap."""
        self.wording = getattr(spec, "wording", None) or Wording(
            phrase=self.name or "", unit=self.unit_label if self.kind != "ratio" else "")
        self.phrase = self.wording.phrase
        self.unit_word = self.wording.unit
        self.state = self.wording.state
        # why a figure whose input was given has no value (a zero denominator), as prose says it
        self.why = "" if self.absent or self.exact is not None else _why(self.reason, spec if row else None)
        # the figure as a sentence states it: "258人", "24.49%", "26:1"; "" without a value
        self.amount = "" if self.exact is None else self.display + self.unit_word
        self.gap_text, self.problem = self._wording(spec)

    def _wording(self, spec) -> tuple[str, str]:
        """("还需纳入2人", "纳入率为94.7%，低于95%的目标，还需纳入2人") for an unmet target; ("", "") otherwise.
        The verb and unit of the gap are the catalog's (its `bulletin` table)."""
        if self.met is not False:
            return "", ""
        w = self.wording
        if self.direction == "lower":
            problem = f"{self.name}为{self.display}，高于{self.target_text}的目标"
            gap_text = ""
            if w.gap_side == "denominator":
                need = _denominator_needed(self.numerator, self.denominator, getattr(spec, "target_spec", None))
                gap_text = f"还需{w.gap_verb or '增加'}{need}{w.gap_unit}" if need else ""
            elif self.gap:
                gap_text = f"还需{w.gap_verb or '减少'}{self.gap}{w.gap_unit}"
        else:
            problem = f"{self.name}为{self.display}，低于{self.target_text}的目标"
            gap_text = (f"还需{w.gap_verb}{self.gap}{w.gap_unit}" if w.gap_verb else f"还差{self.gap}{w.gap_unit}") \
                if self.gap else ""
        return gap_text, problem + (f"，{gap_text}" if gap_text else "")

    def __str__(self) -> str:
        return self.display

    def __repr__(self) -> str:
        return f"<{self.id} {self.display}>"


def _target_text(target: str | None) -> str:
    """"≥95%" → "95%" (a bulletin says "低于95%的目标")."""
    return re.sub(r"^\s*(≥|≤|>=|<=|>|<|不低于|不高于|不超过)\s*", "", target or "") or DASH


def _denominator_needed(numerator, denominator, target) -> int | None:
    """What the denominator lacks for numerator ÷ denominator to reach a "≤" target: ⌈numerator ÷ target⌉ −
    denominator (禁毒社工 to add for ≤30:1); None when nothing is lacking or the figures are unknown."""
    value = getattr(target, "value", None)
    if not value or numerator is None or denominator is None:
        return None
    need = math.ceil(Fraction(str(numerator)) / value) - int(denominator)
    return need if need > 0 else None


def _column_notes(columns) -> tuple[list[str], dict[str, str]]:
    """One reason per ledger for the columns a figure reads that its ledger lacks (吸毒人员登记台帐没有「已见面」
    列), each with what to do about it (请在台帐中增加此列)."""
    from ..schema import KINDS

    by_kind: dict[str, list[str]] = {}
    for kind, col in columns:
        by_kind.setdefault(kind, []).append(col)
    notes, remedies = [], {}
    for k in (k for k in KINDS if k in by_kind):
        note = f"{KINDS[k].name}没有{''.join(f'「{c}」' for c in by_kind[k])}列"
        notes.append(note)
        remedies[note] = "请在台帐中增加此列" if len(by_kind[k]) == 1 else "请在台帐中增加这些列"
    return notes, remedies


def _why(reason: str, spec) -> str:
    """Why a figure has no value though its ledgers were given, as prose says it: "在册社区戒毒社区康复人数为0"."""
    if getattr(spec, "denominator_name", ""):
        return f"{spec.denominator_name}为0"
    return (reason or "无数据").removeprefix("分母为0：")


def _missing_text(indicators) -> str:
    """What the input lacks that some figure reads: 未提供吸毒人员登记台帐、单位信息；吸毒人员登记台帐没有「已见面」列."""
    from ..schema import KINDS

    kinds = {k for x in indicators for k in x.missing if k in KINDS}
    columns = dict.fromkeys(n for x in indicators if x.missing_columns for n in x.notes)
    return "；".join(filter(None, [missing_reason(kinds), *columns]))


def period_context(period) -> dict:
    """{start, end, label, months_label, year, end_month, end_text} of a Period."""
    start, end = period.start, period.end
    month_end = end.day == calendar.monthrange(end.year, end.month)[1]
    return {
        "start": start.isoformat(), "end": end.isoformat(), "label": period.label,
        "months_label": period.months_label, "year": end.year, "end_month": end.month,
        "end_text": f"{end.month}月底" if month_end else f"{end.month}月{end.day}日",
    }


def _county_baseline(result):
    year = getattr(result, "baseline", None)
    if year is None:
        return None
    from ..metrics.engine import baseline_window

    return baseline_window(result.window, year)


def _baseline_context(window) -> dict | None:
    """{year, start, end, label} of the base-year window, or None without --baseline."""
    if window is None:
        return None
    return {"year": window.start.year, "start": window.start.isoformat(), "end": window.end.isoformat(),
            "label": window.label}


def _specs(catalog) -> list:
    """The catalog's indicators (the default catalog's without one: their wording, formats and names)."""
    return list(getattr(catalog if catalog is not None else _default_catalog(), "indicators", None) or [])


def _unit_indicators(rows, specs_by_id: dict, unit: str, catalog_order: list[str]) -> dict[str, Indicator]:
    """Indicators by id for one unit: every row, plus "—" placeholders for catalog indicators without one."""
    out = {r.metric: Indicator(r, specs_by_id.get(r.metric), unit) for r in rows}
    for mid in catalog_order:
        if mid not in out:
            out[mid] = Indicator(None, specs_by_id.get(mid) or _Spec(mid), unit)
    return out


class _Spec:
    def __init__(self, mid: str):
        self.id = self.name = mid


def _split_rows(result) -> tuple[list, dict[str, list]]:
    """(the whole input's rows, {group name: rows}) of a ComputeResult, groups in the result's order."""
    whole, groups = [], {}
    by = getattr(result, "by", None)
    for r in result.rows:
        if not groups and (by is None or r.unit == result.unit):
            whole.append(r)
        else:
            groups.setdefault(r.unit, []).append(r)
    return whole, groups


# How the village list names the rows whose 所属村居 is empty (the engine's group "（未填）").
UNFILLED_VILLAGE = "所属村居未填的"


def _villages(villages, specs_by_id: dict) -> list[dict]:
    """[{name, m}] of each village with a figure to state, by name; the rows without a village last, as one
    labelled entry (never a pseudo-village), and none at all when no row names a village."""
    from ..metrics.engine import UNFILLED

    out, unfilled = [], []
    if villages is None:
        return out
    _, groups = _split_rows(villages)
    for name, rows in groups.items():
        if all(not r.exact for r in rows if r.kind != "sum"):  # e.g. "（未填）": publicity rows only
            continue
        entry = {"name": UNFILLED_VILLAGE if name == UNFILLED else name,
                 "m": _unit_indicators(rows, specs_by_id, name, [])}
        (unfilled if name == UNFILLED else out).append(entry)
    return out + unfilled if out else []


def build_context(result_ytd, *, month=None, villages=None, workspace=None, catalog=None,
                  date: Date | None = None) -> dict:
    """The documented template context (docs/templates.md) of a bulletin.

    result_ytd: the cumulative window (1至N月; stocks on its last day); month: the requested window's own
    figures, or None (left None when it equals the cumulative window); villages: a ComputeResult with
    by="所属村居", or None. The report date is `date`, else the period's end — never today's date.
    """
    specs = _specs(catalog)
    specs_by_id = {s.id: s for s in specs}
    order = _indicator_order(specs, specs_by_id)
    unit = result_ytd.unit or (getattr(workspace, "unit", None) if workspace else None) or ""
    whole, _ = _split_rows(result_ytd)
    m = _unit_indicators(whole, specs_by_id, unit, order)

    village_rows = _villages(villages, specs_by_id)
    for x in m.values():
        x.lagging = [v["m"][x.id] for v in village_rows if x.id in v["m"] and v["m"][x.id].met is False]

    scope = workspace.scope_word if workspace is not None else "全镇"
    report_date = date or result_ytd.period.end
    indicators = list(m.values())
    ctx = {
        "period": period_context(result_ytd.period),
        "month": _month_context(month, result_ytd.period, specs_by_id, unit, order),
        "unit": unit or DASH,
        "scope": scope,
        "ours": "我" + scope[1:],
        "office": _office(workspace, unit),
        "date": cn_date(report_date),
        "date_iso": report_date.isoformat(),
        "m": m,
        "indicators": indicators,
        **_assessed(indicators),
        "missing_text": _missing_text(indicators),
        "villages": village_rows,
        # the base year of --baseline (m.X.baseline compares with its same window), or None
        "baseline": _baseline_context(getattr(result_ytd, "baseline", None)),
    }
    for mid, x in m.items():  # each indicator also by its bare id, where that does not shadow a name above
        ctx.setdefault(mid, x)
    return ctx


def _indicator_order(specs: list, specs_by_id: dict) -> list[str]:
    """The catalog's indicator ids, then the default catalog's shown ones it lacks (as "—" placeholders)."""
    return [s.id for s in specs] + [i for i in known_ids() if i not in specs_by_id]


def _month_context(month, window, specs_by_id: dict, unit: str, order: list[str]) -> dict | None:
    """{period, m} of the requested window's own figures; None without them or when they are the window's."""
    if month is None or (month.period.start, month.period.end) == (window.start, window.end):
        return None
    mwhole, _ = _split_rows(month)
    return {"period": period_context(month.period), "m": _unit_indicators(mwhole, specs_by_id, unit, order)}


def _office(workspace, unit: str) -> str:
    """The signature: the workspace's `office`, else the unit's 禁毒委员会办公室, else a blank to fill in."""
    office = getattr(workspace, "office", None) if workspace else None
    return office or (f"{unit}禁毒委员会办公室" if unit else OFFICE_PLACEHOLDER)


def _assessed(indicators: list) -> dict:
    """{targeted, met, unmet, unassessed}: the indicators a bulletin judges (the catalog's bulletin.state)
    against their targets."""
    stated = [x for x in indicators if x.state]
    targeted = [x for x in stated if x.met is not None]
    return {
        "targeted": targeted,
        "met": [x for x in targeted if x.met],
        "unmet": [x for x in targeted if x.met is False],
        # indicators with a target left unassessed because their ledger is missing (never counted unmet)
        "unassessed": [x for x in stated if x.absent and x.target],
    }


# The county bulletin ranks the townships on these ratios, in this order (those the township bulletins quote).
COUNTY_RANKED = ("detention_ratio", "rehab_rate", "grid_inclusion_rate", "visit_rate", "community_execution_rate")


def county_context(result, catalog, *, workspace=None, date: Date | None = None) -> dict:
    """The documented template context (docs/templates.md) of the county bulletin, from a batch.BatchResult.

    Plain data every renderer can use (txt/md/docx templates, html): the county total's indicators `m`, each
    indicator's township ranking, the townships below target with their gaps, the scores when scored.
    """
    specs = _specs(catalog)
    specs_by_id = {s.id: s for s in specs}
    order = [s.id for s in specs] + [i for i in known_ids() if i not in specs_by_id]
    total = result.total_unit
    towns = sorted({u.unit for u in result.units if u.status == "ok"})
    by_unit: dict[str, list] = {}
    for r in result.rows:
        by_unit.setdefault(r.unit, []).append(r)
    m = _unit_indicators(by_unit.get(total, []), specs_by_id, total, order)
    town_m = {t: _unit_indicators(by_unit.get(t, []), specs_by_id, t, []) for t in towns}
    rankings = {mid: _ranking(result, mid, x, towns, town_m) for mid, x in m.items()}
    for mid in COUNTY_RANKED:
        rankings.setdefault(mid, {"id": mid, "name": mid, "x": m.get(mid), "rows": [], "absent": [],
                                  "absent_text": "", "excluded": []})
    ranked = [rankings[i] for i in COUNTY_RANKED if i in m and not m[i].missing and rankings[i]["rows"]]
    scope, office = _county_office(workspace, total)
    window = result.window
    report_date = date or window.end
    ctx = {
        "period": period_context(window),
        "month": period_context(result.period) if result.period != window else None,
        "unit": total, "scope": scope, "ours": "我" + scope[1:], "office": office,
        "date": cn_date(report_date), "date_iso": report_date.isoformat(),
        "towns": towns, "m": m, "indicators": list(m.values()), "rankings": rankings, "ranked": ranked,
        "problems": _problems(m, rankings), **_county_scores(result.scores),
        # --baseline: the base-year window (m.X.baseline compares the county total with it), or None
        "baseline": _baseline_context(_county_baseline(result)),
        "missing_text": _missing_text(m.values()),
        "partial": _partial(result, m),
        # the error without its leading 文件「<path>」： (the file is named beside it; a bulletin shows no paths)
        "failed": [{"file": u.file, "error": re.sub(r"^文件「[^」]*」[：，]?", "", u.error)}
                   for u in result.units if u.status == "failed"],
    }
    for mid, x in m.items():
        ctx.setdefault(mid, x)
    return ctx


def _county_office(workspace, total: str) -> tuple[str, str]:
    """(全县 or the workspace's 全区/全市, the signing office)."""
    scope = getattr(workspace, "scope_word", None) if workspace is not None else None
    if not scope or scope == "全镇":
        scope = "全县"
    # the county's own name comes from the workspace (batch's total_unit); "全县" alone is no office's name
    office = getattr(workspace, "office", None) or (
        f"{total}禁毒委员会办公室" if total and total != "全县" else OFFICE_PLACEHOLDER)
    return scope, office


def _ranking(result, mid: str, x, towns: list[str], town_m: dict) -> dict:
    """One indicator's township ranking: the ranked rows, the townships without a figure and why, and
    those left out of the county total."""
    rows, absent, why = [], [], {}
    for t in towns:
        tx = town_m[t].get(mid)
        if tx is None:
            continue
        if tx.missing:
            absent.append(t)
            why.setdefault(tx.missing_text, []).append(t)
            continue
        rank = result.ranks.get((t, mid))
        rows.append({"unit": t, "rank": rank, "x": tx, "met": tx.met,
                     "met_text": DASH if tx.met is None else ("达标" if tx.met else "未达标")})
    rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["unit"]))
    return {"id": mid, "name": x.name, "x": x, "rows": rows, "absent": absent,
            # "东镇、西镇未提供帮教管控台帐；北镇吸毒人员登记台帐没有「已见面」列": each reason once
            "absent_text": "；".join(f"{'、'.join(ts)}{note}" for note, ts in why.items()),
            "excluded": list(result.left_out.get(mid, ()))}


def _problems(m: dict, rankings: dict) -> list[dict]:
    """The indicators with a target the county or a township misses, with the townships below it."""
    problems = []
    for mid, x in m.items():
        if not x.target or not x.state:
            continue
        below = [r["x"] for r in rankings[mid]["rows"] if r["met"] is False]
        if below or x.met is False:
            problems.append({"id": mid, "name": x.name, "x": x, "towns": below})
    return problems


def _county_scores(unit_scores) -> dict:
    """{"scores": each township's score, by rank; "score_rule": how the rank follows from them}."""
    from ..metrics.scoring import points_text, rank_rule

    scores = []
    for s in sorted(unit_scores, key=lambda s: (s.rank, s.unit)):
        # score: 原始得分; possible: 可评分值; rescaled: 折算得分, the one the rank is by (score_rule)
        scores.append({"unit": s.unit, "score": s.display, "rank": s.rank, "possible": points_text(s.possible),
                       "full": points_text(s.full_points), "rescaled": s.rescaled_display,
                       "excluded": [i.name for i in s.excluded], "ranked": bool(s.possible or not s.excluded)})
    return {"scores": scores, "score_rule": rank_rule(unit_scores[0].full_points) if unit_scores else ""}


def _partial(result, m: dict) -> list[dict]:
    """The county totals that leave townships out: which, why (a ledger not given, or a column their ledger
    lacks) and the indicators concerned."""
    partial: dict[tuple, list] = {}
    by_key = {(r.unit, r.metric): r for r in result.rows}
    for mid, names in result.left_out.items():
        if mid in m and not m[mid].missing:
            lacks = [by_key.get((t, mid)) for t in names]
            column = any(getattr(r, "missing_columns", None) and not r.missing for r in lacks if r is not None)
            reason = "缺少所需的列" if column else "未提供所需台帐"
            partial.setdefault((tuple(names), reason), []).append(m[mid].name)
    return [{"towns": list(t), "names": n, "reason": why} for (t, why), n in partial.items()]
