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
