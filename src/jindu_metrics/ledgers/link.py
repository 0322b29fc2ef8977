"""Rows of the ledgers linked by 公民身份号码: to each other (Ids) and to their person's row in the persons ledger.

The one home of "a row missing 姓名/所属村居/所属镇街 takes the person's": the reader fills the columns a
sheet has, the engine (metrics.engine.normalise) also the unit columns a ledger lacks (帮教管控台帐 has no
所属镇街), for LedgerSets built from frames too. And of the IDs as integer codes: one hash pass over every
ledger of a set (ids_of), which the reader's filling, the checks, the person state and the engine share.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import schema

ID = "公民身份号码"
FROM_PERSON = (*schema.UNIT_COLUMNS, "姓名")  # what a row takes from its person when it has none
# LedgerSet.kept() name: the frames of FILLED_KINDS other than persons had FROM_PERSON filled from persons (the
# reader does so); a frame replaced since is not known to be
FILLED, FILLED_KINDS = "filled from persons", ("persons", "seizures", "community", "contacts")
ID_KINDS = ("persons", "seizures", "community", "contacts", "publicity")  # the order codes are given in


@dataclass(frozen=True)
class Ids:
    """The IDs of a set of ledgers as integer codes: equal IDs have equal codes in every ledger, so linking
    rows and counting persons are array operations. Codes follow first appearance in ID_KINDS order."""

    codes: dict[str, np.ndarray]  # kind -> each row's code; -1 where the row has no ID
    values: np.ndarray  # code -> the ID
    person_row: np.ndarray  # code -> position of the ID's first row in persons; -1 when not there

    @property
    def n(self) -> int:
        return len(self.values)

    def person_rows(self, kind: str) -> np.ndarray:
        """For each row of `kind`, the position of its person's first row in persons; -1 when none (or no ID)."""
        codes = self.codes[kind]
        if not self.n:
            return np.full(len(codes), -1, dtype=np.int64)
        return np.where(codes >= 0, self.person_row[np.maximum(codes, 0)], -1)


def ids_of(frames: Mapping[str, pd.DataFrame]) -> Ids:
    """The Ids of these ledger frames (those of ID_KINDS that have the ID column)."""
    return _ids({k: frames[k][ID].to_numpy(dtype=object) for k in ID_KINDS if k in frames and ID in frames[k].columns})


def _ids(columns: dict[str, np.ndarray]) -> Ids:
    """The Ids of these ID columns (object arrays, by kind; "persons" gives Ids.person_row)."""
    parts = list(columns.values())
    # an object array: pandas would infer a plain array of str as its Arrow text, and convert it back
    codes, uniq = pd.factorize(np.concatenate(parts) if parts else np.empty(0, dtype=object))
    out: dict[str, np.ndarray] = {}
    at = 0
    for k, part in columns.items():
        out[k] = codes[at:at + len(part)]
        at += len(part)
    first = np.full(len(uniq), -1, dtype=np.int64)
    if "persons" in out:
        p = out["persons"]
        rows = np.flatnonzero(p >= 0)[::-1]
        first[p[rows]] = rows  # written last to first: the first row of each ID stays
    return Ids(out, np.asarray(uniq, dtype=object), first)


def person_rows(ids: pd.Series, persons: pd.DataFrame) -> np.ndarray:
    """For each of `ids`, the position in `persons` of that person's first row; -1 when none (or no ID)."""
    both = _ids({"persons": persons[ID].to_numpy(dtype=object), "others": ids.to_numpy(dtype=object)})
    return both.person_rows("others")


def fill_from_persons(df: pd.DataFrame, persons: pd.DataFrame, *, add: bool,
                      rows: np.ndarray | None = None, only_added: bool = False) -> pd.DataFrame:
    """`df` (a ledger frame, not persons) with FROM_PERSON's empty cells taken from the person's row.

    `add`: a unit column the ledger lacks is created and filled whole; `only_added`: only those (the columns
    it has were filled from these persons already: FILLED). `rows`: person_rows of df's IDs, when known
    (Ids.person_rows). Returns a shallow copy when anything changed (columns are replaced whole, never
    written into), else `df` itself."""
    if not len(df) or not len(persons) or ID not in df.columns:
        return df
    cols = [c for c in FROM_PERSON if c in persons.columns
            and ((c in df.columns and not only_added)
                 or (add and c in schema.UNIT_COLUMNS and c not in df.columns))]
    pos = rows
    out = df
    for col in cols:
        own = df[col].to_numpy(dtype=object) if col in df.columns else np.full(len(df), None, dtype=object)
        miss = pd.isna(own)
        if not miss.any():
            continue
        if pos is None:
            pos = person_rows(df[ID], persons)
        take = miss & (pos >= 0)
        if take.any() or col not in df.columns:
            values = persons[col].to_numpy(dtype=object)[pos[take]]
            values = np.where(pd.isna(values), None, values)
            if col in df.columns and all(v is None for v in values) and all(v is None for v in own[take]):
                continue  # the persons have nothing to give, and the cells are None already
            own = own.copy()
            own[take] = values
            if out is df:
                out = df.copy(deep=False)
            out[col] = pd.Series(own, index=df.index, dtype=object)  # not inferred as Arrow text
    return out
