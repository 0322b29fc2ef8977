"""One county-wide file in `jindu batch --jobs 2`: read once, its townships shared among forked workers
(batch.town_results); the outputs are the very bytes --jobs 1 writes."""

from __future__ import annotations

from pathlib import Path

from support.workbooks import write_canonical
from test_batch import TOWNS, run, town_records

from jindu_metrics.outputs import MARKER
from jindu_metrics.report.trend import TREND_METRICS


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_county_file_jobs_2_writes_what_jobs_1_writes(tmp_path):
    towns = TOWNS[:4]
    merged: dict[str, list] = {}
    for j, t in enumerate(towns):
        for kind, rows in town_records(t, seed=j, n=25, id_base=j * 1000).items():
            merged.setdefault(kind, []).extend(rows)
    src = write_canonical(merged, tmp_path / "全县台帐.xlsx")
    outs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        code, _, stderr = run(["batch", str(src), "--period", "2018-01..2018-10", "--out", str(out), "--jobs", jobs])
        assert code == 0, stderr
        outs[jobs] = _files(out)
    assert sorted(outs["1"]) == sorted([MARKER, "汇总.xlsx", "汇总.html", "summary.json", "全县通报.txt",
                                        *(f"{t}/通报.txt" for t in towns)])
    assert outs["2"] == outs["1"]


def test_town_results_in_workers_equal_in_process(tmp_path):
    """The forked path and the in-process path of town_results give the same rows, texts and frames."""
    from dataclasses import replace

    from jindu_metrics import batch
    from jindu_metrics.ledgers import load_ledgers
    from jindu_metrics.periods import parse_period

    merged: dict[str, list] = {}
    for j, t in enumerate(TOWNS[:3]):
        for kind, rows in town_records(t, seed=10 + j, n=20, id_base=j * 1000).items():
            merged.setdefault(kind, []).extend(rows)
    ledgers = load_ledgers([write_canonical(merged, tmp_path / "县.xlsx")])
    towns = batch.towns_of(ledgers)
    parts, _ = batch.split_by_town(ledgers, towns)
    job = {"period": parse_period("2018-01..2018-10"), "catalog": None, "targets": {}, "template": None,
           "workspace": None, "trend_metrics": list(TREND_METRICS), "bulletins": True}
    fd = {t: [] for t in towns}
    alone = batch.town_results("县.xlsx", towns, parts, fd, job)
    shared = batch.town_results("县.xlsx", towns, parts, fd, {**job, "town_jobs": 2})
    assert [r.unit for r in shared] == towns
    for a, b in zip(alone, shared):
        assert a.frames is b.frames
        assert replace(a, frames=None) == replace(b, frames=None)
