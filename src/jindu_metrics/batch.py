"""County batch (`jindu batch`): every township computed in a process pool, then the county's totals, ranks,
scores, the summary workbook, summary.json and the county bulletin.

Workers return plain picklable data (MetricRows, finding dicts, raw numerators/denominators, frames for the
county union); the parent only aggregates and writes, so results do not depend on --jobs.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from datetime import date
from fractions import Fraction
from pathlib import Path

from .errors import EXIT_FINDINGS, EXIT_OK, InputError, JinduError, UsageError

TOWN = "所属镇街"
VILLAGE = "所属村居"
ID = "公民身份号码"
# Rates whose month-by-month course the 趋势 sheet charts (those the bulletins quote), in this order.
TREND_METRICS = ("detention_ratio", "rehab_rate", "grid_inclusion_rate", "visit_rate", "community_execution_rate")
BULLETIN_NAME = "通报"
COUNTY_BULLETIN = "全县通报.txt"


# ---------------------------------------------------------------- inputs


def list_inputs(paths: list[str | Path]) -> list[Path]:
    """Ledger files: given files as is; folders non-recursively (hidden and ~$ lock files skipped)."""
    from .ledgers import expand_inputs

    seen, unique = set(), []
    for f, _label in expand_inputs(list(paths)):
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def safe_dirname(unit: str) -> str:
    """A folder name for a township that cannot escape OUTDIR."""
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", unit).strip().lstrip(".")
    return name or "_"


# ---------------------------------------------------------------- splitting a county-wide file


def towns_of(ledgers) -> list[str]:
    """Distinct 所属镇街 values of the persons ledger, sorted."""
    s = ledgers["persons"][TOWN]
    return sorted({str(v) for v in s[s.notna()].unique()})


def split_by_town(ledgers, towns: list[str]) -> tuple[dict, dict[str, int]]:
    """Split a county-wide LedgerSet into one LedgerSet per 所属镇街 (vectorised).

    Rows without a 所属镇街 of their own follow the person (公民身份号码) or, for publicity and units, their
    village or 单位. Returns ({town: LedgerSet}, {ledger name: rows that could not be placed}).
    """
    import pandas as pd

    from . import schema
    from .ledgers.model import LedgerSet

    persons = ledgers["persons"]
    known = persons[persons[TOWN].notna() & persons[ID].notna()]
    id_town = dict(zip(known[ID], known[TOWN].astype(str)))
    village_town: dict[str, str] = {}
    for kind in ("units", "persons"):
        df = ledgers[kind]
        pairs = df[df[TOWN].notna() & df[VILLAGE].notna()][[VILLAGE, TOWN]].drop_duplicates()
        for v, t in sorted(zip(pairs[VILLAGE].astype(str), pairs[TOWN].astype(str)), reverse=True):
            village_town[v] = t  # sorted reverse so the alphabetically first town wins when ambiguous

    assigned: dict[str, pd.Series] = {}
    unplaced: dict[str, int] = {}
    for kind, df in ledgers.frames.items():
        town = pd.Series([None] * len(df), index=df.index, dtype=object)
        if TOWN in df.columns:
            town = df[TOWN].astype(object).where(df[TOWN].notna(), None)
        if ID in df.columns:
            town = town.where(town.notna(), df[ID].map(id_town))
        if VILLAGE in df.columns:
            town = town.where(town.notna(), df[VILLAGE].map(village_town))
        if "单位" in df.columns:
            own = df["单位"].where(df["单位"].isin(towns))
            town = town.where(town.notna(), own)
        assigned[kind] = town
        missing = int(town.isna().sum())
        if missing:
            unplaced[schema.KINDS[kind].name if kind in schema.KINDS else kind] = missing

    parts = {}
    for t in towns:
        frames = {k: df[assigned[k] == t].reset_index(drop=True) for k, df in ledgers.frames.items()}
        parts[t] = LedgerSet(frames=frames, findings=[], sheets=list(ledgers.sheets), unit=t)
    return parts, unplaced


def _finding_towns(ledgers, findings) -> list[str | None]:
    """The township each finding's row belongs to (by its sheet and row), or None."""
    where: dict[tuple, str] = {}
    for df in ledgers.frames.values():
        if TOWN in df.columns and len(df):
            sub = df[df[TOWN].notna()]
            where.update(zip(zip(sub["_file"], sub["_sheet"], sub["_row"]), sub[TOWN].astype(str)))
    return [where.get((f.file, f.sheet, f.row)) for f in findings]


# ---------------------------------------------------------------- worker


_CATALOGS: dict = {}


def _catalog(path, targets):
    key = (str(path) if path else None, json.dumps(targets or {}, sort_keys=True, ensure_ascii=False))
    if key not in _CATALOGS:
        from .metrics.catalog import load_catalog

        _CATALOGS[key] = load_catalog(path, targets=targets or None)
    return _CATALOGS[key]


def _trend_periods(period) -> list:
    """Jan..each month end of the period's year to date (the last one ends where the period ends)."""
    from .periods import Period, _month_end

    ytd = period.year_to_date()
    out = []
    for m in range(1, ytd.end.month + 1):
        end = _month_end(ytd.end.year, m)
        out.append(Period(ytd.start, min(end, ytd.end)))
    return out


def trend_values(ledgers, catalog, period, metric_ids: list[str]) -> dict[str, list]:
    """Each key rate's exact value at each month of the year to date (stock: that month's end; flow: Jan..m)."""
    from .metrics.engine import exact_values

    if not metric_ids:
        return {}
    got = exact_values(ledgers, catalog, _trend_periods(period), metrics=list(metric_ids))
    return {m: got[m] for m in metric_ids}


def _unit_result(file: str, unit: str, ledgers, findings: list[dict], job: dict) -> dict:
    from .metrics.engine import compute

    catalog = _catalog(job["catalog"], job["targets"])
    period = job["period"]
    ledgers.unit = unit
    res = compute(ledgers, catalog, period)
    rows = [r if r.unit == unit else replace(r, unit=unit) for r in res.rows if r.unit == res.unit]
    trend_ids = [m for m in job["trend_metrics"]]
    bulletin = None
    if job.get("bulletins", True):
        from .report.render import bulletin_results, render_report

        br = bulletin_results(ledgers, catalog, period, res)
        bulletin = render_report(br["result_ytd"], month=br["month"], villages=br["villages"],
                                 workspace=job.get("workspace"), template=job.get("template"),
                                 fmt="txt", catalog=catalog)
    return {
        "file": file, "unit": unit, "status": "ok", "error": None, "findings": findings,
        "rows": rows,
        "raw": {r.metric: [r.numerator, r.denominator] for r in rows},
        "trend": trend_values(ledgers, catalog, period, trend_ids),
        "bulletin": bulletin,
        "frames": ledgers.frames if job.get("keep_frames", True) else None,
    }


def process_file(job: dict) -> list[dict]:
    """Worker: one input file → one result per township in it. Never raises for a bad file."""
    path = Path(job["file"])
    name = path.name
    try:
        from .ledgers import load_ledgers
        from .validate import validate

        ledgers = load_ledgers([path], threads=job.get("threads", True))
        findings = validate(ledgers)
    except JinduError as exc:
        return [_failed(name, None, exc)]
    except MemoryError:
        return [_failed(name, None, InputError("内存不足，文件过大。", file=name))]
    except Exception as exc:  # noqa: BLE001 - a file the reader could not cope with fails only its own unit
        return [_failed(name, None, InputError(f"文件无法处理（{type(exc).__name__}）。", file=name))]

    try:
        towns = towns_of(ledgers)
        if len(towns) <= 1:
            unit = ledgers.unit or (towns[0] if towns else None) or path.stem
            fdicts = [{"unit": unit, **f.to_dict()} for f in findings]
            return [_unit_result(name, unit, ledgers, fdicts, job)]
        parts, unplaced = split_by_town(ledgers, towns)
        owners = _finding_towns(ledgers, findings)
        out = []
        for t in towns:
            fdicts = [{"unit": t, **f.to_dict()} for f, o in zip(findings, owners) if o == t]
            out.append(_unit_result(name, t, parts[t], fdicts, job))
        stray = [{"unit": None, **f.to_dict()} for f, o in zip(findings, owners) if o is None]
        if stray or unplaced:
            out[0]["file_findings"] = stray
            out[0]["unplaced"] = unplaced
        return out
    except JinduError as exc:
        return [_failed(name, None, exc)]
    except Exception as exc:  # noqa: BLE001 - keep the run going; the message names the file
        return [_failed(name, None, InputError(f"计算时出错（{type(exc).__name__}: {exc}）。", file=name))]


def _failed(file: str, unit: str | None, exc: JinduError) -> dict:
    return {"file": file, "unit": unit, "status": "failed", "error": str(exc), "findings": [], "rows": [],
            "raw": {}, "trend": {}, "bulletin": None, "frames": None}


# ---------------------------------------------------------------- the run


@dataclass
class BatchResult:
    period: object
    total_unit: str
    units: list[dict]  # per (file, unit): status, error, findings
    rows: list  # MetricRows: townships (sorted) then the total
    ranks: dict[tuple[str, str], int]
    scores: list = field(default_factory=list)  # scoring.UnitScore, when a scheme is given
    mismatches: list[str] = field(default_factory=list)  # total ≠ summed parts (should never happen)
    summary: dict = field(default_factory=dict)

    @property
    def failed(self) -> list[dict]:
        return [u for u in self.units if u["status"] == "failed"]

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.failed else EXIT_OK


def run_units(files: list[Path], job: dict, jobs: int, progress: Callable[[str], None] | None = None) -> list[dict]:
    """Process every file (in a pool when jobs > 1); results sorted by (unit, file) whatever the order."""
    # one level of parallelism: files in a pool, or one file's sheets in a reader thread, not both
    jobs_list = [{**job, "file": str(f), "threads": jobs <= 1} for f in files]
    results: list[dict] = []
    if jobs <= 1 or len(files) <= 1:
        for j in jobs_list:
            results.extend(process_file(j))
            if progress:
                progress(Path(j["file"]).name)
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(files)), mp_context=_pool_context()) as pool:
            futures = {pool.submit(process_file, j): j for j in jobs_list}
            for fut in as_completed(futures):
                results.extend(fut.result())
                if progress:
                    progress(Path(futures[fut]["file"]).name)
    results.sort(key=lambda r: (r["unit"] is None, r["unit"] or "", r["file"]))
    return results


def _pool_context():
    """Linux: fork workers after the heavy modules are imported here, so that each worker starts with
    pandas, the reader and the engine loaded (≈0.8 s each otherwise) and this process, which needs them
    afterwards for the county total, does not import them once the workers are done. No Python thread
    runs here at that point (the reader's threads are joined per file; OpenBLAS's pool is fork-safe).
    Elsewhere: the platform's default start method."""
    import multiprocessing
    import sys

    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods():
        return None
    from .ledgers import normalize  # noqa: F401
    from .metrics import engine  # noqa: F401
    from .report import render  # noqa: F401
    from .validate import cross_checks  # noqa: F401 (`from . import validate` is the API function)

    return multiprocessing.get_context("fork")


def _union(frames_list: list[dict], unit: str):
    import pandas as pd

    from .ledgers.model import LedgerSet

    kinds = frames_list[0].keys()
    frames = {k: pd.concat([f[k] for f in frames_list], ignore_index=True) for k in kinds}
    return LedgerSet(frames=frames, unit=unit)


def check_rollup(total_rows, unit_rows) -> list[str]:
    """The county total's numerators/denominators must equal the sums of the townships' (metrics.md roll-up)."""
    sums: dict[str, list] = {}
    for r in unit_rows:
        s = sums.setdefault(r.metric, [0, 0, True])
        if r.numerator is None:
            s[2] = False
        else:
            s[0] += r.numerator
        if r.denominator is not None:
            s[1] += r.denominator
    out = []
    for r in total_rows:
        s = sums.get(r.metric)
        if s is None or r.numerator is None or not s[2]:
            continue
        if Fraction(str(s[0])) != Fraction(str(r.numerator)) or (
                r.denominator is not None and Fraction(str(s[1])) != Fraction(str(r.denominator))):
            out.append(f"「{r.name}」合计为 {r.numerator}/{r.denominator}，各镇街之和为 {s[0]}/{s[1]}"
                       "（同一人员可能在多个镇街登记）")
    return out


def run_batch(inputs: list[str | Path], *, period, out: str | Path, jobs: int | None = None,
              scoring: str | Path | None = None, template: str | Path | None = None, fmt: str = "txt",
              catalog: str | Path | None = None, workspace=None, total_unit: str | None = None,
              progress: Callable[[str], None] | None = None, on_start: Callable[[int], None] | None = None,
              ) -> BatchResult:
    """Run the whole county and write OUTDIR/<镇街>/通报.txt, 汇总.xlsx, summary.json, 全县通报.txt."""
    from .metrics.engine import compute
    from .periods import Period, parse_period

    if fmt not in ("txt", "docx"):
        raise UsageError(f"不支持的通报格式「{fmt}」，可选：txt、docx。")
    if period is None:
        raise UsageError("批量处理请用 --period 指定统计期，如 --period 2018-01..2018-10。")
    period = period if isinstance(period, Period) else parse_period(str(period))
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"输出位置「{out}」已存在且不是文件夹。")
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise UsageError("--jobs 应为正整数。")
    targets = dict(getattr(workspace, "targets", {}) or {})
    if catalog is None and workspace is not None and getattr(workspace, "catalog", None):
        catalog = workspace.catalog
    if scoring is None and workspace is not None and getattr(workspace, "scoring", None):
        scoring = workspace.scoring
    cat = _catalog(catalog, targets)  # bad catalog → ConfigError before any work
    scheme = None
    if scoring is not None:
        from .scoring import load_scheme

        scheme = load_scheme(scoring, catalog=cat)
    if template is not None:
        from .report.render import read_template

        read_template(Path(template))  # unreadable template → ConfigError before any work
    if total_unit is None:
        level_unit = getattr(workspace, "unit", None) if getattr(workspace, "level", "镇街") != "镇街" else None
        total_unit = level_unit or "全县"
    trend_ids = [m for m in TREND_METRICS if any(i.id == m for i in cat.indicators)]

    files = list_inputs(inputs)
    if on_start:
        on_start(len(files))
    job = {"period": period, "catalog": str(catalog) if catalog else None, "targets": targets,
           "template": str(template) if template else None, "workspace": workspace,
           "trend_metrics": trend_ids, "bulletins": True}
    results = run_units(files, job, jobs, progress)

    # A township may come from one file only; later files claiming the same one fail with a clear reason.
    owner: dict[str, str] = {}
    for r in sorted(results, key=lambda r: r["file"]):
        if r["status"] != "ok":
            continue
        if r["unit"] in owner:
            r.update(_failed(r["file"], r["unit"], InputError(
                f"镇街「{r['unit']}」已由文件「{owner[r['unit']]}」提供，同一镇街只能有一个文件。", file=r["file"])))
        else:
            owner[r["unit"]] = r["file"]
    ok = [r for r in results if r["status"] == "ok"]
    units = [r["unit"] for r in ok]
    unit_rows = [row for r in ok for row in r["rows"]]

    total_rows, total_trend, mismatches = [], {}, []
    if ok:
        union = _union([r["frames"] for r in ok], total_unit)
        res = compute(union, cat, period)
        total_rows = [row if row.unit == total_unit else replace(row, unit=total_unit)
                      for row in res.rows if row.unit == res.unit]
        mismatches = check_rollup(total_rows, unit_rows)
        total_trend = trend_values(union, cat, period, trend_ids)

    from .scoring import rank_rows

    directions = {i.id: i.direction for i in cat.indicators}
    ranks = rank_rows(unit_rows, directions)
    scores = []
    item_scores: dict[tuple[str, str], str] = {}
    if scheme is not None and units:
        from .scoring import score_units

        scores = score_units(scheme, unit_rows, units)
        for s in scores:
            for it in s.items:
                item_scores[(s.unit, it.metric)] = it.display

    result = BatchResult(period, total_unit, [_unit_entry(r) for r in results], unit_rows + total_rows, ranks,
                         scores, mismatches)
    result.summary = summary_json(result, item_scores)

    # ---- outputs
    from .export import atomic_write_bytes, atomic_write_text

    for r in ok:
        if r["bulletin"] is None:
            continue
        folder = out / safe_dirname(r["unit"])
        if fmt == "docx":
            from .report import write_docx

            write_docx(r["bulletin"], folder / f"{BULLETIN_NAME}.docx")
        else:
            atomic_write_text(folder / f"{BULLETIN_NAME}.txt", r["bulletin"])
    from .summary_xlsx import write_summary_xlsx

    write_summary_xlsx(out / "汇总.xlsx", workbook_data(result, cat, scheme, ok, total_trend, trend_ids))
    atomic_write_bytes(out / "summary.json",
                       (json.dumps(result.summary, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    atomic_write_text(out / COUNTY_BULLETIN, county_bulletin(result, cat, workspace))
    return result


def _unit_entry(r: dict) -> dict:
    e = {"file": r["file"], "unit": r["unit"], "status": r["status"], "error": r["error"],
         "findings": r["findings"]}
    if r.get("file_findings") or r.get("unplaced"):
        e["file_findings"] = r.get("file_findings", [])
        e["unplaced"] = r.get("unplaced", {})
    return e


def summary_json(result: BatchResult, item_scores: dict) -> dict:
    rows = []
    for row in result.rows:
        d = row.to_dict()
        d["rank"] = result.ranks.get((row.unit, row.metric)) if row.unit != result.total_unit else None
        if item_scores:
            d["score"] = item_scores.get((row.unit, row.metric))
        rows.append(d)
    out = {"period": result.period.to_dict(), "total_unit": result.total_unit, "units": result.units,
           "rows": rows}
    if result.scores:
        out["scores"] = [s.to_dict() for s in result.scores]
    if result.mismatches:
        out["rollup_mismatches"] = result.mismatches
    return out


def workbook_data(result: BatchResult, cat, scheme, ok: list[dict], total_trend: dict, trend_ids) -> dict:
    """The plain dict summary_xlsx renders."""
    inds = [{"id": i.id, "name": i.name, "format": i.format, "decimals": i.decimals, "target": i.target,
             "direction": i.direction} for i in cat.indicators]
    by_id = {i["id"]: i for i in inds}
    rows = []
    for row in result.rows:
        rows.append({"unit": row.unit, "metric": row.metric, "exact": row.exact, "met": row.met,
                     "rank": result.ranks.get((row.unit, row.metric)) if row.unit != result.total_unit else None})
    findings = [f for r in ok for f in r["findings"]] + [f for r in ok for f in r.get("file_findings", [])]
    failures = [{"file": u["file"], "unit": u["unit"], "error": u["error"]} for u in result.failed]
    scores = None
    if scheme is not None:
        from .scoring import points_text

        scores = {"name": scheme.name, "decimals": scheme.decimals,
                  "items": [{"metric": i.metric, "name": i.name, "points": points_text(i.points)} for i in scheme.items],
                  "units": [s.to_dict() for s in sorted(result.scores, key=lambda s: (s.rank, s.unit))]}
    trend_values_ = {r["unit"]: r["trend"] for r in ok}
    trend_values_[result.total_unit] = total_trend
    return {
        "title": f"{result.period.label}各镇街禁毒工作指标汇总",
        "indicators": inds, "units": [r["unit"] for r in ok], "total_unit": result.total_unit,
        "rows": rows, "scores": scores, "findings": findings, "failures": failures,
        "trend": {"months": [f"{p.end.month}月" for p in _trend_periods(result.period)],
                  "metrics": [by_id[m] for m in trend_ids], "values": trend_values_},
    }


# ---------------------------------------------------------------- county bulletin


def _cn(n: int) -> str:
    import cn2an

    return cn2an.an2cn(n, "low")


def county_bulletin(result: BatchResult, cat, workspace=None, today: date | None = None) -> str:
    """全县通报: the county's figures, each township's rank per indicator, and scores when scored."""
    scope = getattr(workspace, "scope_word", None) if workspace is not None else None
    if not scope or scope == "全镇":
        scope = "全县"
    office = getattr(workspace, "office", None) or f"{result.total_unit}禁毒委员会办公室"
    p = result.period
    ok_units = sorted({u["unit"] for u in result.units if u["status"] == "ok"})
    by = {(r.unit, r.metric): r for r in result.rows}
    lines = [f"{p.label}各镇街禁毒工作情况的通报", "", "各镇街禁毒委员会办公室：", ""]
    lines.append(f"    现将{p.label}{len(ok_units)}个镇街禁毒工作主要指标、排名"
                 + ("及考评得分" if result.scores else "") + "通报如下：")
    lines.append("")
    lines.append(f"    一、{scope}总体情况")
    parts = []
    for ind in cat.indicators:
        r = by.get((result.total_unit, ind.id))
        if r is None:
            continue
        txt = f"{ind.name}{r.display}" if ind.format != "count" else f"{ind.name}{r.display}{ind.unit_label or ''}"
        if r.met is False and r.target:
            txt += f"（目标{r.target}，未达标）"
        parts.append(txt)
    lines.append("    " + "；".join(parts) + "。" if parts else "    无数据。")
    lines.append("")
    n = 2
    if result.scores:
        lines.append(f"    {_cn(n)}、综合考评得分")
        for s in sorted(result.scores, key=lambda s: (s.rank, s.unit)):
            lines.append(f"    {s.unit}得分{s.display}分，在{scope}排名第{_cn(s.rank)}。")
        lines.append("")
        n += 1
    lines.append(f"    {_cn(n)}、各项指标排名")
    for ind in cat.indicators:
        if ind.format == "count" and not ind.target:
            continue  # counts without a target are volumes, not performance: not ranked in the text
        ranked = [(result.ranks.get((u, ind.id)), u, by.get((u, ind.id))) for u in ok_units]
        ranked = [(k, u, r) for k, u, r in ranked if r is not None and r.exact is not None]
        if not ranked:
            continue
        ranked.sort(key=lambda x: (x[0], x[1]))
        body = "、".join(f"{u}{r.display}（第{_cn(k)}）" for k, u, r in ranked)
        target = f"，目标{ind.target}" if ind.target else ""
        lines.append(f"    {ind.name}{target}：{body}。")
        unmet = [u for k, u, r in ranked if r.met is False]
        if unmet:
            lines.append(f"    未达标：{'、'.join(unmet)}。")
    failed = result.failed
    if failed:
        lines.append("")
        lines.append(f"    {_cn(n + 1)}、未能处理的台帐")
        for u in failed:
            lines.append(f"    {u['file']}：{u['error']}")
    lines += ["", "", f"{office:>30}", f"{_chinese_date(today or p.end):>30}", ""]
    return "\n".join(lines)


def _chinese_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
