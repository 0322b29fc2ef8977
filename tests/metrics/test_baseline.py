"""--baseline YEAR: the same window in a base year, worded as seed 003 does ("较2016年下降93.4%")."""

import json
from fractions import Fraction

import pytest
from typer.testing import CliRunner

from jindu_metrics import run as run_setup
from jindu_metrics.cli import app
from jindu_metrics.errors import UsageError
from jindu_metrics.ledgers.frames import ledger_set
from jindu_metrics.ledgers.ids import make_id
from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.metrics.display import change_words, format_relative, relative_change
from jindu_metrics.metrics.engine import compute
from jindu_metrics.periods import parse_period

CAT = load_catalog()


def pid(n):
    return make_id("440607", "19800101", n)


def ledgers_2016_2019():
    """76 persons newly found in 2016, 5 in 2019 (下降93.4%); of 100 registered persons 30 abstinent three
    years on 2016-12-31, 48 on 2019-12-31 (上升18.0个百分点)."""
    seizures = [{"查处日期": f"2016-{1 + n % 12:02d}-01", "公民身份号码": pid(n), "处置结果": "行政拘留", "新发现": True}
                for n in range(1, 77)]
    seizures += [{"查处日期": "2019-03-01", "公民身份号码": pid(n), "处置结果": "行政拘留", "新发现": True}
                 for n in range(201, 206)]
    # the last 52 were also seized in 2016 (not new): not abstinent on 2016-12-31 either
    seizures += [{"查处日期": "2016-06-01", "公民身份号码": pid(n), "处置结果": "行政拘留", "新发现": False}
                 for n in range(348, 400)]
    last = ["2013-06-01"] * 30 + ["2016-06-01"] * 18 + ["2017-06-01"] * 52  # 2016-06-01 + 3 years ≤ 2019-12-31 < 2017-06-01 + 3 years
    persons = [{"姓名": f"人{n}", "公民身份号码": pid(n), "所属村居": "一村", "人员状态": "社会面",
                "初次发现日期": "2010-01-01", "末次查获日期": d} for n, d in zip(range(300, 400), last)]
    return ledger_set("龙华区", persons=persons, seizures=seizures)


def test_compute_baseline_words_a_count_and_a_ratio_as_the_seed():
    r = compute(ledgers_2016_2019(), CAT, parse_period("2019"), baseline=2016)
    assert r.baseline == parse_period("2016")
    new = r.get("newly_found").baseline
    assert (new.start, new.end, new.numerator) == ("2016-01-01", "2016-12-31", 76)
    assert new.change_display == "减少71人，下降93.4%"
    rate = r.get("abstinent_3y_rate").baseline
    assert rate.display == "30.0%" and r.get("abstinent_3y_rate").display == "48.0%"
    assert rate.change_display == "上升18.0个百分点"
    d = r.to_dict()
    assert d["baseline"]["year"] == 2016
    row = next(x for x in d["rows"] if x["metric"] == "newly_found")
    assert list(row)[list(row).index("yoy") + 2] == "baseline"  # beside yoy (and its reason), same shape
    assert row["baseline"]["change_display"] == "减少71人，下降93.4%"


def test_cli_prints_the_seed_phrasing(monkeypatch):
    ls = ledgers_2016_2019()
    monkeypatch.setattr(run_setup, "read_ledgers", lambda paths, **kw: ls)
    monkeypatch.setattr(run_setup, "check_ledgers", lambda ledgers, check, as_of: [])
    r = CliRunner().invoke(app, ["compute", "x", "--period", "2019", "--baseline", "2016",
                                 "-m", "新发现吸毒人员数", "-m", "三年未复吸率"], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "较2016年" in r.stdout
    assert "76（减少71人，下降93.4%）" in r.stdout and "30.0%（上升18.0个百分点）" in r.stdout
    j = CliRunner().invoke(app, ["compute", "x", "--period", "2019", "--baseline", "2016", "--format", "json",
                                 "-m", "新发现吸毒人员数"])
    assert json.loads(j.stdout)["rows"][0]["baseline"]["change_display"] == "减少71人，下降93.4%"
    c = CliRunner().invoke(app, ["compute", "x", "--period", "2019", "--baseline", "2016", "--format", "csv",
                                 "-m", "新发现吸毒人员数"])
    head, first = c.stdout.lstrip("\ufeff").splitlines()[:2]
    assert head.endswith("较2016年,较2016年变化,说明") and first.endswith("76,减少71人，下降93.4%,")


def test_without_baseline_outputs_keep_their_shape():
    r = compute(ledgers_2016_2019(), CAT, parse_period("2019"))
    assert r.baseline is None and all(x.baseline is None for x in r.rows)
    assert "baseline" not in r.to_dict() and "baseline" not in r.to_dict()["rows"][0]


def test_a_baseline_the_ledgers_do_not_cover_is_absent():
    r = compute(ledgers_2016_2019(), CAT, parse_period("2019"), baseline=2012)  # seizures start in 2016
    assert r.get("newly_found").baseline is None
    assert r.to_dict()["rows"][0]["baseline"] is None and "null" in r.to_dict()["baseline"]["absent"]


@pytest.mark.parametrize("year", [2019, 2020, 1800])
def test_a_baseline_not_before_the_period_is_refused(year):
    with pytest.raises(UsageError, match="--baseline"):
        compute(ledgers_2016_2019(), CAT, parse_period("2019"), baseline=year)


def test_yoy_of_counts_gains_the_percent_and_zero_base_says_why():
    assert change_words(Fraction(49), Fraction(92), "count", 0, "人", relative=True) == "减少43人，下降46.7%"
    assert change_words(Fraction(49), Fraction(92), "count", 0, "人") == "减少43人"  # 环比: persons only
    assert change_words(Fraction(5), Fraction(0), "count", 0, "人", relative=True) == "增加5人，—（基数为0，无法计算增减幅度）"
    assert relative_change(Fraction(5), Fraction(0)) is None and format_relative(None) == "—"
    assert change_words(Fraction(3), Fraction(3), "count", 0, "人", relative=True) == "持平"
    # ratios stay in 个百分点, with or without relative
    assert change_words(Fraction(48, 100), Fraction(30, 100), "percent", 1, relative=True) == "上升18.0个百分点"


def test_template_variables_carry_the_baseline():
    from jindu_metrics.report.render import bulletin_results, render_report

    ls = ledgers_2016_2019()
    res = bulletin_results(ls, CAT, parse_period("2019"), baseline=2016)
    tpl = ("新增吸毒人员较{{ baseline.year }}年{{ m.newly_found|change('baseline') }}；"
           "{{ m.abstinent_3y_rate.baseline.display }} {{ m.abstinent_3y_rate.baseline.change_display }}")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "t.txt.j2"
        p.write_text(tpl, encoding="utf-8")
        text = render_report(res["result_ytd"], month=res["month"], villages=res["villages"], template=p,
                             fmt="txt", catalog=CAT)
    assert "新增吸毒人员较2016年减少71人，下降93.4%；30.0% 上升18.0个百分点" in text


def test_python_api_passes_the_baseline_to_the_frame():
    from jindu_metrics import compute as api_compute

    r = api_compute(ledgers_2016_2019(), "2019", baseline=2016, metrics=["newly_found"])
    frame = r.to_frame()
    assert list(frame["baseline"]) == ["76"] and "baseline" not in api_compute(ledgers_2016_2019(), "2019").to_frame()
