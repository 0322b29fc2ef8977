"""Scoring scheme (考评) and competition ranking."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jindu_metrics.errors import ConfigError, UsageError
from jindu_metrics.metrics.model import MetricRow
from jindu_metrics.metrics.scoring import (
    competition_ranks,
    example_scheme_path,
    load_scheme,
    rank_rows,
    rank_rule,
    score_units,
)


@dataclass
class _Ind:
    id: str
    name: str
    format: str
    direction: str
    target: str | None


class _Catalog:
    """Just enough of Catalog.get for the scheme loader."""

    def __init__(self, inds):
        self.indicators = inds

    def get(self, key):
        for i in self.indicators:
            if key in (i.id, i.name):
                return i
        raise UsageError(f"未知指标「{key}」")


CAT = _Catalog([
    _Ind("grid_inclusion_rate", "纳入率", "percent", "higher", None),
    _Ind("visit_rate", "走访管控率", "percent", "higher", "100%"),
    _Ind("worker_ratio", "吸毒人员与禁毒社工配比", "ratio_n1", "lower", "≤30:1"),
    _Ind("new_per_10k", "新滋生吸毒人员万分比", "permyriad", "lower", "≤0.5"),
    _Ind("community_execution_rate", "执行率", "percent", "higher", "100%"),
])


def row(unit, metric, exact, gap=None):
    return MetricRow(unit=unit, metric=metric, name=metric, area="", kind="ratio", numerator=None,
                     denominator=None, exact=None if exact is None else Fraction(exact),
                     display="—" if exact is None else str(exact), gap=gap)


def test_scheme_thresholds_use_the_catalog_parser():
    from jindu_metrics.metrics.catalog import parse_target

    assert parse_target("≥95%", None).value == Fraction(19, 20)
    assert parse_target("≥95%", None).op == ">="
    assert parse_target("≤30:1", None).value == 30
    assert parse_target("≤30:1", None).op == "<="
    assert parse_target("≤0.5‱", "permyriad").value == Fraction(1, 20000)
    assert parse_target("2‱", None).value == Fraction(2, 10000)
    assert parse_target("100%", None).op is None
    with pytest.raises(ValueError):
        parse_target("九成", None)
    with pytest.raises(ValueError, match="单位与指标不符"):  # a bare number is no percent: 0.95 or 95%?
        parse_target("95", "percent")


@pytest.mark.parametrize("written", [">90%", "＞90%", "<30:1"])
def test_strict_comparison_is_refused_in_a_scheme_naming_the_line(written):
    metric = "worker_ratio" if ":1" in written else "纳入率"
    text = f'[scheme]\nname = "x"\n[[item]]\nmetric = "{metric}"\npoints = 1\ntarget = "{written}"\n'
    with pytest.raises(ConfigError) as exc:
        load_scheme("方案.toml", text=text, catalog=CAT)
    msg = str(exc.value)
    assert "方案.toml" in msg and "第6行" in msg and "严格" in msg and ("≥" in msg or "≤" in msg)


def test_a_direction_against_the_target_is_refused():
    text = '[[item]]\nmetric = "纳入率"\npoints = 1\ntarget = "≥95%"\ndirection = "lower"\n'
    with pytest.raises(ConfigError, match=r"第5行.*方向相反"):
        load_scheme(text=text, catalog=CAT)


def test_competition_ranking_ties_and_undefined():
    assert competition_ranks([Fraction(1, 2), Fraction(9, 10), Fraction(9, 10), None, Fraction(0)]) == [3, 1, 1, 5, 4]
    # lower is better: 20:1 beats 40:1
    assert competition_ranks([Fraction(40), Fraction(20), None], "lower") == [2, 1, 3]
    rows = [row("甲镇", "worker_ratio", 40), row("乙镇", "worker_ratio", 20)]
    assert rank_rows(rows, {"worker_ratio": "lower"}) == {("甲镇", "worker_ratio"): 2, ("乙镇", "worker_ratio"): 1}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.fractions(min_value=0, max_value=5)), min_size=1, max_size=12),
       st.sampled_from(["higher", "lower"]))
def test_ranking_invariants(values, direction):
    ranks = competition_ranks(values, direction)
    defined = [(v, k) for v, k in zip(values, ranks) if v is not None]
    for v, k in defined:
        better = sum(1 for w, _ in defined if (w > v if direction == "higher" else w < v))
        assert k == better + 1  # competition ranking: 1 + number strictly better
    assert all(k == len(defined) + 1 for v, k in zip(values, ranks) if v is None)


SCHEME = """
[scheme]
name = "测试考评"
decimals = 1

[[item]]
metric = "纳入率"
points = 10
target = "≥95%"
floor = "80%"

[[item]]
metric = "吸毒人员与禁毒社工配比"
points = 5
floor = "60:1"

[[item]]
metric = "执行率"
points = 10
rule = "deduct"
deduct_per_gap = 2
"""


def test_scores_rule_and_rank():
    s = load_scheme(text=SCHEME, catalog=CAT)
    assert [i.metric for i in s.items] == ["grid_inclusion_rate", "worker_ratio", "community_execution_rate"]
    assert s.items[1].direction == "lower" and s.items[1].target.value == 30
    rows = [
        # 甲镇: 纳入率 at target (full), 26:1 (full), execution 100%
        row("甲镇", "grid_inclusion_rate", Fraction(95, 100)), row("甲镇", "worker_ratio", Fraction(258, 10)),
        row("甲镇", "community_execution_rate", 1),
        # 乙镇: 87.5% → halfway between floor 80% and 95% → 5; 45:1 → halfway → 2.5; 2 short → 10-4
        row("乙镇", "grid_inclusion_rate", Fraction(875, 1000)), row("乙镇", "worker_ratio", 45),
        row("乙镇", "community_execution_rate", Fraction(8, 10), gap=2),
        # 丙镇: below floor → 0; 60:1 at the floor → 0; undefined execution → full by default
        row("丙镇", "grid_inclusion_rate", Fraction(1, 2)), row("丙镇", "worker_ratio", 60),
        row("丙镇", "community_execution_rate", None),
    ]
    got = {u.unit: u for u in score_units(s, rows)}
    assert got["甲镇"].total == 25 and got["甲镇"].display == "25.0" and got["甲镇"].rank == 1
    assert got["乙镇"].total == Fraction(5) + Fraction(5, 2) + 6 and got["乙镇"].display == "13.5"
    assert got["丙镇"].total == 10 and got["丙镇"].rank == 3 and got["乙镇"].rank == 2
    assert [i.score for i in got["丙镇"].items] == [0, 0, 10]
    assert [u.unit for u in score_units(s, rows)] == sorted(["甲镇", "乙镇", "丙镇"])


def test_the_rank_is_by_the_rescaled_score_shown_beside_it():
    """Issue 28 point 4: 丁镇 lacks the 执行率 figure (a ledger or a column): 12.5 of the 15 points it could earn,
    rescaled 20.8 of 25, ranks above 甲镇's 20.5 of 25; every output shows the three scores the rank is by."""
    s = load_scheme(text=SCHEME, catalog=CAT)
    absent = dataclasses.replace(row("丁镇", "community_execution_rate", None), missing_columns=(("community", "已建档"),),
                                 display="无此列", reason="社区戒毒社区康复台帐没有「已建档」列")
    rows = [row("甲镇", "grid_inclusion_rate", Fraction(95, 100)), row("甲镇", "worker_ratio", 45),
            row("甲镇", "community_execution_rate", Fraction(9, 10), gap=1),
            row("丁镇", "grid_inclusion_rate", Fraction(95, 100)), row("丁镇", "worker_ratio", 45), absent]
    got = {u.unit: u for u in score_units(s, rows)}
    a, d = got["甲镇"], got["丁镇"]
    assert (a.total, a.possible, a.rescaled) == (10 + Fraction(5, 2) + 8, 25, a.total)  # every item scored
    assert (d.total, d.possible) == (Fraction(25, 2), 15)
    assert d.rescaled == Fraction(25, 2) / 15 * 25 and d.rescaled_display == "20.8"
    assert d.display == "12.5" and a.display == "20.5"
    assert (d.rank, a.rank) == (1, 2)  # below 甲镇 by 原始得分, above it by 折算得分: the one shown beside the rank
    out = d.to_dict()
    assert (out["raw_score"], out["possible"], out["rescaled_score"], out["full"], out["rank"]) == \
        ("12.5", "15", "20.8", "25", 1)
    assert out["excluded"] == ["community_execution_rate"]
    assert rank_rule(Fraction(100)) == ("缺台帐或缺列的指标不计分，按可评分值折算为百分制后排名"
                                        "（折算得分＝原始得分÷可评分值×100；各项都计分时即原始得分）。")
    assert "满分25分" in rank_rule(s.total_points)


def test_score_display_rounds_half_up():
    s = load_scheme(text='[scheme]\ndecimals = 1\n[[item]]\nmetric = "走访管控率"\npoints = 0.25\n'
                         '[[item]]\nmetric = "纳入率"\npoints = 10\ntarget = "100%"\n', catalog=CAT)
    # 0.25 + 10 × 0.5 = 5.25 → 5.3 (banker's rounding would give 5.2)
    out = score_units(s, [row("甲镇", "visit_rate", 1), row("甲镇", "grid_inclusion_rate", Fraction(1, 2))])
    assert out[0].display == "5.3"


@pytest.mark.parametrize("text, line, words", [
    ('[scheme]\nname = "x"\ncolour = "red"\n[[item]]\nmetric = "纳入率"\npoints = 1\ntarget="95%"\n', 3, "colour"),
    ('[[item]]\nmetric = "纳入率"\npoints = "十"\ntarget="95%"\n', 3, "points"),
    ('[[item]]\nmetric = "纳入率"\npoints = 1\ntarget="95%"\n[[item]]\nmetric = "无此指标"\npoints = 1\n', 6, "无此指标"),
    ('[[item]]\nmetric = "纳入率"\npoints = 1\ntarget="95%"\nfloor = "99%"\n', 5, "下限"),
    ('[[item]]\nmetric = "纳入率"\npoints = 1\ntarget = "约九成"\n', 4, "目标值"),
    ('[[item]]\nmetric = "纳入率"\npoints = 1\n', 1, "没有目标值"),
    ('[[item]]\nmetric = "纳入率"\npoints = 1\ntarget="95%"\nrule = "eval(1)"\n', 5, "rule"),
    ('[scheme]\ntotal = 50\n[[item]]\nmetric = "纳入率"\npoints = 1\ntarget="95%"\n', 2, "total"),
    ('[scheme\nname = 1\n', 1, "TOML"),
    ('[scheme]\nname = "x"\n', None, "至少需要"),
])
def test_bad_schemes_name_the_line(text, line, words):
    with pytest.raises(ConfigError) as exc:
        load_scheme(text=text, catalog=CAT)
    msg = str(exc.value)
    assert words in msg
    if line is not None:
        assert f"第{line}行" in msg


def test_example_scheme_is_valid_and_totals_100():
    text = example_scheme_path().read_text(encoding="utf-8")
    # resolve names against the real default catalog when it exists
    try:
        from jindu_metrics.metrics.catalog import load_catalog
        cat = load_catalog()
    except ImportError:
        pytest.fail("默认指标目录尚未提供")
    s = load_scheme(example_scheme_path(), catalog=cat)
    assert s.total_points == 100
    assert "≥95%" in text and len(s.items) == 12
