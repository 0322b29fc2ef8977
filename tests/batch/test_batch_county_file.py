"""One county-wide file in `jindu batch --jobs 2`: read once, its townships shared among forked workers
(batch.town_results); the outputs are the very bytes --jobs 1 writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.workbooks import write_canonical
from test_batch import TOWNS, run, town_records

from jindu_metrics.outputs import MARKER
from jindu_metrics.report.trend import TREND_METRICS


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow
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


def _three_towns(tmp_path, seed: int):
    """(townships, their LedgerSets) of one county file holding three townships' ledgers."""
    from jindu_metrics import batch
    from jindu_metrics.ledgers import load_ledgers

    merged: dict[str, list] = {}
    for j, t in enumerate(TOWNS[:3]):
        for kind, rows in town_records(t, seed=seed + j, n=20, id_base=j * 1000).items():
            merged.setdefault(kind, []).extend(rows)
    ledgers = load_ledgers([write_canonical(merged, tmp_path / "县.xlsx")])
    towns = batch.towns_of(ledgers)
    return towns, batch.split_by_town(ledgers, towns)[0]


def test_town_results_in_workers_equal_in_process(tmp_path):
    """The forked path and the in-process path of town_results give the same rows, texts and frames."""
    from dataclasses import replace

    from jindu_metrics import batch
    from jindu_metrics.periods import parse_period

    towns, parts = _three_towns(tmp_path, seed=10)
    period = parse_period("2018-01..2018-10")
    job = batch.Job(period=period, window=period, trend_metrics=TREND_METRICS)
    fd = {t: [] for t in towns}
    alone = batch.town_results("县.xlsx", towns, parts, fd, job)
    shared = batch.town_results("县.xlsx", towns, parts, fd, replace(job, town_jobs=2))
    assert [r.unit for r in shared] == towns
    for a, b in zip(alone, shared):
        assert a.frames is b.frames
        assert replace(a, frames=None) == replace(b, frames=None)


def test_county_total_from_the_town_pool_equals_the_parents(tmp_path):
    """With total_unit in the job, the town pool also computes the county total; it is the very total
    run_batch computes over the townships' results itself."""
    from jindu_metrics import batch
    from jindu_metrics.periods import bulletin_window, parse_period

    towns, parts = _three_towns(tmp_path, seed=20)
    period = parse_period("2018-01..2018-10")
    job = batch.Job(period=period, window=bulletin_window(period), trend_metrics=TREND_METRICS, bulletins=False,
                    town_jobs=2, total_unit="全县")
    out = batch.town_results("县.xlsx", towns, parts, {t: [] for t in towns}, job)
    assert out[0].county is not None and all(r.county is None for r in out[1:])
    got_towns, got = out[0].county
    assert list(got_towns) == towns
    rows, trend, left_out = batch.county_total(out, job.cat, bulletin_window(period), "全县",
                                               list(TREND_METRICS))
    assert got[0] == rows and got[1] == trend and got[2] == left_out
    assert rows and all(r.unit == "全县" for r in rows)


def _pid_or_fail(first, rest):
    import os

    if os.getpid() != first["parent"] and first.get("fail_in_child"):
        raise RuntimeError("child fails")
    return {**first, **rest(), "pid": os.getpid()}


def test_beside_builds_in_a_child_and_falls_back_here():
    """Beside: what the forked child built, with `rest` sent after it started; a child that fails leaves
    the work to this process, with the same result."""
    import os
    import sys

    from jindu_metrics.batch import Beside

    me = os.getpid()
    with Beside(_pid_or_fail, {"parent": me}) as book:
        book.send({"rest": 1})
        got = book.result()
    assert got["rest"] == 1
    if sys.platform.startswith("linux"):
        assert got["pid"] != me  # built beside, in the child
    with Beside(_pid_or_fail, {"parent": me, "fail_in_child": True}) as book:
        book.send({"rest": 2})
        got = book.result()
    assert got == {"parent": me, "fail_in_child": True, "rest": 2, "pid": me}
    with Beside(_pid_or_fail, {"parent": me}, enabled=False) as book:
        book.send({"rest": 3})
        assert book.result()["pid"] == me


def test_the_workbook_begun_on_the_townships_findings_is_kept_only_when_they_gave_it(tmp_path, monkeypatch):
    """One county file, --jobs 2: 汇总.xlsx is begun (batch.Beside) on the townships' findings before they
    are computed. Kept when the results are what it was begun on; begun again when a township failed, with
    the bytes --jobs 1 writes."""
    from jindu_metrics import batch
    from jindu_metrics.errors import InputError

    merged: dict[str, list] = {}
    for j, t in enumerate(TOWNS[:3]):
        for kind, rows in town_records(t, seed=30 + j, n=20, id_base=j * 1000).items():
            merged.setdefault(kind, []).extend(rows)
    src = write_canonical(merged, tmp_path / "县.xlsx")
    made = []

    class Counted(batch.Beside):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(batch, "Beside", Counted)
    batch.run_batch([src], period="2018-01..2018-10", out=tmp_path / "ok", jobs=2)
    assert len(made) == 1  # the one begun early, kept

    real = batch.units.unit_result

    def failing(file, unit, *args, **kwargs):
        if unit == sorted(TOWNS[:3])[1]:
            raise InputError("测试用的失败")
        return real(file, unit, *args, **kwargs)

    monkeypatch.setattr(batch.units, "unit_result", failing)  # forked workers inherit it
    outs = {}
    for jobs in (2, 1):
        made.clear()
        batch.run_batch([src], period="2018-01..2018-10", out=tmp_path / f"failed{jobs}", jobs=jobs)
        outs[jobs] = _files(tmp_path / f"failed{jobs}")
        assert len(made) == (2 if jobs == 2 else 1)  # --jobs 2: the early one discarded, one begun anew
    assert outs[2] == outs[1]
    assert "汇总.xlsx" in outs[1]


# ---------------------------------------------------------------- unit labels (issue 29)


def _county_with(tmp_path, edit) -> Path:
    merged: dict[str, list] = {}
    for j, t in enumerate(TOWNS[:2]):
        for kind, rows in town_records(t, seed=j, n=20, id_base=j * 1000).items():
            merged.setdefault(kind, []).extend(rows)
    edit(merged)
    return write_canonical(merged, tmp_path / "全县台帐.xlsx")


def test_a_zero_width_space_in_a_township_is_one_township_with_a_warning(tmp_path):
    import json

    def edit(merged):
        for r in merged["persons"][::3]:
            r["所属镇街"] = r["所属镇街"] + "\u200b"  # pasted from a web page: looks the same
        merged["units"][0]["所属村居"] = "\u200b" + merged["units"][0]["所属村居"]

    src, out = _county_with(tmp_path, edit), tmp_path / "out"
    code, _, stderr = run(["batch", str(src), "--period", "2018-01..2018-10", "--out", str(out)])
    assert code in (0, 1), stderr
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(TOWNS[:2])
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    codes = [f["code"] for u in summary["units"] for f in u["findings"]]
    assert "unit_invisible_chars" in codes
    assert all("\u200b" not in str(u.get("unit")) for u in summary["units"])
    assert "\u200b" not in (out / "汇总.html").read_text(encoding="utf-8")


def test_a_person_typed_as_a_township_is_masked_and_reported(tmp_path):
    import json

    from jindu_metrics.ledgers.ids import make_id

    pid = make_id("440607", "19800101", 999)

    def edit(merged):
        merged["persons"][0]["所属镇街"] = merged["persons"][1]["姓名"]  # 张1 typed as a township
        merged["persons"][2]["所属镇街"] = pid  # an ID typed as a township
        merged["persons"][3]["所属村居"] = f"村{pid}"

    src, out = _county_with(tmp_path, edit), tmp_path / "out"
    code, stdout, stderr = run(["batch", str(src), "--period", "2018-01..2018-10", "--out", str(out)])
    assert code in (0, 1), stderr
    folders = [p.name for p in out.rglob("*")]
    assert not [f for f in folders if "张1" in f or pid in f]
    for name in ("summary.json", "汇总.html", "全县通报.txt"):
        text = (out / name).read_text(encoding="utf-8")
        assert pid not in text and "张1" not in text, name
    assert pid not in stdout + stderr
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    found = [f for u in summary["units"] for f in u["findings"] if f["code"] == "unit_looks_like_person"]
    assert {f["column"] for f in found} == {"所属镇街", "所属村居"} and len(found) >= 3
