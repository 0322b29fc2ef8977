"""County batch (`jindu batch`): every township computed in a process pool, then the county's totals, ranks,
scores, the summary workbook, summary.json and the county bulletin.

plan (the run checked before any work, the window computed once) → units (per-township work, in workers) →
county (total, roll-up check, ranks, summary.json, workbook data) → folder (the output folder, at once);
parallel holds the process pool and Beside. With one county-wide file and --jobs > 1 (Linux), the county
total over its townships is one more task of their pool, and 汇总.xlsx is built in a forked child (Beside)
while the parent writes the rest: the same bytes either way.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..errors import InputError, shown
from .county import (
    check_rollup,
    county_total,
    ranks_and_scores,
    summary_json,
    window_dict,
    workbook_head,
    workbook_rest,
)
from .folder import COUNTY_BULLETIN, COUNTY_NAME, OUTPUT_FILES, SUMMARY_HTML, SUMMARY_XLSX, write_outputs
from .model import BatchResult, Job, UnitOutcome, UnitResult
from .parallel import Beside, pool_context, worker_pool, worker_start
from .plan import Plan, list_inputs, plan_batch
from .units import failed_unit, process_file, run_units, split_by_town, town_results, towns_of

__all__ = [
    "COUNTY_BULLETIN", "COUNTY_NAME", "OUTPUT_FILES", "SUMMARY_HTML", "SUMMARY_XLSX", "BatchResult", "Beside",
    "Job", "Plan", "UnitOutcome", "UnitResult", "check_rollup", "county_total", "list_inputs", "plan_batch",
    "pool_context", "process_file", "run_batch", "run_units", "split_by_town", "summary_json", "town_results",
    "towns_of", "window_dict", "workbook_head", "workbook_rest", "worker_pool", "worker_start", "write_outputs",
]


def run_batch(inputs: list[str | Path], *, period, out: str | Path, jobs: int | None = None,
              scoring: str | Path | None = None, template: str | Path | None = None, fmt: str = "txt",
              catalog: str | Path | None = None, workspace=None, total_unit: str | None = None,
              progress: Callable[[str], None] | None = None, on_start: Callable[[int], None] | None = None,
              password: str | None = None, baseline: int | None = None,
              county_template: str | Path | None = None) -> BatchResult:
    """Run the whole county and write OUTDIR/<镇街>/通报.txt, 汇总.xlsx, 汇总.html, summary.json, 全县通报.txt (and
    .md or .docx with fmt). `county_template`: the county office's own 全县通报 template (as `template` is the
    townships'). `password`: opens every encrypted workbook (decrypted in the workers' memory only);
    `baseline`: the townships' figures and bulletins also compared with that year's same window."""
    plan = plan_batch(inputs, period=period, out=out, jobs=jobs, scoring=scoring, template=template, fmt=fmt,
                      catalog=catalog, workspace=workspace, total_unit=total_unit, password=password,
                      baseline=baseline, county_template=county_template)
    if on_start:
        on_start(len(plan.files))
    early: dict = {}  # one county file: 汇总.xlsx begun on its townships' findings, before they are computed
    on_towns = None
    if plan.jobs > 1 and len(plan.files) == 1:
        def on_towns(towns: list[UnitResult]) -> None:
            from ..outputs.county import build_workbook

            early["head"] = workbook_head(plan.window, plan.cat, towns, [], plan.total_unit)
            early["book"] = Beside(build_workbook, early["head"])

    try:
        results = run_units(plan.files, plan.job, plan.jobs, progress, on_towns)
    except BaseException:
        if early:
            early["book"].discard()
        raise
    skipped = plan.skipped + [{"file": r.file, "reason": r.error} for r in results if r.status == "skipped"]
    results = _one_file_per_township([r for r in results if r.status != "skipped"])
    return _county(plan, results, skipped, early)


def _one_file_per_township(results: list[UnitResult]) -> list[UnitResult]:
    """A township may come from one file only; later files claiming the same one fail with a clear reason."""
    owner: dict[str, str] = {}
    for i, r in sorted(enumerate(results), key=lambda ir: ir[1].file):
        if r.status != "ok":
            continue
        if r.unit in owner:
            results[i] = failed_unit(r.file, r.unit, InputError(
                f"镇街「{shown(r.unit)}」已由文件「{shown(owner[r.unit])}」提供，同一镇街只能有一个文件。", file=r.file))
        else:
            owner[r.unit] = r.file
    return results


def _county(plan: Plan, results: list[UnitResult], skipped: list[dict], early: dict) -> BatchResult:
    """The county from its townships' results: total, roll-up check, ranks, scores; the outputs written."""
    from ..outputs.county import build_workbook

    ok = [r for r in results if r.status == "ok"]
    units = [r.unit for r in ok]
    unit_rows = [row for r in ok for row in r.rows]
    entries = [UnitOutcome.of(r) for r in results]
    head = workbook_head(plan.window, plan.cat, ok, [u for u in entries if u.status == "failed"], plan.total_unit)
    # 汇总.xlsx's 数据问题 sheet (10⁴ findings, the slowest part of the outputs) is written beside the
    # townships and the county total (begun on what was known before them: kept when it is what they gave);
    # the workbook's other sheets follow when the figures are in
    book = early.get("book")
    if book is not None and early["head"] != head:  # a township failed, say: begun on the wrong findings
        book.discard()
        book = None
    with book or Beside(build_workbook, head, enabled=plan.jobs > 1) as book:
        total_rows, total_trend, mismatches, left_out = [], {}, [], {}
        if ok:
            total_rows, total_trend, left_out = _total(plan, ok, units)
            mismatches = check_rollup(total_rows, unit_rows)
        ranks, scores, item_scores = ranks_and_scores(plan.cat, plan.scheme, unit_rows, units)
        result = BatchResult(plan.period, plan.total_unit, entries, unit_rows + total_rows, ranks, scores, mismatches,
                             left_out=left_out, skipped=skipped, window=plan.window, baseline=plan.job.baseline)
        rest = workbook_rest(result, plan.cat, plan.scheme, ok, total_trend, plan.trend_ids)
        book.send(rest)
        result.summary = summary_json(result, item_scores)
        from ..report.render import render_county

        # the txt for 全县通报.txt (plain-text tables); the md (its tables as tables) for 汇总.html and the docx
        county = {f: render_county(result, plan.cat, workspace=plan.workspace, template=plan.county_template, fmt=f)
                  for f in ("txt", "md")}
        write_outputs(plan.out, result, ok, plan.fmt, {**head, **rest}, county, book.result)
    return result


def _total(plan: Plan, ok: list[UnitResult], units: list[str]) -> tuple:
    """county_total over the townships: as one county file's town pool computed it, or here."""
    pre = ok[0].county
    if pre is not None and pre[0] == tuple(units):
        return pre[1]
    return county_total(ok, plan.cat, plan.window, plan.total_unit, plan.trend_ids, plan.job.baseline,
                        plan.job.started)
