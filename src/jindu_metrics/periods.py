"""Statistical periods (统计期): parsing, labels as bulletins print them, comparison windows.

Pure stdlib: `jindu metrics` and `jindu --help` must not import pandas.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from . import schema
from .errors import UsageError

if TYPE_CHECKING:
    from .ledgers.model import LedgerSet

_QUARTERS = {1: "一", 2: "二", 3: "三", 4: "四"}


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    k = year * 12 + (month - 1) + n
    return k // 12, k % 12 + 1


@dataclass(frozen=True)
class Period:
    """A window [start, end], both days included. `form` only chooses the label (季度/半年), not equality."""

    start: date
    end: date
    form: str = field(default="", compare=False)  # "quarter" / "half" / "" (inferred from the dates)

    def __post_init__(self):
        if self.end < self.start:
            raise UsageError(f"统计期的结束日期 {self.end} 早于开始日期 {self.start}。")

    @property
    def whole_months(self) -> bool:
        """Starts on a 1st and ends on a month's last day."""
        return self.start.day == 1 and self.end == _month_end(self.end.year, self.end.month)

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def label(self) -> str:
        s, e = self.start, self.end
        if self.whole_months:
            if s.year == e.year:
                if self.form == "quarter" and s.month % 3 == 1 and self.months == 3:
                    return f"{s.year}年第{_QUARTERS[(s.month - 1) // 3 + 1]}季度"
                if self.form == "half" and s.month in (1, 7) and self.months == 6:
                    return f"{s.year}年{'上' if s.month == 1 else '下'}半年"
                if s.month == 1 and e.month == 12:
                    return f"{s.year}年"
                if s.month == e.month:
                    return f"{s.year}年{s.month}月"
                return f"{s.year}年{s.month}-{e.month}月"
            return f"{s.year}年{s.month}月-{e.year}年{e.month}月"
        if s.year == e.year:
            return f"{s.year}年{s.month}月{s.day}日至{e.month}月{e.day}日"
        return f"{s.year}年{s.month}月{s.day}日至{e.year}年{e.month}月{e.day}日"

    @property
    def months_label(self) -> str:
        """As bulletins write it after the year: 1至10月, 10月; other windows: the dates."""
        s, e = self.start, self.end
        if self.whole_months and s.year == e.year:
            return f"{s.month}月" if s.month == e.month else f"{s.month}至{e.month}月"
        if s.year == e.year:
            return f"{s.month}月{s.day}日至{e.month}月{e.day}日"
        return self.label

    def contains(self, d: date) -> bool:
        return self.start <= d <= self.end

    def year_to_date(self) -> Period:
        return Period(date(self.end.year, 1, 1), self.end)

    def previous(self) -> Period:
        """The window of equal length just before (whole months: the same number of whole months)."""
        if self.whole_months:
            y, m = _add_months(self.start.year, self.start.month, -self.months)
            ey, em = _add_months(self.start.year, self.start.month, -1)
            return Period(date(y, m, 1), _month_end(ey, em), self.form)
        days = (self.end - self.start).days + 1
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=days - 1), end)

    def year_earlier(self) -> Period:
        return self.years_shifted(-1)

    def in_year(self, year: int) -> Period:
        """The same window moved to start in `year` (the base year of `--baseline`)."""
        return self.years_shifted(year - self.start.year)

    def years_shifted(self, years: int) -> Period:
        """The same window `years` later (earlier when negative); 2月29日 becomes 2月28日 outside leap years."""
        def move(d: date) -> date:
            last = calendar.monthrange(d.year + years, d.month)[1]
            return date(d.year + years, d.month, min(d.day, last))

        if self.whole_months:
            return Period(date(self.start.year + years, self.start.month, 1),
                          _month_end(self.end.year + years, self.end.month), self.form)
        return Period(move(self.start), move(self.end))

    def to_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "label": self.label}


def bulletin_window(period: Period) -> Period:
    """The window a bulletin reports for `period`, as offices mean `--period 2018-10`: a single month (other
    than January) → the year to date (flows 1至N月, stocks on its last day); any other window as given.
    Every figure of a county run covers it."""
    return period.year_to_date() if period.months == 1 and period.start.month != 1 else period


def window_note(window: Period) -> str:
    """The one sentence naming a window that every output opens with: "统计期：2018年1-10月（累计，存量指标为
    10月31日）"; a single month: "统计期：2018年10月（当月发生数，存量指标为10月31日）"."""
    end = f"{window.end.month}月{window.end.day}日"
    if window.whole_months and window.months == 1:
        return f"统计期：{window.label}（当月发生数，存量指标为{end}）"
    if window.whole_months:
        return f"统计期：{window.label}（累计，存量指标为{end}）"
    return f"统计期：{window.label}（期内发生数，存量指标为{end}）"


def comparisons_note(window: Period, baseline: Period | None = None) -> str:
    """Which windows 环比, 同比 (and the base year) compare with: "环比：与2018年9月比；同比：与2017年10月比"."""
    text = f"环比：与{window.previous().label}比；同比：与{window.year_earlier().label}比"
    if baseline is not None:
        text += f"；较{baseline.start.year}年：与{baseline.label}比"
    return text


def cumulative_hint(window: Period, command: str) -> str | None:
    """For one month other than January, where the bulletin's cumulative figures come from (a bulletin of
    `--period 2018-10` reports 1至10月): "通报按1至10月累计：jindu compute … --period 2018-01..2018-10"."""
    if not (window.whole_months and window.months == 1 and window.start.month != 1):
        return None
    ytd = window.year_to_date()
    return (f"通报按{ytd.months_label}累计：{command} --period "
            f"{ytd.start.year}-{ytd.start.month:02d}..{ytd.end.year}-{ytd.end.month:02d}")


_FORMS = "2018-10、2018-01..2018-10、2018-Q3、2018-H1、2018、2018-01-01..2018-12-20"


def _bad(text: str, why: str = "") -> UsageError:
    extra = f"（{why}）" if why else ""
    return UsageError(f"无法识别的统计期「{text}」{extra}。可用的写法：{_FORMS}。")


def _ym(text: str, whole: str) -> tuple[int, int]:
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})月?", text)
    if not m:
        raise _bad(whole)
    y, mo = int(m.group(1)), int(m.group(2))
    if not 1 <= mo <= 12:
        raise _bad(whole, f"月份 {mo} 不存在")
    return y, mo


def _ymd(text: str, whole: str) -> date:
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not m:
        raise _bad(whole)
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise _bad(whole, "日期不存在") from None


# Periods the tool can count: ledger dates before 1950 are findings, and the comparison windows (a year and
# three years back) and pandas' timestamps (to 2262) must stay in range.
MIN_YEAR, MAX_YEAR = 1950, 2100


def parse_day(text: str, option: str = "--date") -> date:
    """One day as the commands take it (2018-10-15, 2018/10/15, 2018年10月15日, 20181015); UsageError (Chinese)
    naming `option` otherwise, also for a year out of range."""
    t = (text or "").strip()
    if re.fullmatch(r"\d{8}", t):
        t = f"{t[:4]}-{t[4:6]}-{t[6:]}"
    try:
        d = _ymd(t, text)
    except UsageError:
        raise UsageError(f"{option} 的日期「{text}」无法识别，请写成 2018-10-15 这样的形式。") from None
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        raise UsageError(f"{option} 的日期「{text}」超出范围：年份须在{MIN_YEAR}年至{MAX_YEAR}年之间。")
    return d


def parse_period(text: str) -> Period:
    """Parse every period form of metrics.md; UsageError (Chinese) otherwise, also for a year out of range."""
    try:
        p = _parse(text)
    except (ValueError, OverflowError):  # date(0, 1, 1) and the like
        p = None
    if p is None or not (p.start.year >= MIN_YEAR and p.end.year <= MAX_YEAR):
        raise UsageError(f"统计期「{text}」超出范围：年份须在{MIN_YEAR}年至{MAX_YEAR}年之间（如 2018-10）。")
    return p


def _parse(text: str) -> Period:
    t = (text or "").strip().replace("～", "..").replace("~", "..").replace("至", "..")
    t = t.translate(str.maketrans("０１２３４５６７８９－", "0123456789-"))
    if not t:
        raise _bad(text)
    if ".." in t:
        a, _, b = t.partition("..")
        a, b = a.strip(), b.strip()
        if re.fullmatch(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?", a):
            start, end = _ymd(a, text), _ymd(b, text)
        else:
            (y1, m1), (y2, m2) = _ym(a, text), _ym(b, text)
            start, end = date(y1, m1, 1), _month_end(y2, m2)
        if end < start:
            raise _bad(text, "结束早于开始")
        return Period(start, end)
    m = re.fullmatch(r"(\d{4})年?", t)
    if m:
        y = int(m.group(1))
        return Period(date(y, 1, 1), date(y, 12, 31))
    m = re.fullmatch(r"(\d{4})-?[Qq]([1-4])", t)
    if m:
        y, q = int(m.group(1)), int(m.group(2))
        return Period(date(y, 3 * q - 2, 1), _month_end(y, 3 * q), "quarter")
    m = re.fullmatch(r"(\d{4})-?[Hh]([12])", t)
    if m:
        y, h = int(m.group(1)), int(m.group(2))
        return Period(date(y, 1 if h == 1 else 7, 1), _month_end(y, 6 if h == 1 else 12), "half")
    if re.fullmatch(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?", t):
        d = _ymd(t, text)
        return Period(d, d)
    y, mo = _ym(t, text)
    return Period(date(y, mo, 1), _month_end(y, mo))



def latest_data_date(ledgers: LedgerSet, today: date | None = None) -> date | None:
    """The latest event date in the ledgers, ignoring dates after today (those are findings)."""
    import pandas as pd

    today = today or date.today()
    best = None
    for kind, cols in ((k.id, k.data_date_columns) for k in schema.KINDS.values() if k.data_date_columns):
        df = ledgers.frames.get(kind)
        if df is None or not len(df):
            continue
        for c in cols:
            if c not in df.columns:
                continue
            s = df[c]
            s = s[s.notna() & (s <= pd.Timestamp(today))]
            if len(s):
                d = s.max().date()
                best = d if best is None or d > best else best
    return best


def default_period(ledgers: LedgerSet, today: date | None = None) -> Period:
    """January to the latest month with data (1至N月)."""
    d = latest_data_date(ledgers, today)
    if d is None:
        raise UsageError("台帐中没有可用的日期，无法确定默认统计期，请用 --period 指定（如 2018-01..2018-10）。")
    return Period(date(d.year, 1, 1), _month_end(d.year, d.month))


def after_data_note(period: Period, ledgers: LedgerSet, today: date | None = None) -> str | None:
    """A warning when the window begins after the ledgers' latest date (`--period 2019` on 2018 ledgers):
    its flows would all read 0 and its stocks are those of the last entries, which a reader must be told."""
    last = latest_data_date(ledgers, today)
    if last is None or period.start <= last:
        return None
    return (f"统计期{period.label}在台帐最新日期（{last.year}年{last.month}月{last.day}日）之后：期内发生的查处、"
            "走访等都为0，存量指标按台帐现状计。请检查 --period 或台帐是否已更新。")


# The drag-and-drop launchers of the Windows zip ask for the bulletin's usual window without knowing the data.
LATEST_COMPLETE = ("最近整月", "latest")


def is_latest_complete(text: str | None) -> bool:
    return (text or "").strip().lower() in LATEST_COMPLETE


def latest_complete_period(ledgers: LedgerSet, today: date | None = None) -> Period:
    """January to the latest month with data that has ended (1至N月): the month in progress is left out."""
    today = today or date.today()
    return complete_months_to(latest_data_date(ledgers, today), today)


def complete_months_to(d: date | None, today: date | None = None) -> Period:
    """January to the month of `d` (the latest data), or to the month before when that month is today's."""
    today = today or date.today()
    if d is None:
        raise UsageError("台帐中没有可用的日期，无法确定最近整月，请用 --period 指定（如 2018-01..2018-10）。")
    y, m = (d.year, d.month) if (d.year, d.month) != (today.year, today.month) else _add_months(d.year, d.month, -1)
    return Period(date(y, 1, 1), _month_end(y, m))


def resolve_period(text: str | None, ledgers: LedgerSet, today: date | None = None) -> Period:
    """--period as given: a period (parse_period), 最近整月 (latest_complete_period), or absent (default_period)."""
    if not text:
        return default_period(ledgers, today)
    if is_latest_complete(text):
        return latest_complete_period(ledgers, today)
    return parse_period(text)
