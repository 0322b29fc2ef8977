"""Header detection (first 20 rows, one- or two-row headers), alias mapping and kind classification."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, lru_cache

from .. import schema
from .textnorm import cell_text, fold_header

HEADER_SCAN_ROWS = 20


@lru_cache(maxsize=8192)
def _folded(header: str) -> str:
    return fold_header(header)  # once per text, not once per ledger kind


@cache
def _names(kind_id: str) -> frozenset[str]:
    return frozenset(schema.KINDS[kind_id].column_names)


@lru_cache(maxsize=8192)
def canonical(kind_id: str, header: str) -> str | None:
    """The canonical column of `kind_id` a raw header names, or None."""
    kind = schema.KINDS[kind_id]
    names = _names(kind_id)
    h = _folded(header)
    if not h:
        return None
    cands = [h]
    # "病残(是/否)", "人员类别(本地/外来)": drop a trailing parenthetical
    if h.endswith(")") and "(" in h:
        cands.append(h[: h.rindex("(")])
    for c in list(cands):
        if c.startswith("是否"):
            cands.append(c[2:])
    for c in cands:
        for table in (None, kind.aliases, schema.COMMON_ALIASES):
            name = c if table is None else table.get(c)
            if name in names:
                # a leading 是否 is only accepted on flag columns
                if (
                    h.startswith("是否")
                    and not c.startswith("是否")
                    and kind.column(name).type != schema.FLAG
                ):
                    continue
                return name
    return None


@dataclass
class Header:
    kind: str
    row: int  # 0-based index of the (last) header row; data starts at row + 1
    columns: dict[int, str]  # column index -> canonical name (first occurrence wins)
    labels: dict[int, str]  # column index -> header text as shown (joined for two-row headers)
    two_row: bool = False
    missing: list[str] = field(default_factory=list)  # required columns absent
    # (column read, column ignored, canonical name) of header cells naming a column already taken
    duplicates: list[tuple[int, int, str]] = field(default_factory=list)


def _fill_merged(upper: list[str], r: int, merged: list) -> list[str]:
    """Spread merged cells of header row r across their range; without merge info, spread a label
    rightwards over the empty cells that follow it (ODS, CSV exports of merged headers)."""
    out = list(upper)
    hit = False
    for (r0, c0), (r1, c1) in merged:
        if r0 <= r <= r1 and c1 > c0 and c0 < len(out):
            v = out[c0]
            for c in range(c0, min(c1 + 1, len(out))):
                out[c] = v
            hit = True
    if not hit:
        last = ""
        for c, v in enumerate(out):
            if v:
                last = v
            elif last:
                out[c] = last
    return out


def _score(kind_id: str, labels: list[str]) -> tuple[int, int, dict[int, str]]:
    kind = schema.KINDS[kind_id]
    cols: dict[int, str] = {}
    seen: set[str] = set()
    for i, lab in enumerate(labels):
        if not lab:
            continue
        name = canonical(kind_id, lab)
        if name and name not in seen:
            cols[i] = name
            seen.add(name)
    req = sum(1 for r in kind.required if r in seen)
    return len(seen), req, cols


def _two_row_labels(upper: list[str], lower: list[str]) -> list[list[str]]:
    """Candidate labels per column for a two-row header: lower, upper+lower, or upper when lower empty."""
    out = []
    for i in range(max(len(upper), len(lower))):
        u = upper[i] if i < len(upper) else ""
        lo = lower[i] if i < len(lower) else ""
        if lo and u and u != lo:
            out.append([lo, u + lo])
        elif lo:
            out.append([lo])
        else:
            out.append([u] if u else [""])
    return out


def _score_two_row(kind_id: str, cands: list[list[str]]) -> tuple[int, int, dict[int, str], dict[int, str]]:
    kind = schema.KINDS[kind_id]
    cols: dict[int, str] = {}
    labels: dict[int, str] = {}
    seen: set[str] = set()
    for i, options in enumerate(cands):
        for lab in reversed(options):  # prefer the joined label (外来人员已见面) when it maps
            name = canonical(kind_id, lab) if lab else None
            if name and name not in seen:
                cols[i] = name
                labels[i] = lab
                seen.add(name)
                break
    req = sum(1 for r in kind.required if r in seen)
    return len(seen), req, cols, labels


def _hint(kind_id: str, sheet_name: str) -> int:
    return int(any(h in sheet_name for h in schema.KINDS[kind_id].sheet_hints + (schema.KINDS[kind_id].name,)))


def _recognised(kind_id: str, matched: int, req: int, cols: dict[int, str]) -> bool:
    if kind_id == "units":
        names = set(cols.values())
        return bool(names & {"所属村居", "所属镇街"}) and bool(names & {"实有人口", "禁毒社工", "网格员"})
    return matched >= 2 and req >= 1


def detect(rows: list[list], sheet_name: str, merged: list | None = None) -> Header | None:
    """Find the header row and ledger kind of a sheet, or None when no kind matches."""
    merged = merged or []
    texts = [[cell_text(v).strip() for v in row] for row in rows[:HEADER_SCAN_ROWS]]
    from .textnorm import fold

    hint_name = fold(sheet_name or "").replace("台账", "台帐")
    best = None
    best_key = None
    best_upper = None
    for r, row in enumerate(texts):
        if not any(row):
            continue
        options = [(False, None)]
        if r > 0 and any(texts[r - 1]):
            options.append((True, _fill_merged(texts[r - 1], r - 1, merged)))
        for kind_id in schema.KINDS:
            for two, upper in options:
                if two:
                    matched, req, cols, labels = _score_two_row(kind_id, _two_row_labels(upper, row))
                else:
                    matched, req, cols = _score(kind_id, row)
                    labels = {i: row[i] for i in cols}
                if not _recognised(kind_id, matched, req, cols):
                    continue
                kind = schema.KINDS[kind_id]
                key = (matched, req == len(kind.required), req, _hint(kind_id, hint_name), -int(two), -r)
                if best_key is None or key > best_key:
                    best_key = key
                    best = Header(kind_id, r, cols, labels, two_row=two)
                    best_upper = upper
    if best is not None:
        kind = schema.KINDS[best.kind]
        present = set(best.columns.values())
        best.missing = [c for c in kind.required if c not in present]
        if best.kind == "units" and not present & {"所属村居", "所属镇街"}:
            best.missing = ["所属村居"]
        best.duplicates = _duplicates(best, texts[best.row], best_upper)
        # keep the labels of unknown extra columns (kept and ignored downstream)
        for i, lab in enumerate(texts[best.row]):
            if i not in best.labels and lab:
                best.labels[i] = lab
    return best


def _duplicates(header: Header, row: list[str], upper: list[str] | None) -> list[tuple[int, int, str]]:
    """Header cells that name a column another cell already gave (the first one is read)."""
    taken = {name: i for i, name in header.columns.items()}
    cands = _two_row_labels(upper, row) if header.two_row and upper is not None else [[lab] for lab in row]
    out = []
    for i, options in enumerate(cands):
        if i in header.columns:
            continue
        for lab in options:
            name = canonical(header.kind, lab) if lab else None
            if name in taken:
                out.append((taken[name], i, name))
                header.labels.setdefault(i, lab)
                break
    return out
