"""Tables laid out for the stream's real width, in plain text (no markup language, cost linear in the rows).

Each column has a role: `value` cells (figures, 分子/分母, targets, gaps, row numbers, IDs) are never wrapped
nor cut; `text` cells (names, messages) may wrap, never inside a number or an ASCII word; `compare` cells
(环比/同比) carry a full and a short form. When the full layout is wider than the console, what gives way,
in this order: a column whose cells are all equal (a `hoist` column) is said once in the title; comparisons
shorten (`↑14.71个百分点`), in box lines, then without them; comparisons move into a second table under the
first; long names wrap (with or without box lines, whichever takes fewer lines); at last each row becomes
lines of `表头：值`. Tables of one group (the areas of a unit) share one layout. Pipes and files are
PIPE_WIDTH wide, so they keep the full layout. Every cell passes through terminal.clean: no control character
reaches the console.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .terminal import Out, clean, degrade, holds_everything, wrap

_ASCII_RUN = re.compile(r"[!-~]+")
VALUE, TEXT, COMPARE = "value", "text", "compare"


@dataclass(frozen=True)
class Column:
    header: str
    align: str = "left"  # left / right
    role: str = VALUE  # value / text / compare
    marks: dict | None = None  # cell text → style (on a colour terminal), e.g. {"错误": "red"}
    hoist: bool = False  # when the table is too wide and every row holds the same cell, say it once in the title


class Table:
    """Rows of cells under a title; a compare cell is a (full, short) pair."""

    def __init__(self, columns: list[Column], title: str | None = None, key: int = 0):
        self.columns = list(columns)
        self.title = None if title is None else clean(title)
        self.key = key  # the column that names a row (kept beside comparisons moved to a second table)
        self.rows: list[list] = []
        self.natural: list[int] | None = None  # widest cell per column, once computed

    def add_row(self, *cells) -> None:
        row = []
        for col, cell in zip(self.columns, cells, strict=True):
            if col.role == COMPARE:
                full, short = cell if isinstance(cell, tuple) else (cell, cell)
                row.append((clean(full), clean(short)))
            else:
                row.append(clean(cell))
        self.rows.append(row)


def print_table(table: Table, out: Out) -> None:
    """Lay the table out for `out` and write it."""
    out.lines(render(table, out))


def print_tables(tables: list[Table], out: Out) -> None:
    """Tables of the same columns (one per area, say), laid out alike: the first layout that fits them all."""
    for lines in render_all(tables, out):
        out.lines(lines)


def render(table: Table, out: Out) -> list[str]:
    """The table's lines, none wider than out.width."""
    return render_all([table], out)[0]


def _stages(table: Table, out: Out, moved_allowed: bool = True) -> list[list[tuple[str, str, bool]]]:
    """What gives way, in order; within a stage, the layouts to choose from (style, comparisons, wrapping)."""
    styles = ("box", "compact") if out.box else ("compact",)
    if not any(c.role == COMPARE for c in table.columns):
        return [[(s, "full", False)] for s in styles] + [[(s, "full", True) for s in styles]]
    if moved_allowed:  # a main table: comparisons shorten, then move out, then names wrap
        stages = [[(styles[0], "full", False)], [(styles[0], "short", False)], [(styles[-1], "short", False)]]
        return stages + [[(s, "moved", False)] for s in styles] + [[(s, "moved", True) for s in styles]]
    # the table of comparisons moved out: the full text if it fits in any style, then the change only
    stages = [[(s, "full", False)] for s in styles] + [[(s, "short", False)] for s in styles]
    return stages + [[(s, "full", True) for s in styles], [(s, "short", True) for s in styles]]


def render_all(tables: list[Table], out: Out, moved_allowed: bool = True) -> list[list[str]]:
    """Each table's lines, all in the first layout that fits every one (the shortest where names wrap)."""
    if not tables:
        return []
    tables = _prepared(tables, out)
    compare = [i for i, c in enumerate(tables[0].columns) if c.role == COMPARE]
    views = _Views(tables, compare)
    for stage in _stages(tables[0], out, moved_allowed):
        best = _best_layout(stage, views, out)
        if best is None:
            continue
        style, form, chosen, widths = best
        laid = [_draw(v, w, style, out) for v, w in zip(chosen, widths, strict=True)]
        if form != "moved":
            return laid
        seconds = render_all([_comparisons(t, compare) for t in tables], out, moved_allowed=False)
        return [a + b for a, b in zip(laid, seconds, strict=True)]
    return [_records(t, out) for t in tables]


def _prepared(tables: list[Table], out: Out) -> list[Table]:
    """The tables in what the stream can hold, their hoistable columns said in the title when the full
    layout does not fit."""
    if not holds_everything(out.encoding):  # 1.03‱ → 万分之1.03 before the widths are measured
        tables = [_degraded(t, out.encoding) for t in tables]
    everything = list(range(len(tables[0].columns)))
    first_style = "box" if out.box else "compact"
    if _fit(_project(tables[0], everything, "full"), out, first_style, False) is None:
        tables = [_hoisted(t) for t in tables]
    return tables


class _Views:
    """The tables projected for each form of their comparisons (full, short, or moved out), each once."""

    def __init__(self, tables: list[Table], compare: list[int]):
        self.tables = tables
        self.everything = list(range(len(tables[0].columns)))
        self.keep = [i for i in self.everything if i not in compare]
        self.projected: dict[str, list[Table]] = {}

    def of(self, form: str) -> list[Table]:
        if form not in self.projected:
            self.projected[form] = [_project(t, self.keep, None) if form == "moved"
                                    else _project(t, self.everything, form) for t in self.tables]
        return self.projected[form]


def _best_layout(stage, views: _Views, out: Out):
    """(style, form, tables, widths) of the stage's layout that fits every table in the fewest lines, or
    None when none fits."""
    best = None
    for style, form, wrapping in stage:
        tables = views.of(form)
        widths = [_fit(v, out, style, wrapping) for v in tables]
        if any(w is None for w in widths):
            continue
        height = sum(_height(v, w, out) for v, w in zip(tables, widths, strict=True)) if wrapping else 0
        if best is None or height < best[0]:
            best = (height, style, form, tables, widths)
    return None if best is None else best[1:]


def _comparisons(table: Table, compare: list[int]) -> Table:
    """The second table of comparisons moved out of `table`: its key column and the comparisons."""
    second = _project(table, [table.key, *compare], None)
    second.title = f"{table.title}（环比、同比）" if table.title else "环比、同比"
    return second


def _degraded(table: Table, encoding: str) -> Table:
    """The table with every cell in what `encoding` can hold (terminal.degrade)."""
    t = _project(table, list(range(len(table.columns))), None)
    t.title = degrade(t.title, encoding) if t.title else t.title
    t.columns = [Column(degrade(c.header, encoding), c.align, c.role, c.marks, c.hoist) for c in t.columns]
    t.rows = [[tuple(degrade(x, encoding) for x in cell) if isinstance(cell, tuple) else degrade(cell, encoding)
               for cell in row] for row in t.rows]
    return t


def _hoisted(table: Table) -> Table:
    """The table without its hoistable columns whose cells are all equal; their value joins the title."""
    drop = [i for i, c in enumerate(table.columns) if c.hoist and table.rows
            and all(r[i] == table.rows[0][i] for r in table.rows)]
    if not drop:
        return table
    keep = [i for i in range(len(table.columns)) if i not in drop]
    t = _project(table, keep, None)
    said = " ｜ ".join(table.rows[0][i] for i in drop)
    t.title = f"{table.title}：{said}" if table.title else said
    return t


def _project(table: Table, keep: list[int], form: str | None) -> Table:
    """A table of the columns `keep`, compare cells resolved to their `form` (full/short), or kept as pairs."""
    t = Table([table.columns[i] for i in keep], table.title, key=keep.index(table.key) if table.key in keep else 0)
    pick = {"full": 0, "short": 1}.get(form or "")
    if pick is None:
        t.rows = [[row[i] for i in keep] for row in table.rows]
    else:
        t.rows = [[row[i][pick] if isinstance(row[i], tuple) else row[i] for i in keep] for row in table.rows]
        t.columns = [Column(c.header, c.align, VALUE, c.marks, c.hoist) if c.role == COMPARE else c
                     for c in t.columns]
    return t


def _natural(table: Table, out: Out) -> list[int]:
    """Each column's widest cell (computed once per table)."""
    if table.natural is None:
        w_of = out.width_of
        natural = [w_of(c.header) for c in table.columns]
        for i in range(len(natural)):
            natural[i] = max([natural[i], *(w_of(row[i]) for row in table.rows)])
        table.natural = natural
    return table.natural


def _fit(table: Table, out: Out, style: str, wrapping: bool) -> list[int] | None:
    """Column widths for the table in `style` within out.width (text columns narrowed if `wrapping`), or None."""
    natural = _natural(table, out)
    frame = 3 * len(natural) + 1 if style == "box" else 2 * (len(natural) - 1)
    if sum(natural) + frame <= out.width:
        return natural
    if not wrapping:
        return None
    return _shrink(table, natural, out.width - frame)


def _height(table: Table, widths: list[int], out: Out) -> int:
    """About how many lines the rows take at these widths (to choose between layouts, not to draw)."""
    narrowed = [i for i, w in enumerate(widths) if w < _natural(table, out)[i]]
    w_of = out.width_of
    return sum(max([1, *(-(-w_of(row[i]) // widths[i]) for i in narrowed)]) for row in table.rows)


def _shrink(table: Table, natural: list[int], room: int) -> list[int] | None:
    """Widths for the text columns (water-filled to a common cap) so that all fit in `room`; None if not."""
    text = [i for i, c in enumerate(table.columns) if c.role == TEXT]
    fixed = sum(w for i, w in enumerate(natural) if i not in text)
    if not text:
        return None
    least = {}
    for i in text:  # a column is never narrower than its longest number or ASCII word
        runs = [len(m) for cell in [table.columns[i].header, *(r[i] for r in table.rows)]
                for m in _ASCII_RUN.findall(cell)]
        least[i] = min(natural[i], max([4, *runs]))
    if fixed + sum(least.values()) > room:
        return None
    lo, hi = 0, max(natural[i] for i in text)
    while lo < hi:  # the largest cap that fits
        mid = (lo + hi + 1) // 2
        if fixed + sum(max(least[i], min(natural[i], mid)) for i in text) <= room:
            lo = mid
        else:
            hi = mid - 1
    return [max(least[i], min(natural[i], lo)) if i in text else w for i, w in enumerate(natural)]


def _pad(text: str, used: int, width: int, align: str) -> str:
    """`text` (`used` columns wide) padded to `width` columns."""
    gap = width - used
    if gap <= 0:
        return text
    return " " * gap + text if align == "right" else text + " " * gap


def _draw(table: Table, widths: list[int], style: str, out: Out) -> list[str]:
    """The table's lines at these widths: title, header, rows, and the box's rules in the box style."""
    box = style == "box"
    lines = [out.style(t, "italic") for t in wrap(table.title, out.width, out.ambiguous)] if table.title else []
    if box:
        lines.append(_rule("┏", "┳", "┓", widths))
    lines += _row_lines(table, [c.header for c in table.columns], widths, style, out, header=True)
    if box:  # below the header, even without rows
        lines.append(_rule("┡", "╇", "┩", widths))
    elif table.rows:
        rule = "-" if out.legacy_cjk else "─"
        lines.append("  ".join(rule * w for w in widths))
    for row in table.rows:
        lines += _row_lines(table, row, widths, style, out, header=False)
    if box:
        lines.append(_rule("└", "┴", "┘", widths, "─"))
    return lines


def _rule(left: str, mid: str, right: str, widths: list[int], line: str = "━") -> str:
    return left + mid.join(line * (w + 2) for w in widths) + right


def _row_lines(table: Table, row: list[str], widths: list[int], style: str, out: Out, header: bool) -> list[str]:
    """One row's lines: its cells wrapped to their widths, padded, styled (bold header, marked cells)."""
    cols = table.columns
    if style == "box":
        left, mid, right = ("┃ ", " ┃ ", " ┃") if header else ("│ ", " │ ", " │")
    else:
        left, mid, right = "", "  ", ""
    w_of = out.width_of
    cells = []
    for i, cell in enumerate(row):
        w = w_of(cell)
        cells.append([(cell, w)] if w <= widths[i] else [(x, w_of(x)) for x in wrap(cell, widths[i], out.ambiguous)])
    lines = []
    for k in range(max(len(c) for c in cells)):
        parts = [_pad(*(c[k] if k < len(c) else ("", 0)), widths[i], cols[i].align) for i, c in enumerate(cells)]
        if header:
            parts = [out.style(p, "bold") for p in parts]
        elif out.color:
            parts = [out.style(p, cols[i].marks.get(row[i])) if cols[i].marks and k < len(cells[i]) else p
                     for i, p in enumerate(parts)]
        line = left + mid.join(parts) + right
        lines.append(line if style == "box" else line.rstrip())
    return lines


def _records(table: Table, out: Out) -> list[str]:
    """Last resort for a console too narrow for any table: each row as `表头：值` pieces, values whole."""
    width = out.width
    lines: list[str] = []
    if table.title:
        lines += wrap(table.title, width, out.ambiguous)
    cols = table.columns
    for row in table.rows:
        key = row[table.key]
        key = key[0] if isinstance(key, tuple) else key
        lines += [out.style(t, "bold") for t in wrap(key, width, out.ambiguous)]
        line = ""
        for i, cell in enumerate(row):
            if i == table.key:
                continue
            if isinstance(cell, tuple):
                cell = cell[0] if out.width_of(f"{cols[i].header}：{cell[0]}") <= width - 2 else cell[1]
            if not cell:
                continue
            part = f"{cols[i].header}：{cell}"
            if out.width_of(part) > width - 2:  # the header on a line, the value under it
                if line:
                    lines.append(line)
                    line = ""
                lines.append(f"  {cols[i].header}：")
                lines += ["  " + t for t in wrap(cell, width - 2, out.ambiguous)]
                continue
            if line and out.width_of(line) + 2 + out.width_of(part) > width:
                lines.append(line)
                line = ""
            line = f"{line}  {part}" if line else f"  {part}"
        if line:
            lines.append(line)
    return lines
