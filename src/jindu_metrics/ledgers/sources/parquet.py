"""Parquet files: one sheet, classified by its column names like a CSV file; columns handed over
dictionary-encoded (no Python rows)."""

from __future__ import annotations

from pathlib import Path

from ...errors import InputError
from .grid import Columnar


def read_parquet(path: Path, name: str) -> Columnar:
    """A Parquet file as one sheet: the column names are row 1, the data rows follow."""
    from .arrow import encode_columns

    try:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
    except Exception:  # noqa: BLE001 - any pyarrow failure is a damaged file to the user
        raise InputError("文件损坏，无法读取 Parquet 文件", file=name) from None
    cols = encode_columns(table, strict=False)
    n = table.num_rows
    del table
    names = [str(c) for c in pq.read_schema(path).names]
    head = [names] + [[u[c[i]] if c[i] >= 0 else "" for c, u in cols] for i in range(min(49, n))]

    def body(start: int):
        return [(c[start - 1:], u) for c, u in cols], n - (start - 1)

    return Columnar(path.stem, head, body, first=1)
