"""Canonical typed frames: the one place that says what dtype each column type has."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from .. import schema
from .model import LedgerSet

# pandas dtype for each schema column type. Text stays Python objects (None for empty) so that
# pandas 2 and 3 behave alike.
DTYPES = {
    schema.TEXT: object,
    schema.ID: object,
    schema.CATEGORY: object,
    schema.DATE: "datetime64[ns]",
    schema.FLAG: "boolean",
    schema.NUMBER: "float64",
}

EXTRA_COLUMNS = {"persons": {"人员状态细分": object}}


def columns_of(kind: str) -> dict[str, object]:
    """Ordered column -> dtype mapping of a kind's canonical frame (origin columns last)."""
    cols: dict[str, object] = {c.name: DTYPES[c.type] for c in schema.KINDS[kind].columns}
    cols.update(EXTRA_COLUMNS.get(kind, {}))
    cols.update({schema.ORIGIN_FILE: object, schema.ORIGIN_SHEET: object, schema.ORIGIN_ROW: "int64"})
    return cols


def empty_frame(kind: str) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns_of(kind).items()})


def coerce(kind: str, df: pd.DataFrame | Mapping[str, pd.Series], *, none_for_empty: bool = False) -> pd.DataFrame:
    """Add missing canonical columns and cast every column to its canonical dtype (values already clean).

    `df`: a frame, or its columns (Series on one RangeIndex, not empty): the reader's columns become a frame
    here once, not twice (a county sheet's text columns are copied into one block per frame built).
    `none_for_empty`: the frame is the reader's own: text columns hold None for empty cells, never NaN, and
    dates are whole days, so the NaN → None pass (≈0.1 s on 150k rows) and the time-of-day pass are skipped.
    """
    if not isinstance(df, pd.DataFrame):
        df = _Columns(df)
    out = {}
    n = len(df)
    for col, dtype in columns_of(kind).items():
        if col in df.columns:
            s = df[col]
        elif col == schema.ORIGIN_ROW:
            s = pd.Series(range(2, n + 2), index=df.index)
        else:
            s = pd.Series([None] * n, index=df.index, dtype=object)
        if dtype == "datetime64[ns]":
            s = pd.to_datetime(s, errors="coerce")
            if s.dtype != "datetime64[ns]":
                # pandas 3 keeps years beyond the nanosecond range (1677–2262) in a coarser unit; the reader
                # has already reported such dates (date_out_of_range), so they become empty here.
                s = s.where((s >= pd.Timestamp.min) & (s <= pd.Timestamp.max)).astype("datetime64[ns]")
            if not none_for_empty:  # frames from elsewhere may carry a time of day; windows are of days
                s = s.dt.normalize()
        elif dtype == "boolean":
            s = s.astype("boolean")
        elif dtype == "float64":
            s = pd.to_numeric(s, errors="coerce").astype("float64")
        elif dtype == "int64":
            s = s.astype("int64")
        elif s.dtype != object or not none_for_empty:
            s = s.astype(object).where(s.notna(), None)
        out[col] = s
    extra = {c: df[c] for c in df.columns if c not in out}  # unknown columns are kept and ignored
    if all(isinstance(v, pd.Series) for v in extra.values()):  # in one go: hundreds may come
        return pd.DataFrame({**out, **extra}, index=df.index).reset_index(drop=True)
    frame = pd.DataFrame(out, index=df.index)
    for c, v in extra.items():
        frame[c] = v
    return frame.reset_index(drop=True)


class _Columns:
    """Columns as coerce() reads a frame: by name, with their names, index and length."""

    def __init__(self, cols: Mapping[str, pd.Series]):
        self.cols = cols
        self.columns = list(cols)
        self.index = next(iter(cols.values())).index

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, name: str) -> pd.Series:
        return self.cols[name]


def from_records(kind: str, records: Iterable[Mapping], file: str = "<内存>", sheet: str | None = None) -> pd.DataFrame:
    """Canonical frame from already-clean records (dicts keyed by canonical column). For tests and scripts."""
    rows = list(records)
    df = pd.DataFrame(rows) if rows else pd.DataFrame()
    df[schema.ORIGIN_FILE] = file
    df[schema.ORIGIN_SHEET] = sheet or schema.KINDS[kind].name
    if schema.ORIGIN_ROW not in df.columns:
        df[schema.ORIGIN_ROW] = list(range(2, len(rows) + 2))
    return coerce(kind, df)


def ledger_set(unit: str | None = None, **frames: pd.DataFrame | Iterable[Mapping]) -> LedgerSet:
    """A LedgerSet with a frame for every kind; values may be frames or lists of clean records.

    The kinds given (even empty) are the ledgers present; the others are missing (their figures have no value).
    """
    out = {}
    for kind in schema.KINDS:
        v = frames.get(kind)
        if v is None:
            out[kind] = empty_frame(kind)
        elif isinstance(v, pd.DataFrame):
            out[kind] = coerce(kind, v)
        else:
            out[kind] = from_records(kind, v)
    return LedgerSet(frames=out, unit=unit, present=frozenset(k for k in schema.KINDS if frames.get(k) is not None))
