"""Template filters: percent, 万分比, 比例, 中文数字, change wording, all worded by metrics.display (the one voice of
every output). Every filter renders "—" for missing data."""

from __future__ import annotations

import re
from fractions import Fraction

from ..metrics.display import (
    DASH,
    ZERO_BASE,
    change_words,
    format_change,
    format_number,
    format_value,
    printed,
    round_half_up,
)


def _exact(x) -> Fraction | None:
    """The number behind `x`: an indicator (its exact value), a Fraction, Decimal, int or float; None if missing."""
    if x is None:
        return None
    exact = getattr(x, "exact", x)
    if exact is None or isinstance(exact, (str, bool)):
        return None
    if isinstance(exact, float):
        if exact != exact:  # NaN
            return None
        return Fraction(repr(exact))  # float 0.245 means the decimal the user wrote, not its binary image
    try:
        return Fraction(exact)
    except (TypeError, ValueError):
        return None


def _decimals(x, default: int) -> int:
    return getattr(x, "decimals", None) if getattr(x, "decimals", None) is not None else default


def percent(x, decimals: int | None = None) -> str:
    """0.244897… → "24.49%" (decimals default 1, or the indicator's own); exactly 1 → "100%"; missing → "—"."""
    v = _exact(x)
    return DASH if v is None else format_value(v, "percent", _decimals(x, 1) if decimals is None else decimals)


def permyriad(x, decimals: int | None = None) -> str:
    """0.000035 → "0.35‱" (万分比)."""
    v = _exact(x)
    return DASH if v is None else format_value(v, "permyriad", _decimals(x, 2) if decimals is None else decimals)


def ratio(x, decimals: int = 0) -> str:
    """25.8 → "26:1" (比例, N 比 1)."""
    v = _exact(x)
    return DASH if v is None else format_value(v, "ratio_n1", decimals)


def number(x, decimals: int = 0) -> str:
    """A plain number rounded 四舍五入: 23.65 → "23.7" with decimals=1."""
    v = _exact(x)
    return DASH if v is None else format_number(v, decimals)


def chinese(x, mode: str = "low") -> str:
    """3 → "三", 21 → "二十一" (中文数字, via cn2an); use as 排名第{{ rank|中文数字 }}."""
    v = _exact(x)
    if v is None:
        return DASH
    import cn2an

    if v.denominator == 1:
        return cn2an.an2cn(str(v.numerator), mode)
    return cn2an.an2cn(str(round_half_up(v, 2).normalize()), mode)


def change(x, which: str = "yoy", unit: str | None = None, decimals: int | None = None) -> str:
    """Change wording, as every output words it (metrics.display): "上升2.3个百分点" / "减少5人" / "持平" (同比 of
    a count also in percent: "减少43人，下降46.7%"); "—" when not covered.

    `x` is an indicator (compares with its 同比 `yoy`, 环比 `previous` with which="previous", or the base year
    with which="baseline"), a comparison, or a plain difference (a ratio difference as a fraction when unit is
    "个百分点"). `unit`/`decimals` reword an indicator's change on another unit or precision.
    """
    if getattr(x, "kind", None) is not None and hasattr(x, "yoy"):  # an indicator
        return _indicator_change(x, _COMPARED.get(which, "yoy"), unit, decimals)
    if hasattr(x, "change"):  # a comparison
        if getattr(x, "change_display", ""):
            return x.change_display
        return _change_words(_exact(x.change), unit, decimals)
    return _change_words(_exact(x), unit, decimals)


# change(which=…): the indicator's comparison it words
_COMPARED = {"previous": "previous", "环比": "previous", "baseline": "baseline", "基准": "baseline"}


def _indicator_change(x, name: str, unit: str | None, decimals: int | None) -> str:
    """An indicator's change against its comparison `name`: worded as the catalog words it, or on the
    `unit`/`decimals` asked for, as the difference of the two values printed so."""
    cmp = getattr(x, name, None)
    if not cmp or cmp.value is None or x.exact is None:
        return DASH
    ratio_like = x.kind == "ratio"
    if unit is None and decimals is None:
        fmt = getattr(x, "format", None) or ("percent" if ratio_like else "count")
        words = change_words(Fraction(x.exact), _exact(cmp.value), fmt, x.decimals,
                             x.unit_label if not ratio_like else "", relative=name != "previous")
        # a bulletin's sentence has no "—": "增加5人（基数为0，无法计算增减幅度）"
        return words.replace(f"，{DASH}（{ZERO_BASE}）", f"（{ZERO_BASE}）")
    if unit is None:
        unit = "个百分点" if ratio_like and getattr(x, "format", "percent") == "percent" else (x.unit_label or "")
    if decimals is None:
        decimals = x.decimals if ratio_like else 0
    as_printed = "percent" if unit == "个百分点" else "count"  # the change of the values printed so
    diff = printed(Fraction(x.exact), as_printed, decimals) - printed(_exact(cmp.value), as_printed, decimals)
    return _change_words(diff, unit, decimals)


def _change_words(diff: Fraction | None, unit: str | None, decimals: int | None) -> str:
    """A difference worded on `unit` (default 个百分点: `diff` is then a ratio difference as a fraction)."""
    if diff is None:
        return DASH
    if unit is None:
        unit = "个百分点"
    if decimals is None:
        decimals = 1 if unit == "个百分点" else 0
    return format_change(diff, "percent" if unit == "个百分点" else "count", decimals, unit)


def dash(x) -> str:
    """The value itself, or "—" when it is missing (None or empty)."""
    return DASH if x is None or x == "" else str(x)


def stated(xs) -> list:
    """The indicators of `xs` that have a value to state (their ledger and columns were given):
    `{% if group|stated %}`."""
    return [x for x in (xs or []) if not getattr(x, "missing", None)]


def say(x, before: str | None = None, after: str = "", zero: bool = True) -> str:
    """The clause stating `x` as the catalog words it: `{{ m.managed|say }}` → "管控人数258人" (its phrase,
    figure and unit word); `before`/`after` replace the phrase and follow the figure ("刑拘查处比" … "（同比…）").
    A figure without a value for want of input gives "" (the clause is left out: missing_sentence says why);
    one whose denominator is 0 gives "执行率无法计算（在册社区戒毒社区康复人数为0）", never "—". `zero=false`
    leaves out a figure of 0 too (a list of what was done: "张贴海报225张", not "户外宣传0次")."""
    if x is None or getattr(x, "missing", None):
        return ""
    if not zero and getattr(x, "exact", None) == 0:
        return ""
    if getattr(x, "exact", None) is None:
        return f"{getattr(x, 'name', '')}无法计算（{getattr(x, 'why', '') or '无数据'}）"
    lead = getattr(x, "phrase", "") if before is None else before
    return f"{lead}{getattr(x, 'amount', None) or x}{after}"


def _notes(xs) -> list[tuple[str, list[str], str]]:
    """[(reason, names of the figures of `xs` it leaves without a value, what to do)], each reason once."""
    out: dict[str, list[str]] = {}
    todo: dict[str, str] = {}
    seen = set()
    for x in xs or []:
        key = getattr(x, "id", None) or id(x)
        if key in seen or not getattr(x, "missing", None):
            continue
        seen.add(key)
        for note in getattr(x, "notes", None) or [getattr(x, "missing_text", "") or "缺少所需台帐"]:
            out.setdefault(note, []).append(getattr(x, "name", None) or str(key))
            todo.setdefault(note, (getattr(x, "remedies", None) or {}).get(note, ""))
    return [(why, names, todo[why]) for why, names in out.items()]


def _note_clauses(xs) -> str:
    return "；".join(f"因{why}，{'、'.join(names)}无法统计" + (f"，{remedy}" if remedy else "")
                    for why, names, remedy in _notes(xs))


def missing_note(xs) -> str:
    """"（因未提供帮教管控台帐，走访人数、走访管控率无法统计）": each reason once, with the figures of `xs` it
    leaves without a value (a missing ledger or a missing column alike); "" when every figure has one."""
    text = _note_clauses(xs)
    return f"（{text}）" if text else ""


def missing_sentence(xs) -> str:
    """The same as a sentence of its own, to follow the sentence stating the other figures:
    "因未提供帮教管控台帐，走访人数、走访管控率无法统计。"; "" when every figure of `xs` has a value."""
    text = _note_clauses(xs)
    return f"{text}。" if text else ""


_CELL = re.compile(r"^\s*\|(.*)\|\s*$")
_RULE = re.compile(r"^[\s|:\-]+$")


def _width(text: str) -> int:
    """Columns `text` takes in a CJK plain-text view: wide and ambiguous characters (汉字, ：, —, ‱) two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    """`text` padded to `width` columns: with 全角空格 beside Chinese text (as wide as a 汉字 in any font), with
    spaces beside numbers."""
    gap = width - _width(text)
    wide = any(_width(ch) == 2 for ch in text) or not text
    fill = "\u3000" * (gap // 2) + " " * (gap % 2) if wide else " " * gap
    return fill + text if right else text + fill


def table(text: str, indent: str = "\u3000\u3000", sep: str = "\u3000\u3000") -> str:
    """Pipe-table rows (`| 排名 | 镇街 |`, the `|---:|` rule giving each column's alignment) as plain text in
    aligned columns, for .txt bulletins read in Notepad/WPS: `{% filter table %}…{% endfilter %}`. Other lines
    are kept as they are."""
    lines = str(text).split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _CELL.match(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        block = []
        while i < len(lines) and _CELL.match(lines[i]):
            block.append(lines[i])
            i += 1
        out.extend(_aligned(block, indent, sep))
    return "\n".join(out)


def _aligned(block: list[str], indent: str, sep: str) -> list[str]:
    rows, right = [], []
    for line in block:
        cells = [c.strip() for c in _CELL.match(line).group(1).split("|")]
        if _RULE.match(line) and not right:
            right = [c.endswith(":") and not c.startswith(":") for c in cells]
            continue
        rows.append(cells)
    n = max(len(r) for r in rows)
    rows = [r + [""] * (n - len(r)) for r in rows]
    widths = [max(_width(r[j]) for r in rows) for j in range(n)]
    right = right + [False] * (n - len(right))
    text = []
    for k, r in enumerate(rows):
        cells = [_pad(c, widths[j], right[j] and k > 0) for j, c in enumerate(r)]
        text.append((indent + sep.join(cells)).rstrip())
    return text


_SEPARATORS = "，；、"
_RUN = re.compile(f"[{_SEPARATORS}]+")
_OPENERS = "（：。；"
_LONE_NOTE = re.compile(r"^（(因[^（）]*)）。$")


def sentence(text: str) -> str:
    """Mend a sentence whose clauses were left out (`{% filter sentence %}…{% endfilter %}`): a run of
    separators keeps its strongest (；over ，over 、); none is left at the start, after an opening bracket,
    colon or 。, or before 。, a bracket or the end; empty brackets go, and so does a 。 with nothing before it;
    a missing_note left alone ("（因…无法统计）。") becomes a sentence of its own. A sentence with nothing left
    out is unchanged."""
    text = str(text).replace("（）", "")

    def mend(m: re.Match) -> str:
        run, start, end = m.group(0), m.start(), m.end()
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if not before or before in _OPENERS or before == "\n" or not after or after in "。（）\n":
            return ""
        return next(c for c in "；，、" if c in run)

    text = re.sub("。{2,}", "。", _RUN.sub(mend, text))
    text = re.sub(r"(^|\n)。", r"\1", text)
    return _LONE_NOTE.sub(r"\1。", text)


FILTERS = {
    "percent": percent, "百分比": percent,
    "permyriad": permyriad, "万分比": permyriad,
    "ratio": ratio, "比例": ratio,
    "number": number, "数字": number,
    "cn": chinese, "中文数字": chinese,
    "change": change, "变化": change,
    "dash": dash,
    "stated": stated, "missing_note": missing_note, "missing_sentence": missing_sentence, "sentence": sentence,
    "say": say, "table": table,
}
