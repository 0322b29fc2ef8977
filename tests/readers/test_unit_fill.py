"""Rows of a ledger without a unit column take the person's unit (帮教管控台帐 has no 所属镇街)."""

from __future__ import annotations

import sys
from pathlib import Path

from jindu_metrics.ledgers import load_ledgers
from jindu_metrics.metrics.catalog import load_catalog
from jindu_metrics.metrics.engine import UNFILLED, compute
from jindu_metrics.periods import parse_period

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import generate

CONTACT_ROWS = ("hair_tests", "visited", "urine_coverage")


def test_contacts_rows_of_a_county_workbook_count_under_their_town(tmp_path):
    dfs = generate.frames(generate.sizes(4000))
    assert "所属镇街" not in dfs["contacts"].columns  # as the county workbook and the contract have it
    book = generate.write_xlsx(tmp_path / "county.xlsx", dfs)
    ledgers = load_ledgers([book])
    period = parse_period("2018-01..2018-10")
    res = compute(ledgers, load_catalog(), period, by="所属镇街", metrics=list(CONTACT_ROWS), compare=False)
    assert UNFILLED not in res.groups
    assert set(res.groups) == set(generate.TOWNS)
    for metric in CONTACT_ROWS:
        whole = res.get(metric).numerator
        assert whole > 0
        assert sum(res.get(metric, t).numerator for t in res.groups) >= whole  # persons may span towns
    hair = res.get("hair_tests").numerator
    assert sum(res.get("hair_tests", t).numerator for t in res.groups) == hair  # rows add up exactly
    # each town's rows are its persons' rows
    contacts, persons = ledgers["contacts"], ledgers["persons"]
    town_of = persons.set_index("公民身份号码")["所属镇街"]
    in_window = contacts[(contacts["日期"] >= "2018-01-01") & (contacts["日期"] <= "2018-10-31")
                         & (contacts["方式"] == "毛发检测")]
    expected = in_window["公民身份号码"].map(town_of).value_counts()
    assert {t: res.get("hair_tests", t).numerator for t in res.groups} == {t: int(expected.get(t, 0))
                                                                           for t in res.groups}
