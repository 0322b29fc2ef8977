"""`jindu validate --annotate`: a copy of each input workbook with every finding marked where it is.

Each cell with a finding is filled (错误 red, 警告 amber, 提示 blue) and carries a comment with the finding's
message and fix; a first sheet 问题清单 lists every finding with a link to its cell, the sheets the reader
skipped and what of the workbook the copy could not keep. xlsx/xlsm are loaded with openpyxl and saved with
everything else as it was; .xls, .ods, .xlsb and CSV inputs are rebuilt from their values as .xlsx.

The copy is the user's own ledger (it holds PII by nature): it is written only where asked, atomically,
never over an input, never into a batch output folder (check_target), and is byte-identical for the same
input. The reader skips its 问题清单 sheet (is_annotation_sheet), so validating a copy gives the same findings.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError, UsageError, command, shown
from ..findings import ERROR, NOTE, WARNING, Finding, excel_column, summarize
from ..ledgers.own import MARK, SHEET, TARGET_SUFFIXES, copy_name
from .compute import ARCHIVE_STAMP, ARCHIVE_TIME

OPENPYXL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
FILLS = {ERROR: "FFFFC7CE", WARNING: "FFFFD966", NOTE: "FFDDEBF7"}  # ARGB, opaque
FIXED_TIME = ARCHIVE_STAMP  # dcterms:modified of a copy whose input has none
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what an xlsx string cannot hold as such
_SEVERITY_RANK = {ERROR: 0, WARNING: 1, NOTE: 2}


# ---------------------------------------------------------------- where the copies go

def plan_targets(files: list[tuple[Path, str]], annotate: str) -> list[tuple[Path, str, Path]]:
    """(input path, label, copy path) of every input file.

    `annotate` "" → `<原名>_问题标注.xlsx` beside each input; a name ending in .xlsx/.xlsm → that file (one
    input only); anything else → a folder (created when missing) holding `<原名>_问题标注.xlsx` of each input.
    Two inputs that would give the same copy name (台帐.xls and 台帐.csv) get their format in the name.
    """
    target = Path(annotate) if annotate else None
    if target is not None and target.suffix.lower() in TARGET_SUFFIXES and not target.is_dir():
        if len(files) > 1:
            raise UsageError(f"有 {len(files)} 个台帐文件，--annotate 请给一个文件夹（每个文件各写一份标注副本），"
                             "或不写文件名（副本写在各原文件旁）")
        (path, label), = files
        return [(path, label, target)]
    if target is not None and target.suffix and not target.is_dir():
        raise UsageError(f"标注副本须为 .xlsx 文件（或一个文件夹）：「{shown(annotate)}」")
    names: dict[Path, list[Path]] = {}
    for path, _ in files:
        names.setdefault(_copy_name(path, target, False), []).append(path)
    out = []
    for path, label in files:
        name = _copy_name(path, target, False)
        out.append((path, label, name if len(names[name]) == 1 else _copy_name(path, target, True)))
    return out


def _copy_name(path: Path, folder: Path | None, with_format: bool) -> Path:
    return (folder or path.parent) / copy_name(path, with_format)


def check_target(target: Path, inputs: Sequence[Path]) -> None:
    """Refuse a copy's destination that is an input, a link, a device or a folder (outputs.check_output, the
    one destination check), an existing file that is no annotated copy, or one in a batch output folder (the
    copy holds names and IDs)."""
    import os

    from . import check_output, is_output_folder

    where = f"标注副本「{shown(target)}」"
    real = Path(os.path.realpath(target))
    for p in inputs:  # said first, in annotate's words: it is the mistake the optional value invites
        if Path(os.path.realpath(p)) == real or (target.is_file() and os.path.samefile(target, p)):
            raise UsageError(f"{where}就是输入的台帐文件，不会覆盖台帐；请换一个文件名")
    if check_output(target, inputs, create_folder=True) is None:
        raise UsageError(f"{where}不是普通文件，不会写入；请换一个文件名")
    if target.exists() and not is_annotated_copy(target):
        raise UsageError(f"{where}已存在且不是 jindu 写的标注副本，不会覆盖；请换一个文件名"
                         f"（要校验它并把副本写在旁边，请把 --annotate 写在文件名之后："
                         f"{command('jindu', 'validate', target.name, '--annotate')}）")
    for folder in list(real.parents)[:2]:
        if is_output_folder(folder) or (folder / "summary.json").is_file():
            raise UsageError(f"{where}位于批量汇总的输出文件夹「{shown(folder)}」中；标注副本含姓名和身份证号，"
                             "请写到别处")


def is_annotated_copy(path: Path) -> bool:
    """Whether an existing file is an annotated copy (which a new annotation may replace)."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            return f'name="{SHEET}'.encode() in zf.read("xl/workbook.xml")
    except (OSError, KeyError, zipfile.BadZipFile, ValueError):
        return False


# ---------------------------------------------------------------- the copy

def write_annotated(path: Path, label: str, findings: list[Finding], target: Path, password=None) -> None:
    """Write the annotated copy of one input file (its findings: those whose file is `label`), atomically;
    the copy of an encrypted workbook is encrypted with the same password (`password`: as read_file's)."""
    from . import atomic_write_bytes

    atomic_write_bytes(target, annotated_bytes(path, label, [f for f in findings if f.file == label],
                                               keep_vba=target.suffix.lower() == ".xlsm", password=password))


def annotated_bytes(path: Path, label: str, findings: list[Finding], *, keep_vba: bool = False,
                    password=None) -> bytes:
    """The annotated copy of one input file as xlsx (or xlsm) bytes; the same input gives the same bytes.

    An encrypted workbook is decrypted in memory (`password`: a text, or read_file's prompt) and its copy
    encrypted with the same password: a ledger that was protected on disk stays protected. Encryption salts
    at random, so such a copy differs byte for byte from run to run; what it decrypts to does not."""
    import io

    from .compute import deterministic_zip

    key = _encrypted_key(path, label, password)
    data = None if key is None else _decrypted(path, label, key)

    def src():  # a fresh reader of the workbook each time: the file, or its decrypted bytes in memory
        return path if data is None else io.BytesIO(data)

    notes: list[str] = []
    wb = _load(path, label, keep_vba, notes, src) if _is_openpyxl(path, data) else None
    out = None
    if wb is not None:
        try:
            out = deterministic_zip(_finish(wb, label, findings, {n: n for n in wb.sheetnames}, notes),
                                    core_time=_core_modified(src()) or FIXED_TIME, only_modified=True)
        except Exception:  # noqa: BLE001 - a workbook openpyxl loads but cannot save: rebuilt from its values
            notes = [_NOT_LOADED]
    if out is None:
        wb, titles = _rebuild(path, label, notes, src, key)
        out = deterministic_zip(_finish(wb, label, findings, titles, notes), core_time=FIXED_TIME,
                                only_modified=True)
    return out if key is None else _encrypted(out, key)


def _encrypted_key(path: Path, label: str, password) -> str | None:
    """None for a plain file; for an encrypted one, the password to open it (asked for when `password` is
    read_file's prompt), else an InputError saying how to give it."""
    from ..ledgers.sources import ENCRYPTED_NO_PASSWORD

    with open(path, "rb") as fh:
        if not fh.read(8).startswith(b"\xd0\xcf\x11\xe0") or path.suffix.lower() not in OPENPYXL_SUFFIXES:
            return None
    given = password(label, 0) if callable(password) else password
    if not given:
        raise InputError(f"{ENCRYPTED_NO_PASSWORD}；标注副本会用同一密码加密", file=label)
    return given


def _decrypted(path: Path, label: str, key: str) -> bytes:
    from ..ledgers.sources import decrypt

    return decrypt(path, label, key)


def _encrypted(data: bytes, key: str) -> bytes:
    """An xlsx encrypted with `key` (ECMA-376 agile encryption, as Excel and WPS write it)."""
    import io

    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt(key, out)
    return out.getvalue()


def _finish(wb, label: str, findings: list[Finding], titles: dict[str, str], notes: list[str]) -> bytes:
    """Mark the findings, add the list, save."""
    import io

    listed = _mark(wb, findings, titles)
    _add_list(wb, label, findings, listed, notes)
    wb.template = False
    buf = io.BytesIO()
    wb.save(buf)
    results = getattr(wb, "_jindu_results", None)
    return _with_results(buf.getvalue(), results, wb.epoch) if results else buf.getvalue()


def _is_openpyxl(path: Path, data: bytes | None = None) -> bool:
    """Whether openpyxl loads the workbook (`data`: its decrypted bytes, when it is encrypted)."""
    if path.suffix.lower() not in OPENPYXL_SUFFIXES:
        return False
    if data is None:
        with open(path, "rb") as fh:
            data = fh.read(8)
    return data.startswith(b"PK\x03\x04")


_NOT_LOADED = "原工作簿无法按原样载入，副本由单元格的值重建。"
_LOST = (  # openpyxl's warnings on load -> what the copy could not keep
    ("Data Validation extension", "部分下拉列表（引用其他工作表的数据验证）"),
    ("Conditional Formatting extension", "部分条件格式"),
    ("Slicer", "切片器"),
    ("extension", "部分扩展内容（如迷你图、切片器）"),
)


def _load(path: Path, label: str, keep_vba: bool, notes: list[str], src):
    import zipfile

    import openpyxl

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            wb = openpyxl.load_workbook(src(), keep_vba=keep_vba, rich_text=True)
        except Exception:  # noqa: BLE001 - what openpyxl cannot load is rebuilt from its values
            notes.append(_NOT_LOADED)
            return None
    lost = []
    for w in caught:
        text = str(w.message)
        for key, what in _LOST:
            if key.lower() in text.lower():
                if what not in lost:
                    lost.append(what)
                break
    lacking = [n for n in _sheet_names(src()) if n not in wb.sheetnames]
    if lacking:  # e.g. Strict Open XML, whose sheets openpyxl does not see
        notes.append(_NOT_LOADED)
        return None
    with zipfile.ZipFile(src()) as zf:
        parts = zf.namelist()
    if any(p.startswith("xl/drawings/") and not p.startswith("xl/drawings/vmlDrawing") for p in parts):
        lost.append("图形、文本框（图片和图表一般可保留）")
    if path.suffix.lower() == ".xlsm" and not keep_vba:
        lost.append("宏（副本为 .xlsx）")
    if lost:
        notes.append("原工作簿中以下内容未能保留在副本中：" + "、".join(lost) + "。请在原文件中修改。")
    formulas: dict[str, set[str]] = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    formulas.setdefault(ws.title, set()).add(c.coordinate)
                elif type(c.value) is float:
                    _set_number(c, c.value)
    if formulas:
        wb.calculation.fullCalcOnLoad = True
        notes.append("公式已保留（连同上次计算的结果），Excel/WPS 打开副本时会重新计算。")
        wb._jindu_results = _formula_results(src(), formulas)
    return wb


def _formula_results(path, formulas: dict[str, set[str]]) -> dict[str, dict[str, object]]:
    """title -> {cell: the formula's last result, as the input stores it} (openpyxl keeps formulas only)."""
    import openpyxl

    out: dict[str, dict[str, object]] = {}
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for title, coords in formulas.items():
            got = out[title] = {}
            for row in wb[title].iter_rows():
                for c in row:
                    coord = getattr(c, "coordinate", None)
                    if coord in coords and c.value is not None:
                        got[coord] = ("e", c.value) if c.data_type == "e" else (None, c.value)
    finally:
        wb.close()
    return out


def _with_results(data: bytes, results: dict[str, dict[str, object]], epoch) -> bytes:
    """The saved workbook with each formula's last result back in its <v> (openpyxl writes an empty one):
    what reads the copy's values, jindu itself among them, sees what it saw in the input."""
    import io
    import zipfile
    from xml.sax.saxutils import escape, unescape

    from openpyxl.utils.datetime import to_excel

    src = zipfile.ZipFile(io.BytesIO(data))
    book = src.read("xl/workbook.xml").decode("utf-8")
    rels = src.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {}
    for m in re.finditer(r"<Relationship\b([^>]*)>", rels):
        rid, target = re.search(r'Id="([^"]+)"', m.group(1)), re.search(r'Target="([^"]+)"', m.group(1))
        if rid and target:
            targets[rid.group(1)] = target.group(1).lstrip("/")
    parts = {}
    for m in re.finditer(r'<sheet [^>]*?name="([^"]*)"[^>]*?r:id="([^"]+)"', book):
        target = targets.get(m.group(2), "")
        parts[target if target.startswith("xl/") else f"xl/{target}"] = unescape(m.group(1), {"&quot;": '"', "&apos;": "'"})

    def value(kind, v):
        if kind == "e":
            return ' t="e"', escape(str(v))
        if isinstance(v, bool):
            return ' t="b"', "1" if v else "0"
        if isinstance(v, (dt.datetime, dt.date, dt.time, dt.timedelta)):
            v = to_excel(v, epoch)
        if isinstance(v, (int, float)):
            return "", repr(float(v)) if isinstance(v, float) else str(v)
        return ' t="str"', escape(_ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", str(v)))

    cell = re.compile(r'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?)>(<f(?: [^>]*)?>[^<]*</f>|<f[^>]*/>)(?:<v\s*/>|<v></v>)')

    def put(m, got: dict):
        coord, style, formula = m.groups()
        if coord not in got:
            return m.group(0)
        t, text = value(*got[coord])
        return f'<c r="{coord}"{style}{t}>{formula}<v>{text}</v>'

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            got = results.get(parts.get(info.filename, ""), {})
            if got:
                body = cell.sub(lambda m, got=got: put(m, got), body.decode("utf-8")).encode("utf-8")
            dst.writestr(info, body)
    return out.getvalue()


def _core_modified(path) -> str | None:
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            core = zf.read("docProps/core.xml").decode("utf-8", "replace")
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    m = re.search(r"<dcterms:modified[^>]*>([^<]+)</dcterms:modified>", core)
    return m.group(1).strip() if m else None


def _rebuild(path: Path, label: str, notes: list[str], src=None, password=None):
    """A new workbook holding the values of every sheet (and merged cells, hidden sheets) of a file that
    openpyxl does not load: .xls, .ods, .xlsb, CSV. Returns (workbook, reader's sheet name -> title)."""
    from openpyxl import Workbook

    from ..ledgers.sources import PARQUET_MAGIC, read_rows

    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "jindu"
    wb.properties.created = ARCHIVE_TIME
    hidden = _hidden_sheets(src() if src else path)
    titles: dict[str, str] = {}
    renamed = []
    with open(path, "rb") as fh:
        parquet = fh.read(4) == PARQUET_MAGIC
    for raw in read_rows(path, label, password):
        title = _sheet_title(raw.name or path.stem, set(titles.values()))
        if title != (raw.name or path.stem):
            renamed.append(f"「{shown(raw.name)}」→「{shown(title)}」")
        titles[raw.name] = title
        ws = wb.create_sheet(title)
        for r, row in enumerate(raw.rows, start=1):
            for c, v in enumerate(row, start=1):
                if v is None or v == "":
                    continue
                _put(ws.cell(r, c), v)
        for (r0, c0), (r1, c1) in raw.merged:
            if (r0, c0) != (r1, c1):
                ws.merge_cells(start_row=r0 + 1, start_column=c0 + 1, end_row=r1 + 1, end_column=c1 + 1)
        if raw.name in hidden:
            ws.sheet_state = "hidden"
    suffix = path.suffix.lower()
    text = suffix in (".csv", ".txt", ".tsv") or parquet
    kept = "单元格的值（每个单元格都按文本保存）" if text and not parquet else "单元格的值、合并单元格和隐藏的工作表"
    where = "" if suffix in OPENPYXL_SUFFIXES else f"原文件是 {suffix} 文件，副本为 .xlsx，"
    notes.append(f"{where}副本只保留了{kept}；字体、颜色、列宽、下拉列表等格式未保留。请在原文件中修改。")
    if renamed:
        notes.append("工作表名称不能在 .xlsx 中使用，已改为：" + "，".join(renamed) + "。")
    return wb, titles


def _sheet_metadata(path) -> list:
    """python-calamine's (name, typ, visible) of every sheet; [] for what it does not read (CSV...)."""
    try:
        import python_calamine as pc

        wb = pc.load_workbook(path if hasattr(path, "read") else str(path))
        try:
            return list(wb.sheets_metadata)
        finally:
            wb.close()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:  # noqa: BLE001 - pyo3 panics derive from BaseException
        return []


def _sheet_names(path) -> list[str]:
    """The worksheets of a workbook (not chart sheets), as the reader sees them."""
    return [m.name for m in _sheet_metadata(path) if "WorkSheet" in str(m.typ)]


def _hidden_sheets(path) -> set[str]:
    return {m.name for m in _sheet_metadata(path) if str(m.visible).split(".")[-1] != "Visible"}


def _sheet_title(name: str, taken: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", name).strip("'")[:31] or "Sheet"
    base, i = title, 1
    while title in taken:
        i += 1
        title = f"{base[:28]}({i})"
    return title


class _Digits(str):
    """A number's exact digits: openpyxl writes numbers with 16 significant digits (an ID stored as a number
    has 18), but writes a str as it is. Only ever the value of a cell typed "n"."""


def _set_number(cell, x: float) -> None:
    if math.isfinite(x) and float(f"{x:.16g}") != x:
        cell._value, cell.data_type = _Digits(repr(x)), "n"
    else:
        cell.value = x


def _put(cell, value) -> None:
    """A value into a cell as the value it is: text stays text (never a formula or an error value), control
    characters as the _xHHHH_ escapes Excel reads back."""
    if isinstance(value, str):
        cell.value = _ILLEGAL.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
        cell.data_type = "s"
        return
    if type(value) is float:
        _set_number(cell, value)
        return
    cell.value = value
    if isinstance(value, dt.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm:ss" if value.time() != dt.time() else "yyyy-mm-dd"
    elif isinstance(value, dt.date):
        cell.number_format = "yyyy-mm-dd"


# ---------------------------------------------------------------- marks and the list

def _where(ws, f: Finding) -> str | None:
    """The cell that carries a finding's mark: its own; the header row's first free cell for a missing
    column; the row's first cell for a finding of a whole row; None for a sheet or a file."""
    if not f.row:
        return None
    if f.column_letter:
        coord = f"{f.column_letter}{f.row}"
    elif f.code == "missing_column":
        last = max((c.column for c in ws[f.row] if c.value not in (None, "")), default=0)
        coord = f"{excel_column(last)}{f.row}"
    else:
        coord = f"{excel_column(ws.min_column - 1)}{f.row}"
    for rng in ws.merged_cells.ranges:
        if coord in rng:
            return rng.start_cell.coordinate
    return coord


def _mark(wb, findings: list[Finding], titles: dict[str, str]) -> list[tuple[Finding, str | None, str | None]]:
    """Fill and comment every finding's cell; (finding, sheet title, cell) of each, in workbook order."""
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    listed = []
    cells: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        if f.code == "sheet_unrecognized":
            continue
        title = titles.get(f.sheet) if f.sheet is not None else None
        coord = _where(wb[title], f) if title in wb.sheetnames else None
        listed.append((f, title, coord))
        if coord:
            cells.setdefault((title, coord), []).append(f)
    for (title, coord), items in cells.items():
        cell = wb[title][coord]
        worst = min((f.severity for f in items), key=_SEVERITY_RANK.__getitem__)
        cell.fill = PatternFill("solid", fgColor=FILLS[worst])
        text = "\n".join(f"【{f.severity}】{f.message}" for f in items)
        if cell.comment is not None and cell.comment.text:
            text = f"{cell.comment.text.rstrip()}\n——jindu 校验——\n{text}"
        lines = sum(1 + len(line) // 18 for line in text.splitlines())
        cell.comment = Comment(_ILLEGAL.sub("", text), "jindu", height=min(400, 24 + 16 * lines), width=300)
    order = {t: i for i, t in enumerate(wb.sheetnames)}

    def key(item):
        f, title, coord = item
        col = _col_number(coord) if coord else 0
        return (order.get(title, -1), f.row or 0, col, _SEVERITY_RANK[f.severity], f.code)

    return sorted(listed, key=key)


def _col_number(coord: str) -> int:
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    return column_index_from_string(coordinate_from_string(coord)[0])


def _add_list(wb, label: str, findings: list[Finding], listed: list, notes: list[str]) -> None:
    """The first sheet: every finding with a link to its cell, the skipped sheets, what was not kept."""
    from openpyxl.styles import Font, PatternFill

    ws = _list_sheet(wb)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    s = summarize(findings)
    _put(ws.cell(1, 1), f"{MARK}：{Path(label).name}")
    ws.cell(1, 1).font = Font(bold=True, size=14)
    _put(ws.cell(2, 1), f"共 {s['错误']} 个错误、{s['警告']} 个警告、{s['提示']} 条提示。点击“单元格”一栏跳到该单元格；"
                       "有问题的单元格已标色（错误红色、警告黄色、提示蓝色），批注中写明了改法。")
    r = _finding_rows(ws, listed, bold, head_fill)
    r = _skipped_rows(ws, [f for f in findings if f.code == "sheet_unrecognized"], r, bold, head_fill)
    wide = [2]
    if notes:
        r += 2
        _put(ws.cell(r, 1), "关于本副本")
        ws.cell(r, 1).font = bold
        for note in notes:
            r += 1
            _put(ws.cell(r, 1), note)
            wide.append(r)
    _lay_out_list(ws, wide)


def _list_sheet(wb):
    """A new first sheet for the list, the only one selected; the list of an earlier annotation goes."""
    for ws in [w for w in wb.worksheets if w.title.startswith(SHEET) and w["A1"].value
               and str(w["A1"].value).startswith(MARK)]:
        wb.remove(ws)
    name, i = SHEET, 1
    while name in wb.sheetnames:
        i += 1
        name = f"{SHEET}{i}"
    ws = wb.create_sheet(name, 0)
    for other in wb.worksheets:
        other.sheet_view.tabSelected = False  # only the list is selected (several selected = grouped sheets)
    wb.active = 0
    ws.sheet_view.tabSelected = True
    return ws


def _header_row(ws, r: int, headers: tuple[str, ...], bold, fill) -> None:
    for c, h in enumerate(headers, start=1):
        _put(ws.cell(r, c), h)
        ws.cell(r, c).font, ws.cell(r, c).fill = bold, fill


def _finding_rows(ws, listed: list, bold, head_fill) -> int:
    """The table of findings from row 4, each linked to its cell; the last row written."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.hyperlink import Hyperlink

    link_font = Font(color="0563C1", underline="single")
    r = 4
    _header_row(ws, r, ("级别", "工作表", "单元格", "列名", "说明"), bold, head_fill)
    for f, title, coord in listed:
        r += 1
        for c, v in enumerate((f.severity, title or f.sheet or "（整个文件）", coord or "", f.column or "",
                               f.message), start=1):
            _put(ws.cell(r, c), v)
        ws.cell(r, 1).fill = PatternFill("solid", fgColor=FILLS[f.severity])
        if coord:
            link = ws.cell(r, 3)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=f"'{title.replace(chr(39), chr(39) * 2)}'!{coord}")
            link.font = link_font
    if not listed:
        r += 1
        _put(ws.cell(r, 1), "未发现问题。")
    return r


def _skipped_rows(ws, skipped: list[Finding], r: int, bold, head_fill) -> int:
    """The sheets not read and why, below row `r`; the last row written."""
    if not skipped:
        return r
    r += 2
    _put(ws.cell(r, 1), "未读取的工作表")
    ws.cell(r, 1).font = bold
    r += 1
    _header_row(ws, r, ("工作表", "原因"), bold, head_fill)
    for f in skipped:
        r += 1
        _put(ws.cell(r, 1), f.sheet or "")
        _put(ws.cell(r, 2), f"{f.detail}；{f.kind.fix.format(detail='', column='', allowed='', value='')}"
             if f.detail else f.message)
    return r


def _lay_out_list(ws, wide: list[int]) -> None:
    """Column widths, wrapped messages, the `wide` rows merged across the table, frozen header, landscape."""
    from openpyxl.styles import Alignment

    for col, width in zip("ABCDE", (8, 24, 10, 16, 64)):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=5, min_col=5, max_col=5):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    for w in wide:  # a line of text across the table's width, wrapped (row height set: merged rows do not grow)
        ws.merge_cells(start_row=w, start_column=1, end_row=w, end_column=5)
        ws.cell(w, 1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.row_dimensions[w].height = 15 * (1 + len(str(ws.cell(w, 1).value)) // 60)
    ws.freeze_panes = "A5"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
