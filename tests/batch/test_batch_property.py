"""Property: however one ledger set is partitioned into township files, the batch total equals compute on
the whole (metrics.md roll-up: summed numerators and denominators, never averaged ratios)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.workbooks import write_canonical
from test_batch import town_records

from jindu_metrics.batch import run_batch

PERIOD = "2018-01..2018-10"
VILLAGES = [f"{k}村" for k in "东南西北中上"]
BASE = town_records("县", seed=99, n=36, villages=VILLAGES)


def _partition(assign: list[int]) -> dict[str, dict]:
    """Records of each township: villages assigned by `assign`; every row follows its village or person."""
    town_of_village = {v: f"镇{assign[i]}" for i, v in enumerate(VILLAGES)}
    town_of_person = {p["公民身份号码"]: town_of_village[p["所属村居"]] for p in BASE["persons"]}
    out: dict[str, dict] = {}
    for kind, rows in BASE.items():
        for r in rows:
            r = copy.copy(r)
            if "所属村居" in r and r["所属村居"] in town_of_village:
                t = town_of_village[r["所属村居"]]
            else:
                t = town_of_person[r["公民身份号码"]]
            if "所属镇街" in r or kind in ("persons", "units"):
                r["所属镇街"] = t
            out.setdefault(t, {k: [] for k in BASE}).setdefault(kind, []).append(r)
    return out


@pytest.mark.slow
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 3), min_size=len(VILLAGES), max_size=len(VILLAGES)))
def test_batch_total_equals_compute_on_whole(tmp_path_factory, assign):
    from jindu_metrics.ledgers import load_ledgers
    from jindu_metrics.metrics.catalog import load_catalog
    from jindu_metrics.metrics.engine import compute
    from jindu_metrics.periods import parse_period

    base = tmp_path_factory.mktemp("part")
    parts = _partition(assign)
    for t, recs in parts.items():
        write_canonical(recs, base / "in" / f"{t}.xlsx")
    whole = {k: [] for k in BASE}
    for recs in parts.values():
        for k, rows in recs.items():
            whole[k].extend(rows)
    write_canonical(whole, base / "全部.xlsx")

    res = run_batch([base / "in"], period=PERIOD, out=base / "out", jobs=1)
    assert not res.failed and not res.mismatches
    assert sorted(u.unit for u in res.units) == sorted(parts)
    total = {r.metric: r for r in res.rows if r.unit == res.total_unit}
    ref = compute(load_ledgers([base / "全部.xlsx"]), load_catalog(), parse_period(PERIOD), compare=False)
    assert len(total) == len(ref.rows)
    for r in ref.rows:
        t = total[r.metric]
        assert (t.numerator, t.denominator, t.exact, t.display) == (r.numerator, r.denominator, r.exact, r.display), \
            r.metric
