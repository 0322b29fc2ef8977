"""The typed data of a county run, end to end: the Job each worker is given, the UnitResult it sends back
for each township, the UnitOutcome summary.json reports for it, and the run's BatchResult."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import EXIT_FINDINGS, EXIT_OK
from ..run import cached_catalog


@dataclass(frozen=True)
class Job:
    """What a worker needs to do one input file (picklable): the run's settings, then the file's own."""

    period: object  # periods.Period, as asked (--period)
    window: object  # the window every figure covers (periods.bulletin_window of `period`)
    catalog: str | None = None  # the catalog file (None: the default catalog)
    targets: dict = field(default_factory=dict)  # the workspace's target overrides
    template: str | None = None  # the township bulletin's template
    workspace: object = None  # workspace.Workspace, or None
    trend_metrics: tuple[str, ...] = ()  # the 趋势 sheet's rates
    bulletins: bool = True  # render each township's bulletin
    password: str | None = None
    baseline: int | None = None
    text_format: str = "txt"  # the township bulletin's text: txt, or md (for md and docx)
    total_unit: str | None = None  # set: a town pool (town_jobs > 1) computes the county total too
    file: str = ""
    threads: bool = True  # the reader's threads (one level of parallelism: files in a pool, or sheets)
    town_jobs: int = 1  # one county file: its townships shared among this many forked workers
    keep_frames: bool = True  # send the ledgers back for the county union (forked town workers need not)

    @property
    def cat(self):
        return cached_catalog(self.catalog, self.targets)

    @property
    def started(self) -> dict:
        """The workspace's [workspace.started] (from when each ledger was kept), or {}."""
        return dict(getattr(self.workspace, "started", None) or {})


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


@dataclass(frozen=True)
class UnitOutcome:
    """One (file, township) of the run as summary.json reports it: its status (ok / failed), the error of a
    failed one, its findings; for a county-wide file's first township, the findings and rows no township owns."""

    file: str
    unit: str | None
    status: str
    error: str | None = None
    findings: list[dict] = field(default_factory=list)
    file_findings: list[dict] = field(default_factory=list)
    unplaced: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, r: UnitResult) -> UnitOutcome:
        return cls(r.file, r.unit, r.status, r.error, r.findings, r.file_findings, r.unplaced)

    def to_dict(self) -> dict:
        e = {"file": self.file, "unit": self.unit, "status": self.status, "error": self.error,
             "findings": self.findings}
        if self.file_findings or self.unplaced:
            e["file_findings"] = self.file_findings
            e["unplaced"] = self.unplaced
        return e


@dataclass
class BatchResult:
    """A county run: its townships' outcomes, every row (townships, then the total), ranks, scores and the
    roll-up mismatches; `summary` is summary.json's content once written."""

    period: object  # as asked (--period)
    total_unit: str
    units: list[UnitOutcome]  # per (file, unit): status, error, findings
    rows: list  # MetricRows: townships (sorted) then the total
    ranks: dict[tuple[str, str], int]
    scores: list = field(default_factory=list)  # scoring.UnitScore, when a scheme is given
    mismatches: list[str] = field(default_factory=list)  # total ≠ summed parts (a person in two townships)
    summary: dict = field(default_factory=dict)
    # metric -> townships left out of its county total because they lack a ledger it reads (missing ≠ 0)
    left_out: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[dict] = field(default_factory=list)  # {file, reason}: inputs that are not ledgers
    window: object = None  # the window every figure covers (periods.bulletin_window of `period`)
    baseline: int | None = None  # --baseline: the base year every figure is also compared with

    def __post_init__(self):
        if self.window is None:
            from ..periods import bulletin_window

            self.window = bulletin_window(self.period)

    @property
    def failed(self) -> list[UnitOutcome]:
        return [u for u in self.units if u.status == "failed"]

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.failed else EXIT_OK
