"""The indicator catalog: declarations read from TOML, validated strictly, never evaluated as code.

An office's catalog is data from another office: only the keys documented in default_catalog.toml are
accepted, filters are tables of column = value, and nothing from the file is ever passed to eval/query.
No pandas here (`jindu metrics` must stay light).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from importlib import resources
from pathlib import Path

from .. import derived, schema
from ..errors import ConfigError, UsageError
from ..tomlread import Locator as _Locator

AREAS = ("查处", "管控", "社区戒毒康复", "帮教检测", "宣传")
LEDGERS = tuple(schema.KINDS)
FORMATS = ("count", "percent", "permille", "permyriad", "ratio_n1")
KINDS = ("count", "sum", "ratio", "schedule")
STOCK_LEDGERS = ("persons", "community", "units")
PERSON_LEDGERS = ("seizures", "community", "contacts")  # ledgers with 公民身份号码 usable in `has`

# Columns the tool derives (the registry in derived.py; documented in default_catalog.toml's header):
# name -> type as in schema.
DERIVED: dict[str, dict[str, str]] = {led: {n: d.type for n, d in derived.of(led).items()} for led in derived.LEDGERS}

_INDICATOR_KEYS = {
    "id": str, "name": str, "definition": str, "area": str, "kind": str, "ledger": str, "where": dict,
    "count": str, "sum": str, "numerator": (str, dict), "denominator": (str, dict), "time": str, "unit": str,
    "decimals": int, "format": str, "target": str, "direction": str, "target_window": str, "source": str,
    "pending": bool, "pending_note": str, "show": bool, "extra": dict, "schedule": (str, dict), "bulletin": dict,
}
# How a bulletin words an indicator (`[indicator.bulletin]`): declared, never guessed from display strings.
_BULLETIN_KEYS = {"phrase": str, "unit": str, "gap_verb": str, "gap_unit": str, "gap_side": str, "state": bool}
_SCHEDULE_KEYS = {"where": dict, "months": dict}
# The rule tables ([rules.<name>]): frequencies and terms a province sets in data, not code. name -> keys.
RULE_KEYS = {"urine_tests": _SCHEDULE_KEYS, "visits": {"where": dict, "months": dict},
             "order_terms": {"years": dict}}
VISIT_UNGRADED = "未定级"  # the row of rules.visits for a managed person without 管控等级
# Interval lengths that tile an order year (so every year starts an interval on the 报到日期's anniversary).
SCHEDULE_MONTHS = (1, 2, 3, 4, 6, 12)
_SIDE_KEYS = {"ledger": str, "where": dict, "count": str, "sum": str}
_ID_RE = re.compile(r"[a-z][a-z0-9_]*")
# Characters that only an expression would need; category/text values never contain them.
_EXPR_RE = re.compile(r"[=<>!()\[\]{};`$|&\\]|__|\blambda\b|\bimport\b|\beval\b|\bexec\b|@")
_TYPE_WORDS = {str: "文本", int: "整数", bool: "true/false", dict: "表格", list: "列表"}


# ---------------------------------------------------------------- data model
@dataclass(frozen=True)
class Schedule:
    """A test schedule: contacts matching `where` must fall in every interval counted from 报到日期.

    months: ((类别, (months in order year 1, year 2, ...)), ...); the last length applies to later years."""

    where: tuple
    months: tuple

    def lengths(self, kind: str) -> tuple[int, ...]:
        return dict(self.months).get(kind, ())


@dataclass(frozen=True)
class VisitRule:
    """How often a managed person is visited: contacts matching `where` in every calendar interval of
    `months` (by 管控等级, and VISIT_UNGRADED for a person without one)."""

    where: tuple
    months: tuple  # ((管控等级, interval months), ...)

    def interval(self, level: str | None) -> int:
        table = dict(self.months)
        return table.get(level or VISIT_UNGRADED, table.get(VISIT_UNGRADED, 0))


@dataclass(frozen=True)
class Rules:
    """The catalog's rule tables (default_catalog.toml [rules.*], overridable key by key by an office)."""

    urine_tests: Schedule  # 尿检频次 by 类别 and order year (尿检频次达标率 and `jindu todo`)
    visits: VisitRule  # 走访频次 by 管控等级 (`jindu todo`)
    order_terms: tuple  # ((类别, years), ...): an order's statutory term when 解除日期 is not given

    def term_years(self, kind: str) -> int | None:
        return dict(self.order_terms).get(kind)


@dataclass(frozen=True)
class Measure:
    """One side of an indicator: rows of `ledger` matching `where`, aggregated by `agg`.

    where is a tuple of conditions (all must hold): ("eq", col, value), ("in", col, tuple),
    ("not", conds), ("any", (conds, ...)), ("has", ledger, conds). agg: "persons" | "rows" | "sum".
    """

    ledger: str
    where: tuple = ()
    agg: str = "persons"
    column: str | None = None  # the summed column when agg == "sum"
    schedule: Schedule | None = None  # community orders judged against a schedule (metrics/schedule.py)
    part: str = ""  # with a schedule: "due" / "met" / "open" persons

    def key(self) -> tuple:
        return (self.ledger, self.where, self.agg, self.column, self.schedule, self.part)


@dataclass(frozen=True)
class Target:
    """A target (or a scheme's floor) on the exact-value scale; the one judge of 达标 for catalog, workspace
    and scoring scheme."""

    text: str  # as published: ≥90%, 100%, ≤30:1
    op: str | None  # ">=" / "<="; None only while a scheme has not yet chosen its direction
    value: Fraction  # same scale as the exact value (ratios as fractions: 90% -> 9/10)

    def met(self, x: Fraction) -> bool:
        """Reached: at or past the target (exact; 94.99…% does not reach 95%)."""
        return x >= self.value if self.op != "<=" else x <= self.value

    def directed(self, direction: str) -> Target:
        """The same target judged in `direction` (higher → ≥, lower → ≤)."""
        from dataclasses import replace

        return replace(self, op=">=" if direction == "higher" else "<=")


@dataclass(frozen=True)
class Wording:
    """How a bulletin states an indicator: "查处吸毒人员" + "49" + "人"; a gap as "还需" + "纳入" + "2" + "人".

    phrase: the words before the figure in the sentence that states it; unit: the unit word after a count
    ("" for a ratio, whose display carries its own sign); gap_verb/gap_unit: "还需纳入2人" (no verb: "还差2人");
    gap_side "denominator": the gap is what the denominator lacks (禁毒社工 to add for a ≤30:1 配比);
    state: whether the bulletin states the indicator at all (its target judged, its problem written)."""

    phrase: str
    unit: str = ""
    gap_verb: str = ""
    gap_unit: str = "人"
    gap_side: str = "numerator"
    state: bool = True


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    definition: str
    area: str
    kind: str  # count / sum / ratio
    unit_label: str
    decimals: int
    format: str
    target: str | None
    direction: str  # higher / lower
    time: str  # flow / stock
    pending: bool
    numerator: Measure  # the count/sum itself for count and sum indicators
    denominator: Measure | None = None
    ledger: str = ""
    pending_note: str = ""
    source: str = ""
    show: bool = True
    target_window: str = ""  # "year": the target applies to calendar-year windows only
    extra: tuple = ()  # ((label, Measure), ...)
    target_spec: Target | None = None
    schedule: Schedule | None = None  # a schedule indicator (kind "schedule" in the TOML; a ratio met ÷ due)
    wording: Wording | None = None  # how a bulletin states it ([indicator.bulletin]); always set by load_catalog
    denominator_name: str = ""  # the 名称 of the indicator a ratio's denominator refers to ("" when inline)

    @cached_property  # asked for each row and window (missing_ledgers); a frozen instance's fields never change
    def ledgers(self) -> tuple[str, ...]:
        """Every ledger the figure depends on (for comparison coverage)."""
        out = []
        for m in (self.numerator, self.denominator):
            if m is None:
                continue
            out.append(m.ledger)
            if m.schedule is not None:
                out.append("contacts")
            out.extend(_has_ledgers(m.where))
        return tuple(dict.fromkeys(out))

    @cached_property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """The recorded columns the figure reads, as (ledger, column), from its declaration: the columns its
        filters test (a derived column stands for the columns it needs, derived.py), the summed column, and for
        a schedule the orders' 报到日期 and 类别. A ledger lacking one of them leaves the figure without a value."""
        out: list[tuple[str, str]] = []
        for m in (self.numerator, self.denominator, *(m for _, m in self.extra)):
            if m is None:
                continue
            _filter_columns(m.ledger, m.where, out)
            if m.column:
                out.append((m.ledger, m.column))
            if m.schedule is not None:
                out += [(m.ledger, "报到日期"), (m.ledger, "类别")]
                _filter_columns("contacts", m.schedule.where, out)
        return tuple(dict.fromkeys(out))


def _column_sources(ledger: str, col: str, out: list) -> None:
    d = derived.get(ledger, col)
    if d is None:
        out.append((ledger, col))
        return
    for src in d.required:
        _column_sources(ledger, src, out)


def _filter_columns(ledger: str, conds: tuple, out: list) -> None:
    for c in conds:
        if c[0] in ("eq", "in"):
            _column_sources(ledger, c[1], out)
        elif c[0] == "not":
            _filter_columns(ledger, c[1], out)
        elif c[0] == "any":
            for sub in c[1]:
                _filter_columns(ledger, sub, out)
        elif c[0] == "has":
            _filter_columns(c[1], c[2], out)
        elif c[0] == "has_after":
            _filter_columns(c[1], c[2], out)
            _column_sources(ledger, c[3], out)


def _has_ledgers(conds: tuple) -> list[str]:
    out = []
    for c in conds:
        if c[0] in ("has", "has_after"):
            out.append(c[1])
        elif c[0] == "not":
            out.extend(_has_ledgers(c[1]))
        elif c[0] == "any":
            for sub in c[1]:
                out.extend(_has_ledgers(sub))
    return out


@dataclass
class Catalog:
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


# ---------------------------------------------------------------- validation
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


def _check_keys(table: dict, allowed: dict, loc: _Locator, index, path: tuple, what: str) -> None:
    for k, v in table.items():
        if k not in allowed:
            raise loc.error(f"{what}中有未知的键「{k}」；允许的键：{'、'.join(allowed)}", index, *path, k)
        if not _type_ok(v, allowed[k]):
            extra = "；目录只接受数据，不接受表达式" if isinstance(v, str) else ""
            raise loc.error(f"{what}的键「{k}」应为{_type_word(allowed[k])}{extra}", index, *path, k)


def _column_type(ledger: str, col: str) -> str | None:
    if col in DERIVED.get(ledger, {}):
        return DERIVED[ledger][col]
    kind = schema.KINDS[ledger]
    if col in kind.column_names:
        return kind.column(col).type
    return None


def _looks_like_expression(s: str) -> bool:
    return bool(_EXPR_RE.search(s))


def _compile_filter(where, ledger: str, loc: _Locator, index, path: tuple) -> tuple:
    """Validate a filter table and turn it into a tuple of conditions."""
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
            conds.append(("not", _compile_filter(val, ledger, loc, index, here)))
        elif col == "any":
            if not isinstance(val, list) or not val or not all(isinstance(x, dict) for x in val):
                raise loc.error("any 的值须为表格的列表，如 any = [ { 病残 = true }, { 送治 = true } ]", index, *here)
            conds.append(("any", tuple(_compile_filter(x, ledger, loc, index, here) for x in val)))
        elif col == "has":
            conds.append(_compile_has(val, ledger, loc, index, here))
        else:
            ctype = _column_type(ledger, col)
            if ctype is None:
                cols = list(schema.KINDS[ledger].column_names) + list(DERIVED.get(ledger, {}))
                raise loc.error(f"台帐 {ledger}（{schema.KINDS[ledger].name}）没有「{col}」列；可用的列：{'、'.join(cols)}",
                                index, *here)
            conds.append(_compile_condition(col, val, ctype, ledger, loc, index, here))
    return tuple(conds)


def _compile_has(val, ledger: str, loc: _Locator, index, here: tuple) -> tuple:
    """`has = { ledger, where }` (persons), or with `after = "<date column>"` (persons or community): the
    person has a matching row inside the window dated after this row's date column."""
    if not isinstance(val, dict):
        raise loc.error("has 的值须为表格，如 has = { ledger = \"contacts\", where = { 方式 = \"尿检\" } }",
                        index, *here)
    _check_keys(val, {"ledger": str, "where": dict, "after": str}, loc, index, here, "has")
    after = val.get("after")
    if after is None and ledger != "persons":
        raise loc.error("has 只能用于吸毒人员登记台帐（persons）的筛选；社区戒毒社区康复台帐中须写 after"
                        "（如 after = \"报到日期\"）", index, *here)
    if after is not None and (ledger not in ("persons", "community") or _column_type(ledger, after) != schema.DATE):
        dates = [c.name for c in schema.KINDS[ledger].columns if c.type == schema.DATE]
        raise loc.error(f"has 的 after 须为本台帐的日期列（{'、'.join(dates) or '无'}），且只用于 persons 或 community",
                        index, *here, "after")
    other = val.get("ledger")
    allowed = PERSON_LEDGERS if after is None else ("seizures", "contacts")
    if other not in allowed:
        raise loc.error(f"has 的 ledger 须为 {'、'.join(allowed)} 之一", index, *here, "ledger")
    inner = _compile_filter(val.get("where", {}), other, loc, index, here + ("where",))
    return ("has", other, inner) if after is None else ("has_after", other, inner, after)


def _compile_schedule(val: dict, loc: _Locator, index, here: tuple) -> Schedule:
    """`schedule = { where = { 方式 = [...] }, months = { 社区戒毒 = [1, 2, 3], ... } }` → Schedule (also the
    rule table [rules.urine_tests], with index None)."""
    _check_keys(val, _SCHEDULE_KEYS, loc, index, here, "schedule")
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
        _check_keys(table, RULE_KEYS[name], loc, None, (name,), f"[rules.{name}]")
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


def _compile_condition(col, val, ctype, ledger, loc, index, here) -> tuple:
    if ctype == schema.FLAG:
        if not isinstance(val, bool):
            raise loc.error(f"「{col}」是 是/否 列，条件值须为 true 或 false", index, *here)
        return ("eq", col, val)
    if ctype in (schema.DATE, schema.NUMBER):
        raise loc.error(f"「{col}」是日期或数字列，不能用作筛选条件", index, *here)
    values = val if isinstance(val, list) else [val]
    if not values or not all(isinstance(v, str) and not isinstance(v, bool) for v in values):
        raise loc.error(f"「{col}」的条件值须为文本或文本列表", index, *here)
    for v in values:
        if _looks_like_expression(v):
            raise loc.error(f"「{col}」的条件值「{v}」像是表达式；目录只接受取值，不接受表达式", index, *here)
    if ctype == schema.CATEGORY:
        c = schema.KINDS[ledger].column(col)
        if not c.free:
            bad = [v for v in values if v not in c.allowed]
            if bad:
                raise loc.error(f"「{col}」的取值「{bad[0]}」不在允许范围：{'、'.join(c.allowed)}", index, *here)
    if isinstance(val, list):
        return ("in", col, tuple(values))
    return ("eq", col, val)


_TARGET_RE = re.compile(r"^(≥|>=|＞=|≤|<=|＜=|>|＞|<|＜|不低于|不高于|不超过)?(\d+(?:\.\d+)?)(%|％|‰|‱|:1|：1)?$")
_AT_LEAST, _AT_MOST = ("≥", ">=", "＞=", "不低于"), ("≤", "<=", "＜=", "不高于", "不超过")
_UNIT_OF = {"percent": "%", "permille": "‰", "permyriad": "‱", "ratio_n1": ":1", "count": ""}
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
        want = _UNIT_OF[fmt]
        if suffix != want:
            raise ValueError(f"目标值「{text}」的单位与指标不符，应以「{want or '数字'}」表示")
    value = Fraction(num) / _SCALE_OF[suffix]
    if opw in _AT_LEAST:
        op = ">="
    elif opw in _AT_MOST:
        op = "<="
    else:
        op = None if direction is None else (">=" if direction == "higher" else "<=")
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


def load_catalog(path: str | Path | None = None, *, targets: dict | None = None) -> Catalog:
    """The default catalog plus an office's overrides (`path`) and target overrides (`targets`)."""
    from .. import tomlread

    text, name = _default_text()
    base_loc = _Locator(text, name, "indicator")
    raw: dict[str, dict] = {}
    origin: dict[str, tuple[_Locator, int]] = {}  # id -> where its (last) definition was written
    default_data = tomlread.loads(text, name, "指标目录")
    raw_rules: dict[str, dict] = {}
    rule_origin: dict[str, _Locator] = {}
    _read_rules(default_data, base_loc, raw_rules, rule_origin)
    for i, e in enumerate(_entries(default_data, base_loc)):
        _check_unique(e.get("id"), i, origin, base_loc)
        raw[e["id"]] = dict(e)
        origin[e["id"]] = (base_loc, i)
    sources = [name]
    file_targets: dict = {}
    target_loc = None
    if path is not None:
        p = Path(path)
        _, data, loc = tomlread.read(p, "指标目录", "indicator")
        _read_rules(data, loc, raw_rules, rule_origin)
        for i, e in enumerate(_entries(data, loc)):
            if not isinstance(e, dict):
                raise loc.error("每个 [[indicator]] 须为表格", i)
            _check_keys(e, _INDICATOR_KEYS, loc, i, (), "[[indicator]]")
            iid = e.get("id")
            if not iid:
                raise loc.error("[[indicator]] 缺少 id", i)
            _check_unique(iid, i, origin, loc)
            if iid in raw:  # an office's entry overrides the default's keys (and its bulletin wording's)
                merged = {**raw[iid], **e}
                if isinstance(raw[iid].get("bulletin"), dict) and isinstance(e.get("bulletin"), dict):
                    merged["bulletin"] = {**raw[iid]["bulletin"], **e["bulletin"]}
                raw[iid] = merged
            else:
                raw[iid] = dict(e)
            origin[iid] = (loc, i)
        t = data.get("targets", {})
        if not isinstance(t, dict):
            raise loc.error("[targets] 须为表格", None, "targets")
        file_targets = t
        target_loc = loc
        sources.append(str(p))
    rules = _compile_rules(raw_rules, rule_origin)
    indicators = _build(raw, origin, rules)
    by_key = {}
    for ind in indicators:
        by_key[ind.id] = ind
        by_key[ind.name] = ind
    for tmap, tloc, what in ((file_targets, target_loc, "[targets]"), (targets or {}, None, "工作区 targets")):
        for key, text_ in tmap.items():
            ind = by_key.get(key)

            def fail(msg: str, key=key, tmap=tmap, tloc=tloc) -> ConfigError:
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
            new = _replace(ind, target=spec.text if spec else None, target_spec=spec)
            indicators[indicators.index(ind)] = new
            by_key[new.id] = by_key[new.name] = new
    return Catalog(indicators, sources, rules)


def _check_unique(iid, i: int, origin: dict, loc: _Locator) -> None:
    """One id once per file: a second [[indicator]] with the same id would silently win."""
    if iid in origin and origin[iid][0] is loc:
        first = loc.line(origin[iid][1], "id")
        raise loc.error(f"指标 id「{iid}」重复：第{first}行和第{loc.line(i, 'id')}行都定义了它；请删去或改名其中一个",
                        i, "id")


def _replace(ind: Indicator, **kw) -> Indicator:
    from dataclasses import replace

    return replace(ind, **kw)


def _schedule_of(val, rules: Rules, loc: _Locator, i: int) -> Schedule:
    """An indicator's `schedule`: the name of a rule table (the schedule `jindu todo` uses too) or its own table."""
    if not isinstance(val, str):
        return _compile_schedule(val, loc, i, ("schedule",))
    if val != "urine_tests":
        raise loc.error(f"schedule 只能写规则表的名称 \"urine_tests\"（或一个 [indicator.schedule] 表），收到「{val}」",
                        i, "schedule")
    return rules.urine_tests


def _build(raw: dict[str, dict], origin: dict, rules: Rules) -> list[Indicator]:
    # Validate every entry fully, then resolve references in catalog order.
    for iid, e in raw.items():
        loc, i = origin[iid]
        _check_keys(e, _INDICATOR_KEYS, loc, i, (), "[[indicator]]")
        if not _ID_RE.fullmatch(iid):
            raise loc.error(f"id「{iid}」须由小写字母、数字、下划线组成并以字母开头", i, "id")
        for req in ("name", "kind", "area"):
            if req not in e:
                raise loc.error(f"指标「{iid}」缺少「{req}」", i)
        for key, allowed in (("kind", KINDS), ("area", AREAS), ("format", FORMATS),
                             ("direction", ("higher", "lower")), ("time", ("flow", "stock")),
                             ("count", ("persons", "rows")), ("target_window", ("year",)),
                             ("ledger", LEDGERS)):
            if key in e and e[key] not in allowed:
                raise loc.error(f"「{key}」的值「{e[key]}」不在允许范围：{'、'.join(allowed)}", i, key)
        if e["kind"] == "schedule":
            if "schedule" not in e:
                raise loc.error(f"频次指标「{iid}」缺少「schedule」（检测间隔表）", i)
            for k in ("ledger", "where", "sum", "count", "numerator", "denominator"):
                if k in e:
                    raise loc.error(f"频次指标（kind = \"schedule\"）不用「{k}」：人群是在期内执行且已报到的社区戒毒"
                                    "社区康复决定，计入的记录写在 schedule.where 中", i, k)
            if not isinstance(e.get("extra", {}), dict) or any(v != "open" for v in e.get("extra", {}).values()):
                raise loc.error("频次指标的 extra 只能是「标签 = \"open\"」（期末所在区间尚未检测的人数）", i, "extra")
        elif "schedule" in e:
            raise loc.error("「schedule」只用于 kind = \"schedule\" 的指标", i, "schedule")
        elif e["kind"] == "ratio":
            for side in ("numerator", "denominator"):
                if side not in e:
                    raise loc.error(f"比率指标「{iid}」缺少「{side}」", i)
            for k in ("ledger", "where", "sum", "count"):
                if k in e:
                    raise loc.error(f"比率指标的「{k}」应写在 numerator/denominator 中", i, k)
        else:
            if "ledger" not in e:
                raise loc.error(f"指标「{iid}」缺少「ledger」", i)
            if e["kind"] == "sum" and "sum" not in e:
                raise loc.error(f"合计指标「{iid}」缺少「sum」（要合计的数字列）", i)
            for k in ("numerator", "denominator"):
                if k in e:
                    raise loc.error(f"「{k}」只用于 kind = \"ratio\" 的指标", i, k)
        if "decimals" in e and not 0 <= e["decimals"] <= 6:
            raise loc.error("decimals 应在 0 到 6 之间", i, "decimals")
    names: dict[str, str] = {}
    for iid, e in raw.items():
        if e["name"] in names:
            loc, i = origin[iid]
            raise loc.error(f"名称「{e['name']}」与指标「{names[e['name']]}」重复", i, "name")
        names[e["name"]] = iid

    built: dict[str, Indicator] = {}
    by_name = {e["name"]: iid for iid, e in raw.items()}

    def base_measure(iid: str, stack: tuple) -> Measure:
        loc, i = origin[iid]
        if iid in stack:
            raise loc.error(f"指标「{iid}」的分子分母循环引用", i)
        e = raw[iid]
        if e["kind"] == "ratio":
            raise ValueError("ratio")
        return _side_measure(e, None, loc, i, ())

    def resolve(ref, iid: str, side: str, base: Measure | None) -> Measure:
        loc, i = origin[iid]
        if isinstance(ref, str):
            if _looks_like_expression(ref) or any(ch in ref for ch in "+-*/÷×"):
                raise loc.error(f"「{side}」的值「{ref}」像是表达式；只接受另一个指标的 id 或名称，或内联表格", i, side)
            tid = ref if ref in raw else by_name.get(ref)
            if tid is None:
                raise loc.error(f"「{side}」引用的指标「{ref}」不存在", i, side)
            try:
                m = base_measure(tid, (iid,))
            except ValueError:
                raise loc.error(f"「{side}」引用的「{ref}」是比率指标，只能引用人数、例数或合计指标", i, side) from None
            if base is not None and m.ledger == base.ledger and base.agg != "sum":
                return Measure(m.ledger, _and(base.where, m.where), base.agg, base.column)
            return m
        _check_keys(ref, _SIDE_KEYS, loc, i, (side,), side)
        return _side_measure(ref, base, loc, i, (side,))

    for iid, e in raw.items():
        loc, i = origin[iid]
        kind = e["kind"]
        den = None
        sched = None
        if kind == "schedule":
            sched = _schedule_of(e["schedule"], rules, loc, i)
            den = Measure("community", (), "persons", None, sched, "due")
            num = Measure("community", (), "persons", None, sched, "met")
            ledger = "community"
        elif kind == "ratio":
            den = resolve(e["denominator"], iid, "denominator", None)
            num = resolve(e["numerator"], iid, "numerator", den)
            if den.ledger != "units" and num.ledger != den.ledger:
                raise loc.error("分子与分母须来自同一台帐（分子是分母人群的子集）；只有单位信息表的合计可作异表分母",
                                i, "numerator")
            if den.ledger != "units" and num.agg != den.agg:
                words = {"persons": "按人数（count = \"persons\"）", "rows": "按记录数（count = \"rows\"）",
                         "sum": "按合计（sum）"}
                raise loc.error(f"分子{words[num.agg]}、分母{words[den.agg]}计：分子须是分母人群的子集，计数方式"
                                "也须相同，否则比率可能超过100%", i, "numerator",
                                *(("count",) if isinstance(e["numerator"], dict) and "count" in e["numerator"] else ()))
            if den.ledger == "units" and den.agg != "sum":
                raise loc.error("单位信息表作分母时须写 sum（如 sum = \"禁毒社工\"）", i, "denominator")
            ledger = num.ledger
        else:
            num = _side_measure(e, None, loc, i, ())
            ledger = num.ledger
        if kind == "schedule":
            kind = "ratio"  # met ÷ due: displayed, compared and rolled up as every ratio
        fmt = e.get("format", "count" if kind != "ratio" else "percent")
        decimals = e.get("decimals", 0 if kind != "ratio" else 1)
        direction = e.get("direction", "higher")
        time = e.get("time") or ("stock" if ledger in STOCK_LEDGERS and not _has_ledgers(num.where) and sched is None
                                 else "flow")
        if kind != "ratio" and fmt != "count":
            raise loc.error("人数、例数和合计指标的 format 只能是 count", i, "format")
        spec = None
        if e.get("target"):
            try:
                spec = parse_target(e["target"], fmt, direction)
            except ValueError as exc:
                raise loc.error(str(exc), i, "target") from None
        extra = []
        for label, f in e.get("extra", {}).items():
            if sched is not None:
                extra.append((label, Measure("community", (), "persons", None, sched, "open")))
                continue
            if not isinstance(f, dict):
                raise loc.error(f"extra 的「{label}」须为筛选表格", i, "extra", label)
            extra.append((label, Measure(num.ledger, _compile_filter(f, num.ledger, loc, i, ("extra", label)),
                                         num.agg, num.column)))
        unit_label = e.get("unit", {"percent": "%", "permille": "‰", "permyriad": "‱", "ratio_n1": "", "count": ""}[fmt])
        wording = _wording(e, kind, num, direction, loc, i)
        den_ref = e.get("denominator") if isinstance(e.get("denominator"), str) else None
        den_id = (den_ref if den_ref in raw else by_name.get(den_ref)) if den_ref else None
        built[iid] = Indicator(
            id=iid, name=e["name"], definition=e.get("definition", ""), area=e["area"], kind=kind,
            unit_label=unit_label, decimals=decimals, format=fmt, target=spec.text if spec else None,
            direction=direction, time=time, pending=e.get("pending", False), numerator=num, denominator=den,
            ledger=ledger, pending_note=e.get("pending_note", ""), source=e.get("source", ""),
            show=e.get("show", True), target_window=e.get("target_window", ""), extra=tuple(extra),
            target_spec=spec, schedule=sched, wording=wording,
            denominator_name=raw[den_id]["name"] if den_id else "",
        )
    return list(built.values())


def _wording(e: dict, kind: str, num: Measure, direction: str, loc: _Locator, i: int) -> Wording:
    """The indicator's `bulletin` table as a Wording; defaults: its name, its `unit` after a count, a gap in
    persons when the numerator counts persons (else in the count's unit), stated when shown."""
    b = e.get("bulletin", {})
    _check_keys(b, _BULLETIN_KEYS, loc, i, ("bulletin",), "bulletin")
    count_unit = e.get("unit", "") if kind != "ratio" else ""
    side = b.get("gap_side", "numerator")
    if side not in ("numerator", "denominator"):
        raise loc.error("bulletin 的 gap_side 只能是 numerator 或 denominator", i, "bulletin", "gap_side")
    if side == "denominator" and (kind != "ratio" or direction != "lower"):
        raise loc.error("gap_side = \"denominator\" 只用于目标为“不高于”（direction = \"lower\"）的比率指标",
                        i, "bulletin", "gap_side")
    return Wording(phrase=b.get("phrase", e["name"]), unit=b.get("unit", count_unit),
                   gap_verb=b.get("gap_verb", ""),
                   gap_unit=b.get("gap_unit", "人" if num.agg == "persons" else count_unit),
                   gap_side=side, state=b.get("state", e.get("show", True)))


def _and(a: tuple, b: tuple) -> tuple:
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
        if _column_type(ledger, col) != schema.NUMBER:
            raise loc.error(f"「{col}」不是台帐 {ledger} 的数字列，不能合计", i, *path, "sum")
        m = Measure(ledger, where, "sum", col)
    else:
        if ledger == "units":
            raise loc.error("单位信息表只能合计（sum），不能计数", i, *path)
        agg = e.get("count") or (base.agg if base and base.ledger == ledger else None)
        if agg is None:
            agg = "persons" if ledger != "publicity" else "rows"
        if agg not in ("persons", "rows"):
            raise loc.error("count 只能是 persons 或 rows", i, *path, "count")
        if agg == "persons" and "公民身份号码" not in schema.KINDS[ledger].column_names:
            raise loc.error(f"台帐 {ledger} 没有公民身份号码，count 须为 rows", i, *path, "count")
        m = Measure(ledger, where, agg, None)
    if base is not None and base.ledger == ledger and base.agg != "sum":
        m = Measure(ledger, _and(base.where, m.where), m.agg, m.column)
    return m
