"""Masking of names and ID numbers wherever output must point at a person — the one home of masking.

A value is masked by what it is, not only by the column it sits in: a column shift puts an ID or a name
under 备注 or 所属村居 just as easily. So every text that comes from a cell and reaches an output goes
through `mask_value` (column-aware) or `mask_text` (anywhere in the text):

- any run of 15 or more digits (ASCII or full-width, optionally ending in X) is masked like an ID — an
  18- or 15-character ID anywhere in a value, and any longer run that could contain one;
- so is an ID written in groups: 15 or more digits with spaces (also NBSP, ideographic and zero-width
  ones), hyphens, dots or slashes between them (`4427 2119 6708 1881 35`, `442721-19670818-8135`); a list
  of dates written with spaces only between them is masked too (what could hold an ID is);
- any name of the ledgers' 姓名 columns found inside a value is masked like a name (`Names`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_ID_RUN = re.compile(r"[0-9０-９]{14,}[0-9０-９XxＸｘ]")
_D, _X = "[0-9０-９]", "[0-9０-９XxＸｘ]"
_SEP = "[ \t\u00a0\u2000-\u200d\u2060\u3000\ufeff\\-‐-―－.．·・/／]{1,3}"  # between the groups of an ID
# 15 or more digits (the last may be X), each but the first preceded by at most a few separators: like _ID_RUN,
# the whole run (any run that could hold an ID). Begins with a digit: re scans fast for its first character.
_ID_GROUPED = re.compile(f"{_D}(?:(?:{_SEP})?{_D}){{13,}}(?:{_SEP})?{_X}")
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff]")
_VISIBLE_SEPARATOR = re.compile("([ \t\u00a0\u2000-\u200a\u3000\\-‐-―－.．·・/／]+)")
_MIN_NAME = 2  # a one-character "name" would mask that character in every text


def mask_id(value: object) -> str:
    """`440607199001011234` -> `440607********1234`; short or odd values keep only their ends."""
    if value is None:
        return ""
    s = str(value).strip()
    if not s or s.lower() == "nan":
        return ""
    if len(s) >= 10:
        return s[:6] + "*" * (len(s) - 10) + s[-4:]
    if len(s) > 2:
        return s[0] + "*" * (len(s) - 2) + s[-1]
    return "*" * len(s)


def mask_name(value: object) -> str:
    """`张三丰` -> `张**`."""
    if value is None:
        return ""
    s = str(value).strip()
    if not s or s.lower() == "nan":
        return ""
    return s[0] + "*" * max(len(s) - 1, 1)


class Names:
    """The persons' names to look for inside any text (exact substrings of two characters or more)."""

    __slots__ = ("_firsts", "_lengths", "_memo", "_names")

    def __init__(self, names: Iterable[object] = ()) -> None:
        found = set()
        for n in names:
            if isinstance(n, str):
                n = n.strip()
                if len(n) >= _MIN_NAME:
                    found.add(n)
        self._names = frozenset(found)
        self._lengths = sorted({len(n) for n in found}, reverse=True)  # longest first: 欧阳修文 before 欧阳
        self._firsts = frozenset(n[0] for n in found)  # a position no name starts with is passed at once
        self._memo: dict[str, str] = {}  # findings repeat their messages and values: scan each text once

    @classmethod
    def of(cls, ledgers) -> Names:
        """The names in every 姓名 column of a LedgerSet (persons first of all; others hold them too)."""
        names: set = set()
        for df in ledgers.frames.values():
            if "姓名" in df.columns and len(df):
                names.update(df["姓名"].dropna().unique().tolist())
        return cls(names)

    def __bool__(self) -> bool:
        return bool(self._names)

    def mask(self, s: str) -> str:
        if not self._names or len(s) < _MIN_NAME:
            return s
        done = self._memo.get(s)
        if done is None:
            done = self._scan(s)
            if len(self._memo) < 100_000:
                self._memo[s] = done
        return done

    def _scan(self, s: str) -> str:
        out: list[str] = []
        i, n = 0, len(s)
        while i < n:
            if s[i] not in self._firsts:
                out.append(s[i])
                i += 1
                continue
            for ln in self._lengths:
                if i + ln <= n and s[i:i + ln] in self._names:
                    out.append(mask_name(s[i:i + ln]))
                    i += ln
                    break
            else:
                out.append(s[i])
                i += 1
        return "".join(out)


NO_NAMES = Names()


def mask_text(value: object, names: Names | None = None) -> str:
    """Mask every ID-like digit run and every known name anywhere in `value`."""
    if value is None:
        return ""
    s = _ID_RUN.sub(_masked_run, str(value))  # the regex's own scan: a county's 10^4 messages, char by char, cost 0.3 s
    if len(s) >= 16:  # an ID in groups: 15 characters and a separator at least
        s = _ID_GROUPED.sub(_masked_grouped, s)
    return names.mask(s) if names else s


def _masked_run(m: re.Match) -> str:
    return mask_id(m.group(0))


def _masked_grouped(m: re.Match) -> str:
    """The IDs written in groups within a run of digits and separators, each masked as the ID it is (its
    separators left out: they would show its length). Zero-width characters join digits; visible separators
    make groups, and every group of an ID but its last holds three digits or more: a date or a period
    (`2018-01-01..2018-10-31`: groups of two) is no ID, and an ID written after one still is."""
    parts = _VISIBLE_SEPARATOR.split(_INVISIBLE.sub("", m.group(0)))  # group, separator, group, …
    groups, seps = parts[0::2], parts[1::2] + [""]
    out, i = [], 0
    while i < len(groups):
        j, digits = i, 0
        while j < len(groups):  # the longest run of groups from i that could be one ID
            digits += len(groups[j])
            j += 1
            if len(groups[j - 1]) < 3:
                break
        if digits >= 15:
            out.append(mask_id("".join(groups[i:j])) + seps[j - 1])
        else:
            j = i + 1
            out.append(groups[i] + seps[i])
        i = j
    return "".join(out)


def mask_place(text: str | None, show_pii: bool = False, names: Names | None = None) -> str | None:
    """A file or sheet name for output: an ID or a known name in it masked (a township's file may be named
    after a person), unless `show_pii`."""
    if text is None or show_pii:
        return text
    return mask_text(text, names)


def mask_value(column: str | None, value: object, show_pii: bool = False,
               names: Names | None = None) -> str | None:
    """A cell's text for output: masked by its column (姓名, 公民身份号码) and by what it holds, unless `show_pii`."""
    if value is None:
        return None
    if show_pii:
        return str(value)
    if column is not None and (column == "公民身份号码" or column.endswith("身份号码")):
        return mask_id(value)
    if column == "姓名":
        return mask_name(value)
    return mask_text(value, names)


__all__ = ["NO_NAMES", "Names", "mask_id", "mask_name", "mask_place", "mask_text", "mask_value"]
