"""The catalog's checks, as small rules apart from construction (catalog.py builds, these judge).

ENTRY_RULES judge each [[indicator]] table as written (keys, id, allowed words, the keys its kind needs),
CATALOG_RULES the tables together, INDICATOR_RULES each built indicator (its measures and wording). A rule
raises the ConfigError that names the file, line and key; the first broken rule is the one reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .. import derived, schema
from ..errors import ConfigError
from ..tomlread import Locator
from .declarations import Aggregation, Direction, Format, Indicator, Kind, Part, Time

AREAS = ("查处", "管控", "社区戒毒康复", "帮教检测", "宣传")
LEDGERS = tuple(schema.KINDS)
FORMATS = tuple(Format)
KINDS = tuple(Kind)
DIRECTIONS = tuple(Direction)

# Columns the tool derives (the registry in derived.py; documented in default_catalog.toml's header):
# name -> type as in schema.
DERIVED: dict[str, dict[str, str]] = {led: {n: d.type for n, d in derived.of(led).items()} for led in derived.LEDGERS}

INDICATOR_KEYS = {
    "id": str, "name": str, "definition": str, "area": str, "kind": str, "ledger": str, "where": dict,
    "count": str, "sum": str, "numerator": (str, dict), "denominator": (str, dict), "time": str, "unit": str,
    "decimals": int, "format": str, "target": str, "direction": str, "target_window": str, "source": str,
    "pending": bool, "pending_note": str, "show": bool, "extra": dict, "schedule": (str, dict), "bulletin": dict,
}
# How a bulletin words an indicator (`[indicator.bulletin]`): declared, never guessed from display strings.
BULLETIN_KEYS = {"phrase": str, "unit": str, "gap_verb": str, "gap_unit": str, "gap_side": str, "state": bool}
SCHEDULE_KEYS = {"where": dict, "months": dict}
SIDE_KEYS = {"ledger": str, "where": dict, "count": str, "sum": str}
# The values a key may take (checked in this order).
_ALLOWED = (("kind", KINDS), ("area", AREAS), ("format", FORMATS), ("direction", DIRECTIONS),
            ("time", tuple(Time)), ("count", (Aggregation.PERSONS, Aggregation.ROWS)),
            ("target_window", ("year",)), ("ledger", LEDGERS))
_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
# Characters that only an expression would need; category/text values never contain them.
_EXPR_RE = re.compile(r"[=<>!()\[\]{};`$|&\\]|__|\blambda\b|\bimport\b|\beval\b|\bexec\b|@")
_TYPE_WORDS = {str: "文本", int: "整数", bool: "true/false", dict: "表格", list: "列表"}


# ---------------------------------------------------------------- helpers (also used while building)
def _type_ok(value, expected) -> bool:
    types = expected if isinstance(expected, tuple) else (expected,)
    if bool in types and isinstance(value, bool):
        return True
    if isinstance(value, bool):
        return False
    return isinstance(value, types)


def _type_word(expected) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    return "或".join(_TYPE_WORDS.get(t, t.__name__) for t in types)


def check_keys(table: dict, allowed: dict, loc: Locator, index, path: tuple, what: str) -> None:
    """Every key of `table` known and of its type (a string where a table belongs: no expressions)."""
    for k, v in table.items():
        if k not in allowed:
            raise loc.error(f"{what}中有未知的键「{k}」；允许的键：{'、'.join(allowed)}", index, *path, k)
        if not _type_ok(v, allowed[k]):
            extra = "；目录只接受数据，不接受表达式" if isinstance(v, str) else ""
            raise loc.error(f"{what}的键「{k}」应为{_type_word(allowed[k])}{extra}", index, *path, k)


def column_type(ledger: str, col: str) -> str | None:
    """The schema type of a recorded or derived column of `ledger`; None when it has no such column."""
    if col in DERIVED.get(ledger, {}):
        return DERIVED[ledger][col]
    kind = schema.KINDS[ledger]
    if col in kind.column_names:
        return kind.column(col).type
    return None


def looks_like_expression(s: str) -> bool:
    return bool(_EXPR_RE.search(s))


# ---------------------------------------------------------------- entries as written
@dataclass(frozen=True)
class Entry:
    """One [[indicator]] table as written (an office's keys merged over the default's), and where."""

    id: str
    table: dict
    loc: Locator
    index: int

    def error(self, message: str, *path) -> ConfigError:
        return self.loc.error(message, self.index, *path)


def _keys(e: Entry) -> None:
    check_keys(e.table, INDICATOR_KEYS, e.loc, e.index, (), "[[indicator]]")


def _id(e: Entry) -> None:
    if not _ID_RE.fullmatch(e.id):
        raise e.error(f"id「{e.id}」须由小写字母、数字、下划线组成并以字母开头", "id")


def _required(e: Entry) -> None:
    for req in ("name", "kind", "area"):
        if req not in e.table:
            raise e.error(f"指标「{e.id}」缺少「{req}」")


def _allowed(e: Entry) -> None:
    for key, allowed in _ALLOWED:
        if key in e.table and e.table[key] not in allowed:
            raise e.error(f"「{key}」的值「{e.table[key]}」不在允许范围：{'、'.join(allowed)}", key)


def _schedule_shape(e: Entry) -> None:
    t = e.table
    if t["kind"] != Kind.SCHEDULE:
        if "schedule" in t:
            raise e.error("「schedule」只用于 kind = \"schedule\" 的指标", "schedule")
        return
    if "schedule" not in t:
        raise e.error(f"频次指标「{e.id}」缺少「schedule」（检测间隔表）")
    for k in ("ledger", "where", "sum", "count", "numerator", "denominator"):
        if k in t:
            raise e.error(f"频次指标（kind = \"schedule\"）不用「{k}」：人群是在期内执行且已报到的社区戒毒"
                          "社区康复决定，计入的记录写在 schedule.where 中", k)
    if not isinstance(t.get("extra", {}), dict) or any(v != Part.OPEN for v in t.get("extra", {}).values()):
        raise e.error("频次指标的 extra 只能是「标签 = \"open\"」（期末所在区间尚未检测的人数）", "extra")


def _ratio_shape(e: Entry) -> None:
    if e.table["kind"] != Kind.RATIO:
        return
    for side in ("numerator", "denominator"):
        if side not in e.table:
            raise e.error(f"比率指标「{e.id}」缺少「{side}」")
    for k in ("ledger", "where", "sum", "count"):
        if k in e.table:
            raise e.error(f"比率指标的「{k}」应写在 numerator/denominator 中", k)


def _count_shape(e: Entry) -> None:
    t = e.table
    if t["kind"] not in (Kind.COUNT, Kind.SUM):
        return
    if "ledger" not in t:
        raise e.error(f"指标「{e.id}」缺少「ledger」")
    if t["kind"] == Kind.SUM and "sum" not in t:
        raise e.error(f"合计指标「{e.id}」缺少「sum」（要合计的数字列）")
    for k in ("numerator", "denominator"):
        if k in t:
            raise e.error(f"「{k}」只用于 kind = \"ratio\" 的指标", k)


def _decimals(e: Entry) -> None:
    if "decimals" in e.table and not 0 <= e.table["decimals"] <= 6:
        raise e.error("decimals 应在 0 到 6 之间", "decimals")


def _count_format(e: Entry) -> None:
    if e.table["kind"] in (Kind.COUNT, Kind.SUM) and e.table.get("format", Format.COUNT) != Format.COUNT:
        raise e.error("人数、例数和合计指标的 format 只能是 count", "format")


ENTRY_RULES: tuple[Callable[[Entry], None], ...] = (
    _keys, _id, _required, _allowed, _schedule_shape, _ratio_shape, _count_shape, _decimals, _count_format)


def _unique_names(entries: list[Entry]) -> None:
    names: dict[str, str] = {}
    for e in entries:
        name = e.table["name"]
        if name in names:
            raise e.error(f"名称「{name}」与指标「{names[name]}」重复", "name")
        names[name] = e.id


CATALOG_RULES: tuple[Callable[[list[Entry]], None], ...] = (_unique_names,)


def check_entries(entries: list[Entry]) -> None:
    """Every entry rule on each entry in turn, then the rules over all entries."""
    for e in entries:
        for rule in ENTRY_RULES:
            rule(e)
    for rule in CATALOG_RULES:
        rule(entries)


# ---------------------------------------------------------------- built indicators
_AGG_WORDS = {Aggregation.PERSONS: "按人数（count = \"persons\"）", Aggregation.ROWS: "按记录数（count = \"rows\"）",
              Aggregation.SUM: "按合计（sum）"}


def _same_ledger(ind: Indicator, e: Entry) -> None:
    num, den = ind.numerator, ind.denominator
    if den is not None and ind.schedule is None and den.ledger != "units" and num.ledger != den.ledger:
        raise e.error("分子与分母须来自同一台帐（分子是分母人群的子集）；只有单位信息表的合计可作异表分母", "numerator")


def _same_count(ind: Indicator, e: Entry) -> None:
    num, den = ind.numerator, ind.denominator
    if den is not None and ind.schedule is None and den.ledger != "units" and num.agg != den.agg:
        written = e.table["numerator"]
        raise e.error(f"分子{_AGG_WORDS[num.agg]}、分母{_AGG_WORDS[den.agg]}计：分子须是分母人群的子集，计数方式"
                      "也须相同，否则比率可能超过100%", "numerator",
                      *(("count",) if isinstance(written, dict) and "count" in written else ()))


def _units_denominator(ind: Indicator, e: Entry) -> None:
    den = ind.denominator
    if den is not None and den.ledger == "units" and den.agg != Aggregation.SUM:
        raise e.error("单位信息表作分母时须写 sum（如 sum = \"禁毒社工\"）", "denominator")


def _gap_side(ind: Indicator, e: Entry) -> None:
    side = ind.wording.gap_side
    if side not in ("numerator", "denominator"):
        raise e.error("bulletin 的 gap_side 只能是 numerator 或 denominator", "bulletin", "gap_side")
    if side == "denominator" and (ind.kind != Kind.RATIO or ind.direction != Direction.LOWER):
        raise e.error("gap_side = \"denominator\" 只用于目标为“不高于”（direction = \"lower\"）的比率指标",
                      "bulletin", "gap_side")


INDICATOR_RULES: tuple[Callable[[Indicator, Entry], None], ...] = (
    _same_ledger, _same_count, _units_denominator, _gap_side)


def check_indicator(ind: Indicator, e: Entry) -> None:
    for rule in INDICATOR_RULES:
        rule(ind, e)
