"""Results of the engine: one MetricRow per (unit, indicator). Plain data, JSON-ready via to_dict()."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction


@dataclass(frozen=True)
class Comparison:
    """The same indicator over another window (环比: the previous window of equal length; 同比: a year earlier;
    baseline: the same window in the base year of `--baseline`)."""

    start: str
    end: str
    value: float | None
    display: str
    numerator: int | float | None = None
    denominator: int | float | None = None
    change: float | None = None  # value now minus value then (ratio points as a fraction, or a count)
    change_display: str = ""  # 上升2.3个百分点 / 减少5人 / 持平; 同比 and base year of counts: 减少43人，下降46.7%
    note: str = ""  # what the earlier figure rests on (e.g. today's 人员状态: STATUS_NOTE)


@dataclass(frozen=True)
class MetricRow:
    unit: str  # 所属镇街 (or workspace unit) for the whole input, or the group's name with --by
    metric: str  # stable ASCII id
    name: str  # 名称
    area: str  # 查处 / 管控 / 社区戒毒康复 / 帮教检测 / 宣传
    kind: str  # count / sum / ratio
    numerator: int | float | None
    denominator: int | float | None  # None for counts and sums
    exact: Fraction | None  # exact value (ratio as a fraction, count as an integer fraction); None if undefined
    display: str  # as a bulletin prints it: 24.49%, 30:1, 49, — (zero denominator)
    reason: str = ""  # why display is "—" (分母为0：…)
    target: str | None = None  # target text as published: "≥95%", "≤30:1", "100%"
    met: bool | None = None
    gap: int | None = None  # persons/events the numerator still needs to meet the target
    unit_label: str = ""  # 人 / % / ‱ / 例 / 条 ...
    previous: Comparison | None = None
    yoy: Comparison | None = None
    baseline: Comparison | None = None  # only with --baseline (see ComputeResult.baseline)
    extra: dict = field(default_factory=dict)  # e.g. {"报到期内": 2}
    # Ledger kinds (ids) the figure reads that the input lacks: then it has no value (display 无台帐).
    missing: tuple[str, ...] = ()
    # (ledger kind, column) the figure reads that its (given) ledger lacks: then it has no value (display 无此列).
    missing_columns: tuple[tuple[str, str], ...] = ()
    # why a comparison asked for is absent ({"yoy": "查处台帐最早的记录在…"}); empty when each is given
    comparison_notes: dict = field(default_factory=dict)

    @property
    def absent(self) -> bool:
        """No value because the input lacks a ledger or a column the figure reads (missing, never 0): not
        judged, ranked, scored or added into a total."""
        return bool(self.missing or self.missing_columns)

    @property
    def value(self) -> float | None:
        return None if self.exact is None else float(self.exact)

    def to_dict(self, baseline: bool = False) -> dict:
        """JSON-ready; `baseline`: with the base-year comparison (its key present only when one was asked)."""
        def cmp(c: Comparison | None):
            if c is None:
                return None
            return {"start": c.start, "end": c.end, "value": c.value, "display": c.display,
                    "numerator": c.numerator, "denominator": c.denominator, "change": c.change,
                    "change_display": c.change_display, "note": c.note or None}

        return {
            "unit": self.unit, "metric": self.metric, "name": self.name,
            "numerator": self.numerator, "denominator": self.denominator,
            "value": self.value, "display": self.display, "target": self.target,
            "met": self.met, "gap": self.gap, "previous": cmp(self.previous),
            "previous_reason": self.comparison_notes.get("previous"),
            "yoy": cmp(self.yoy), "yoy_reason": self.comparison_notes.get("yoy"),
            **({"baseline": cmp(self.baseline), "baseline_reason": self.comparison_notes.get("baseline")}
               if baseline else {}),
            "missing_ledger": ",".join(self.missing) or None,
            "missing_column": ",".join(c for _, c in self.missing_columns) or None, "reason": self.reason or None,
        }
