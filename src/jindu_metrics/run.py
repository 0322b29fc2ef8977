"""One run's setup, shared by every command, each batch worker and batch's parent: workspace → output
checked → format → catalog → inputs (`Setup`, before any reading), then ledgers → window → findings (`Run`);
and the output formats a command offers (`Formats`).

Pure stdlib at import: `jindu --help` must not import pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import UsageError, shown

if TYPE_CHECKING:
    from .findings import Finding
    from .ledgers.model import LedgerSet
    from .metrics.catalog import Catalog
    from .periods import Period
    from .workspace import Workspace


# The format an output file's suffix names. A .txt file suits every text format, so it names none.
SUFFIX_FORMATS = {".xlsx": "xlsx", ".json": "json", ".csv": "csv", ".docx": "docx", ".md": "md", ".html": "html",
                  ".htm": "html"}


@dataclass(frozen=True)
class Formats:
    """The output formats a command offers, declared once beside it (the first is the default); `check`
    refuses any other, `resolve` also reads the --output file's suffix."""

    choices: tuple[str, ...]
    needs_output: tuple[tuple[str, str], ...] = ()  # (format, the message when it has no --output)

    def check(self, fmt: str) -> str:
        if fmt not in self.choices:
            listed = " 或 ".join(self.choices) if len(self.choices) == 2 else "、".join(self.choices)
            raise UsageError(f"--format 只能是 {listed}（收到「{fmt}」）。")
        return fmt

    def resolve(self, fmt: str | None, output: Path | None) -> str:
        """The format to write: --format when given, else the one --output's suffix names, else the default.
        A suffix naming another format is refused: `--output 通报.docx` must not get plain text."""
        named = SUFFIX_FORMATS.get(output.suffix.lower()) if output is not None else None
        if fmt is None and named is not None and named not in self.choices:
            raise UsageError(f"输出文件「{shown(output.name)}」的扩展名 {output.suffix} 对应 {named} 格式，本命令不能写出；"
                             f"可选格式：{'、'.join(self.choices)}。")
        chosen = self.check(fmt.lower()) if fmt is not None else named or self.choices[0]
        if named is not None and named != chosen:
            raise UsageError(f"--format {chosen} 与输出文件「{shown(output.name)}」的扩展名 {output.suffix} 不符："
                             f"请把文件名改为 .{chosen if chosen in SUFFIX_FORMATS.values() else 'txt'}，"
                             f"或去掉 --format 按扩展名写出。")
        message = dict(self.needs_output).get(chosen) if output is None else None
        if message:
            raise UsageError(message)
        return chosen


class Check(Enum):
    """What is checked once the ledgers are read."""

    COUNT = "count"  # validate(state=False): the commands count findings, person state judged on the window's end
    JUDGE = "judge"  # validate(as_of=the window's end, or the latest date): every finding built (validate, batch)
    NONE = "none"  # not checked (report)


class _Find:
    """The default of Run.open's `workspace` and `unit`: the current folder's workspace, its unit."""


FIND = _Find()


@dataclass(frozen=True)
class Setup:
    """A run set up before any reading, in this order: the workspace, the output checked (it may replace no
    input), the format, the catalog, the inputs. Run.open reads what it names; `jindu batch`'s parent hands
    its files to the workers. `catalog_file`: the catalog's file as given (None: the default catalog)."""

    workspace: Workspace | None
    catalog: Catalog | None
    catalog_file: str | Path | None
    paths: list[Path]
    fmt: str | None = None

    @classmethod
    def open(cls, inputs, catalog=None, workspace=FIND, *, output: Path | None = None, guarded=(),
             formats: Formats | None = None, fmt: str | None = None, with_catalog: bool = True,
             given: bool = False, cached: bool = False, check_out=None) -> Setup:
        """`inputs`, `catalog`, `workspace`, `output`, `guarded`, `formats`, `fmt`, `with_catalog`: as
        Run.open takes them. `given`: the inputs as given (batch lists them itself), not the workspace's
        ledger folder when there are none; `cached`: the catalog loaded once per process (batch: its forked
        workers inherit it); `check_out`: the check of an output of the caller's own kind (batch's folder),
        made where `output` is checked."""
        from .workspace import find_workspace, resolve_inputs

        ws = find_workspace() if workspace is FIND else workspace

        def paths_of() -> list[Path]:
            return list(inputs or ()) if given else resolve_inputs(inputs, ws)

        # with an output, the inputs are resolved first (no inputs: that error before any other) to be
        # compared with it: refused before any reading, an output that is an input, a folder, a link...
        paths = paths_of() if output is not None else None
        if output is not None:
            from .outputs import check_output

            check_output(output, [*paths, *guarded])
        if check_out is not None:
            check_out()
        chosen = formats.resolve(fmt, output) if formats is not None else None
        file = catalog or (ws.catalog if ws else None)
        cat = None
        if with_catalog:
            targets = ws.targets if ws else None
            cat = cached_catalog(file, targets) if cached else _load_catalog(file, targets)
        return cls(ws, cat, file or None, paths_of() if paths is None else paths, chosen)


@dataclass(frozen=True)
class Run:
    """What a command works on: the workspace (or None), the catalog (None when not asked for), the inputs
    as resolved, the ledgers read, their findings and the window (None when none was asked for and none is
    defaulted). `default_window`: the window is the default one (no --period); `after_data`: the warning
    when the window lies after the ledgers' latest date."""

    workspace: Workspace | None
    catalog: Catalog | None
    paths: list[Path]
    ledgers: LedgerSet
    findings: list[Finding] = field(default_factory=list)
    window: Period | None = None
    default_window: bool = False
    after_data: str | None = None
    fmt: str | None = None  # the output format (Formats.resolve), when the command has formats

    @classmethod
    def open(cls, inputs, catalog=None, password=None, period=None, workspace=FIND, *, unit=FIND,
             output: Path | None = None, guarded=(), check: Check = Check.COUNT, default: bool = True,
             require: bool = True, with_catalog: bool = True, threads: bool = True,
             formats: Formats | None = None, fmt: str | None = None) -> Run:
        """Set a run up (Setup.open) and read it. `inputs`: files and folders (None: the workspace's ledger
        folder); `catalog`: a catalog file (else the workspace's); `password`: what the reader opens encrypted
        workbooks with; `period`: text (最近整月 too) or a Period; `workspace`: FIND (the current folder's), or
        given (None: none); `unit`: the ledgers' default 所属镇街 (FIND: the workspace's). `output` (with
        `guarded`, more files it may not replace) is checked before any reading. `check`: what the findings
        are (Check); `default`: no period → the default window (January to the latest month with data; never
        with Check.JUDGE, which judges on the ledgers' latest date); `require`: no ledger at all is an error;
        `with_catalog`: load the catalog; `threads`: the reader's threads (off in a pool's workers);
        `formats`, `fmt`: the command's formats and --format, resolved (Run.fmt) once `output` is known not to
        replace an input (that refusal says more) and before any reading."""
        from .periods import Period, is_latest_complete, parse_period

        # a judged window is known before reading, but for 最近整月 (from the data)
        early = period if isinstance(period, Period) else (
            parse_period(period) if check is Check.JUDGE and period and not is_latest_complete(period) else None)
        setup = Setup.open(inputs, catalog, workspace, output=output, guarded=guarded, formats=formats, fmt=fmt,
                           with_catalog=with_catalog)
        ws = setup.workspace
        ledgers = read_ledgers(setup.paths, unit=(ws.unit if ws else None) if unit is FIND else unit,
                               password=password, threads=threads)
        if ws is not None:
            ledgers.started = dict(ws.started)  # from when each ledger was kept: comparisons it covers
        if require:
            ledgers.require_any()  # no ledger, no figures (before a default period is looked for)
        window, note = early, None
        if window is None and (period or (default and check is not Check.JUDGE)):
            window, note = _window(period, ledgers, warn=check is not Check.JUDGE)
        findings = check_ledgers(ledgers, check, window.end if window is not None else None)
        return cls(ws, setup.catalog, setup.paths, ledgers, findings, window,
                   default_window=window is not None and not period, after_data=note, fmt=setup.fmt)

    def judged(self, day) -> dict:
        """The findings counted (findings.summarize), person state (管控等级, 三年未复吸) judged on `day`."""
        from .validate import judged_summary

        return judged_summary(self.ledgers, self.findings, day)


def catalog_of(path, ws):
    """The catalog of `path`, else of the workspace `ws` (or the default one), with the workspace's targets."""
    return _load_catalog(path or (ws.catalog if ws else None), ws.targets if ws else None)


def _load_catalog(path, targets):
    """The catalog of `path` with `targets`; the packaged one (no office's file, no targets) is the same
    throughout a process and kept (cached_catalog): a process that runs many commands, the API or the
    tests, would read it every time (≈7 ms)."""
    if path is None and not targets:
        return cached_catalog(None, None)
    return _read_catalog(path, targets)


def _read_catalog(path, targets):
    from .metrics.catalog import load_catalog

    return load_catalog(path, targets=targets or None)


_CATALOGS: dict = {}


def cached_catalog(path, targets):
    """The catalog of `path` with `targets`, loaded once per process (a batch's parent, and each worker on its
    first file)."""
    import json

    key = (str(path) if path else None, json.dumps(targets or {}, sort_keys=True, ensure_ascii=False))
    if key not in _CATALOGS:
        _CATALOGS[key] = _read_catalog(path, targets)
    return _CATALOGS[key]


def read_ledgers(paths, *, unit, password, threads):
    """The ledgers of `paths` (the reader's API); a seam for tests."""
    from .ledgers import load_ledgers

    return load_ledgers(list(paths), unit=unit, threads=threads, password=password)


def check_ledgers(ledgers, check: Check, as_of) -> list:
    """The findings `check` asks for; `as_of`: the day person state is judged on (Check.JUDGE; None: the
    ledgers' latest date). A seam for tests."""
    if check is Check.NONE:
        return []
    from .validate import validate

    if check is Check.COUNT:
        return validate(ledgers, state=False)  # person state: judged once, on the window's last day (Run.judged)
    return validate(ledgers, as_of=as_of)


def _window(text, ledgers, warn: bool) -> tuple:
    """(the window asked for, or the default one; with `warn`, the warning when it lies after the data)."""
    from .periods import after_data_note, resolve_period

    window = resolve_period(text, ledgers)  # 最近整月 too
    return window, after_data_note(window, ledgers) if text and warn else None
