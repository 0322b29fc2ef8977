"""The Python API for scripts: the same functions the commands run, with typed results.

Importing this module (or ``jindu_metrics``) does not import pandas; each function imports what it needs.
Every result turns into a pandas DataFrame with ``to_frame()``.

    from jindu_metrics import load_ledgers, compute
    ledgers = load_ledgers(["各镇台帐/"])
    result = compute(ledgers, "2018-01..2018-10", by="所属镇街")
    print(result.to_frame())
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from .findings import Finding
    from .ledgers.model import LedgerSet
    from .metrics.catalog import Catalog
    from .metrics.engine import ComputeResult
    from .metrics.explain import Explanation
    from .metrics.todo import Worklist
    from .periods import Period


def load_ledgers(paths, unit: str | None = None, *, threads: bool = True) -> LedgerSet:
    """Read ledgers from files and folders (a folder: its first level) into a LedgerSet.

    ``unit`` is the default 所属镇街 for rows that leave it empty; ``threads=False`` reads in this thread
    only. Unusable input raises a JinduError subclass with a Chinese message naming the file.

        >>> ledgers = load_ledgers(["sample_ledgers/"])
        >>> len(ledgers["persons"]) > 0
        True
    """
    from .ledgers import load_ledgers as _load

    if isinstance(paths, (str, Path)):
        paths = [paths]
    return _load(list(paths), unit=unit, threads=threads)


@dataclass(frozen=True)
class Validation:
    """The findings of `validate`, sorted by file, sheet, row, column; iterable like a list."""

    findings: list[Finding]

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    @property
    def has_errors(self) -> bool:
        """Whether any finding is an 错误 (the command then exits 1)."""
        from .findings import has_errors

        return has_errors(self.findings)

    def summary(self) -> dict:
        """Counts by severity and by code, as `jindu validate --format json` gives them."""
        from .findings import summarize

        return summarize(self.findings)

    def to_frame(self, show_pii: bool = False) -> pd.DataFrame:
        """One row per finding: code, severity, file, sheet, row, column, value (masked unless show_pii), message."""
        import pandas as pd

        cols = ["code", "severity", "file", "sheet", "row", "column", "value", "message"]
        return pd.DataFrame([f.to_dict(show_pii) for f in self.findings], columns=cols)


def validate(ledgers: LedgerSet, today: dt.date | None = None) -> Validation:
    """Every finding about the ledgers: the reader's and the cross-ledger checks.

        >>> v = validate(load_ledgers(["sample_ledgers/"]))
        >>> v.to_frame().columns[0]
        'code'
    """
    from .validate import validate as _validate

    return Validation(_validate(ledgers, today))


def load_catalog(path: str | Path | None = None, *, targets: dict | None = None) -> Catalog:
    """The indicator catalog: the default one, plus an office's TOML overrides and target overrides.

        >>> load_catalog().get("送戒率").id
        'rehab_rate'
    """
    from .metrics.catalog import load_catalog as _load

    return _load(path, targets=targets)


def parse_period(text: str) -> Period:
    """A 统计期 as the commands take it: 2018-10, 2018-01..2018-10, 2018-Q3, 2018-H1, 2018, 2018-01-01..2018-12-20.

        >>> parse_period("2018-Q3").label
        '2018年第三季度'
    """
    from .periods import parse_period as _parse

    return _parse(text)


def _period(period: Period | str | None, ledgers: LedgerSet) -> Period:
    from .periods import Period, default_period

    if period is None:
        return default_period(ledgers)
    return period if isinstance(period, Period) else parse_period(period)


def compute(ledgers: LedgerSet, period: Period | str | None = None, *, catalog: Catalog | None = None,
            by: str | None = None, metrics: list[str] | None = None, compare: bool = True,
            baseline: int | None = None) -> ComputeResult:
    """Every indicator for the period, for the whole input and (with ``by`` = 所属村居 or 所属镇街) each unit;
    ``baseline`` (a year before the period): also compared with that year's same window (``row.baseline``).

    ``period`` defaults to January to the latest month with data, as the commands do; ``catalog`` to the
    default catalog. ``result.get("送戒率")`` is one MetricRow; ``result.to_frame()`` a DataFrame with one row
    per (unit, indicator), the whole input's rows first (column ``whole``).

        >>> r = compute(load_ledgers(["sample_ledgers/"]), "2018-01..2018-10")
        >>> r.get("刑拘查处比").display
        '24.49%'
    """
    from .metrics.engine import compute as _compute

    return _compute(ledgers, catalog or load_catalog(), _period(period, ledgers), by=by, metrics=metrics,
                    compare=compare, baseline=baseline)


def explain(ledgers: LedgerSet, metric: str, period: Period | str | None = None, *,
            catalog: Catalog | None = None, unit: str | None = None) -> Explanation:
    """One indicator's figure (as compute gives it) and the ledger rows behind it, for the whole input or a unit.

        >>> e = explain(load_ledgers(["sample_ledgers/"]), "送戒率", "2018-01..2018-10")
        >>> e.display, len(e.numerator_rows)
        ('47.8%', 11)
    """
    from .metrics.explain import explain as _explain

    return _explain(ledgers, catalog or load_catalog(), metric, _period(period, ledgers), unit=unit)


def todo(ledgers: LedgerSet, date: dt.date | str | None = None, days: int = 30, *, catalog: Catalog | None = None,
         by: str | None = "所属村居") -> Worklist:
    """The worklist on ``date`` (default today; a date or text such as ``"2018-10-15"``), looking ``days``
    ahead: one TodoItem per person and task (``kind``: urine_due, urine_overdue, report_pending,
    report_overdue, file_pending, order_ending, abstinent_3y, visit_due), sorted by unit (``by``; None for
    the whole input) and due date. ``wl.to_frame()`` is a DataFrame with the persons masked
    (``to_frame(show_pii=True)`` shows them).

        >>> wl = todo(load_ledgers(["sample_ledgers/"]), "2018-10-15")
        >>> wl.counts()["urine_overdue"] > 0, wl.to_frame().columns[0]
        (True, 'kind')
    """
    from .metrics.todo import todo as _todo
    from .periods import parse_day

    if date is None:
        date = dt.date.today()
    elif isinstance(date, str):
        date = parse_day(date, "date")
    return _todo(ledgers, catalog or load_catalog(), date, days, by=by)


__all__ = ["Validation", "compute", "explain", "load_catalog", "load_ledgers", "parse_period", "todo", "validate"]
