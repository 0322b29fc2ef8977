"""Reading the TOML files users write (jindu.toml, catalogs, scoring schemes): one place turns every way
tomllib can fail into a ConfigError naming the file and the line."""

from __future__ import annotations

import re
import tomllib

from .errors import ConfigError

# No config of jindu nests deeper than a few levels; deeper nesting is a broken or hostile file, and tomllib
# recurses per level (a few hundred levels exhaust Python's stack).
MAX_DEPTH = 32


def _deep_line(text: str) -> int | None:
    """1-based line where bracket nesting first passes MAX_DEPTH (strings not parsed: a good enough pointer)."""
    depth = 0
    for n, line in enumerate(text.splitlines(), start=1):
        for ch in line:
            if ch in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return n
            elif ch in "]}":
                depth -= 1
    return None


def _depth(value) -> int:
    best, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        best = max(best, d)
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return best


def loads(text: str, file: str | None, what: str) -> dict:
    """tomllib.loads, or ConfigError(「{what}不是有效的 TOML…」, file, row)."""
    too_deep = ConfigError(f"{what}嵌套层数过多（数组或表套了超过{MAX_DEPTH}层），无法读取", file=file,
                           row=_deep_line(text))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        msg = re.sub(r" *[(]at line.*", "", str(exc))
        raise ConfigError(f"{what}不是有效的 TOML：{msg}", file=file, row=int(m.group(1)) if m else None) from None
    except RecursionError:
        raise too_deep from None
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    return data


class Locator:
    """Where a key is written in a TOML text (tomllib gives values, not lines): the one way every config of
    jindu points a ConfigError at its line. `table` names the array of tables an index counts in
    ([[indicator]], [[item]]) or the one table ([workspace]). A good-enough pointer: comments are skipped,
    strings are not parsed."""

    def __init__(self, text: str, file: str | None, table: str | None = None):
        self.lines = text.splitlines()
        self.file = file
        self.table = table

    def _block(self, table: str | None, index: int | None) -> tuple[int, int] | None:
        """Lines [start, end) of the `index`-th [table] / [[table]] (its sub-tables [table.x] included)."""
        if table is None or index is None:
            return None
        name = r"\[\[?\s*\"?" + re.escape(table) + r"\"?\s*"
        head, sub = re.compile(name + r"\]"), re.compile(name + r"\.")
        heads = [i for i, ln in enumerate(self.lines) if head.match(ln.strip())]
        if index >= len(heads):
            return None
        start, end = heads[index], len(self.lines)
        for j in range(start + 1, len(self.lines)):
            ln = self.lines[j].strip()
            if ln.startswith("[") and not sub.match(ln):
                end = j
                break
        return start, end

    def line(self, index: int | None = None, *keys: str, table: str | None = None) -> int | None:
        """1-based line of the last of `keys` found in order inside the `index`-th [table] (default: this
        locator's table; its header line when no key is given), or in the whole file when index is None or
        there is no such table."""
        block = self._block(table or self.table, index)
        start, end = block if block else (0, len(self.lines))
        pos, found = start, (start if block else None)
        for key in keys:
            pat = re.compile(r'(^|[\s{,.\[])"?' + re.escape(str(key)) + r'"?\s*(=|\])')
            for j in range(pos, end):
                if pat.search(self.lines[j].split("#", 1)[0]):
                    found = pos = j
                    break
        return None if found is None else found + 1

    def error(self, message: str, index: int | None = None, *keys: str, table: str | None = None) -> ConfigError:
        return ConfigError(message, file=self.file, row=self.line(index, *keys, table=table))


def read(path, what: str, table: str | None = None) -> tuple[str, dict, Locator]:
    """A user's TOML file (UTF-8, BOM allowed): its text, its data and its Locator; ConfigError naming the
    file (and the line) when it cannot be read or parsed."""
    from pathlib import Path

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{what}无法读取：{exc}", file=str(path)) from None
    return text, loads(text, str(path), what), Locator(text, str(path), table)
