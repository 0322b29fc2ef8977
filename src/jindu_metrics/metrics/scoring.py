"""County scoring (考评) and ranking: a declarative TOML scheme applied to the engine's MetricRows.

A scheme is data, never code: each item names an indicator, its points and a rule (full points at or past the
target, proportional below it, zero at or past a floor; optional deductions when unmet or per person short).
All arithmetic is exact (Fraction); scores are rounded 四舍五入 only for display.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from ..errors import ConfigError, JinduError
from .catalog import Direction, Target, parse_target
from .model import MetricRow

HIGHER = Direction.HIGHER
LOWER = Direction.LOWER

_SCHEME_KEYS = {"name": str, "decimals": int, "undefined": str, "total": (int, float)}
_ITEM_KEYS = {
    "metric": str, "points": (int, float), "target": str, "floor": str, "rule": str,
    "deduct_if_unmet": (int, float), "deduct_per_gap": (int, float), "direction": str,
}
_UNDEFINED = {"full": "得满分", "zero": "得0分"}
_RULES = ("proportional", "deduct")
_TYPE_NAMES = {str: "文本（加引号）", int: "整数", (int, float): "数字"}


# ---------------------------------------------------------------- targets


# ---------------------------------------------------------------- ranking


def competition_ranks(values: list[Fraction | None], direction: str = HIGHER) -> list[int]:
    """1 = best by `direction`; ties share a rank (1, 1, 3); undefined values share the last rank."""
    defined = [v for v in values if v is not None]
    ordered = sorted(defined, reverse=(direction == HIGHER))
    first: dict[Fraction, int] = {}
    for i, v in enumerate(ordered, start=1):
        first.setdefault(v, i)
    last = len(defined) + 1
    return [first[v] if v is not None else last for v in values]


def rank_rows(rows: Iterable[MetricRow], directions: dict[str, str]) -> dict[tuple[str, str], int]:
    """Rank every (unit, metric) among the units, per metric, by the catalog's direction; a unit whose figure
    is missing (its ledger not given) gets no rank for that metric."""
    by_metric: dict[str, list[MetricRow]] = {}
    for r in rows:
        by_metric.setdefault(r.metric, []).append(r)
    out: dict[tuple[str, str], int] = {}
    for metric, group in by_metric.items():
        group = [r for r in group if not r.absent]  # a missing figure (no ledger or column) is not ranked at all
        ranks = competition_ranks([r.exact for r in group], directions.get(metric, HIGHER))
        for r, k in zip(group, ranks):
            out[(r.unit, metric)] = k
    return out


# ---------------------------------------------------------------- scheme


@dataclass(frozen=True)
class ScoreItem:
    metric: str  # indicator id
    name: str  # indicator 名称
    points: Fraction
    target: Target  # judged in `direction` (Target.met)
    direction: Direction
    floor: Target | None = None
    rule: str = "proportional"
    deduct_if_unmet: Fraction = Fraction(0)
    deduct_per_gap: Fraction = Fraction(0)
    line: int | None = None


@dataclass(frozen=True)
class Scheme:
    name: str
    items: tuple[ScoreItem, ...]
    decimals: int = 1
    undefined: str = "full"  # an indicator with a zero denominator (nothing to do): full points or zero
    source: str = ""

    @property
    def total_points(self) -> Fraction:
        return sum((i.points for i in self.items), Fraction(0))


def _err(source: str, line: int | None, message: str) -> ConfigError:
    return ConfigError(f"考评方案有误：{message}", file=source or None, row=line)


def _check_type(value, typ) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, typ)


@dataclass(frozen=True)
class _At:
    """Where a scheme's table was written: its file and the [[item]] index (None: [scheme])."""

    source: str
    loc: object  # tomlread.Locator
    index: int | None

    def line(self, key: str | None = None) -> int | None:
        if self.index is None:
            return self.loc.line(0, key, table="scheme")
        return self.loc.line(self.index, *((key,) if key else ()))

    def error(self, key: str | None, message: str) -> ConfigError:
        return _err(self.source, self.line(key), message)


def _check_fields(table: dict, fields: dict, at: _At, unknown: str) -> None:
    """Every key declared in `fields` and of its type."""
    for key, value in table.items():
        if key not in fields:
            raise at.error(key, f"{unknown}「{key}」，允许：{'、'.join(fields)}")
        if not _check_type(value, fields[key]):
            raise at.error(key, f"「{key}」应为{_TYPE_NAMES[fields[key]]}")


# [scheme]'s values beyond their type: key -> (default, valid, message).
_SCHEME_CHECKS = {
    "decimals": (1, lambda v: 0 <= v <= 4, "「decimals」应在0到4之间"),
    "undefined": ("full", lambda v: v in _UNDEFINED, "「undefined」只能是 \"full\" 或 \"zero\""),
}


def _head(data: dict, loc, source: str) -> dict:
    """The [scheme] table, checked; its checked values with their defaults filled in."""
    for key in data:
        if key not in ("scheme", "item"):
            raise _err(source, loc.line(0, table=key) or loc.line(None, key),
                       f"未知的配置项「{key}」，只允许 [scheme] 和 [[item]]")
    head = data.get("scheme", {})
    if not isinstance(head, dict):
        raise _err(source, loc.line(None, "scheme"), "「scheme」应为一个表 [scheme]")
    at = _At(source, loc, None)
    _check_fields(head, _SCHEME_KEYS, at, "未知的配置项")
    out = dict(head)
    for key, (default, valid, message) in _SCHEME_CHECKS.items():
        out[key] = head.get(key, default)
        if not valid(out[key]):
            raise at.error(key, message)
    return out


def _number(raw: dict, key: str) -> Fraction:
    return Fraction(Decimal(str(raw.get(key, 0))))


def _direction(raw: dict, at: _At, target: Target, direction: Direction | None) -> Direction:
    """The item's direction: written (and agreeing with a ≥/≤ target), else the target's, else the catalog's."""
    if "direction" in raw:
        if raw["direction"] not in (HIGHER, LOWER):
            raise at.error("direction", "「direction」只能是 \"higher\" 或 \"lower\"")
        direction = Direction(raw["direction"])
        if target.op is not None and target.op != (">=" if direction == HIGHER else "<="):
            raise at.error("direction", f"「direction」= \"{direction}\" 与目标「{target.text}」的方向相反")
    elif target.op is not None:
        direction = HIGHER if target.op == ">=" else LOWER
    return direction or HIGHER


def _floor(raw: dict, at: _At, fmt, target: Target, direction: str) -> Target | None:
    if "floor" not in raw:
        return None
    try:
        floor = parse_target(raw["floor"], fmt)
    except ValueError as exc:
        raise at.error("floor", f"下限：{exc}") from None
    if (direction == HIGHER and floor.value >= target.value) or (
            direction == LOWER and floor.value <= target.value):
        raise at.error("floor", f"下限「{floor.text}」应比目标「{target.text}」更差")
    return floor


def _item(raw: dict, at: _At, catalog, seen: dict[str, int]) -> ScoreItem:
    """One [[item]], checked and resolved against the catalog (when given)."""
    n = at.index + 1
    _check_fields(raw, _ITEM_KEYS, at, f"第{n}个考评项有未知的配置项")
    for key in ("metric", "points"):
        if key not in raw:
            raise at.error(None, f"第{n}个考评项缺少「{key}」")
    metric, name, fmt, direction, cat_target = raw["metric"], raw["metric"], None, None, None
    if catalog is not None:
        try:
            ind = catalog.get(raw["metric"])
        except JinduError:
            raise at.error("metric", f"指标「{raw['metric']}」不在指标目录中") from None
        metric, name, fmt, direction, cat_target = ind.id, ind.name, ind.format, ind.direction, ind.target
    if metric in seen:
        raise at.error("metric", f"指标「{name}」重复出现（另见第{seen[metric]}行）")
    seen[metric] = at.line("metric") or 0
    points = _number(raw, "points")
    if points <= 0:
        raise at.error("points", "「points」应大于0")
    target_text = raw.get("target", cat_target)
    if not target_text:
        raise at.error(None, f"指标「{name}」没有目标值，请写 target = \"95%\" 这样的目标")
    try:
        target = parse_target(target_text, fmt)
    except ValueError as exc:
        raise at.error("target" if "target" in raw else None, str(exc)) from None
    direction = _direction(raw, at, target, direction)
    target = target.directed(direction)
    floor = _floor(raw, at, fmt, target, direction)
    rule = raw.get("rule", "proportional")
    if rule not in _RULES:
        raise at.error("rule", "「rule」只能是 \"proportional\"（按比例）或 \"deduct\"（按差额扣分）")
    d_unmet, d_gap = _number(raw, "deduct_if_unmet"), _number(raw, "deduct_per_gap")
    if d_unmet < 0 or d_gap < 0:
        raise at.error(None, "扣分值不能为负数")
    if rule == "deduct" and d_gap == 0:
        raise at.error("rule", "rule = \"deduct\" 需要 deduct_per_gap（每差1人扣几分）")
    return ScoreItem(metric, name, points, target, direction, floor, rule, d_unmet, d_gap, at.line())


def load_scheme(path: str | Path | None = None, *, text: str | None = None, catalog=None) -> Scheme:
    """Read and strictly validate a scheme (unknown keys, wrong types, unknown indicators → ConfigError).

    With `catalog`, item names resolve to indicators (id or 名称) and default to the catalog's target and
    direction; without it, `metric` is taken as the id and `target` is required.
    """
    from .. import tomlread

    source = str(path) if path is not None else "<考评方案>"
    if text is None:
        if path is None:
            raise ValueError("path or text required")
        text, data, loc = tomlread.read(path, "考评方案", "item")
    else:
        data = tomlread.loads(text, source if path is not None else None, "考评方案")
        loc = tomlread.Locator(text, source, "item")
    head = _head(data, loc, source)
    raw_items = data.get("item", [])
    if not isinstance(raw_items, list) or not raw_items:
        raise _err(source, None, "至少需要一个 [[item]] 考评项")
    seen: dict[str, int] = {}
    items = tuple(_item(raw, _At(source, loc, idx), catalog, seen) for idx, raw in enumerate(raw_items))
    scheme = Scheme(head.get("name", "考评"), items, head["decimals"], head["undefined"], source)
    if "total" in head and Fraction(Decimal(str(head["total"]))) != scheme.total_points:
        raise _err(source, loc.line(0, "total", table="scheme"),
                   f"各项分值之和为{_fmt(scheme.total_points, 2)}，与「total」不一致")
    return scheme


# ---------------------------------------------------------------- scoring


@dataclass(frozen=True)
class ItemScore:
    metric: str
    name: str
    points: Fraction
    score: Fraction | None  # None: not scored (the figure is missing: its ledger was not given)
    display: str  # rounded 四舍五入
    value_display: str
    target: str
    met: bool | None
    note: str = ""  # why: 达到目标 / 按比例 / 低于下限 / 分母为0…


@dataclass(frozen=True)
class UnitScore:
    unit: str
    total: Fraction  # 原始得分: the points scored
    display: str
    rank: int  # by `rescaled` (RANK_RULE)
    items: tuple[ItemScore, ...] = field(default_factory=tuple)
    full: Fraction | None = None  # the scheme's total points (满分); None: the sum of the items' points
    decimals: int = 1

    @property
    def possible(self) -> Fraction:
        """可评分值: the points of the items scored (all items, unless some figure is missing)."""
        return sum((i.points for i in self.items if i.score is not None), Fraction(0))

    @property
    def full_points(self) -> Fraction:
        return self.full if self.full is not None else sum((i.points for i in self.items), Fraction(0))

    @property
    def rescaled(self) -> Fraction | None:
        """折算得分, what the rank is by: 原始得分 ÷ 可评分值 × 满分 (the 原始得分 itself when every item was
        scored); None when nothing was scorable."""
        q = self.possible
        return self.total / q * self.full_points if q else None

    @property
    def rescaled_display(self) -> str:
        r = self.rescaled
        return "—" if r is None else _fmt(r, self.decimals)

    @property
    def excluded(self) -> list[ItemScore]:
        """Items not scored because the figure is missing (its ledger was not given)."""
        return [i for i in self.items if i.score is None]

    def to_dict(self) -> dict:
        return {"unit": self.unit, "score": self.display, "rank": self.rank,
                # the three scores a reader checks the rank with: 原始得分, 可评分值, 折算得分 (ranked by)
                "raw_score": self.display, "possible": points_text(self.possible),
                "full": points_text(self.full_points), "rescaled_score": self.rescaled_display,
                "excluded": [i.metric for i in self.excluded],
                "items": [{"metric": i.metric, "name": i.name, "points": points_text(i.points), "score": i.display,
                           "value": i.value_display, "target": i.target, "met": i.met, "note": i.note}
                          for i in self.items]}


def points_text(x: Fraction) -> str:
    """10 → "10", 7.5 → "7.5" (分值 as a scheme writes it)."""
    x = Fraction(x)
    return str(x.numerator) if x.denominator == 1 else _fmt(x, 2).rstrip("0").rstrip(".")


def _fmt(x: Fraction, decimals: int) -> str:
    """四舍五入 (ROUND_HALF_UP) of an exact value, as text."""
    from .display import round_half_up

    return str(round_half_up(x, decimals))


def score_item(item: ScoreItem, row: MetricRow | None, undefined: str, decimals: int) -> ItemScore:
    """One indicator's score for one unit, exactly."""
    t, p = item.target.value, item.points
    if row is not None and row.absent:  # missing is not zero: left out of the score, and said so
        return ItemScore(item.metric, item.name, p, None, "—", row.display, item.target.text, None,
                         f"{row.reason}，不计分")
    if row is None or row.exact is None:
        score = p if undefined == "full" else Fraction(0)
        note = f"无数据（{row.reason if row is not None and row.reason else '分母为0'}），{_UNDEFINED[undefined]}"
        return ItemScore(item.metric, item.name, p, score, _fmt(score, decimals),
                         row.display if row is not None else "—", item.target.text, None, note)
    v = Fraction(row.exact)
    met = item.target.met(v)
    if met:
        score, note = p, "达到目标"
    elif item.rule == "deduct":
        gap = row.gap or 0
        score, note = p - item.deduct_per_gap * gap, f"差{gap}，每差1扣{points_text(item.deduct_per_gap)}分"
    elif item.floor is not None and (v <= item.floor.value if item.direction == HIGHER else v >= item.floor.value):
        score, note = Fraction(0), f"未超过下限{item.floor.text}"
    elif item.floor is not None:
        f = item.floor.value
        score, note = p * (v - f) / (t - f), "按比例"
    elif item.direction == HIGHER:
        score, note = (p * v / t if t else Fraction(0)), "按比例"
    else:
        score, note = (p * t / v if v else p), "按比例"
    if not met and item.deduct_if_unmet:
        score -= item.deduct_if_unmet
        note += f"，未达标扣{points_text(item.deduct_if_unmet)}分"
    score = min(max(score, Fraction(0)), p)
    return ItemScore(item.metric, item.name, p, score, _fmt(score, decimals), row.display,
                     item.target.text, met, note)


def score_units(scheme: Scheme, rows: Iterable[MetricRow], units: list[str] | None = None) -> list[UnitScore]:
    """得分 and 排名 for every unit (in `units` order, default: sorted names), ranked by total score (by the
    share of the scorable points when an item is left out for a missing ledger)."""
    by_unit: dict[str, dict[str, MetricRow]] = {}
    for r in rows:
        by_unit.setdefault(r.unit, {})[r.metric] = r
    names = list(units) if units is not None else sorted(by_unit)
    totals, item_lists = [], []
    for u in names:
        got = by_unit.get(u, {})
        items = tuple(score_item(i, got.get(i.metric), scheme.undefined, scheme.decimals) for i in scheme.items)
        item_lists.append(items)
        totals.append(sum((i.score for i in items if i.score is not None), Fraction(0)))
    # Ranked by the share of the points that could be scored: the same order as by total when every item
    # was scored, and no unit loses ground for an item left out because its ledger was not given.
    possible = [sum((i.points for i in items if i.score is not None), Fraction(0)) for items in item_lists]
    # nothing scorable (every figure missing): no score ("—"), ranked after the others
    ranks = competition_ranks([t / q if q else None for t, q in zip(totals, possible)], HIGHER)
    return [UnitScore(u, t, _fmt(t, scheme.decimals) if q else "—", k, items, scheme.total_points, scheme.decimals)
            for u, t, q, k, items in zip(names, totals, possible, ranks, item_lists)]


def rank_rule(full: Fraction) -> str:
    """The one sentence that says how scored units are ranked (printed beside every score ranking)."""
    scale = "百分制" if full == 100 else f"满分{points_text(full)}分"
    return (f"缺台帐或缺列的指标不计分，按可评分值折算为{scale}后排名"
            f"（折算得分＝原始得分÷可评分值×{points_text(full)}；各项都计分时即原始得分）。")


def example_scheme_path() -> Path:
    """The example scheme shipped with the package (built from the 示范 targets of the catalog)."""
    return Path(__file__).parent / "scoring_example.toml"
