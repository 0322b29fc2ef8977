"""County batch (`jindu batch`): every township computed in a process pool, then the county's totals, ranks,
scores, the summary workbook, summary.json and the county bulletin.

Workers return plain picklable data (MetricRows, finding dicts, raw numerators/denominators, frames for the
county union); the parent aggregates and writes, so results do not depend on --jobs. With one county-wide
file and --jobs > 1 (Linux), the county total over its townships is one more task of their pool, and
汇总.xlsx is built in a forked child (Beside) while the parent writes the rest: the same bytes either way.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from .errors import EXIT_FINDINGS, EXIT_OK, InputError, JinduError, UsageError, shown
from .periods import window_note
from .privacy import Names, mask_text
from .report.trend import trend_ids as main_trend_ids
from .report.trend import trend_periods, trend_values

TOWN = "所属镇街"
VILLAGE = "所属村居"
ID = "公民身份号码"
# Rates whose month-by-month course the 趋势 sheet charts (those the bulletins quote), in this order.
BULLETIN_NAME = "通报"


# ---------------------------------------------------------------- inputs


def list_inputs(paths: list[str | Path], out: str | Path | None = None) -> tuple[list[Path], list[dict]]:
    """(ledger files, skipped files): given files as is, folders non-recursively (expand_inputs), each once.

    Skipped, with the reason: files whose name is not a ledger's (说明.docx), and batch's own outputs — the
    output folder `out` and any folder holding batch's marker, given as a folder or through its files."""
    from .ledgers import expand_inputs
    from .ledgers.formats import LEDGER_SUFFIXES
    from .outputs import is_output_folder

    own = {Path(out).resolve()} if out is not None else set()

    def written_by_batch(folder: Path) -> bool:
        return folder.resolve() in own or is_output_folder(folder)

    skipped = []
    given = []
    for p in map(Path, paths):
        if p.is_dir() and written_by_batch(p):
            skipped.append({"file": p.name, "reason": "是 jindu batch 写出的输出文件夹，不作台帐读入"})
        elif p.is_dir():
            given.append(p)  # expand_inputs reads its ledger files; the others are reported here
            skipped += [{"file": f.name, "reason": "不是台帐文件（扩展名不是 xlsx、xls、csv 等）"}
                        for f in sorted(p.iterdir()) if f.is_file() and f.suffix.lower() not in LEDGER_SUFFIXES
                        and not f.name.startswith((".", "~"))]
        elif p.is_file() and written_by_batch(p.parent):
            skipped.append({"file": p.name, "reason": "是 jindu batch 写出的文件，不作台帐读入"})
        elif p.is_file() and p.suffix.lower() not in LEDGER_SUFFIXES:
            skipped.append({"file": p.name, "reason": "不是台帐文件（扩展名不是 xlsx、xls、csv 等）"})
        else:
            given.append(p)
    if not given:
        from .errors import InputError

        raise InputError("没有可读的台帐文件（" + "；".join(f"{s['file']}：{s['reason']}" for s in skipped) + "）")
    unique = [f for f, _label in expand_inputs(given)]  # each file once
    return unique, skipped


def safe_dirname(unit: str, taken: set[str] | None = None) -> str:
    """A folder name for a township that cannot escape OUTDIR, is valid and bounded (outputs.safe_name)."""
    from .outputs import safe_name

    return safe_name(unit, taken)


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


# ---------------------------------------------------------------- worker


_CATALOGS: dict = {}


def _catalog(path, targets):
    key = (str(path) if path else None, json.dumps(targets or {}, sort_keys=True, ensure_ascii=False))
    if key not in _CATALOGS:
        from .metrics.catalog import load_catalog

        _CATALOGS[key] = load_catalog(path, targets=targets or None)
    return _CATALOGS[key]


@dataclass
class UnitResult:
    """One township of one input file, as a worker sends it back (picklable)."""

    file: str
    unit: str | None
    status: str  # ok / failed / skipped
    error: str | None = None
    findings: list[dict] = field(default_factory=list)
    rows: list = field(default_factory=list)  # MetricRows over the bulletin window
    trend: dict[str, list] = field(default_factory=dict)
    bulletin: str | None = None  # the township bulletin's text (txt, or md when the run writes md)
    frames: dict | None = None  # the ledgers, for the county union (None until the parent adds them)
    present: list[str] = field(default_factory=list)  # ledger kinds given
    columns: dict[str, list[str]] = field(default_factory=dict)  # kind -> columns its sheets had (LedgerSet.columns_given)
    file_findings: list[dict] = field(default_factory=list)  # findings of rows no township owns
    unplaced: dict[str, int] = field(default_factory=dict)  # ledger name -> rows no township owns
    # (townships, county_total(...) over them): the county total, when the town pool computed it beside them
    county: tuple | None = None


def _unit_result(file: str, unit: str, ledgers, findings: list[dict], job: dict) -> UnitResult:
    from .metrics.engine import compute
    from .report.render import bulletin_window

    catalog = _catalog(job["catalog"], job["targets"])
    period = job["period"]
    window = bulletin_window(period)  # the bulletin's window: every figure of the run covers it
    ledgers.unit = unit
    res = compute(ledgers, catalog, window, baseline=job.get("baseline"))
    rows = [r if r.unit == unit else replace(r, unit=unit) for r in res.rows if r.unit == res.unit]
    bulletin = None
    if job.get("bulletins", True):
        from .report.render import bulletin_results, render_report

        br = bulletin_results(ledgers, catalog, period, ytd=res, baseline=job.get("baseline"))
        bulletin = render_report(br["result_ytd"], month=br["month"], villages=br["villages"],
                                 workspace=job.get("workspace"), template=job.get("template"),
                                 fmt=job.get("text_format", "txt"), catalog=catalog)
    return UnitResult(
        file=file, unit=unit, status="ok", findings=findings, rows=rows,
        trend=trend_values(ledgers, catalog, window, list(job["trend_metrics"])), bulletin=bulletin,
        frames=ledgers.frames if job.get("keep_frames", True) else None, present=sorted(ledgers.kinds_present),
        columns=_columns_given(ledgers))


def _columns_given(ledgers) -> dict[str, list[str]]:
    return {k: sorted(v) for k, v in ledgers.columns_given.items()}


def _not_a_township(path: Path, ledgers) -> bool:
    """A file with no ledger that is no township's either: a text note, or a workbook jindu wrote (its sheets
    are those of 汇总.xlsx or of compute's xlsx). Any other workbook without a ledger is a failed unit."""
    from .outputs.county import SHEETS

    own = {*SHEETS, "指标"}
    return path.suffix.lower() == ".txt" or (bool(ledgers.sheets) and all(s.sheet in own for s in ledgers.sheets))


_SHARED: dict = {}  # what forked town workers inherit (set just before the pool forks them)


def town_results(name: str, towns: list[str], parts: dict, fdicts: dict, job: dict) -> list[UnitResult]:
    """Each township's result, in `towns` order. With job["town_jobs"] > 1 (one county file, --jobs N, Linux)
    the townships run in forked workers that inherit the split parts instead of receiving them pickled;
    they send back only their figures and texts, and the parent adds the frames it already holds. With
    job["total_unit"] set, one more worker task computes the county total over all `towns` (first, as it is
    the biggest) and the first result carries it (UnitResult.county)."""
    n = min(job.get("town_jobs", 1), len(towns))
    ctx = _pool_context() if n > 1 else None
    if ctx is None or ctx.get_start_method() != "fork":
        return [_unit_result(name, t, parts[t], fdicts[t], job) for t in towns]
    _SHARED.update(name=name, towns=towns, parts=parts, fdicts=fdicts, job={**job, "keep_frames": False})
    total = job.get("total_unit") is not None
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
    if town is None:
        return tuple(s["towns"]), county_total(_town_units(s["name"], s["towns"], s["parts"]), *_total_args(s["job"]))
    return _unit_result(s["name"], town, s["parts"][town], s["fdicts"][town], s["job"])


def _town_units(name: str, towns: list[str], parts: dict) -> list[UnitResult]:
    """The townships as county_total reads them (their frames and ledgers given), before they are computed."""
    return [UnitResult(file=name, unit=t, status="ok", frames=parts[t].frames, present=sorted(parts[t].kinds_present),
                       columns=_columns_given(parts[t])) for t in towns]


def _total_args(job: dict) -> tuple:
    """county_total's arguments after the townships: catalog, window, total unit, trend metrics."""
    from .report.render import bulletin_window

    return (_catalog(job["catalog"], job["targets"]), bulletin_window(job["period"]), job["total_unit"],
            list(job["trend_metrics"]), job.get("baseline"), _started(job))


def _started(job: dict) -> dict:
    """The workspace's [workspace.started] (from when each ledger was kept), or {}."""
    return dict(getattr(job.get("workspace"), "started", None) or {})


def process_file(job: dict) -> list[UnitResult]:
    """Worker: one input file → one result per township in it. Never raises for a bad file."""
    path = Path(job["file"])
    name = path.name
    try:
        from .ledgers import load_ledgers
        from .validate import validate

        ledgers = load_ledgers([path], threads=job.get("threads", True), password=job.get("password"))
        ledgers.started = _started(job)
        if not ledgers.kinds_present:
            if _not_a_township(path, ledgers):  # 说明.txt, last run's 汇总.xlsx
                return [replace(_failed(name, None, InputError("未识别出任何台帐工作表（不是台帐）")), status="skipped")]
            ledgers.require_any()  # a workbook with no ledger in it is a failed unit, like a broken one
        from .report.render import bulletin_window

        # person state (管控等级, 三年未复吸) is judged on the last day of the window every figure covers
        findings = validate(ledgers, as_of=bulletin_window(job["period"]).end)
    except JinduError as exc:
        return [_failed(name, None, exc)]
    except MemoryError:
        return [_failed(name, None, InputError("内存不足，文件过大。", file=name))]
    except Exception as exc:  # noqa: BLE001 - a file the reader could not cope with fails only its own unit
        return [_failed(name, None, InputError(f"文件无法处理（{type(exc).__name__}）。", file=name))]

    names = Names.of(ledgers)  # summary.json and 数据问题 carry findings: mask any name or ID in them
    name = mask_text(name, names)  # so do their file names (a file may be named after a person)
    try:
        towns = towns_of(ledgers)
        if len(towns) <= 1:
            unit = ledgers.unit or (towns[0] if towns else None) or mask_text(path.stem, names)
            fdicts = [{"unit": unit, **f.to_dict(False, names)} for f in findings]
            return [_unit_result(name, unit, ledgers, fdicts, job)]
        parts, unplaced = split_by_town(ledgers, towns)
        owners = _finding_towns(ledgers, findings)
        fdicts: dict[str | None, list[dict]] = {t: [] for t in [*towns, None]}
        for f, o in zip(findings, owners):
            if o in fdicts:  # a town that no person belongs to is not a unit of the run
                fdicts[o].append({"unit": o, **f.to_dict(False, names)})
        stray = fdicts.pop(None)
        if job.get("on_towns") is not None:  # run_batch starts 汇总.xlsx's 数据问题 sheet meanwhile
            job["on_towns"]([UnitResult(file=name, unit=t, status="ok", findings=fdicts[t],
                                        file_findings=stray if i == 0 else []) for i, t in enumerate(towns)])
        out = town_results(name, towns, parts, fdicts, job)
        if stray or unplaced:
            out[0].file_findings = stray
            out[0].unplaced = unplaced
        return out
    except JinduError as exc:
        return [_failed(name, None, exc)]
    except Exception as exc:  # noqa: BLE001 - keep the run going; the message names the file
        return [_failed(name, None, InputError(f"计算时出错（{type(exc).__name__}: {mask_text(exc, names)}）。",
                                               file=name))]


def _failed(file: str, unit: str | None, exc: JinduError) -> UnitResult:
    return UnitResult(file=mask_text(file), unit=unit, status="failed", error=mask_text(exc))


# ---------------------------------------------------------------- the run


@dataclass
class BatchResult:
    period: object  # as asked (--period)
    total_unit: str
    units: list[dict]  # per (file, unit): status, error, findings
    rows: list  # MetricRows: townships (sorted) then the total
    ranks: dict[tuple[str, str], int]
    scores: list = field(default_factory=list)  # scoring.UnitScore, when a scheme is given
    mismatches: list[str] = field(default_factory=list)  # total ≠ summed parts (a person in two townships)
    summary: dict = field(default_factory=dict)
    # metric -> townships left out of its county total because they lack a ledger it reads (missing ≠ 0)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[dict] = field(default_factory=list)  # {file, reason}: inputs that are not ledgers
    window: object = None  # the window every figure covers (report.render.bulletin_window of `period`)
    baseline: int | None = None  # --baseline: the base year every figure is also compared with

    def __post_init__(self):
        if self.window is None:
            from .report.render import bulletin_window

            self.window = bulletin_window(self.period)

    @property
    def failed(self) -> list[dict]:
        return [u for u in self.units if u["status"] == "failed"]

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.failed else EXIT_OK


def run_units(files: list[Path], job: dict, jobs: int, progress: Callable[[str], None] | None = None) -> list[UnitResult]:
    """Process every file (in a pool when jobs > 1); results sorted by (unit, file) whatever the order."""
    # one level of parallelism: files in a pool, or one file's sheets in a reader thread, not both
    # one county file: read it here with the reader's threads, then share its townships among `jobs` workers
    alone = len(files) <= 1
    jobs_list = [{**job, "file": str(f), "threads": jobs <= 1 or alone, "town_jobs": jobs if alone else 1}
                 for f in files]
    results: list[UnitResult] = []
    if jobs <= 1 or alone:
        for j in jobs_list:
            results.extend(process_file(j))
            if progress:
                progress(Path(j["file"]).name)
    else:
        broken = []
        with worker_pool(min(jobs, len(files)), _pool_context()) as pool:
            futures = {pool.submit(process_file, j): j for j in jobs_list}
            for fut in as_completed(futures):
                try:
                    results.extend(fut.result())
                except BrokenProcessPool:  # a worker died (a native reader aborted): retry each alone
                    broken.append(futures[fut])
                    continue
                if progress:
                    progress(Path(futures[fut]["file"]).name)
        for j in sorted(broken, key=lambda j: j["file"]):
            results.extend(_isolated(j))
            if progress:
                progress(Path(j["file"]).name)
    results.sort(key=lambda r: (r.unit is None, r.unit or "", r.file))
    return results


def _isolated(job: dict) -> list[UnitResult]:
    """process_file in a process of its own: a file that kills its process fails only its own unit."""
    try:
        with worker_pool(1, _pool_context()) as pool:
            return pool.submit(process_file, job).result()
    except BrokenProcessPool:
        name = Path(job["file"]).name
        return [_failed(name, None, InputError("读取此文件时程序异常终止（文件结构异常或过大），无法读取；"
                                               "请用 Excel/WPS 打开后另存为 .xlsx", file=name))]


@contextlib.contextmanager
def worker_pool(n: int, ctx):
    """A pool of `n` worker processes that never outlive this run: left by an error, Ctrl-C, SIGTERM or SIGHUP
    (cli.main turns each into an exception), the workers are killed at once rather than waited for; should
    this process die without unwinding (SIGKILL), Linux ends them too (worker_start)."""
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=worker_start, initargs=(os.getpid(),))
    try:
        yield pool
    except BaseException:
        _kill_workers(pool)
        raise
    pool.shutdown(wait=True)


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            p.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for p in procs:
        with contextlib.suppress(OSError, ValueError, AssertionError, AttributeError):
            p.join(timeout=5)


def worker_start(parent: int) -> None:
    """In each worker (and Beside's child) as it starts: the terminating signals are the parent's to handle
    (Ctrl-C reaches the whole process group; the parent ends its workers), SIGTERM/SIGHUP sent to a worker
    itself end it, and on Linux the kernel ends it when the parent dies, however it dies."""
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name) and signal.getsignal(getattr(signal, name)) is not signal.SIG_IGN:
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            pr_set_pdeathsig = 1
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


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
    import cn2an  # noqa: F401  (≈0.3 s to import; every bulletin and the county's need it)
    import jinja2.sandbox  # noqa: F401

    from .ledgers import normalize  # noqa: F401
    from .metrics import engine  # noqa: F401
    from .report import render  # noqa: F401
    from .validate import cross_checks  # noqa: F401 (`from . import validate` is the API function)

    return multiprocessing.get_context("fork")


def _union(parts: list[UnitResult], unit: str):
    """The townships' ledgers as one LedgerSet; a ledger is present when any of them gave it."""
    import pandas as pd

    from .ledgers.model import LedgerSet

    kinds = parts[0].frames.keys()
    frames = {k: pd.concat([r.frames[k] for r in parts], ignore_index=True) for k in kinds}
    # a column is given when a township that gave the ledger had it (county_total leaves out the others)
    columns: dict[str, frozenset[str]] = {}
    for k in kinds:
        having = [r for r in parts if k in r.present]
        if having and all(k in r.columns for r in having):
            columns[k] = frozenset(c for r in having for c in r.columns[k])
    return LedgerSet(frames=frames, unit=unit, present=frozenset(k for r in parts for k in r.present),
                     columns=columns)


def _given(r: UnitResult):
    """What a township's input holds (ledger kinds and their columns), for missing_ledgers/missing_columns."""
    from .ledgers.model import LedgerSet

    return LedgerSet(frames={}, present=frozenset(r.present), columns={k: frozenset(v) for k, v in r.columns.items()})


def county_total(ok: list[UnitResult], cat, period, unit: str, trend_ids, baseline: int | None = None,
                 started: dict | None = None) -> tuple[list, dict, dict[str, list[str]]]:
    """The county's rows and trend over the townships' union: (rows, trend, {metric: townships left out}).

    Missing is not zero, also when rolled up: an indicator is totalled over the townships that gave every
    ledger it reads; the others are left out of its total (and named), not added in as 0. No township
    has them: the total is missing too.
    """
    from .metrics.engine import compute, missing_columns, missing_ledgers

    union = _union(ok, unit)
    union.started = dict(started or {})
    res = compute(union, cat, period, baseline=baseline)
    rows = [row if row.unit == unit else replace(row, unit=unit) for row in res.rows if row.unit == res.unit]
    trend = trend_values(union, cat, period, trend_ids)
    partial: dict[tuple[int, ...], list[str]] = {}  # townships included -> metrics totalled over them
    given = [_given(r) for r in ok]
    for ind in cat.select(None):
        having = tuple(i for i, r in enumerate(ok)
                       if not missing_ledgers(ind, r.present) and not missing_columns(ind, given[i]))
        if having and len(having) < len(ok):
            partial.setdefault(having, []).append(ind.id)
    left_out: dict[str, list[str]] = {}
    for having, ids in partial.items():
        sub = _union([ok[i] for i in having], unit)
        sub.started = dict(started or {})
        got = {r.metric: r for r in compute(sub, cat, period, metrics=ids, baseline=baseline).rows}
        rows = [replace(got[r.metric], unit=unit) if r.metric in got else r for r in rows]
        sub_trend = trend_values(sub, cat, period, [m for m in trend_ids if m in ids])
        trend.update(sub_trend)
        names = sorted(r.unit for i, r in enumerate(ok) if i not in having)
        for mid in ids:
            left_out[mid] = names
    return rows, trend, left_out


def check_rollup(total_rows, unit_rows) -> list[str]:
    """The county total's numerators/denominators must equal the sums of the townships' (metrics.md roll-up)."""
    sums: dict[str, list] = {}
    for r in unit_rows:
        if r.absent:  # left out of the total as well (county_total)
            continue
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
            if r.denominator is None:
                out.append(f"{r.name}：全县{r.numerator}，各镇街之和{s[0]}")
            else:
                out.append(f"{r.name}：全县{r.numerator}/{r.denominator}，各镇街之和{s[0]}/{s[1]}")
    return out


def _latest_complete(inputs, out, password):
    """--period 最近整月 for a county: over every file that reads (each is read once more for this)."""
    from .ledgers import load_ledgers
    from .periods import complete_months_to, latest_data_date

    latest = None
    for f in list_inputs(inputs, Path(out))[0]:
        try:
            d = latest_data_date(load_ledgers([f], threads=False, password=password))
        except JinduError:  # an unreadable file fails in its own turn, with its reason
            continue
        latest = d if latest is None or (d is not None and d > latest) else latest
    return complete_months_to(latest)


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
    from .periods import Period, is_latest_complete, parse_period

    if fmt not in ("txt", "md", "docx"):
        raise UsageError(f"不支持的通报格式「{fmt}」，可选：txt、md、docx。")
    if period is None:
        raise UsageError("批量处理请用 --period 指定统计期，如 --period 2018-01..2018-10。")
    if isinstance(period, str) and is_latest_complete(period):
        period = _latest_complete(inputs, out, password)
    period = period if isinstance(period, Period) else parse_period(str(period))
    if baseline is not None:
        from .metrics.engine import baseline_window

        baseline_window(period, baseline)  # a bad year → UsageError before any work
    out = Path(out)
    _output_folder(out).check()  # refused before any work: a file, a link, a folder holding others' files
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise UsageError("--jobs 应为正整数。")
    targets = getattr(workspace, "targets", None) or {}  # workspace.Targets keeps the jindu.toml lines
    if catalog is None and workspace is not None and getattr(workspace, "catalog", None):
        catalog = workspace.catalog
    if scoring is None and workspace is not None and getattr(workspace, "scoring", None):
        scoring = workspace.scoring
    cat = _catalog(catalog, targets)  # bad catalog → ConfigError before any work
    scheme = None
    if scoring is not None:
        from .metrics.scoring import load_scheme

        scheme = load_scheme(scoring, catalog=cat)
    if template is not None:
        from .report.render import read_template

        read_template(Path(template))  # unreadable template → ConfigError before any work
    if county_template is None and getattr(workspace, "county_template", None):
        county_template = workspace.county_template
    if county_template is not None:
        from .report.render import read_template

        read_template(Path(county_template))
    if total_unit is None:
        level_unit = getattr(workspace, "unit", None) if getattr(workspace, "level", "镇街") != "镇街" else None
        total_unit = level_unit or "全县"
    trend_ids = main_trend_ids(cat)

    files, skipped = list_inputs(inputs, out)
    if on_start:
        on_start(len(files))
    job = {"period": period, "catalog": str(catalog) if catalog else None, "targets": targets,
           "template": str(template) if template else None, "workspace": workspace,
           "trend_metrics": trend_ids, "bulletins": True, "password": password, "baseline": baseline,
           "text_format": "txt" if fmt == "txt" else "md", "total_unit": total_unit}
    from .outputs.county import build_workbook
    from .report.render import bulletin_window

    window = bulletin_window(period)
    early: dict = {}  # one county file: 汇总.xlsx begun on its townships' findings, before they are computed
    if jobs > 1 and len(files) == 1:
        def on_towns(towns: list[UnitResult]) -> None:
            early["head"] = workbook_head(window, cat, towns, [], total_unit)
            early["book"] = Beside(build_workbook, early["head"])

        job["on_towns"] = on_towns
    try:
        results = run_units(files, job, jobs, progress)
    except BaseException:
        if early:
            early["book"].discard()
        raise
    skipped += [{"file": r.file, "reason": r.error} for r in results if r.status == "skipped"]
    results = [r for r in results if r.status != "skipped"]

    # A township may come from one file only; later files claiming the same one fail with a clear reason.
    owner: dict[str, str] = {}
    for i, r in sorted(enumerate(results), key=lambda ir: ir[1].file):
        if r.status != "ok":
            continue
        if r.unit in owner:
            results[i] = _failed(r.file, r.unit, InputError(
                f"镇街「{shown(r.unit)}」已由文件「{shown(owner[r.unit])}」提供，同一镇街只能有一个文件。", file=r.file))
        else:
            owner[r.unit] = r.file
    ok = [r for r in results if r.status == "ok"]
    units = [r.unit for r in ok]
    unit_rows = [row for r in ok for row in r.rows]
    entries = [_unit_entry(r) for r in results]

    head = workbook_head(window, cat, ok, [u for u in entries if u["status"] == "failed"], total_unit)
    # 汇总.xlsx's 数据问题 sheet (10⁴ findings, the slowest part of the outputs) is written beside the
    # townships and the county total (begun on what was known before them: kept when it is what they gave);
    # the workbook's other sheets follow when the figures are in
    book = early.get("book")
    if book is not None and early["head"] != head:  # a township failed, say: begun on the wrong findings
        book.discard()
        book = None
    with book or Beside(build_workbook, head, enabled=jobs > 1) as book:
        total_rows, total_trend, mismatches, left_out = [], {}, [], {}
        if ok:
            # one county file with --jobs > 1: its town pool computed the total over its townships
            pre = ok[0].county
            total_rows, total_trend, left_out = (pre[1] if pre is not None and pre[0] == tuple(units) else
                                                 county_total(ok, cat, window, total_unit, trend_ids,
                                                              baseline, _started(job)))
            mismatches = check_rollup(total_rows, unit_rows)

        from .metrics.scoring import rank_rows

        directions = {i.id: i.direction for i in cat.indicators}
        ranks = rank_rows(unit_rows, directions)
        scores = []
        item_scores: dict[tuple[str, str], str] = {}
        if scheme is not None and units:
            from .metrics.scoring import score_units

            scores = score_units(scheme, unit_rows, units)
            for s in scores:
                for it in s.items:
                    item_scores[(s.unit, it.metric)] = it.display

        result = BatchResult(period, total_unit, entries, unit_rows + total_rows, ranks, scores, mismatches,
                             left_out=left_out, skipped=skipped, window=window, baseline=baseline)
        rest = workbook_rest(result, cat, scheme, ok, total_trend, trend_ids)
        book.send(rest)
        result.summary = summary_json(result, item_scores)
        from .report.render import render_county

        # the txt for 全县通报.txt (plain-text tables); the md (its tables as tables) for 汇总.html and the docx
        county = {f: render_county(result, cat, workspace=workspace, template=county_template, fmt=f)
                  for f in ("txt", "md")}
        write_outputs(out, result, ok, fmt, {**head, **rest}, county, book.result)
    return result


class Beside:
    """`build(first, rest)` run in a forked process while this one goes on (Linux, when enabled): the child
    starts on `first` at once; `rest` (small, pickled) follows through a pipe with send(), and result()
    returns what the child built. `build` calls its second argument once, to get `rest`.

    Without fork, or when the child fails in any way, result() builds here instead, so that an error is
    raised and reported as it would be without this. Leaving the `with` block ends the child."""

    def __init__(self, build: Callable, first, enabled: bool = True):
        self.build, self.first, self.rest, self.proc = build, first, None, None
        ctx = _pool_context() if enabled else None
        if ctx is not None and ctx.get_start_method() == "fork":
            self.conn, child = ctx.Pipe()
            self.proc = ctx.Process(target=_beside, args=(build, first, child, os.getpid()), daemon=True)
            self.proc.start()
            child.close()

    def send(self, rest) -> None:
        self.rest = rest
        if self.proc is not None:
            try:
                self.conn.send(rest)
            except OSError:  # the child is gone: result() builds here
                self.close()

    def result(self):
        if self.proc is not None:
            try:
                done, value = self.conn.recv()
            except (EOFError, OSError):
                done, value = False, None
            self.close()
            if done:
                return value
        return self.build(self.first, lambda: self.rest)

    def discard(self) -> None:
        """End the child, its work unwanted."""
        if self.proc is not None:
            self.proc.kill()
        self.close()

    def close(self) -> None:
        if self.proc is None:
            return
        self.conn.close()  # a child still waiting for `rest` ends on EOF
        self.proc.join(timeout=5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            self.discard()  # unwinding (an error, Ctrl-C): its work is not wanted
        self.close()


def _beside(build: Callable, first, conn, parent: int) -> None:
    """Beside's child: build, send (ok, value) back; quietly, whatever happens (the parent reports errors)."""
    worker_start(parent)  # Ctrl-C is the parent's to handle; it ends this process
    try:
        out = (True, build(first, conn.recv))
    except BaseException:  # noqa: BLE001 - the parent builds again and reports the error itself
        out = (False, None)
    with contextlib.suppress(OSError):  # the parent has gone on without it
        conn.send(out)


# ---------------------------------------------------------------- the output folder

COUNTY_NAME = "全县通报"
COUNTY_BULLETIN = f"{COUNTY_NAME}.txt"
SUMMARY_XLSX = "汇总.xlsx"
SUMMARY_HTML = "汇总.html"
OUTPUT_FILES = (SUMMARY_XLSX, "summary.json", COUNTY_BULLETIN, f"{COUNTY_NAME}.md", f"{COUNTY_NAME}.docx",
                SUMMARY_HTML)
BULLETIN_FILES = (f"{BULLETIN_NAME}.txt", f"{BULLETIN_NAME}.md", f"{BULLETIN_NAME}.docx")


def _own_entry(entry: Path) -> bool:
    """An entry of a folder batch wrote (or an earlier version did): replacing the folder loses nothing else."""
    from .outputs import MARKER

    def temporary(e: Path) -> bool:  # left by a killed run
        return e.name.startswith(".") and e.name.endswith(".tmp")

    if entry.is_symlink():
        return False
    if entry.is_dir():
        return temporary(entry) or all(temporary(e) or (e.name in BULLETIN_FILES and e.is_file())
                                       for e in entry.iterdir())
    return entry.name in OUTPUT_FILES or entry.name == MARKER or temporary(entry)


def _output_folder(out: Path):
    from .outputs import FreshFolder

    return FreshFolder(out, _own_entry)


def write_outputs(out: Path, result: BatchResult, ok: list[UnitResult], fmt: str, workbook: dict,
                  county: dict[str, str], summary_xlsx: Callable[[], bytes]) -> None:
    """OUTDIR/<镇街>/通报.*, 汇总.xlsx, summary.json, 全县通报.txt (+ .md/.docx; `county`: {"txt": text, "md": text}), built
    in a fresh folder beside OUTDIR and put in its place at once: an interrupted run leaves the previous output
    whole, never a mix of two runs. `workbook`: 汇总.html's data; `summary_xlsx()`: 汇总.xlsx's bytes (built
    beside the rest, Beside), asked for last."""
    from .outputs import atomic_write_bytes, atomic_write_text, json_text

    with _output_folder(out) as stage:
        taken: set[str] = set()
        for r in ok:
            if r.bulletin is None:
                continue
            folder = stage / safe_dirname(r.unit, taken)
            if fmt == "docx":
                from .report import write_docx

                write_docx(r.bulletin, folder / f"{BULLETIN_NAME}.docx")
            else:
                atomic_write_text(folder / f"{BULLETIN_NAME}.{fmt}", r.bulletin)
        from .report.html import write_county_html

        write_county_html(stage / SUMMARY_HTML, workbook, county["md"])
        atomic_write_bytes(stage / "summary.json",
                           json_text(result.summary).encode("utf-8"))
        atomic_write_text(stage / COUNTY_BULLETIN, county["txt"])
        if fmt == "md":
            atomic_write_text(stage / f"{COUNTY_NAME}.md", county["md"])
        elif fmt == "docx":
            from .report import write_docx

            write_docx(county["md"], stage / f"{COUNTY_NAME}.docx")
        atomic_write_bytes(stage / SUMMARY_XLSX, summary_xlsx())


def _unit_entry(r: UnitResult) -> dict:
    e = {"file": r.file, "unit": r.unit, "status": r.status, "error": r.error, "findings": r.findings}
    if r.file_findings or r.unplaced:
        e["file_findings"] = r.file_findings
        e["unplaced"] = r.unplaced
    return e


def window_dict(window, period) -> dict:
    """{start, end, label, note}: the window every figure of the run covers, said as the bulletins say it."""
    return {**window.to_dict(), "note": window_note(window),
            "requested": period.to_dict() if period != window else None}


def summary_json(result: BatchResult, item_scores: dict) -> dict:
    rows = []
    with_base = result.baseline is not None
    for row in result.rows:
        d = row.to_dict(baseline=with_base)  # the base year's figure and why it is absent (--baseline)
        d["rank"] = result.ranks.get((row.unit, row.metric)) if row.unit != result.total_unit else None
        if row.unit == result.total_unit and row.metric in result.left_out:
            d["excluded_units"] = result.left_out[row.metric]  # not in this total: their ledger is missing
        if item_scores:
            d["score"] = item_scores.get((row.unit, row.metric))
        d["window"] = result.window.label
        rows.append(d)
    out = {"period": result.period.to_dict(), "window": window_dict(result.window, result.period),
           "total_unit": result.total_unit, "units": result.units, "rows": rows}
    if with_base:
        from .metrics.engine import BASELINE_ABSENT, baseline_window

        w = baseline_window(result.window, result.baseline)
        out["baseline"] = {**w.to_dict(), "year": result.baseline, "absent": BASELINE_ABSENT}
    if result.scores:
        from .metrics.scoring import rank_rule

        out["scores"] = [s.to_dict() for s in result.scores]
        out["score_rule"] = rank_rule(result.scores[0].full_points)
    if result.mismatches:
        out["rollup_mismatches"] = result.mismatches
    if result.skipped:
        out["skipped"] = result.skipped
    return out


def workbook_head(window, cat, ok: list[UnitResult], failed: list[dict], total_unit: str) -> dict:
    """The plain data of 汇总.xlsx (outputs.county.build_workbook) and 汇总.html known before the county
    total: titles, indicators, units, and the 数据问题 sheet's findings and failures."""
    inds = [_indicator(i) for i in cat.indicators]
    findings = [f for r in ok for f in r.findings] + [f for r in ok for f in r.file_findings]
    failures = [{"file": u["file"], "unit": u["unit"], "error": u["error"]} for u in failed]
    return {"title": f"{window.label}各镇街禁毒工作指标汇总", "window": window_note(window),
            "indicators": inds, "units": [r.unit for r in ok], "total_unit": total_unit,
            "findings": findings, "failures": failures}


def workbook_rest(result: BatchResult, cat, scheme, ok: list[UnitResult], total_trend: dict, trend_ids) -> dict:
    """The rest of the workbook's data (workbook_head): every row's figure and rank, the scores, the 趋势
    sheet's values."""
    rows = []
    for row in result.rows:
        rows.append({"unit": row.unit, "metric": row.metric, "exact": row.exact, "met": row.met,
                     "rank": result.ranks.get((row.unit, row.metric)) if row.unit != result.total_unit else None,
                     "missing": row.reason if row.absent else None,
                     "missing_display": row.display if row.absent else None,
                     # --baseline: the base year's figure (exact), or why there is none
                     "baseline": row.baseline.value if row.baseline is not None else None,
                     "baseline_reason": row.comparison_notes.get("baseline"),
                     "excluded_units": result.left_out.get(row.metric) if row.unit == result.total_unit else None})
    scores = None
    if scheme is not None:
        from .metrics.scoring import points_text, rank_rule

        scores = {"name": scheme.name, "decimals": scheme.decimals, "rule": rank_rule(scheme.total_points),
                  "items": [{"metric": i.metric, "name": i.name, "points": points_text(i.points)} for i in scheme.items],
                  "units": [s.to_dict() for s in sorted(result.scores, key=lambda s: (s.rank, s.unit))]}
    trend_values_ = {r.unit: r.trend for r in ok}
    trend_values_[result.total_unit] = total_trend
    by_id = {i.id: i for i in cat.indicators}
    metrics = [_indicator(by_id[m]) for m in trend_ids]
    return {"rows": rows, "scores": scores, "baseline_year": result.baseline,
            "trend": {"months": [f"{p.end.month}月" for p in trend_periods(result.period)],
                      "metrics": metrics, "values": trend_values_}}


def _indicator(ind) -> dict:
    return {"id": ind.id, "name": ind.name, "format": ind.format, "decimals": ind.decimals, "target": ind.target,
            "direction": ind.direction}
