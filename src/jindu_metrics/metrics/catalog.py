"""The indicator catalog: declarations read from TOML, validated strictly, never evaluated as code.

An office's catalog is data from another office: only the keys documented in default_catalog.toml are
accepted, filters are tables of column = value, and nothing from the file is ever passed to eval/query.
This module builds the declarations (declarations.py, filters.py); checks.py holds the rules they must pass.
No pandas here (`jindu metrics` must stay light).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from fractions import Fraction
from importlib import resources
from pathlib import Path

from .. import schema
from ..errors import ConfigError, UsageError
from ..tomlread import Locator as _Locator
from .checks import (
    AREAS,
    BULLETIN_KEYS,
    DERIVED,
    FORMATS,
    INDICATOR_KEYS,
    KINDS,
    LEDGERS,
    SCHEDULE_KEYS,
    SIDE_KEYS,
    Entry,
    check_entries,
    check_indicator,
    check_keys,
    column_type,
    looks_like_expression,
)
from .declarations import (
    VISIT_UNGRADED,
    Aggregation,
    Direction,
    Format,
    Indicator,
    Kind,
    Measure,
    Part,
    Rules,
    Schedule,
    Target,
    Time,
    VisitRule,
    Wording,
)
from .display import SUFFIX
from .filters import AnyOf, Eq, Has, HasAfter, In, Not, Where, has_ledgers

STOCK_LEDGERS = ("persons", "community", "units")
PERSON_LEDGERS = ("seizures", "community", "contacts")  # ledgers with 公民身份号码 usable in `has`
# The rule tables ([rules.<name>]): frequencies and terms a province sets in data, not code. name -> keys.
RULE_KEYS = {"urine_tests": SCHEDULE_KEYS, "visits": {"where": dict, "months": dict},
             "order_terms": {"years": dict}}
# Interval lengths that tile an order year (so every year starts an interval on the 报到日期's anniversary).
SCHEDULE_MONTHS = (1, 2, 3, 4, 6, 12)
_UNIT_LABEL = {Format.PERCENT: "%", Format.PERMILLE: "‰", Format.PERMYRIAD: "‱", Format.RATIO_N1: "",
               Format.COUNT: ""}

__all__ = ["AREAS", "DERIVED", "FORMATS", "KINDS", "LEDGERS", "VISIT_UNGRADED", "Aggregation", "Catalog",
           "Direction", "Format", "Indicator", "Kind", "Measure", "Rules", "Schedule", "Target", "VisitRule",
           "Wording", "load_catalog", "parse_target"]


@dataclass
class Catalog:
    """The indicators in catalog order, the files read and the rule tables."""

    indicators: list[Indicator]
    sources: list[str] = field(default_factory=list)  # files read, default first
    rules: Rules | None = None  # the rule tables ([rules.*])

    def get(self, id_or_name: str) -> Indicator:
        key = (id_or_name or "").strip()
        for ind in self.indicators:
            if key in (ind.id, ind.name):
                return ind
        folded = re.sub(r"\s+", "", key).lower()
        for ind in self.indicators:
            if folded in (ind.id.lower(), re.sub(r"\s+", "", ind.name)):
                return ind
        near = [f"「{i.name}」" for i in self.indicators if key and (key in i.name or i.name in key)]
        hint = f"是否要找：{'、'.join(near[:5])}？" if near else "用 jindu metrics 查看全部指标。"
        raise UsageError(f"未知的指标「{id_or_name}」。{hint}")

    def select(self, names: list[str] | None) -> list[Indicator]:
        """The indicators named (in the order given), else every shown indicator in catalog order."""
        if not names:
            return [i for i in self.indicators if i.show]
        out = []
        for n in names:
            ind = self.get(n)
            if ind not in out:
                out.append(ind)
        return out


# ---------------------------------------------------------------- filters and rule tables
def _compile_filter(where, ledger: str, loc: _Locator, index, path: tuple) -> Where:
    """Validate a filter table and turn it into a conjunction of filter nodes."""
    if isinstance(where, str):
        raise loc.error("筛选条件（where）须写成表格，如 { 处置结果 = \"刑事拘留\" }，不接受表达式", index, *path)
    if not isinstance(where, dict):
        raise loc.error("筛选条件（where）须写成表格", index, *path)
    conds = []
    for col, val in where.items():
        here = path + (col,)
        if col == "not":
            if not isinstance(val, dict):
                raise loc.error("not 的值须为表格，如 not = { 处置结果 = \"刑事拘留\" }", index, *here)
            conds.append(Not(_compile_filter(val, ledger, loc, index, here)))
        elif col == "any":
            if not isinstance(val, list) or not val or not all(isinstance(x, dict) for x in val):
                raise loc.error("any 的值须为表格的列表，如 any = [ { 病残 = true }, { 送治 = true } ]", index, *here)
            conds.append(AnyOf(tuple(_compile_filter(x, ledger, loc, index, here) for x in val)))
        elif col == "has":
            conds.append(_compile_has(val, ledger, loc, index, here))
        else:
            ctype = column_type(ledger, col)
            if ctype is None:
                cols = list(schema.KINDS[ledger].column_names) + list(DERIVED.get(ledger, {}))
                raise loc.error(f"台帐 {ledger}（{schema.KINDS[ledger].name}）没有「{col}」列；可用的列：{'、'.join(cols)}",
                                index, *here)
            conds.append(_compile_condition(col, val, ctype, ledger, loc, index, here))
    return tuple(conds)


def _compile_has(val, ledger: str, loc: _Locator, index, here: tuple) -> Has | HasAfter:
    """`has = { ledger, where }` (persons), or with `after = "<date column>"` (persons or community): the
    person has a matching row inside the window dated after this row's date column."""
    if not isinstance(val, dict):
        raise loc.error("has 的值须为表格，如 has = { ledger = \"contacts\", where = { 方式 = \"尿检\" } }",
                        index, *here)
    check_keys(val, {"ledger": str, "where": dict, "after": str}, loc, index, here, "has")
    after = val.get("after")
    if after is None and ledger != "persons":
        raise loc.error("has 只能用于吸毒人员登记台帐（persons）的筛选；社区戒毒社区康复台帐中须写 after"
                        "（如 after = \"报到日期\"）", index, *here)
    if after is not None and (ledger not in ("persons", "community") or column_type(ledger, after) != schema.DATE):
        dates = [c.name for c in schema.KINDS[ledger].columns if c.type == schema.DATE]
        raise loc.error(f"has 的 after 须为本台帐的日期列（{'、'.join(dates) or '无'}），且只用于 persons 或 community",
                        index, *here, "after")
    other = val.get("ledger")
    allowed = PERSON_LEDGERS if after is None else ("seizures", "contacts")
    if other not in allowed:
        raise loc.error(f"has 的 ledger 须为 {'、'.join(allowed)} 之一", index, *here, "ledger")
    inner = _compile_filter(val.get("where", {}), other, loc, index, here + ("where",))
    return Has(other, inner) if after is None else HasAfter(other, inner, after)


def _compile_schedule(val: dict, loc: _Locator, index, here: tuple) -> Schedule:
    """`schedule = { where = { 方式 = [...] }, months = { 社区戒毒 = [1, 2, 3], ... } }` → Schedule (also the
    rule table [rules.urine_tests], with index None)."""
    check_keys(val, SCHEDULE_KEYS, loc, index, here, "schedule")
    for req in ("where", "months"):
        if req not in val:
            raise loc.error(f"schedule 缺少「{req}」（where：计入的帮教管控记录；months：各类别每一年的检测间隔月数）",
                            index, *here)
    where = _compile_filter(val["where"], "contacts", loc, index, here + ("where",))
    months = []
    for kind, lengths in val["months"].items():
        at = here + ("months", kind)
        if kind not in schema.COMMUNITY_TYPES:
            raise loc.error(f"schedule 的 months 中「{kind}」不是社区戒毒社区康复台帐的类别；可用：{'、'.join(schema.COMMUNITY_TYPES)}",
                            index, *at)
        if not isinstance(lengths, list) or not lengths or not all(
                isinstance(x, int) and not isinstance(x, bool) and x in SCHEDULE_MONTHS for x in lengths):
            raise loc.error(f"schedule 的 months 中「{kind}」须为间隔月数的列表（第1年、第2年……，最后一项用于以后各年），"
                            f"每项为 {'、'.join(map(str, SCHEDULE_MONTHS))} 之一，如 [1, 2, 3]", index, *at)
        months.append((kind, tuple(lengths)))
    if not months:
        raise loc.error("schedule 的 months 至少要写一个类别", index, *here, "months")
    return Schedule(where, tuple(months))


def _int_table(val, keys: tuple, allowed, loc: _Locator, here: tuple, what: str) -> tuple:
    """A rule's { key = integer } table, every key one of `keys`, every value in `allowed`."""
    if not val:
        raise loc.error(f"{what}至少要写一项", None, *here)
    out = []
    for k, v in val.items():
        if k not in keys:
            raise loc.error(f"{what}中的「{k}」不在允许范围：{'、'.join(keys)}", None, *here, k)
        if not isinstance(v, int) or isinstance(v, bool) or v not in allowed:
            raise loc.error(f"{what}中「{k}」须为 {'、'.join(map(str, allowed))} 之一", None, *here, k)
        out.append((k, v))
    return tuple(out)


def _read_rules(data: dict, loc: _Locator, into: dict, where: dict) -> None:
    """Merge a file's [rules.*] tables into `into` (an office's keys override the default's; in `months` and
    `years`, entry by entry), remembering in `where` which file last wrote each table."""
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise loc.error("rules 须写成 [rules.名称] 表", None, "rules")
    for name, table in rules.items():
        if name not in RULE_KEYS:
            raise loc.error(f"未知的规则表「{name}」；可用：{'、'.join(RULE_KEYS)}", None, name)
        if not isinstance(table, dict):
            raise loc.error(f"[rules.{name}] 须为表格", None, name)
        check_keys(table, RULE_KEYS[name], loc, None, (name,), f"[rules.{name}]")
        merged = dict(into.get(name, {}))
        for k, v in table.items():
            merged[k] = {**merged.get(k, {}), **v} if k in ("months", "years") else v
        into[name] = merged
        where[name] = loc


def _compile_rules(raw: dict, where: dict) -> Rules:
    for name in RULE_KEYS:
        if name not in raw:
            raise ConfigError(f"指标目录缺少规则表 [rules.{name}]")
    urine = _compile_schedule(raw["urine_tests"], where["urine_tests"], None, ("urine_tests",))
    v, vloc = raw["visits"], where["visits"]
    for req in ("where", "months"):
        if req not in v:
            raise vloc.error(f"[rules.visits] 缺少「{req}」（where：算作走访的帮教管控记录；months：各管控等级的走访间隔月数）",
                             None, "visits")
    visits = VisitRule(_compile_filter(v["where"], "contacts", vloc, None, ("visits", "where")),
                       _int_table(v["months"], schema.CONTROL_LEVELS + (VISIT_UNGRADED,), SCHEDULE_MONTHS, vloc,
                                  ("visits", "months"), "[rules.visits] 的 months"))
    t, tloc = raw["order_terms"], where["order_terms"]
    if "years" not in t:
        raise tloc.error("[rules.order_terms] 缺少「years」（各类别的法定期限年数）", None, "order_terms")
    terms = _int_table(t["years"], schema.COMMUNITY_TYPES, range(1, 11), tloc, ("order_terms", "years"),
                       "[rules.order_terms] 的 years")
    return Rules(urine, visits, terms)


def _compile_condition(col, val, ctype, ledger, loc, index, here) -> Eq | In:
    if ctype == schema.FLAG:
        if not isinstance(val, bool):
            raise loc.error(f"「{col}」是 是/否 列，条件值须为 true 或 false", index, *here)
        return Eq(col, val)
    if ctype in (schema.DATE, schema.NUMBER):
        raise loc.error(f"「{col}」是日期或数字列，不能用作筛选条件", index, *here)
    values = val if isinstance(val, list) else [val]
    if not values or not all(isinstance(v, str) and not isinstance(v, bool) for v in values):
        raise loc.error(f"「{col}」的条件值须为文本或文本列表", index, *here)
    for v in values:
        if looks_like_expression(v):
            raise loc.error(f"「{col}」的条件值「{v}」像是表达式；目录只接受取值，不接受表达式", index, *here)
    if ctype == schema.CATEGORY:
        c = schema.KINDS[ledger].column(col)
        if not c.free:
            bad = [v for v in values if v not in c.allowed]
            if bad:
                raise loc.error(f"「{col}」的取值「{bad[0]}」不在允许范围：{'、'.join(c.allowed)}", index, *here)
    if isinstance(val, list):
        return In(col, tuple(values))
    return Eq(col, val)


_TARGET_RE = re.compile(r"^(≥|>=|＞=|≤|<=|＜=|>|＞|<|＜|不低于|不高于|不超过)?(\d+(?:\.\d+)?)(%|％|‰|‱|:1|：1)?$")
_AT_LEAST, _AT_MOST = ("≥", ">=", "＞=", "不低于"), ("≤", "<=", "＜=", "不高于", "不超过")
_SCALE_OF = {"%": 100, "‰": 1000, "‱": 10000, ":1": 1, "": 1}


def parse_target(text: str, fmt: str | None, direction: str | None = None) -> Target:
    """The one target parser (catalog, [targets], jindu.toml, scoring scheme targets and floors):
    `≥90%` / `100%` / `≤30:1` / `≤0.5‱` / `≤5` → Target on the exact-value scale. The unit written must be
    the indicator's (`fmt`; a bare number only for counts); with fmt None (a scheme read without catalog) the
    unit written decides the scale. Without ≥/≤ the op follows `direction` (None: left open). A strict
    `>`/`<` is refused, not read as ≥/≤: 达标 means reaching the target. ValueError (Chinese) if unreadable."""
    t = str(text).strip().replace(" ", "").replace("\u3000", "")
    m = _TARGET_RE.match(t)
    if not m:
        raise ValueError(f"目标值「{text}」无法识别，应写成 ≥90%、100%、≤30:1、≤0.5‱ 这样的形式")
    opw, num, suffix = m.groups()
    if opw in (">", "＞", "<", "＜"):
        up = opw in (">", "＞")
        raise ValueError(f"目标值「{text}」用了严格的“{opw}”：达标按“达到目标”判断，不支持“{'大于' if up else '小于'}”；"
                         f"请写成「{'≥' if up else '≤'}{num}{suffix or ''}」（{'不低于' if up else '不高于'}），"
                         f"或把数值改为要达到的值")
    suffix = {"％": "%", "：1": ":1"}.get(suffix, suffix or "")
    if fmt is not None:
        want = SUFFIX[fmt]
        if suffix != want:
            raise ValueError(f"目标值「{text}」的单位与指标不符，应以「{want or '数字'}」表示")
    value = Fraction(num) / _SCALE_OF[suffix]
    if opw in _AT_LEAST:
        op = ">="
    elif opw in _AT_MOST:
        op = "<="
    else:
        op = None if direction is None else (">=" if direction == Direction.HIGHER else "<=")
    shown = {">=": "≥", "＞=": "≥", "<=": "≤", "＜=": "≤"}.get(opw, opw or "") + num + suffix
    return Target(shown, op, value)


# ---------------------------------------------------------------- loading
def _entries(data: dict, loc: _Locator) -> list[dict]:
    for k in data:
        if k not in ("indicator", "targets", "rules"):
            raise loc.error(f"未知的配置项「{k}」；目录文件只接受 [[indicator]]、[targets] 和 [rules.*]", None, k)
    entries = data.get("indicator", [])
    if not isinstance(entries, list):
        raise loc.error("indicator 须写成 [[indicator]] 表的数组", None, "indicator")
    return entries


def _default_text() -> tuple[str, str]:
    res = resources.files("jindu_metrics.metrics").joinpath("default_catalog.toml")
    return res.read_text(encoding="utf-8"), "default_catalog.toml"


@dataclass
class _Read:
    """The catalog files as read so far: [[indicator]] tables by id (an office's keys merged over the
    default's) with where each was last written, and the [rules.*] tables likewise."""

    raw: dict[str, dict] = field(default_factory=dict)
    origin: dict[str, tuple[_Locator, int]] = field(default_factory=dict)
    rules: dict[str, dict] = field(default_factory=dict)
    rule_origin: dict[str, _Locator] = field(default_factory=dict)

    def entries(self) -> list[Entry]:
        return [Entry(iid, e, *self.origin[iid]) for iid, e in self.raw.items()]


def _read_default(read: _Read) -> str:
    from .. import tomlread

    text, name = _default_text()
    loc = _Locator(text, name, "indicator")
    data = tomlread.loads(text, name, "指标目录")
    _read_rules(data, loc, read.rules, read.rule_origin)
    for i, e in enumerate(_entries(data, loc)):
        _check_unique(e.get("id"), i, read.origin, loc)
        read.raw[e["id"]] = dict(e)
        read.origin[e["id"]] = (loc, i)
    return name


def _read_office(path: str | Path, read: _Read) -> tuple[dict, _Locator]:
    """An office's catalog file merged into `read`; its [targets] table and locator."""
    from .. import tomlread

    _, data, loc = tomlread.read(Path(path), "指标目录", "indicator")
    _read_rules(data, loc, read.rules, read.rule_origin)
    for i, e in enumerate(_entries(data, loc)):
        if not isinstance(e, dict):
            raise loc.error("每个 [[indicator]] 须为表格", i)
        check_keys(e, INDICATOR_KEYS, loc, i, (), "[[indicator]]")
        iid = e.get("id")
        if not iid:
            raise loc.error("[[indicator]] 缺少 id", i)
        _check_unique(iid, i, read.origin, loc)
        old = read.raw.get(iid)
        if old is not None:  # an office's entry overrides the default's keys (and its bulletin wording's)
            merged = {**old, **e}
            if isinstance(old.get("bulletin"), dict) and isinstance(e.get("bulletin"), dict):
                merged["bulletin"] = {**old["bulletin"], **e["bulletin"]}
            read.raw[iid] = merged
        else:
            read.raw[iid] = dict(e)
        read.origin[iid] = (loc, i)
    t = data.get("targets", {})
    if not isinstance(t, dict):
        raise loc.error("[targets] 须为表格", None, "targets")
    return t, loc


def load_catalog(path: str | Path | None = None, *, targets: dict | None = None) -> Catalog:
    """The default catalog plus an office's overrides (`path`) and target overrides (`targets`)."""
    read = _Read()
    sources = [_read_default(read)]
    target_tables = []
    if path is not None:
        file_targets, loc = _read_office(path, read)
        target_tables.append((file_targets, loc, "[targets]"))
        sources.append(str(Path(path)))
    target_tables.append((targets or {}, None, "工作区 targets"))
    rules = _compile_rules(read.rules, read.rule_origin)
    entries = read.entries()
    check_entries(entries)
    indicators = _build(entries, rules)
    for ind, e in zip(indicators, entries):
        check_indicator(ind, e)
    for tmap, tloc, what in target_tables:
        _apply_targets(indicators, tmap, tloc, what)
    return Catalog(indicators, sources, rules)


def _apply_targets(indicators: list[Indicator], tmap: dict, tloc: _Locator | None, what: str) -> None:
    """Targets set by name or id ([targets] of an office's file, or the workspace's) replace the catalog's."""
    by_key = {}
    for ind in indicators:
        by_key[ind.id] = ind
        by_key[ind.name] = ind
    for key, text_ in tmap.items():
        ind = by_key.get(key)

        def fail(msg: str, key=key) -> ConfigError:
            if tloc:
                return tloc.error(msg, 0, key, table="targets")
            if hasattr(tmap, "error"):  # workspace.Targets: the jindu.toml line
                return tmap.error(msg, key)
            return ConfigError(msg)

        if ind is None:
            raise fail(f"{what} 中的指标「{key}」不存在；可用的指标见 jindu metrics 或 jindu 说明 指标口径")
        try:
            spec = parse_target(str(text_), ind.format, ind.direction) if str(text_).strip() else None
        except ValueError as exc:
            raise fail(f"{what}：{exc}" if not tloc else str(exc)) from None
        new = replace(ind, target=spec.text if spec else None, target_spec=spec)
        indicators[indicators.index(ind)] = new
        by_key[new.id] = by_key[new.name] = new


def _check_unique(iid, i: int, origin: dict, loc: _Locator) -> None:
    """One id once per file: a second [[indicator]] with the same id would silently win."""
    if iid in origin and origin[iid][0] is loc:
        first = loc.line(origin[iid][1], "id")
        raise loc.error(f"指标 id「{iid}」重复：第{first}行和第{loc.line(i, 'id')}行都定义了它；请删去或改名其中一个",
                        i, "id")


def _schedule_of(val, rules: Rules, loc: _Locator, i: int) -> Schedule:
    """An indicator's `schedule`: the name of a rule table (the schedule `jindu todo` uses too) or its own table."""
    if not isinstance(val, str):
        return _compile_schedule(val, loc, i, ("schedule",))
    if val != "urine_tests":
        raise loc.error(f"schedule 只能写规则表的名称 \"urine_tests\"（或一个 [indicator.schedule] 表），收到「{val}」",
                        i, "schedule")
    return rules.urine_tests


# ---------------------------------------------------------------- construction (checks.py judges)
class _Builder:
    """Builds each checked entry into an Indicator, resolving a ratio's references to other entries."""

    def __init__(self, entries: list[Entry], rules: Rules):
        self.entries = {e.id: e for e in entries}
        self.by_name = {e.table["name"]: e.id for e in entries}
        self.rules = rules

    def _base_measure(self, iid: str, stack: tuple) -> Measure:
        e = self.entries[iid]
        if iid in stack:
            raise e.error(f"指标「{iid}」的分子分母循环引用")
        if e.table["kind"] == Kind.RATIO:
            raise ValueError("ratio")
        return _side_measure(e.table, None, e.loc, e.index, ())

    def _ref_id(self, ref: str) -> str | None:
        return ref if ref in self.entries else self.by_name.get(ref)

    def resolve(self, ref, e: Entry, side: str, base: Measure | None) -> Measure:
        """A ratio's side: another indicator (id or 名称; within the base's ledger, narrowed by its filter) or
        an inline table."""
        if not isinstance(ref, str):
            check_keys(ref, SIDE_KEYS, e.loc, e.index, (side,), side)
            return _side_measure(ref, base, e.loc, e.index, (side,))
        if looks_like_expression(ref) or any(ch in ref for ch in "+-*/÷×"):
            raise e.error(f"「{side}」的值「{ref}」像是表达式；只接受另一个指标的 id 或名称，或内联表格", side)
        tid = self._ref_id(ref)
        if tid is None:
            raise e.error(f"「{side}」引用的指标「{ref}」不存在", side)
        try:
            m = self._base_measure(tid, (e.id,))
        except ValueError:
            raise e.error(f"「{side}」引用的「{ref}」是比率指标，只能引用人数、例数或合计指标", side) from None
        if base is not None and m.ledger == base.ledger and base.agg != Aggregation.SUM:
            return Measure(m.ledger, _and(base.where, m.where), base.agg, base.column)
        return m

    def sides(self, e: Entry) -> tuple[Measure, Measure | None, Schedule | None]:
        """The numerator, denominator and schedule of an entry."""
        t = e.table
        if t["kind"] == Kind.SCHEDULE:
            sched = _schedule_of(t["schedule"], self.rules, e.loc, e.index)
            return (Measure("community", (), Aggregation.PERSONS, None, sched, Part.MET),
                    Measure("community", (), Aggregation.PERSONS, None, sched, Part.DUE), sched)
        if t["kind"] == Kind.RATIO:
            den = self.resolve(t["denominator"], e, "denominator", None)
            return self.resolve(t["numerator"], e, "numerator", den), den, None
        return _side_measure(t, None, e.loc, e.index, ()), None, None

    def extra(self, e: Entry, num: Measure, sched: Schedule | None) -> tuple:
        out = []
        for label, f in e.table.get("extra", {}).items():
            if sched is not None:
                out.append((label, Measure("community", (), Aggregation.PERSONS, None, sched, Part.OPEN)))
                continue
            if not isinstance(f, dict):
                raise e.error(f"extra 的「{label}」须为筛选表格", "extra", label)
            where = _compile_filter(f, num.ledger, e.loc, e.index, ("extra", label))
            out.append((label, Measure(num.ledger, where, num.agg, num.column)))
        return tuple(out)

    def build(self, e: Entry) -> Indicator:
        t = e.table
        num, den, sched = self.sides(e)
        # a schedule is met ÷ due: displayed, compared and rolled up as every ratio
        kind = Kind.RATIO if t["kind"] == Kind.SCHEDULE else Kind(t["kind"])
        ratio = kind == Kind.RATIO
        fmt = Format(t.get("format", Format.PERCENT if ratio else Format.COUNT))
        direction = Direction(t.get("direction", Direction.HIGHER))
        stock = num.ledger in STOCK_LEDGERS and not has_ledgers(num.where) and sched is None
        spec = None
        if t.get("target"):
            try:
                spec = parse_target(t["target"], fmt, direction)
            except ValueError as exc:
                raise e.error(str(exc), "target") from None
        den_ref = t.get("denominator") if isinstance(t.get("denominator"), str) else None
        den_id = self._ref_id(den_ref) if den_ref else None
        return Indicator(
            id=e.id, name=t["name"], definition=t.get("definition", ""), area=t["area"], kind=kind,
            unit_label=t.get("unit", _UNIT_LABEL[fmt]), decimals=t.get("decimals", 1 if ratio else 0), format=fmt,
            target=spec.text if spec else None, direction=direction, time=Time(t.get("time") or (Time.STOCK if stock else Time.FLOW)),
            pending=t.get("pending", False), numerator=num, denominator=den, ledger=num.ledger,
            pending_note=t.get("pending_note", ""), source=t.get("source", ""), show=t.get("show", True),
            target_window=t.get("target_window", ""), extra=self.extra(e, num, sched), target_spec=spec,
            schedule=sched, wording=_wording(e, kind, num),
            denominator_name=self.entries[den_id].table["name"] if den_id else "",
        )


def _build(entries: list[Entry], rules: Rules) -> list[Indicator]:
    """The checked entries (checks.check_entries) as Indicators, in catalog order."""
    builder = _Builder(entries, rules)
    return [builder.build(e) for e in entries]


def _wording(e: Entry, kind: Kind, num: Measure) -> Wording:
    """The indicator's `bulletin` table as a Wording; defaults: its name, its `unit` after a count, a gap in
    persons when the numerator counts persons (else in the count's unit), stated when shown."""
    t = e.table
    b = t.get("bulletin", {})
    check_keys(b, BULLETIN_KEYS, e.loc, e.index, ("bulletin",), "bulletin")
    count_unit = t.get("unit", "") if kind != Kind.RATIO else ""
    return Wording(phrase=b.get("phrase", t["name"]), unit=b.get("unit", count_unit),
                   gap_verb=b.get("gap_verb", ""),
                   gap_unit=b.get("gap_unit", "人" if num.agg == Aggregation.PERSONS else count_unit),
                   gap_side=b.get("gap_side", "numerator"), state=b.get("state", t.get("show", True)))


def _and(a: Where, b: Where) -> Where:
    return tuple(dict.fromkeys(a + b))


def _side_measure(e: dict, base: Measure | None, loc: _Locator, i: int, path: tuple) -> Measure:
    ledger = e.get("ledger") or (base.ledger if base else None)
    if ledger is None:
        raise loc.error("缺少「ledger」（台帐种类）", i, *path)
    if ledger not in LEDGERS:
        raise loc.error(f"台帐「{ledger}」不存在；可用：{'、'.join(LEDGERS)}", i, *path, "ledger")
    where = _compile_filter(e.get("where", {}), ledger, loc, i, path + ("where",))
    if "sum" in e:
        col = e["sum"]
        if column_type(ledger, col) != schema.NUMBER:
            raise loc.error(f"「{col}」不是台帐 {ledger} 的数字列，不能合计", i, *path, "sum")
        m = Measure(ledger, where, Aggregation.SUM, col)
    else:
        if ledger == "units":
            raise loc.error("单位信息表只能合计（sum），不能计数", i, *path)
        agg = e.get("count") or (base.agg if base and base.ledger == ledger else None)
        if agg is None:
            agg = "persons" if ledger != "publicity" else "rows"
        if agg not in (Aggregation.PERSONS, Aggregation.ROWS):
            raise loc.error("count 只能是 persons 或 rows", i, *path, "count")
        if agg == Aggregation.PERSONS and "公民身份号码" not in schema.KINDS[ledger].column_names:
            raise loc.error(f"台帐 {ledger} 没有公民身份号码，count 须为 rows", i, *path, "count")
        m = Measure(ledger, where, Aggregation(agg), None)
    if base is not None and base.ledger == ledger and base.agg != Aggregation.SUM:
        m = Measure(ledger, _and(base.where, m.where), m.agg, m.column)
    return m
