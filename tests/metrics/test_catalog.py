from fractions import Fraction

import pytest

from jindu_metrics.errors import ConfigError, UsageError
from jindu_metrics.metrics.catalog import load_catalog, parse_target
from jindu_metrics.metrics.filters import Eq

SPEC_IDS = ["seizures", "criminal_detentions", "detention_ratio", "newly_found", "newly_found_share", "rehab_due", "compulsory_rehab", "rehab_rate", "sick_found", "sick_treated_rate", "new_per_10k", "registered", "current_users", "in_society", "grid_included", "grid_inclusion_rate", "managed", "managed_level_1", "managed_level_2", "managed_level_3", "abstinent_3y", "abstinent_3y_rate", "abstinent_1y_rate", "abstinent_3y_of_1y", "separated_found_rate", "outsider_met_rate", "outsider_filed_rate", "worker_ratio", "community_orders", "community_reported", "community_execution_rate", "visited", "visit_rate", "urine_coverage", "hair_tests", "hair_positive_rate", "hair_sampling_rate_l12", "led_items", "outdoor_events", "posters", "leaflets", "media_items", "campaigns", "lectures", "testimonies", "leader_attendance", "audience"]

# The indicators offices are graded on besides the spec's (issue 16), in catalog order.
ISSUE16_IDS = ["lost_control_rate", "current_users_per_mille", "community_relapse_persons", "community_relapse_rate",
               "community_relapse_rate_drug", "community_relapse_rate_rehab", "urine_schedule_rate"]


def test_default_catalog_has_every_indicator_of_the_spec():
    cat = load_catalog()
    ids = [i.id for i in cat.indicators]
    assert [i for i in ids if i != "rehab_rate_alt" and i not in ISSUE16_IDS] == SPEC_IDS
    assert [i for i in ids if i in ISSUE16_IDS] == ISSUE16_IDS
    assert cat.get("送戒率").id == "rehab_rate"
    assert cat.get("rehab_rate").pending and cat.get("sick_treated_rate").pending
    assert cat.get("rehab_rate_alt").pending and not cat.get("rehab_rate_alt").show
    assert cat.get("worker_ratio").target == "≤30:1" and cat.get("worker_ratio").direction == "lower"
    assert cat.get("纳入率").format == "percent" and cat.get("纳入率").decimals == 1
    assert cat.get("detention_ratio").decimals == 2
    assert cat.get("registered").time == "stock" and cat.get("visited").time == "flow"
    with pytest.raises(UsageError):
        cat.get("不存在的指标")


def test_ratio_numerator_is_inside_denominator():
    cat = load_catalog()
    for ind in cat.indicators:
        if ind.kind == "ratio" and ind.denominator.ledger != "units":
            assert set(ind.denominator.where) <= set(ind.numerator.where), ind.id


def test_targets():
    assert parse_target("≥90%", "percent", "higher").value == Fraction(9, 10)
    t = parse_target("≤30:1", "ratio_n1", "lower")
    assert (t.op, t.value) == ("<=", 30)
    assert parse_target("100%", "percent", "higher").op == ">="
    with pytest.raises(ValueError):
        parse_target("30%", "ratio_n1", "lower")
    cat = load_catalog(targets={"纳入率": "95%"})
    assert cat.get("grid_inclusion_rate").target_spec.value == Fraction(95, 100)


OFFICE = '''
# 本单位目录
[[indicator]]
id = "rehab_rate"
denominator = { ledger = "seizures", where = { "新发现" = false, not = { "处置结果" = "刑事拘留" } } }

[[indicator]]
id = "female_seizures"
name = "查处女性吸毒人员数"
definition = "统计期内查处的女性吸毒人员"
area = "查处"
kind = "count"
ledger = "seizures"
where = { has_female = true }
'''


def test_office_catalog_overrides_and_adds(tmp_path):
    f = tmp_path / "office.toml"
    f.write_text('''
[[indicator]]
id = "rehab_rate"
denominator = { ledger = "seizures", where = { "新发现" = false, not = { "处置结果" = "刑事拘留" } } }

[[indicator]]
id = "detained_admin"
name = "行政拘留人数"
definition = "统计期内处置结果为行政拘留的人员"
area = "查处"
kind = "count"
ledger = "seizures"
where = { "处置结果" = "行政拘留" }
unit = "人"

[targets]
"送戒率" = "≥50%"
''', encoding="utf-8")
    cat = load_catalog(f)
    r = cat.get("rehab_rate")
    assert Eq("新发现", False) in r.denominator.where
    assert Eq("应送戒", True) not in r.denominator.where
    assert r.target == "≥50%"
    assert cat.get("行政拘留人数").numerator.where == (Eq("处置结果", "行政拘留"),)


def _refused(tmp_path, text):
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_catalog(f)
    return e.value, str(e.value)


def test_unknown_key_names_the_line(tmp_path):
    err, msg = _refused(tmp_path, '[[indicator]]\nid = "seizures"\nname = "查处"\n\n[[indicator]]\n'
                        'id = "rehab_rate"\nformula = "a/b"\n')
    assert err.row == 7 and "第7行" in msg and "formula" in msg


def test_expression_is_refused_naming_the_line(tmp_path):
    err, msg = _refused(tmp_path, '[[indicator]]\nid = "rehab_rate"\nnumerator = "compulsory_rehab / 2"\n')
    assert err.row == 3 and "表达式" in msg
    err, msg = _refused(tmp_path, '[[indicator]]\nid = "seizures"\nwhere = "处置结果 == \'刑事拘留\'"\n')
    assert err.row == 3 and "表达式" in msg
    err, msg = _refused(tmp_path, '[[indicator]]\nid = "x1"\nname = "x"\narea = "查处"\nkind = "count"\n'
                        'ledger = "seizures"\nwhere = { "姓名" = "__import__(\'os\')" }\n')
    assert err.row == 7 and "表达式" in msg


def test_unknown_column_wrong_type_and_bad_value(tmp_path):
    err, msg = _refused(tmp_path, '[[indicator]]\nid = "seizures"\n\nwhere = { "不存在" = true }\n')
    assert err.row == 4 and "不存在" in msg
    err, msg = _refused(tmp_path, '[[indicator]]\nid = "seizures"\ndecimals = "2"\n')
    assert err.row == 3 and "整数" in msg
    err, msg = _refused(tmp_path, '[[indicator]]\nid = "seizures"\nwhere = { "处置结果" = "枪毙" }\n')
    assert err.row == 3 and "允许" in msg
    err, msg = _refused(tmp_path, '[[indicator]]\nid = "seizures"\nwhere = { "新发现" = "是" }\n')
    assert err.row == 3 and "true" in msg
    err, msg = _refused(tmp_path, 'x = 1\n')
    assert err.row == 1
    err, msg = _refused(tmp_path, '[[indicator]\n')
    assert err.row == 1 and "TOML" in msg


@pytest.mark.parametrize("written", [">90%", "＞ 90%"])
def test_strict_comparison_is_refused_in_a_catalog_naming_file_and_line(tmp_path, written):
    """`>90%` is not silently read as ≥90%: the catalog (as the scoring scheme) refuses it at its line."""
    p = tmp_path / "目录.toml"
    p.write_text(f'[[indicator]]\nid = "visit_rate"\ntarget = "{written}"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_catalog(p)
    msg = str(e.value)
    assert "目录.toml" in msg and "第3行" in msg and "严格" in msg and "≥90%" in msg
    p.write_text('[targets]\n\n"走访管控率" = ">90%"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"第3行.*严格"):
        load_catalog(p)


def test_strict_comparison_is_refused_in_workspace_targets(tmp_path):
    from jindu_metrics.workspace import load_workspace

    cfg = tmp_path / "jindu.toml"
    cfg.write_text('[workspace]\nunit = "乐平镇"\n\n[workspace.targets]\n"纳入率" = "<95%"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_catalog(targets=load_workspace(cfg).targets)
    assert "jindu.toml" in str(e.value) and "第5行" in str(e.value) and "严格" in str(e.value)


def test_one_met_judges_catalog_and_scheme_alike():
    """The target a scheme inherits from the catalog is the catalog's Target, judged by Target.met."""
    from jindu_metrics.metrics.scoring import load_scheme

    cat = load_catalog()
    item = load_scheme(text='[[item]]\nmetric = "worker_ratio"\npoints = 1\n', catalog=cat).items[0]
    spec = cat.get("worker_ratio").target_spec
    assert item.target == spec
    for x in (Fraction(30), Fraction(3001, 100), Fraction(29)):
        assert item.target.met(x) == spec.met(x) == (x <= 30)
