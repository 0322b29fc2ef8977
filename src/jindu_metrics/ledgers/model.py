"""The reader's result: one typed frame per ledger kind, plus findings and what was read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..findings import Finding

if TYPE_CHECKING:  # pandas is imported lazily so `jindu --help` stays fast
    import pandas as pd


@dataclass
class SheetInfo:
    """One sheet (or CSV file) that was read, and what it was recognised as."""

    file: str
    sheet: str
    kind: str | None  # ledger kind id, or None when unrecognised
    header_row: int | None  # Excel row number of the (last) header row
    rows: int  # data rows kept
    columns: dict[str, str] = field(default_factory=dict)  # original header -> canonical name
    positions: dict[str, int] = field(default_factory=dict)  # canonical name -> 0-based column index (A = 0)


@dataclass
class LedgerSet:
    """Normalised ledgers.

    frames[kind] is a DataFrame with every canonical column of that kind (schema.KINDS[kind].columns) in
    canonical types — ID: str (18 chars) or None; DATE: datetime64[ns] (NaT); FLAG: pandas "boolean"
    (NA when empty); CATEGORY/TEXT: str or None; NUMBER: float64 — plus the origin columns _file, _sheet,
    _row. Every kind is present (possibly with zero rows). persons also carries 人员状态细分 (the police
    sub-status such as 社会面戒断三年未复吸, or None).
    """

    frames: dict[str, pd.DataFrame]
    findings: list[Finding] = field(default_factory=list)
    sheets: list[SheetInfo] = field(default_factory=list)
    unit: str | None = None  # default 所属镇街 (workspace unit or inferred)

    def __getitem__(self, kind: str) -> pd.DataFrame:
        return self.frames[kind]

    def positions(self) -> dict[tuple, dict[str, int]]:
        """(file, sheet) -> {canonical column: 0-based column index}, for findings.locate()."""
        return {(s.file, s.sheet): s.positions for s in self.sheets if s.positions}

    @property
    def files(self) -> list[str]:
        return sorted({s.file for s in self.sheets})
