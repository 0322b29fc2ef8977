"""Arrow columns (fastexcel, pyarrow's CSV and Parquet readers) as the dictionary-encoded columns of a Sheet."""

from __future__ import annotations


class UnknownType(ValueError):
    """An Arrow column of a type calamine would never give (encode_columns, strict)."""


def encode_columns(table, *, strict: bool = True) -> list:
    """(codes, uniques) of every Arrow column: dictionary-encoded by Arrow (without the GIL); uniques as
    the Python values calamine would give (str, float, bool, datetime, or date at midnight).
    Other Arrow types raise UnknownType, or are read as text when `strict` is False."""
    import numpy as np
    import pyarrow as pa

    cols = []
    for arr in table.columns:
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        t = arr.type
        if pa.types.is_dictionary(t):
            arr = arr.dictionary_decode()
            t = arr.type
        if pa.types.is_large_string(t):
            arr = arr.cast(pa.string())
            t = arr.type
        if not (pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_floating(t)
                or pa.types.is_integer(t) or pa.types.is_string(t) or pa.types.is_boolean(t)
                or pa.types.is_null(t)):
            if strict:
                raise UnknownType(f"column type {t}")
            arr = _as_text(arr)
        if pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type):
            # calamine gives numbers as float; an 18-digit ID held as int64 becomes the float Excel would
            # have stored (a finding, as from Excel), not an error
            arr = arr.cast(pa.float64(), safe=False)
        if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
            arr = arr.cast(pa.timestamp(arr.type.unit))
        if pa.types.is_null(arr.type):
            cols.append((np.full(len(arr), -1, dtype=np.int64), np.empty(0, dtype=object)))
            continue
        enc = arr.dictionary_encode()
        codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        uniq = enc.dictionary.to_numpy(zero_copy_only=False)
        if uniq.dtype.kind == "M":
            us = uniq.astype("datetime64[us]")
            day = us.astype("datetime64[D]")
            obj = us.astype(object)
            midnight = us == day
            obj[midnight] = day[midnight].astype(object)
            uniq = obj
        cols.append((codes, uniq.astype(object, copy=False)))
    return cols


def _as_text(arr):
    """An Arrow column of another type (lists, structs, binary, decimals...) as text: cast when Arrow can,
    else each value written out (a list as [1, 2])."""
    import json

    import pyarrow as pa

    try:
        return arr.cast(pa.string())
    except Exception:  # noqa: BLE001 - nested or undecodable values: by value
        return pa.array([None if v is None else v if isinstance(v, str)
                         else json.dumps(v, ensure_ascii=False, default=str) for v in arr.to_pylist()], pa.string())
