"""The worksheet XML's vocabulary, in one place: column letters, shared strings and a cell's value."""

from __future__ import annotations

import html
import re
import zipfile

V_TAG = re.compile(rb"<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", re.S)  # a cell's value
T_TAG = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>", re.S)  # a text run of a string
_T_ATTR = re.compile(rb'\st="(\w+)"')
_RPH = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)  # phonetic runs: not the cell's text
_SI_SPLIT = re.compile(rb"<(?:\w+:)?si(?=[\s/>])")
_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


def column(letters: bytes | str) -> int:
    """1-based column number of Excel column letters (b"A" → 1, "XFD" → 16384)."""
    n = 0
    for ch in letters.encode() if isinstance(letters, str) else letters:
        n = n * 26 + (ch - 64)
    return n


_LETTERS: dict[int, bytes] = {}


def letters(col: int) -> bytes:
    """Excel column letters of 1-based column `col` (the inverse of column()), remembered."""
    out = _LETTERS.get(col)
    if out is None:
        n, out = col, b""
        while n:
            n, r = divmod(n - 1, 26)
            out = bytes((65 + r,)) + out
        _LETTERS[col] = out
    return out


def text(raw: bytes) -> str:
    """The text of a string item (<si>, an inline string): its runs without phonetic ones, unescaped."""
    s = html.unescape(b"".join(T_TAG.findall(_RPH.sub(b"", raw))).decode("utf-8"))
    return _XESC.sub(lambda m: chr(int(m.group(1), 16)), s) if "_x" in s else s


class Strings:
    """A workbook's shared strings: split once, each item decoded when first asked for (IndexError past
    the last)."""

    def __init__(self, zf: zipfile.ZipFile):
        try:
            data = zf.read("xl/sharedStrings.xml")
        except KeyError:
            data = b""
        self.raw = _SI_SPLIT.split(data)[1:]  # items after each <si>; a self-closed <si/> is an empty string
        self.items: dict[int, str] = {}

    def __getitem__(self, i: int) -> str:
        if i not in self.items:
            if i >= len(self.raw):
                raise IndexError("shared string index out of range")
            item = self.raw[i]
            self.items[i] = "" if item.startswith(b"/") else text(item.split(b"</si>")[0]
                                                                 if b"</si>" in item else item)
        return self.items[i]


def value(attrs: dict, body: bytes | None, strings: Strings):
    """A cell (its attributes by name, its inner XML) as python-calamine would give it ('' when empty)."""
    if not body:
        return ""
    t = attrs.get("t", "n")
    if t == "inlineStr":
        return text(body)
    m = V_TAG.search(body)
    if m is None:
        return ""
    v = m.group(1).decode("utf-8")
    if t == "s":
        return strings[int(v)]
    if t in ("str", "d"):
        return html.unescape(v)
    if t == "b":
        return v.strip() == "1"
    if t == "e":
        return ""
    try:
        return float(v)
    except ValueError:
        return html.unescape(v)


def value_text(attrs: bytes, body: bytes, strings) -> bytes | None:
    """A cell's value as XML text, a shared string looked up (its raw attributes, its inner XML); None when
    it holds none. For telling data from blanks, not for reading the value."""
    t = _T_ATTR.search(attrs)
    kind = t.group(1) if t else b"n"
    if kind == b"inlineStr":
        return b"".join(T_TAG.findall(body))
    v = V_TAG.search(body)
    if v is None:
        return None
    if kind == b"s":
        try:
            return strings(int(v.group(1))).encode()
        except Exception:  # noqa: BLE001 - a bad index is calamine's to report: count it as data
            return b"?"
    return v.group(1)
