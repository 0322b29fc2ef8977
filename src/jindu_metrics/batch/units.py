"""Per-township work of a batch: one input file read, checked and split by 所属镇街, each township computed
(its figures over the window, trend, bulletin), in this process or in the workers of a pool.

Workers return plain picklable data (MetricRows, finding dicts, frames for the county union); the parent
aggregates and writes, so results do not depend on --jobs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..errors import InputError, JinduError
from ..privacy import Names, mask_text
from ..report.trend import trend_values
from .county import county_total
from .model import Job, UnitResult
from .parallel import forks, pool_context, worker_pool

TOWN = "所属镇街"
VILLAGE = "所属村居"
ID = "公民身份号码"


# ---------------------------------------------------------------- splitting a county-wide file


def towns_of(ledgers) -> list[str]:
    """Distinct 所属镇街 values of the persons ledger, sorted."""
    s = ledgers["persons"][TOWN]
    return sorted({str(v) for v in s[s.notna()].unique()})


def _lookups(ledgers) -> tuple[dict, dict]:
    """({公民身份号码: township} of the persons, {村居: township} of the units and persons)."""
    persons = ledgers["persons"]
    known = persons[persons[TOWN].notna() & persons[ID].notna()]
    id_town = dict(zip(known[ID], known[TOWN].astype(str)))
    village_town: dict[str, str] = {}
    for kind in ("units", "persons"):
        df = ledgers[kind]
        pairs = df[df[TOWN].notna() & df[VILLAGE].notna()][[VILLAGE, TOWN]].drop_duplicates()
        for v, t in sorted(zip(pairs[VILLAGE].astype(str), pairs[TOWN].astype(str)), reverse=True):
            village_town[v] = t  # sorted reverse so the alphabetically first town wins when ambiguous
    return id_town, village_town


def split_by_town(ledgers, towns: list[str]) -> tuple[dict, dict[str, int]]:
    """Split a county-wide LedgerSet into one LedgerSet per 所属镇街 (vectorised).

    Rows without a 所属镇街 of their own follow the person (公民身份号码) or, for publicity and units, their
    village or 单位. Returns ({town: LedgerSet}, {ledger name: rows that could not be placed}).
    """
    import pandas as pd

    from .. import schema
    from ..ledgers.model import LedgerSet

    id_town, village_town = _lookups(ledgers)
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

    # each row's township as a position in `towns` (−1: unplaced), found once, not compared once per town
    codes = {k: pd.Index(towns, dtype=object).get_indexer(assigned[k].to_numpy()) for k in ledgers.frames}
    parts = {}
    for i, t in enumerate(towns):
        frames = {k: df[codes[k] == i].reset_index(drop=True) for k, df in ledgers.frames.items()}
        parts[t] = LedgerSet(frames=frames, findings=[], sheets=list(ledgers.sheets), unit=t,
                             started=dict(ledgers.started))
    return parts, unplaced


def _finding_towns(ledgers, findings) -> list[str | None]:
    """The township each finding's row belongs to (by its sheet and row), or None."""
    where: dict[tuple, str] = {}
    for df in ledgers.frames.values():
        if TOWN in df.columns and len(df):
            sub = df[df[TOWN].notna()]
            where.update(zip(zip(sub["_file"], sub["_sheet"], sub["_row"]), sub[TOWN].astype(str)))
    return [where.get((f.file, f.sheet, f.row)) for f in findings]


# ---------------------------------------------------------------- one township


def unit_result(file: str, unit: str, ledgers, findings: list[dict], job: Job) -> UnitResult:
    """A township's figures over the job's window, its trend and (job.bulletins) its bulletin."""
    from ..metrics.engine import compute

    catalog = job.cat
    ledgers.unit = unit
    res = compute(ledgers, catalog, job.window, baseline=job.baseline)
    rows = [r if r.unit == unit else replace(r, unit=unit) for r in res.rows if r.unit == res.unit]
    bulletin = None
    if job.bulletins:
        from ..report.render import bulletin_results, render_report

        br = bulletin_results(ledgers, catalog, job.period, ytd=res, baseline=job.baseline)
        bulletin = render_report(br["result_ytd"], month=br["month"], villages=br["villages"],
                                 workspace=job.workspace, template=job.template, fmt=job.text_format,
                                 catalog=catalog)
    return UnitResult(
        file=file, unit=unit, status="ok", findings=findings, rows=rows,
        trend=trend_values(ledgers, catalog, job.window, list(job.trend_metrics)), bulletin=bulletin,
        frames=ledgers.frames if job.keep_frames else None, present=sorted(ledgers.kinds_present),
        columns=_columns_given(ledgers))


def _columns_given(ledgers) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in ledgers.columns_given.items()}


def failed_unit(file: str, unit: str | None, exc: JinduError) -> UnitResult:
    return UnitResult(file=mask_text(file), unit=unit, status="failed", error=mask_text(exc))


# ---------------------------------------------------------------- a county file's townships


_SHARED: dict = {}  # what forked town workers inherit (set just before the pool forks them)


def town_results(name: str, towns: list[str], parts: dict, fdicts: dict, job: Job) -> list[UnitResult]:
    """Each township's result, in `towns` order. With job.town_jobs > 1 (one county file, --jobs N, Linux)
    the townships run in forked workers that inherit the split parts instead of receiving them pickled;
    they send back only their figures and texts, and the parent adds the frames it already holds. With
    job.total_unit set, one more worker task computes the county total over all `towns` (first, as it is
    the biggest) and the first result carries it (UnitResult.county)."""
    n = min(job.town_jobs, len(towns))
    ctx = pool_context() if n > 1 else None
    if not forks(ctx):
        return [unit_result(name, t, parts[t], fdicts[t], job) for t in towns]
    _SHARED.update(name=name, towns=towns, parts=parts, fdicts=fdicts, job=replace(job, keep_frames=False))
    total = job.total_unit is not None
    try:
        with worker_pool(n, ctx) as pool:
            out = list(pool.map(_shared_town, [*([None] if total else []), *towns]))
    finally:
        _SHARED.clear()
    county = out.pop(0) if total else None
    for r, t in zip(out, towns):
        r.frames = parts[t].frames
    out[0].county = county
    return out


def _shared_town(town: str | None):
    s = _SHARED
    job = s["job"]
    if town is None:
        return tuple(s["towns"]), county_total(_town_units(s["name"], s["towns"], s["parts"]), job.cat, job.window,
                                               job.total_unit, list(job.trend_metrics), job.baseline, job.started)
    return unit_result(s["name"], town, s["parts"][town], s["fdicts"][town], job)


def _town_units(name: str, towns: list[str], parts: dict) -> list[UnitResult]:
    """The townships as county_total reads them (their frames and ledgers given), before they are computed."""
    return [UnitResult(file=name, unit=t, status="ok", frames=parts[t].frames, present=sorted(parts[t].kinds_present),
                       columns=_columns_given(parts[t])) for t in towns]


# ---------------------------------------------------------------- one input file


def _not_a_township(path: Path, ledgers) -> bool:
    """A file with no ledger that is no township's either: a text note, or a workbook jindu wrote (its sheets
    are those of 汇总.xlsx or of compute's xlsx). Any other workbook without a ledger is a failed unit."""
    from ..outputs.county import SHEETS

    own = {*SHEETS, "指标"}
    return path.suffix.lower() == ".txt" or (bool(ledgers.sheets) and all(s.sheet in own for s in ledgers.sheets))


def _open(path: Path, job: Job):
    """The file's Run (ledgers and findings, person state judged on the window's last day), or the unit
    result that ends it: skipped (no ledger, no township's) or failed. Never raises for a bad file."""
    from ..run import Check, Run

    name = path.name
    try:
        run = Run.open([path], password=job.password, period=job.window, workspace=job.workspace, unit=None,
                       check=Check.JUDGE, require=False, with_catalog=False, threads=job.threads)
        if not run.ledgers.kinds_present:
            if _not_a_township(path, run.ledgers):  # 说明.txt, last run's 汇总.xlsx
                return replace(failed_unit(name, None, InputError("未识别出任何台帐工作表（不是台帐）")),
                               status="skipped")
            run.ledgers.require_any()  # a workbook with no ledger in it is a failed unit, like a broken one
        return run
    except JinduError as exc:
        return failed_unit(name, None, exc)
    except MemoryError:
        return failed_unit(name, None, InputError("内存不足，文件过大。", file=name))
    except Exception as exc:  # noqa: BLE001 - a file the reader could not cope with fails only its own unit
        return failed_unit(name, None, InputError(f"文件无法处理（{type(exc).__name__}）。", file=name))


def process_file(job: Job, on_towns: Callable[[list[UnitResult]], None] | None = None) -> list[UnitResult]:
    """Worker: one input file → one result per township in it. Never raises for a bad file. `on_towns`
    (in this process only): called with a county file's townships and their findings before they are computed."""
    path = Path(job.file)
    run = _open(path, job)
    if isinstance(run, UnitResult):
        return [run]
    ledgers, findings = run.ledgers, run.findings
    names = Names.of(ledgers)  # summary.json and 数据问题 carry findings: mask any name or ID in them
    name = mask_text(path.name, names)  # so do their file names (a file may be named after a person)
    try:
        towns = towns_of(ledgers)
        if len(towns) <= 1:
            unit = ledgers.unit or (towns[0] if towns else None) or mask_text(path.stem, names)
            fdicts = [{"unit": unit, **f.to_dict(False, names)} for f in findings]
            return [unit_result(name, unit, ledgers, fdicts, job)]
        return _county_file(name, ledgers, findings, towns, names, job, on_towns)
    except JinduError as exc:
        return [failed_unit(name, None, exc)]
    except Exception as exc:  # noqa: BLE001 - keep the run going; the message names the file
        return [failed_unit(name, None, InputError(f"计算时出错（{type(exc).__name__}: {mask_text(exc, names)}）。",
                                                   file=name))]


def _county_file(name: str, ledgers, findings, towns: list[str], names, job: Job, on_towns) -> list[UnitResult]:
    """A file holding several townships: split, each finding given to its township's unit (the first one
    carries those no township owns), each township computed."""
    parts, unplaced = split_by_town(ledgers, towns)
    owners = _finding_towns(ledgers, findings)
    fdicts: dict[str | None, list[dict]] = {t: [] for t in [*towns, None]}
    for f, o in zip(findings, owners):
        if o in fdicts:  # a town that no person belongs to is not a unit of the run
            fdicts[o].append({"unit": o, **f.to_dict(False, names)})
    stray = fdicts.pop(None)
    if on_towns is not None:  # run_batch starts 汇总.xlsx's 数据问题 sheet meanwhile
        on_towns([UnitResult(file=name, unit=t, status="ok", findings=fdicts[t],
                             file_findings=stray if i == 0 else []) for i, t in enumerate(towns)])
    out = town_results(name, towns, parts, fdicts, job)
    if stray or unplaced:
        out[0].file_findings = stray
        out[0].unplaced = unplaced
    return out


# ---------------------------------------------------------------- every file


def run_units(files: list[Path], job: Job, jobs: int, progress: Callable[[str], None] | None = None,
              on_towns: Callable | None = None) -> list[UnitResult]:
    """Process every file (in a pool when jobs > 1); results sorted by (unit, file) whatever the order.
    One level of parallelism: files in a pool, or one file's sheets in a reader thread, not both; one
    county file is read here with the reader's threads, its townships then shared among `jobs` workers."""
    alone = len(files) <= 1
    file_jobs = [replace(job, file=str(f), threads=jobs <= 1 or alone, town_jobs=jobs if alone else 1)
                 for f in files]
    results: list[UnitResult] = []
    if jobs <= 1 or alone:
        for j in file_jobs:
            results.extend(process_file(j, on_towns))
            if progress:
                progress(Path(j.file).name)
    else:
        results = _in_pool(file_jobs, jobs, progress)
    results.sort(key=lambda r: (r.unit is None, r.unit or "", r.file))
    return results


def _in_pool(file_jobs: list[Job], jobs: int, progress) -> list[UnitResult]:
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    results: list[UnitResult] = []
    broken = []
    with worker_pool(min(jobs, len(file_jobs)), pool_context()) as pool:
        futures = {pool.submit(process_file, j): j for j in file_jobs}
        for fut in as_completed(futures):
            try:
                results.extend(fut.result())
            except BrokenProcessPool:  # a worker died (a native reader aborted): retry each alone
                broken.append(futures[fut])
                continue
            if progress:
                progress(Path(futures[fut].file).name)
    for j in sorted(broken, key=lambda j: j.file):
        results.extend(_isolated(j))
        if progress:
            progress(Path(j.file).name)
    return results


def _isolated(job: Job) -> list[UnitResult]:
    """process_file in a process of its own: a file that kills its process fails only its own unit."""
    from concurrent.futures.process import BrokenProcessPool

    try:
        with worker_pool(1, pool_context()) as pool:
            return pool.submit(process_file, job).result()
    except BrokenProcessPool:
        name = Path(job.file).name
        return [failed_unit(name, None, InputError("读取此文件时程序异常终止（文件结构异常或过大），无法读取；"
                                                   "请用 Excel/WPS 打开后另存为 .xlsx", file=name))]
