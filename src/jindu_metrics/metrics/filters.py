"""A catalog filter as typed nodes, and the one walk over them.

A `Where` is a conjunction: a tuple of nodes that must all hold. The catalog builds it from the TOML table
(catalog.py), the engine evaluates it over whole ledgers at once (engine.Windows), and the catalog and
explain read which columns and ledgers it touches — all three through `FilterVisitor`, so a new node type is
added in one place. Nodes are frozen and hashable: the engine keys its caches by (ledger, where).
No pandas here (`jindu metrics` must stay light).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar, Union

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Eq:
    """`列 = 值`: a text, category or 是/否 (bool) column equal to one value."""

    column: str
    value: str | bool


@dataclass(frozen=True, slots=True)
class In:
    """`列 = [值, …]`: a text or category column holding one of the values."""

    column: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """`not = { … }`: the inner conjunction does not hold."""

    where: Where


@dataclass(frozen=True, slots=True)
class AnyOf:
    """`any = [ { … }, { … } ]`: at least one of the conjunctions holds."""

    options: tuple[Where, ...]


@dataclass(frozen=True, slots=True)
class Has:
    """`has = { ledger, where }`: the row's person has a row of `ledger` in the window matching `where`."""

    ledger: str
    where: Where


@dataclass(frozen=True, slots=True)
class HasAfter:
    """`has = { ledger, where, after }`: such a row, dated after this row's own date column `after`."""

    ledger: str
    where: Where
    after: str


Node = Union[Eq, In, Not, AnyOf, Has, HasAfter]
Where = tuple[Node, ...]


class FilterVisitor(Generic[R]):
    """The one walk over a filter: `where` folds a conjunction by `node`, which dispatches on the node type.

    A subclass says what each node means (one method per type) and how results combine (`combine`); the
    defaults read a filter as the columns it tests — Eq/In their column, Not/AnyOf their inner filters on
    the same ledger, Has/HasAfter theirs on the other ledger (and HasAfter this row's date column) — so a
    collector overrides `column` and `combine` only."""

    def where(self, ledger: str, where: Where) -> R:
        return self.combine([self.node(ledger, c) for c in where])

    def node(self, ledger: str, c: Node) -> R:
        match c:
            case Eq():
                return self.eq(ledger, c)
            case In():
                return self.in_(ledger, c)
            case Not():
                return self.not_(ledger, c)
            case AnyOf():
                return self.any_(ledger, c)
            case Has():
                return self.has(ledger, c)
            case HasAfter():
                return self.has_after(ledger, c)
        raise TypeError(f"not a filter node: {c!r}")

    def combine(self, results: list[R]) -> R:
        raise NotImplementedError

    def column(self, ledger: str, column: str) -> R:
        raise NotImplementedError

    def eq(self, ledger: str, c: Eq) -> R:
        return self.column(ledger, c.column)

    def in_(self, ledger: str, c: In) -> R:
        return self.column(ledger, c.column)

    def not_(self, ledger: str, c: Not) -> R:
        return self.where(ledger, c.where)

    def any_(self, ledger: str, c: AnyOf) -> R:
        return self.combine([self.where(ledger, w) for w in c.options])

    def has(self, ledger: str, c: Has) -> R:
        return self.where(c.ledger, c.where)

    def has_after(self, ledger: str, c: HasAfter) -> R:
        return self.combine([self.where(c.ledger, c.where), self.column(ledger, c.after)])


class Collect(FilterVisitor[list]):
    """A visitor that gathers a list (in the order the filter is written)."""

    def combine(self, results: list[list]) -> list:
        return [x for r in results for x in r]

    def column(self, ledger: str, column: str) -> list:
        return []


class _HasLedgers(Collect):
    def has(self, ledger: str, c: Has) -> list:
        return [c.ledger]

    def has_after(self, ledger: str, c: HasAfter) -> list:
        return [c.ledger]


def has_ledgers(where: Where) -> list[str]:
    """The other ledgers a filter's `has` conditions look into (not those nested inside a `has`)."""
    return _HasLedgers().where("", where)


class _Values(Collect):
    def eq(self, ledger: str, c: Eq) -> list:
        return [str(c.value)]

    def in_(self, ledger: str, c: In) -> list:
        return list(c.values)

    def not_(self, ledger: str, c: Not) -> list:
        return []

    def any_(self, ledger: str, c: AnyOf) -> list:
        return []

    def has(self, ledger: str, c: Has) -> list:
        return []

    def has_after(self, ledger: str, c: HasAfter) -> list:
        return []


def required_values(where: Where) -> list[str]:
    """The values the conjunction's own Eq/In conditions require (as text; inner filters left out)."""
    return _Values().where("", where)
