"""Rows of the other ledgers linked to their person's row in the persons ledger, by 公民身份号码.

The one home of "a row missing 姓名/所属村居/所属镇街 takes the person's": the reader fills the columns a
sheet has, the engine (metrics.engine.normalise) also the unit columns a ledger lacks (帮教管控台帐 has no
所属镇街), for LedgerSets built from frames too. One hash lookup per ledger, then array takes per column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema

ID = "公民身份号码"
FROM_PERSON = (*schema.UNIT_COLUMNS, "姓名")  # what a row takes from its person when it has none


def person_rows(ids: pd.Series, persons: pd.DataFrame) -> np.ndarray:
    """For each of `ids`, the position in `persons` of that person's first row; -1 when none (or no ID)."""
    codes, uniq = pd.factorize(persons[ID].to_numpy(dtype=object))
    first = np.full(len(uniq), -1, dtype=np.int64)
    at = np.flatnonzero(codes >= 0)
    first[codes[at[::-1]]] = at[::-1]  # written last to first: the first row of each ID stays
    if not len(uniq):
        return np.full(len(ids), -1, dtype=np.int64)
    # both sides as object Indexes: a plain array of str would be inferred as pandas 3's Arrow text, and
    # converted back for the lookup
    found = pd.Index(uniq, dtype=object).get_indexer(pd.Index(ids.to_numpy(dtype=object), dtype=object))
    return np.where(found >= 0, first[np.maximum(found, 0)], -1)


def fill_from_persons(df: pd.DataFrame, persons: pd.DataFrame, *, add: bool) -> pd.DataFrame:
    """`df` (a ledger frame, not persons) with FROM_PERSON's empty cells taken from the person's row.

    `add`: a unit column the ledger lacks is created and filled whole. Returns a shallow copy when anything
    changed (columns are replaced whole, never written into), else `df` itself."""
    if not len(df) or not len(persons) or ID not in df.columns:
        return df
    cols = [c for c in FROM_PERSON if c in persons.columns
            and (c in df.columns or (add and c in schema.UNIT_COLUMNS))]
    pos = None
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
            own = own.copy()
            values = persons[col].to_numpy(dtype=object)[pos[take]]
            own[take] = np.where(pd.isna(values), None, values)
            if out is df:
                out = df.copy(deep=False)
            out[col] = pd.Series(own, index=df.index, dtype=object)  # not inferred as Arrow text
    return out
