"""Text folding: full-width → half-width (NFKC), 繁体 → 简体 (zhconv), whitespace."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache


def _import_zhconv():
    """zhconv finds its dictionary through pkg_resources when importable (≈0.12 s of imports) and by its
    own path otherwise; the path is enough, so pkg_resources is hidden while zhconv is imported."""
    import sys

    if "zhconv" in sys.modules or "pkg_resources" in sys.modules:
        import zhconv
        return zhconv
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes `import pkg_resources` fail
    try:
        import zhconv
    finally:
        del sys.modules["pkg_resources"]
    return zhconv


zhconv = _import_zhconv()

_WS = re.compile(r"[\s\u3000\u00a0\u200b\ufeff]+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Trim, NFKC (full-width letters, digits and （）： become ASCII) and 繁→简."""
    s = unicodedata.normalize("NFKC", text).strip()
    if not s or s.isascii():  # zhconv's keys all hold a CJK character: ASCII text (IDs, dates) is as it is
        return s
    return zhconv.convert(s, "zh-cn")


@lru_cache(maxsize=65536)
def fold_compact(text: str) -> str:
    """fold() and every inner whitespace removed (headers, category values)."""
    return _WS.sub("", fold(text))


def fold_header(text: str) -> str:
    """A header cell folded for alias lookup: compact, 台账 → 台帐, line breaks and stray punctuation gone."""
    s = fold_compact(text).replace("台账", "台帐")
    return s.replace("*", "").replace("※", "").rstrip(":")


def cell_text(value: object) -> str:
    """A raw cell as text: integral floats without '.0', None → ''."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)
