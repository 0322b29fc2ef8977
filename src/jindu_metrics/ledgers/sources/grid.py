"""A sheet read as rows of cell values (calamine, xlrd, small CSV files) into a Sheet; and the header of a sheet."""

from __future__ import annotations

from .sheet import MAX_COLUMNS, Sheet

HEAD_ROWS = 50  # rows kept as a sheet's head: header detection scans 20, the emptiness check 50


def find_header(name: str, head: list[list], merged: list | None = None):
    """The ledger header of a sheet (header.detect), or None: none found, or the 问题清单 sheet of an
    annotated copy (not a ledger)."""
    from ..header import detect
    from ..own import is_annotation_sheet

    return None if is_annotation_sheet(name, head) else detect(head, name, merged)


def sheet_of_rows(name: str, index: int, rows: list[list], merged: list | None = None, unknown: dict | None = None,
                  *, text: bool = False, notes: list | None = None) -> Sheet:
    """A Sheet of rows from A1 (`text`: every cell is text, as in a CSV file). The header is found with the
    merged ranges; below it, cells given as empty that are `unknown` take their literal, then merged data
    cells take their top-left value (an error literal included), and the rows become columns."""
    merged = merged or []
    header = find_header(name, rows, merged)
    sheet = Sheet(name, index, rows[:HEAD_ROWS], header, merged=merged, unknown=dict(unknown or {}),
                  notes=list(notes or []))
    if header is None:
        return sheet
    start = header.row + 1
    for (r, c), v in sheet.unknown.items():
        if c in header.columns and start <= r < len(rows):
            row = rows[r]
            if len(row) <= c:
                row.extend([""] * (c + 1 - len(row)))
            row[c] = v
    if merged:
        _fill_merged_data(rows, start, merged)
    body = rows[start:]
    width = max([len(r) for r in body[:1]] + [max(header.labels, default=-1) + 1,
                                               max(header.columns, default=-1) + 1])
    if body and not text:
        width = max(width, max(len(r) for r in body))
    sheet.columns, sheet.rows = _columns(body, width), len(body)
    return sheet


def _columns(rows: list[list], width: int) -> list:
    """Transpose rows into object arrays of `width` columns (ragged rows padded with '')."""
    import numpy as np

    if not rows or width == 0:
        return [np.empty(len(rows), dtype=object) for _ in range(width)]
    if any(len(r) != width for r in rows):
        rows = [r[:width] if len(r) >= width else list(r) + [""] * (width - len(r)) for r in rows]
    arr = np.empty((len(rows), width), dtype=object)
    arr[:] = rows  # one C-level copy; much faster than zip(*rows)
    return [arr[:, i] for i in range(width)]


def _fill_merged_data(rows: list[list], start: int, merged: list) -> None:
    """Merged data cells (e.g. one 所属村居 over several persons): every cell gets the top-left value."""
    for (r0, c0), (r1, c1) in merged:
        if r1 < start or r0 >= len(rows):
            continue
        top = rows[r0][c0] if c0 < len(rows[r0]) else ""
        for r in range(max(r0, start), min(r1 + 1, len(rows))):
            row = rows[r]
            if len(row) <= c1:
                row.extend([""] * (c1 + 1 - len(row)))
            for c in range(c0, c1 + 1):
                if r == r0 and c == c0:
                    continue
                row[c] = top


def put_unknown(cols: list, unknown: dict, start: int, n: int) -> list:
    """Dictionary-encoded columns (or object arrays) with the cells given as empty set to their literal
    ({(row, column) 0-based: literal}, rows from `start`; few cells: each touched column copied once)."""
    import numpy as np

    by_col: dict[int, list] = {}
    for (r, c), v in unknown.items():
        if start <= r < start + n and c < len(cols):
            by_col.setdefault(c, []).append((r - start, v))
    cols = list(cols)
    for c, cells in by_col.items():
        arr = cols[c]
        if isinstance(arr, tuple):
            codes, uniq = arr
            extra = sorted({v for _, v in cells})
            codes = codes.copy()
            for j, v in cells:
                codes[j] = len(uniq) + extra.index(v)
            cols[c] = (codes, np.concatenate([uniq, np.array(extra, dtype=object)]))
        else:
            arr = arr.astype(object)  # a copy
            for j, v in cells:
                arr[j] = v
            cols[c] = arr
    return cols


def padded(cols: list, n: int, header) -> list:
    """Columns reaching at least as far as the header's columns (those beyond hold None)."""
    import numpy as np

    width = max(len(cols), max(header.labels, default=-1) + 1, max(header.columns, default=-1) + 1)
    return cols + [np.full(n, None, dtype=object) for _ in range(width - len(cols))]


class Columnar:
    """A sheet handed over as dictionary-encoded columns (large CSV files, Parquet): no Python rows.

    `head`: its first rows as cell values; `body(start)` -> (columns, n) of the rows from 0-based row
    `start` (`first`: the rows before it are the head's only, as a Parquet file's column names)."""

    def __init__(self, name: str, head: list[list], body, first: int = 0, notes: list | None = None):
        self.name, self.head, self.body, self.first = name, head, body, first
        self.notes = list(notes or [])

    def sheet(self, index: int) -> Sheet:
        header = find_header(self.name, self.head, [])
        sheet = Sheet(self.name, index, self.head[:HEAD_ROWS], header, notes=self.notes)
        if header is not None:
            cols, n = self.body(header.row + 1)
            sheet.columns, sheet.rows = padded(cols, n, header), n
        return sheet

    def rows(self) -> list[list]:
        """Every row, from A1 (empty cells as '')."""
        import numpy as np

        cols, n = self.body(self.first)
        full = []
        for col in cols:
            if isinstance(col, tuple):
                codes, uniq = col
                vals = np.append(np.asarray(uniq, dtype=object), "")[np.where(codes < 0, len(uniq), codes)]
            else:
                vals = np.asarray(col, dtype=object)
            full.append(vals.tolist())
        return self.head[:self.first] + [[c[i] for c in full] for i in range(n)]


def cap_columns(grid) -> None:
    """Rows (of a `Rows`) cut at MAX_COLUMNS (a ledger has a few dozen columns; 10⁵ would take minutes
    downstream), with a columns_capped note when a non-blank cell was cut."""
    if not any(len(r) > MAX_COLUMNS for r in grid.rows):
        return
    dropped = sum(1 for r in grid.rows for v in r[MAX_COLUMNS:] if v != "" and str(v).strip())
    grid.rows = [r[:MAX_COLUMNS] if len(r) > MAX_COLUMNS else r for r in grid.rows]
    if dropped:
        grid.notes.append(capped_note(dropped))


def capped_note(dropped: int) -> tuple[str, None, str]:
    """The columns_capped note (code, row None, detail; Sheet.notes) of a sheet with `dropped` non-blank
    cells right of the cap."""
    from ...findings import excel_column

    return "columns_capped", None, f"{excel_column(MAX_COLUMNS - 1)}列（第{MAX_COLUMNS}列）右侧的 {dropped} 个单元格未读取"
