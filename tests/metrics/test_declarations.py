"""Typed catalog declarations: filter nodes and their one walker, the enums, and the catalog checks as rules."""

from __future__ import annotations

import json

import pytest

from jindu_metrics.errors import ConfigError
from jindu_metrics.metrics import checks
from jindu_metrics.metrics.catalog import Aggregation, Direction, Format, Kind, Part, Time, load_catalog
from jindu_metrics.metrics.filters import (
    AnyOf,
    Collect,
    Eq,
    FilterVisitor,
    Has,
    HasAfter,
    In,
    Not,
    has_ledgers,
    required_values,
)

NESTED = (Eq("新发现", False), In("处置结果", ("行政拘留", "刑事拘留")),
          Not((Eq("病残", True),)), AnyOf(((Eq("送治", True),), (In("性别", ("女",)),))),
          Has("contacts", (Eq("方式", "尿检"),)), HasAfter("seizures", (Eq("新发现", True),), "报到日期"))


class _Columns(Collect):
    def column(self, ledger: str, column: str) -> list:
        return [(ledger, column)]


def test_the_walker_reaches_every_node_on_its_ledger_in_written_order():
    got = _Columns().where("persons", NESTED)
    assert got == [("persons", "新发现"), ("persons", "处置结果"), ("persons", "病残"), ("persons", "送治"),
                   ("persons", "性别"), ("contacts", "方式"), ("seizures", "新发现"), ("persons", "报到日期")]


def test_has_ledgers_and_required_values_read_the_conjunction_only():
    assert has_ledgers(NESTED) == ["contacts", "seizures"]
    assert has_ledgers((Not((Has("community", (Has("contacts", ()),)),)),)) == ["community"]
    assert required_values(NESTED) == ["False", "行政拘留", "刑事拘留"]


def test_an_unknown_node_is_refused_by_the_walker():
    class Count(FilterVisitor[int]):
        def combine(self, results):
            return sum(results)

        def column(self, ledger, column):
            return 1

    assert Count().where("persons", NESTED) == 8
    with pytest.raises(TypeError):
        Count().where("persons", (("eq", "新发现", False),))


def test_nodes_are_frozen_hashable_values():
    a, b = Eq("处置结果", "行政拘留"), Eq("处置结果", "行政拘留")
    assert a == b and hash(a) == hash(b) and len({a, b, *NESTED}) == len(NESTED) + 1
    with pytest.raises(AttributeError):
        a.value = "刑事拘留"  # type: ignore[misc]


def test_enums_are_their_toml_words_in_every_output():
    cat = load_catalog()
    ind = cat.get("rehab_rate")
    assert ind.kind is Kind.RATIO and ind.format is Format.PERCENT and ind.direction is Direction.HIGHER
    assert ind.numerator.agg is Aggregation.PERSONS
    assert json.dumps({"kind": ind.kind, "format": ind.format}) == '{"kind": "ratio", "format": "percent"}'
    assert f"{ind.direction}|{ind.numerator.agg}" == "higher|persons" and str(Kind.SUM) == "sum"
    assert {"ratio": 1}[ind.kind] == 1  # a string key finds an enum and back
    assert all(i.kind in (Kind.COUNT, Kind.SUM, Kind.RATIO) for i in cat.indicators)  # schedule → ratio


def test_time_and_a_schedules_parts_are_enums_too(tmp_path):
    cat = load_catalog()
    assert cat.get("registered").time is Time.STOCK and cat.get("visited").time is Time.FLOW
    assert {i.time for i in cat.indicators} <= set(Time) and all(type(i.time) is Time for i in cat.indicators)
    schedules = [i for i in cat.indicators if i.schedule is not None]
    assert schedules
    for ind in schedules:
        assert (ind.numerator.part, ind.denominator.part) == (Part.MET, Part.DUE)
        assert all(m.part is Part.OPEN for _, m in ind.extra)
    assert all(i.numerator.part is None for i in cat.indicators if i.schedule is None)
    assert json.dumps([Time.STOCK, Part.OPEN]) == '["stock", "open"]'
    f = tmp_path / "c.toml"
    f.write_text('[[indicator]]\nid = "x1"\nname = "甲"\nkind = "count"\narea = "查处"\nledger = "seizures"\n'
                 'time = "now"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="「time」的值「now」不在允许范围：flow、stock"):
        load_catalog(f)
    f.write_text('[[indicator]]\nid = "x2"\nname = "乙"\nkind = "count"\narea = "查处"\nledger = "seizures"\n'
                 'time = "stock"\n', encoding="utf-8")
    assert load_catalog(f).get("x2").time is Time.STOCK  # declared: the word made a member


def test_every_rule_is_a_small_function_and_each_reports_its_error(tmp_path):
    assert checks._count_format in checks.ENTRY_RULES and checks._unique_names in checks.CATALOG_RULES
    assert checks._same_count in checks.INDICATOR_RULES
    cases = {
        'id = "x1"\nname = "甲"\nkind = "count"\narea = "查处"\nledger = "seizures"\nformat = "percent"\n':
            "format 只能是 count",
        'id = "x2"\nname = "乙"\nkind = "ratio"\narea = "查处"\nnumerator = { ledger = "seizures" }\n'
        'denominator = { ledger = "persons" }\n': "分子与分母须来自同一台帐",
        'id = "x3"\nname = "丙"\nkind = "count"\narea = "查处"\nledger = "seizures"\n'
        'bulletin = { gap_side = "denominator" }\n': "gap_side = \"denominator\" 只用于",
        'id = "x4"\nname = "丁"\nkind = "count"\narea = "查处"\nledger = "seizures"\ndecimals = 9\n':
            "decimals 应在 0 到 6 之间",
    }
    for body, words in cases.items():
        f = tmp_path / "c.toml"
        f.write_text("[[indicator]]\n" + body, encoding="utf-8")
        with pytest.raises(ConfigError) as exc:
            load_catalog(f)
        assert words in str(exc.value), (body, str(exc.value))
        assert "c.toml" in str(exc.value)
