"""A county run's plan, made and checked before any work: the inputs, the window (computed once, by
periods.bulletin_window), the catalog, scheme and templates, and the Job each worker is given."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import JinduError, UsageError
from ..run import Formats, Setup
from .model import Job

NOT_A_LEDGER = "不是台帐文件（扩展名不是 xlsx、xls、csv 等）"


def list_inputs(paths: list[str | Path], out: str | Path | None = None) -> tuple[list[Path], list[dict]]:
    """(ledger files, skipped files): given files as is, folders non-recursively (expand_inputs), each once.

    Skipped, with the reason: files whose name is not a ledger's (说明.docx), and batch's own outputs — the
    output folder `out` and any folder holding batch's marker, given as a folder or through its files."""
    from ..errors import InputError
    from ..ledgers import expand_inputs
    from ..ledgers.sources import LEDGER_SUFFIXES
    from ..outputs import is_output_folder

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
            skipped += [{"file": f.name, "reason": NOT_A_LEDGER}
                        for f in sorted(p.iterdir()) if f.is_file() and f.suffix.lower() not in LEDGER_SUFFIXES
                        and not f.name.startswith((".", "~"))]
        elif p.is_file() and written_by_batch(p.parent):
            skipped.append({"file": p.name, "reason": "是 jindu batch 写出的文件，不作台帐读入"})
        elif p.is_file() and p.suffix.lower() not in LEDGER_SUFFIXES:
            skipped.append({"file": p.name, "reason": NOT_A_LEDGER})
        else:
            given.append(p)
    if not given:
        raise InputError("没有可读的台帐文件（" + "；".join(f"{s['file']}：{s['reason']}" for s in skipped) + "）")
    unique = [f for f, _label in expand_inputs(given)]  # each file once
    return unique, skipped


@dataclass(frozen=True)
class Plan:
    """A county run, checked: the files to read (and those skipped, with why), the Job for them, and what
    the parent needs for the county: catalog, scoring scheme, total unit, county template, output folder."""

    job: Job
    files: list[Path]
    skipped: list[dict]
    cat: object
    scheme: object
    total_unit: str
    county_template: str | Path | None
    out: Path
    jobs: int
    fmt: str

    @property
    def period(self):
        return self.job.period

    @property
    def window(self):
        return self.job.window

    @property
    def trend_ids(self) -> list[str]:
        return list(self.job.trend_metrics)

    @property
    def workspace(self):
        return self.job.workspace


def plan_batch(inputs, *, period, out, jobs=None, scoring=None, template=None, fmt="txt", catalog=None,
               workspace=None, total_unit=None, password=None, baseline=None, county_template=None) -> Plan:
    """run_batch's arguments checked before any work (each error as a Chinese UsageError or ConfigError):
    the run's setup (run.Setup: the output folder, the catalog, the inputs) and what is batch's own (the
    window once, the jobs, the scoring scheme, the templates, the total's unit, the files listed)."""
    from ..periods import bulletin_window
    from ..report.render import FORMATS
    from ..report.trend import trend_ids
    from .folder import output_folder

    # the township bulletins' formats, as render declares them (全县通报.txt always); checked first, as
    # validate and explain check theirs: it names no file
    Formats(FORMATS).check(fmt)
    period = _period(period, inputs, out, password, baseline)
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise UsageError("--jobs 应为正整数。")
    out = Path(out)
    # refused before any work: a file, a link, a folder holding others' files; then a bad catalog (ConfigError)
    setup = Setup.open(inputs, catalog, workspace, check_out=output_folder(out).check, given=True, cached=True)
    scheme = _scheme(scoring or _setting(workspace, "scoring"), setup.catalog)
    county_template = county_template or _setting(workspace, "county_template")
    for t in (template, county_template):
        _check_template(t)
    if total_unit is None:
        level_unit = getattr(workspace, "unit", None) if getattr(workspace, "level", "镇街") != "镇街" else None
        total_unit = level_unit or "全县"
    files, skipped = list_inputs(setup.paths, out)
    job = Job(period=period, window=bulletin_window(period),
              catalog=str(setup.catalog_file) if setup.catalog_file else None,
              targets=getattr(workspace, "targets", None) or {}, template=str(template) if template else None,
              workspace=workspace, trend_metrics=tuple(trend_ids(setup.catalog)), password=password,
              baseline=baseline, text_format="txt" if fmt == "txt" else "md", total_unit=total_unit)
    return Plan(job, files, skipped, setup.catalog, scheme, total_unit, county_template, out, jobs, fmt)


def _setting(workspace, name: str):
    return getattr(workspace, name, None) or None if workspace is not None else None


def _period(period, inputs, out, password, baseline):
    """--period as a Period (required; 最近整月 from every file), its base year checked."""
    from ..periods import Period, is_latest_complete, parse_period

    if period is None:
        raise UsageError("批量处理请用 --period 指定统计期，如 --period 2018-01..2018-10。")
    if isinstance(period, str) and is_latest_complete(period):
        period = _latest_complete(inputs, out, password)
    period = period if isinstance(period, Period) else parse_period(str(period))
    if baseline is not None:
        from ..metrics.engine import baseline_window

        baseline_window(period, baseline)  # a bad year → UsageError before any work
    return period


def _scheme(scoring, cat):
    if scoring is None:
        return None
    from ..metrics.scoring import load_scheme

    return load_scheme(scoring, catalog=cat)


def _check_template(template) -> None:
    if template is not None:
        from ..report.render import read_template

        read_template(Path(template))  # unreadable template → ConfigError before any work


def _latest_complete(inputs, out, password):
    """--period 最近整月 for a county: over every file that reads (each is read once more for this)."""
    from ..ledgers import load_ledgers
    from ..periods import complete_months_to, latest_data_date

    latest = None
    for f in list_inputs(inputs, Path(out))[0]:
        try:
            d = latest_data_date(load_ledgers([f], threads=False, password=password))
        except JinduError:  # an unreadable file fails in its own turn, with its reason
            continue
        latest = d if latest is None or (d is not None and d > latest) else latest
    return complete_months_to(latest)
