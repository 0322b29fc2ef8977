"""Ledger reading: `load_ledgers(paths, unit)` → LedgerSet (one typed frame per kind, findings, sheets read)."""

from __future__ import annotations

import re
from pathlib import Path

from .model import LedgerSet, SheetInfo

__all__ = ["LedgerSet", "SheetInfo", "discard_read_ahead", "expand_inputs", "load_ledgers", "read_ahead"]

# Files whose reading read_ahead() began, by _ahead_key: their sources.Reading.
_AHEAD: dict = {}


def expand_inputs(paths: list) -> list[tuple[Path, str]]:
    """(path, label) of every file to read: files as given; folders non-recursively (ledger files only,
    `~$*` lock files and hidden files skipped), sorted by name for byte-stable output. Each file once:
    `a.xlsx a.xlsx`, `a.xlsx ./a.xlsx`, `dir/a.xlsx dir/`, a link and its target are one file (the first
    spelling kept); another file with the same content is _drop_duplicate_files' (a 警告, counted once)."""
    from ..errors import InputError
    from .own import is_copy_of
    from .sources import LEDGER_SUFFIXES

    out: list[tuple[Path, str]] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(
                f for f in path.iterdir()
                if f.is_file() and f.suffix.lower() in LEDGER_SUFFIXES
                and not f.name.startswith(("~$", ".", "~"))
            )
            # an annotated copy (`jindu validate --annotate`) beside its original would count every row twice
            found = [f for f in found if not any(is_copy_of(f, o) for o in found if o != f)]
            out.extend((f, str(f)) for f in found)
        elif path.exists():
            out.append((path, str(p)))
        else:
            raise InputError("文件或文件夹不存在", file=str(p))
    if not out:
        raise InputError("文件夹中没有台帐文件（支持 xlsx、xlsm、xls、ods、csv、parquet）", file=", ".join(map(str, paths)))
    return _once(out)


def _once(files: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """Each file once, by what it is (device and inode: the resolved path, hard links, links), else by its
    resolved path."""
    import os

    seen: set = set()
    out = []
    for path, label in files:
        try:
            st = os.stat(path)
            key: tuple = (st.st_dev, st.st_ino) if st.st_ino else (os.path.realpath(path),)
        except OSError:
            key = (os.path.realpath(path),)
        if key not in seen:
            seen.add(key)
            out.append((path, label))
    return out


def load_ledgers(paths: list, unit: str | None = None, *, threads: bool = True, password=None) -> LedgerSet:
    """Read files and/or folders into a LedgerSet.

    `threads`: parse a workbook's sheets in a background thread (False in a process pool's workers,
    where the other cores are busy already). `password`: opens encrypted workbooks (one for all), or a
    function (file label, attempt) -> password or None that asks for it (sources.Password); decrypted
    workbooks stay in memory.

    Raises InputError (Chinese, naming the file) when a file cannot be read at all; per-cell problems become
    findings. Seizure/community/contact rows missing 姓名/所属村居/所属镇街 get them from persons; 所属镇街
    empty everywhere → `unit`.
    """
    from .. import schema
    from ..findings import Finding, locate

    parts: dict[str, list] = {k: [] for k in schema.KINDS}
    findings: list[Finding] = []
    sheets: list[SheetInfo] = []
    try:
        for path, label in expand_inputs(paths):
            for df, fs, info, kind in _read_file_sheets(path, label, threads, password):
                findings.extend(fs)
                if info is not None:
                    sheets.append(info)
                if df is not None:
                    parts[kind].append(df)
    finally:
        discard_read_ahead()  # one not taken up here named another file, or one that changed
    import pandas as pd

    from . import frames

    findings.extend(_drop_duplicate_files(parts))
    out = {}
    for kind, dfs in parts.items():
        dfs = [d for d in dfs if len(d)] or dfs[:1]
        if not dfs:
            out[kind] = frames.empty_frame(kind)
        elif len(dfs) == 1:
            out[kind] = dfs[0]  # coerced as it was read
        else:
            out[kind] = frames.coerce(kind, pd.concat(dfs, ignore_index=True, sort=False))
    from .link import FILLED, FILLED_KINDS, ID_KINDS, ids_of

    ids = ids_of(out)
    findings.extend(_mask_person_units(out))
    _fill_from_persons(out, ids)
    unit = _fill_unit(out, unit)
    result = LedgerSet(frames=out, sheets=sheets, unit=unit)
    result.kept("ids", ID_KINDS, lambda: ids)  # filling took nothing from the IDs: they hold for these frames
    result.kept(FILLED, FILLED_KINDS, lambda: True)  # as filled above (and 所属镇街 by _fill_unit, alike)
    result.findings = sorted(locate(findings, result.positions()), key=lambda f: f.sort_key())
    return result


def _mask_person_units(frames: dict) -> list:
    """所属镇街/所属村居 values that are a person (a name of the persons ledger, or holding an ID) are masked in
    the frames, as they would become folder names, bulletin headings and rows of 汇总.html; one
    unit_looks_like_person finding per row, with the value as it was (masked at output unless --show-pii)."""
    import pandas as pd

    from .. import schema
    from ..findings import Finding
    from ..privacy import mask_name, mask_text

    persons = frames.get("persons")
    names = set()
    if persons is not None and "姓名" in persons.columns and len(persons):
        names = {n.strip() for n in pd.unique(persons["姓名"].to_numpy(dtype=object)).tolist()
                 if isinstance(n, str) and len(n.strip()) >= 2}
    out = []
    for df in frames.values():
        for col in schema.UNIT_COLUMNS:
            if col not in df.columns or not len(df):
                continue
            masked = {}
            for v in pd.unique(df[col].to_numpy(dtype=object)).tolist():  # None and NaN: not str, skipped
                if not isinstance(v, str):
                    continue
                hidden = mask_name(v) if v.strip() in names else mask_text(v)
                if hidden != v:
                    masked[v] = hidden
            if not masked:
                continue
            hit = df[col].isin(list(masked)).to_numpy(dtype=bool)
            rows = df[hit]
            out += [Finding("unit_looks_like_person", f, sh, int(r), col, v)
                    for f, sh, r, v in zip(rows["_file"], rows["_sheet"], rows["_row"], rows[col])]
            values = df[col].astype(object)
            df[col] = values.where(~hit, values.map(masked))
    return out


def _read_file_sheets(path, label: str, threads: bool, password=None) -> list[tuple]:
    """(typed frame or None, findings, SheetInfo or None, kind) of every sheet of one file, in sheet order
    (None: the 问题清单 sheet of an annotated copy, skipped).

    A panic of a native reader (pyo3's PanicException is a BaseException, not an Exception) becomes an
    InputError naming the file: in batch, a failed unit rather than a dead run."""
    from ..errors import InputError

    try:
        return _read_sheets(path, label, threads, password)
    except (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError, Exception):
        raise  # ordinary bugs keep their traceback; InputError is the caller's
    except BaseException:  # noqa: BLE001 - see above: what is left is a native reader's panic
        raise InputError("文件结构异常，读取库出错，无法读取；请用 Excel/WPS 打开后另存为 .xlsx",
                         file=label) from None


def _read_sheets(path, label: str, threads: bool, password) -> list[tuple]:
    reading = _AHEAD.pop(_ahead_key(path, label), None)
    if reading is None:  # begun before pandas is imported: both take a while
        from .sources import open_file

        reading = open_file(path, label, password, threads=threads)
    done: dict[int, tuple] = {}
    # While the first sheet is parsed: _frame needs pandas, and so does the reader's first Arrow column of
    # dates (pyarrow imports it), which would otherwise import it in a reader thread after that sheet's parse
    from . import normalize  # noqa: F401
    try:
        for sheet in reading:
            done[sheet.index] = _frame(sheet, label)
    finally:
        reading.close()
    return [done[i] for i in sorted(done)]


def _frame(sheet, label: str) -> tuple:
    """(typed frame or None, findings, SheetInfo or None, kind) of one sheet."""
    from ..findings import Finding
    from .normalize import normalize_sheet
    from .own import is_annotation_sheet

    if is_annotation_sheet(sheet.name, sheet.head):  # the 问题清单 of an annotated copy: not a ledger
        return None, [], None, None
    notes = [Finding(code, label, sheet.name, row, detail=detail) for code, row, detail in sheet.notes]
    header = sheet.header
    if header is None:
        nonempty = any(any(str(v).strip() for v in row) for row in sheet.head)
        return (None, notes + [Finding("sheet_unrecognized", label, sheet.name,
                                       detail="工作表为空" if not nonempty else "未找到可识别的表头")],
                SheetInfo(label, sheet.name, None, None, 0), None)
    df, fs, _ = normalize_sheet(sheet, label)  # while the next sheet is parsed
    sheet.columns = []  # the frame holds the data now
    info = SheetInfo(label, sheet.name, header.kind, header.row + 1, len(df),
                     {header.labels.get(c, name): name for c, name in header.columns.items()},
                     {name: c for c, name in header.columns.items()})
    return df, notes + fs, info, header.kind


def read_ahead(paths: list) -> bool:
    """Begin reading the first of `paths` in the background, when it is a workbook of the fast path.

    For a caller with other work to do before it can call load_ledgers (the command line parses its options
    and imports pandas meanwhile: about 0.3 s before reading could start). load_ledgers takes the started
    reading up when it reads the same file, unchanged; what it does not take up it closes. Reading ahead
    changes nothing but time: the same sheets, headers and loads as load_ledgers' own. Any failure is left
    for load_ledgers to report, in its context. True when a reading was started.
    """
    from .sources import FAST_SUFFIXES, open_file

    discard_read_ahead()
    try:
        path, label = expand_inputs(paths)[0]
        if path.suffix.lower() not in FAST_SUFFIXES:
            return False
        _AHEAD[_ahead_key(path, label)] = open_file(path, label, None, threads=True)
    except Exception:  # noqa: BLE001 - load_ledgers reads again and reports it
        return False
    return True


def discard_read_ahead() -> None:
    """Close any reading read_ahead() began that load_ledgers did not take up."""
    while _AHEAD:
        _, reading = _AHEAD.popitem()
        reading.close()


def _ahead_key(path, label: str) -> tuple | None:
    """Which file, as given, in which state: a file changed since read_ahead() is read again."""
    import os

    try:
        st = os.stat(path)
    except OSError:
        return None
    return (label, os.path.realpath(path), st.st_size, st.st_mtime_ns, st.st_ino)


_COPY_NAME = re.compile(r"副本|[(（]\d+[)）]|\bcopy\b|拷贝|复件", re.I)


def _drop_duplicate_files(parts: dict) -> list:
    """Sheets that repeat, row for row, a sheet of the same kind in another file (`台帐 - 副本.xlsx`,
    `台帐(1).xlsx` beside the original): a 警告 naming both files, and the repeat left out (counted once).
    Of equal sheets the one whose file name does not look like a copy is kept, else the first."""
    from .. import schema
    from ..findings import Finding
    from .frames import columns_of

    out = []
    for kind, dfs in parts.items():
        if len(dfs) < 2:
            continue
        cols = [c for c in columns_of(kind) if not c.startswith("_")]
        file_of = [str(d[schema.ORIGIN_FILE].iloc[0]) if len(d) else "" for d in dfs]
        order = sorted(range(len(dfs)), key=lambda i: (bool(_COPY_NAME.search(Path(file_of[i]).name)), i))
        kept: list[int] = []
        dropped: set[int] = set()
        for i in order:
            d = dfs[i]
            twin = next((k for k in kept if len(dfs[k]) == len(d) and file_of[k] != file_of[i]
                         and dfs[k][cols].reset_index(drop=True).equals(d[cols].reset_index(drop=True))), None)
            if len(d) and twin is not None:
                dropped.add(i)
                out.append(Finding("duplicate_file", file_of[i], str(d[schema.ORIGIN_SHEET].iloc[0]),
                                   detail=f"与「{file_of[twin]}」的「{dfs[twin][schema.ORIGIN_SHEET].iloc[0]}」相同，"
                                          "只计入后者"))
            else:
                kept.append(i)
        parts[kind] = [d for i, d in enumerate(dfs) if i not in dropped]
    return out


def _fill_from_persons(frames_: dict, ids) -> None:
    """Seizure/community/contact rows missing 姓名/所属村居/所属镇街 take them from the persons ledger (`ids`:
    the frames' link.Ids)."""
    from .link import fill_from_persons

    for kind in ("seizures", "community", "contacts"):
        frames_[kind] = fill_from_persons(frames_[kind], frames_["persons"], add=False, rows=ids.person_rows(kind))


def _fill_unit(frames_: dict, unit: str | None) -> str | None:
    """所属镇街 empty everywhere → `unit`; a single 所属镇街 found fills the blanks and names the set."""
    found: set[str] = set()
    for df in frames_.values():
        if "所属镇街" in df.columns:
            found.update(v for v in df["所属镇街"].dropna().unique())
    fill = unit if not found else (next(iter(found)) if len(found) == 1 else None)
    if fill:
        for df in frames_.values():
            if "所属镇街" in df.columns and df["所属镇街"].isna().any():
                df["所属镇街"] = df["所属镇街"].where(df["所属镇街"].notna(), fill)
    if unit:
        return unit
    return next(iter(found)) if len(found) == 1 else None
