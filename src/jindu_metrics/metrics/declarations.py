"""The catalog's declarations as types: the words a declaration chooses from (enums) and what an indicator is
made of (measures, schedules, targets, wording). Built by catalog.py, checked by checks.py, evaluated by the
engine. No pandas here (`jindu metrics` must stay light).

The enums are StrEnums: each member is its TOML word, so json, csv and every printed output carry the same text.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction
from functools import cached_property

from .. import derived
from .filters import Collect, Where, has_ledgers


class Kind(StrEnum):
    """What an indicator counts (`kind`); a schedule indicator is built as a ratio (met ÷ due)."""

    COUNT = "count"
    SUM = "sum"
    RATIO = "ratio"
    SCHEDULE = "schedule"


class Format(StrEnum):
    """How a value is shown (`format`): a count, or a ratio as %, ‰, ‱ or N:1."""

    COUNT = "count"
    PERCENT = "percent"
    PERMILLE = "permille"
    PERMYRIAD = "permyriad"
    RATIO_N1 = "ratio_n1"


class Direction(StrEnum):
    """Which way is better (`direction`): a target reached at or above (higher) or at or below (lower)."""

    HIGHER = "higher"
    LOWER = "lower"


class Aggregation(StrEnum):
    """How a measure aggregates its rows: distinct persons, rows, or the sum of a number column."""

    PERSONS = "persons"
    ROWS = "rows"
    SUM = "sum"


class Time(StrEnum):
    """What an indicator's figure covers (`time`): what happened in the window (flow, by each row's date), or
    what stands on the window's last day (stock)."""

    FLOW = "flow"
    STOCK = "stock"


class Part(StrEnum):
    """Which persons of a schedule a measure counts: those due a test in an interval of the window, those
    met (tested in every interval due), those with an interval still open."""

    DUE = "due"
    MET = "met"
    OPEN = "open"


VISIT_UNGRADED = "未定级"  # the row of rules.visits for a managed person without 管控等级


@dataclass(frozen=True)
class Schedule:
    """A test schedule: contacts matching `where` must fall in every interval counted from 报到日期.

    months: ((类别, (months in order year 1, year 2, ...)), ...); the last length applies to later years."""

    where: Where
    months: tuple

    def lengths(self, kind: str) -> tuple[int, ...]:
        return dict(self.months).get(kind, ())


@dataclass(frozen=True)
class VisitRule:
    """How often a managed person is visited: contacts matching `where` in every calendar interval of
    `months` (by 管控等级, and VISIT_UNGRADED for a person without one)."""

    where: Where
    months: tuple  # ((管控等级, interval months), ...)

    def interval(self, level: str | None) -> int:
        table = dict(self.months)
        return table.get(level or VISIT_UNGRADED, table.get(VISIT_UNGRADED, 0))


@dataclass(frozen=True)
class Rules:
    """The catalog's rule tables (default_catalog.toml [rules.*], overridable key by key by an office)."""

    urine_tests: Schedule  # 尿检频次 by 类别 and order year (尿检频次达标率 and `jindu todo`)
    visits: VisitRule  # 走访频次 by 管控等级 (`jindu todo`)
    order_terms: tuple  # ((类别, years), ...): an order's statutory term when 解除日期 is not given

    def term_years(self, kind: str) -> int | None:
        return dict(self.order_terms).get(kind)


@dataclass(frozen=True)
class Measure:
    """One side of an indicator: rows of `ledger` matching `where`, aggregated by `agg`.

    where is a conjunction of filter nodes (filters.py)."""

    ledger: str
    where: Where = ()
    agg: Aggregation = Aggregation.PERSONS
    column: str | None = None  # the summed column when agg == "sum"
    schedule: Schedule | None = None  # community orders judged against a schedule (metrics/schedule.py)
    part: Part | None = None  # with a schedule: the persons it counts

    def key(self) -> tuple:
        return (self.ledger, self.where, self.agg, self.column, self.schedule, self.part)


@dataclass(frozen=True)
class Target:
    """A target (or a scheme's floor) on the exact-value scale; the one judge of 达标 for catalog, workspace
    and scoring scheme."""

    text: str  # as published: ≥90%, 100%, ≤30:1
    op: str | None  # ">=" / "<="; None only while a scheme has not yet chosen its direction
    value: Fraction  # same scale as the exact value (ratios as fractions: 90% -> 9/10)

    def met(self, x: Fraction) -> bool:
        """Reached: at or past the target (exact; 94.99…% does not reach 95%)."""
        return x >= self.value if self.op != "<=" else x <= self.value

    def directed(self, direction: Direction) -> Target:
        """The same target judged in `direction` (higher → ≥, lower → ≤)."""
        return replace(self, op=">=" if direction == Direction.HIGHER else "<=")


@dataclass(frozen=True)
class Wording:
    """How a bulletin states an indicator: "查处吸毒人员" + "49" + "人"; a gap as "还需" + "纳入" + "2" + "人".

    phrase: the words before the figure in the sentence that states it; unit: the unit word after a count
    ("" for a ratio, whose display carries its own sign); gap_verb/gap_unit: "还需纳入2人" (no verb: "还差2人");
    gap_side "denominator": the gap is what the denominator lacks (禁毒社工 to add for a ≤30:1 配比);
    state: whether the bulletin states the indicator at all (its target judged, its problem written)."""

    phrase: str
    unit: str = ""
    gap_verb: str = ""
    gap_unit: str = "人"
    gap_side: str = "numerator"
    state: bool = True


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    definition: str
    area: str
    kind: Kind  # count / sum / ratio
    unit_label: str
    decimals: int
    format: Format
    target: str | None
    direction: Direction
    time: Time
    pending: bool
    numerator: Measure  # the count/sum itself for count and sum indicators
    denominator: Measure | None = None
    ledger: str = ""
    pending_note: str = ""
    source: str = ""
    show: bool = True
    target_window: str = ""  # "year": the target applies to calendar-year windows only
    extra: tuple = ()  # ((label, Measure), ...)
    target_spec: Target | None = None
    schedule: Schedule | None = None  # a schedule indicator (kind "schedule" in the TOML; a ratio met ÷ due)
    wording: Wording | None = None  # how a bulletin states it ([indicator.bulletin]); always set by load_catalog
    denominator_name: str = ""  # the 名称 of the indicator a ratio's denominator refers to ("" when inline)

    @cached_property  # asked for each row and window (missing_ledgers); a frozen instance's fields never change
    def ledgers(self) -> tuple[str, ...]:
        """Every ledger the figure depends on (for comparison coverage)."""
        out = []
        for m in (self.numerator, self.denominator):
            if m is None:
                continue
            out.append(m.ledger)
            if m.schedule is not None:
                out.append("contacts")
            out.extend(has_ledgers(m.where))
        return tuple(dict.fromkeys(out))

    @cached_property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """The recorded columns the figure reads, as (ledger, column), from its declaration: the columns its
        filters test (a derived column stands for the columns it needs, derived.py), the summed column, and for
        a schedule the orders' 报到日期 and 类别. A ledger lacking one of them leaves the figure without a value."""
        out: list[tuple[str, str]] = []
        for m in (self.numerator, self.denominator, *(m for _, m in self.extra)):
            if m is None:
                continue
            out += _COLUMNS.where(m.ledger, m.where)
            if m.column:
                out.append((m.ledger, m.column))
            if m.schedule is not None:
                out += [(m.ledger, "报到日期"), (m.ledger, "类别")]
                out += _COLUMNS.where("contacts", m.schedule.where)
        return tuple(dict.fromkeys(out))


class _Columns(Collect):
    """The recorded columns a filter reads, as (ledger, column): a derived column stands for those it needs."""

    def column(self, ledger: str, column: str) -> list:
        d = derived.get(ledger, column)
        if d is None:
            return [(ledger, column)]
        return [x for src in d.required for x in self.column(ledger, src)]


_COLUMNS = _Columns()
