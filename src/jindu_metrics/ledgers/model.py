"""The reader's result: one typed frame per ledger kind, plus findings and what was read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..findings import Finding

if TYPE_CHECKING:  # pandas is imported lazily so `jindu --help` stays fast
    import pandas as pd

    from .link import Ids


@dataclass
class SheetInfo:
    """One sheet (or CSV file) that was read, and what it was recognised as."""

    file: str
    sheet: str
    kind: str | None  # ledger kind id, or None when unrecognised
    header_row: int | None  # Excel row number of the (last) header row
    rows: int  # data rows kept
    columns: dict[str, str] = field(default_factory=dict)  # original header -> canonical name
    positions: dict[str, int] = field(default_factory=dict)  # canonical name -> 0-based column index (A = 0)


@dataclass
class LedgerSet:
    """Normalised ledgers.

    frames[kind] is a DataFrame with every canonical column of that kind (schema.KINDS[kind].columns) in
    canonical types — ID: str (18 chars) or None; DATE: datetime64[ns] (NaT); FLAG: pandas "boolean"
    (NA when empty); CATEGORY/TEXT: str or None; NUMBER: float64 — plus the origin columns _file, _sheet,
    _row. Every kind is present (possibly with zero rows). persons also carries 人员状态细分 (the police
    sub-status such as 社会面戒断三年未复吸, or None).
    """

    frames: dict[str, pd.DataFrame]
    findings: list[Finding] = field(default_factory=list)
    sheets: list[SheetInfo] = field(default_factory=list)
    unit: str | None = None  # default 所属镇街 (workspace unit or inferred)
    # Ledger kinds the input holds (a sheet of that kind was read, even with no rows); None: derived from
    # `sheets`, else from the frames that have rows. A kind not present is missing: its figures have no value.
    present: frozenset[str] | None = None
    # Columns each ledger kind's sheets had (canonical names); None: derived from `sheets`. A kind with no
    # sheet read (frames built in memory) is taken to have every column. An indicator reading a column its
    # ledger lacks has no value (missing, not 0), whereas empty cells keep their documented meaning.
    columns: dict[str, frozenset[str]] | None = None
    # {kind: date}: from when the workspace declares each ledger was kept (jindu.toml [workspace.started]);
    # with the rows' own evidence, it decides which comparison windows a ledger covers (engine.Coverage)
    started: dict = field(default_factory=dict)
    # what is worked out from the frames once and asked for again in one run (kept())
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __getitem__(self, kind: str) -> pd.DataFrame:
        return self.frames[kind]

    def kept(self, name: str, kinds: tuple[str, ...], make: Callable[[], object]):
        """`make()`, worked out from the frames of `kinds` once and kept: worked out again when one of those
        frames was replaced (a frame is never changed in place once read: code that changes one assigns a
        new frame). The reader, the checks and the engine of one run ask for the same things."""
        frames = tuple(self.frames.get(k) for k in kinds)
        got = self.cache.get(name)
        if got is None or any(a is not b for a, b in zip(got[0], frames)):
            got = self.cache[name] = (frames, make())
        return got[1]

    def ids(self) -> Ids:
        """The IDs of every ledger as shared integer codes (link.Ids), kept."""
        from .link import ID_KINDS, ids_of

        return self.kept("ids", ID_KINDS, lambda: ids_of(self.frames))

    def positions(self) -> dict[tuple, dict[str, int]]:
        """(file, sheet) -> {canonical column: 0-based column index}, for findings.locate()."""
        return {(s.file, s.sheet): s.positions for s in self.sheets if s.positions}

    @property
    def files(self) -> list[str]:
        return sorted({s.file for s in self.sheets})

    @property
    def kinds_present(self) -> frozenset[str]:
        """The ledger kinds given in the input (see `present`): the one test of "missing, not zero"."""
        if self.present is not None:
            return frozenset(self.present)
        found = {s.kind for s in self.sheets if s.kind}
        if not self.sheets:
            found = {k for k, df in self.frames.items() if len(df)}
        return frozenset(found)

    @property
    def columns_given(self) -> dict[str, frozenset[str]]:
        """{kind: the canonical columns its sheets had} for the kinds read from sheets (see `columns`)."""
        if self.columns is not None:
            return dict(self.columns)
        out: dict[str, set[str]] = {}
        for s in self.sheets:
            if s.kind:
                out.setdefault(s.kind, set()).update(s.columns.values())
        return {k: frozenset(v) for k, v in out.items()}

    def has_column(self, kind: str, column: str) -> bool:
        """Whether the input's `kind` ledger has `column` (every column of a kind not read from sheets)."""
        given = self.columns_given.get(kind)
        return given is None or column in given

    def unrecognised(self) -> str:
        """What was found where no sheet is any ledger: each file's sheets and why each was skipped."""
        why = {(f.file, f.sheet): f.detail for f in self.findings if f.code == "sheet_unrecognized"}
        by_file: dict[str, list[str]] = {}
        for s in self.sheets:
            by_file.setdefault(s.file, []).append(f"「{s.sheet}」{why.get((s.file, s.sheet)) or '未识别为台帐'}")
        parts = [f"文件「{f}」的工作表：{'；'.join(items)}" for f, items in by_file.items()]
        return "。".join(parts) if parts else "未读到任何工作表"

    def require_any(self) -> None:
        """No ledger, no figures: raise InputError (exit 2) when no sheet was recognised as any ledger."""
        if self.kinds_present:
            return
        from ..errors import InputError

        raise InputError(f"没有找到任何台帐，无法计算指标。{self.unrecognised()}。"
                         "请检查是否选错了文件，或表头列名是否为台帐的列名（jindu init 生成的空白台帐带有标准表头）。")
