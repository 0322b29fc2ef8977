"""Test builders: write ledger workbooks / CSVs in any variation of ledgers.md's leniency."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile
from pathlib import Path

from jindu_metrics.ledgers.ids import make_id

ID_A = make_id("440607", "19850312", 11)  # odd 17th digit -> 男
ID_B = make_id("440607", "19900101", 22)
ID_C = make_id("440607", "19781224", 33)

BAD_SUM = ID_B[:17] + ("0" if ID_B[17] != "0" else "1")

PERSON_HEADER = ["姓名", "公民身份号码", "所属村居", "所属镇街", "人员类别", "初次发现日期", "人员状态", "纳入网格化"]


def person_rows() -> list[list]:
    """Canonical persons data (dates as real dates, IDs as text)."""
    return [
        ["张三", ID_A, "乐平村", "乐平镇", "本地", dt.datetime(2018, 10, 5), "社会面", "是"],
        ["李四", ID_B, "南边村", "乐平镇", "外来", dt.datetime(2017, 3, 1), "社区戒毒", "否"],
        ["王五", ID_C, "乐平村", "乐平镇", "本地", dt.datetime(2016, 12, 31), "强制隔离戒毒", "是"],
    ]


def planted_sheets() -> dict[str, list[list]]:
    """A planted fault of every finding kind the reader and validate know, by sheet (see test_validate.EXPECTED)."""
    ph = PERSON_HEADER + ["性别"]
    r = [row + [None] for row in person_rows()]
    persons = [ph,
               r[0][:4] + ["本地", "2018-13-45", "社会面", "是", "男"],       # 2: unreadable date
               r[1][:4] + ["外来", dt.datetime(1949, 1, 1), "死亡", "是", "女"],  # 3: date out of range
               ["王五", BAD_SUM] + r[2][2:],                                   # 4: bad checksum
               ["赵六", 440607198001011234.0] + r[2][2:],                      # 5: id stored as number
               ["钱七", "44060719800"] + r[2][2:],                             # 6: bad format
               ["孙八", ID_A] + r[2][2:],                                      # 7: duplicate person
               ["周九", ID_C, "乐平村", "乐平镇", "本地人", None, "社会面", "也许", "女"],  # 8: value, flag, gender
               ["吴十", make_id("440607", "19700101", 5), None, "乐平镇", "本地", None, "社会面", "否", None],  # 9: required empty
               ]
    seizures = [["查处日期", "公民身份号码", "处置结果"],
                [dt.datetime(2018, 5, 1), make_id("440607", "19910101", 7), "强戒"]]             # 2: unknown person
    community = [["公民身份号码", "类别", "决定日期", "报到日期", "执行状态"],
                 [ID_B, "社区戒毒", "2018-05-10", "2018-05-01", "执行中"],                       # 2: before + status
                 [ID_A, "社区康复", "2018-05-10", "2099-01-01", "期满解除"]]                     # 3: future
    contacts = [["日期", "方式"], ["2018-06-01", "走访"]]                                          # missing ID column
    return {"吸毒人员登记台帐": persons, "查处台帐": seizures, "社区戒毒社区康复台帐": community,
            "帮教管控台帐": contacts, "说明": [["填表说明"]]}


def write_xls(path: Path, sheets: dict[str, list[list]], *, hidden: tuple[str, ...] = ()) -> Path:
    """An old BIFF8 .xls (xlwt): dates as date cells, everything else as given."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd")
    for name, rows in sheets.items():
        ws = wb.add_sheet(name)
        if name in hidden:
            ws.visibility = 1
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v is None:
                    continue
                ws.write(i, j, v, date_style) if isinstance(v, dt.date) else ws.write(i, j, v)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(str(path))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list]], *, merges: dict[str, list[str]] | None = None,
               date1904: bool = False, text_cols: dict[str, list[int]] | None = None) -> Path:
    """Write a workbook: {sheet name: rows}; merges: {sheet: ["A1:C1", ...]}."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    if date1904:
        wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
        for r in ws.iter_rows():
            for c in r:
                if isinstance(c.value, (dt.datetime, dt.date)):
                    c.number_format = "yyyy-mm-dd"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv(path: Path, rows: list[list], *, encoding: str = "utf-8", delimiter: str = ",",
              lineterminator: str = "\r\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh, delimiter=delimiter, lineterminator=lineterminator)
        for row in rows:
            w.writerow(["" if v is None else (v.strftime("%Y-%m-%d") if isinstance(v, dt.date) else v) for v in row])
    return path


def write_ods(path: Path, rows: list[list]) -> Path:
    """A minimal single-sheet ODS (strings and dates), written by hand: no ODS writer is installed."""
    import zipfile
    from xml.sax.saxutils import escape

    cells = []
    for row in rows:
        out = []
        for v in row:
            if isinstance(v, (dt.date, dt.datetime)):
                d = v.strftime("%Y-%m-%d")
                out.append(f'<table:table-cell office:value-type="date" office:date-value="{d}"><text:p>{d}</text:p>'
                           "</table:table-cell>")
            elif v is None or v == "":
                out.append("<table:table-cell/>")
            else:
                out.append(f'<table:table-cell office:value-type="string"><text:p>{escape(str(v))}</text:p>'
                           "</table:table-cell>")
        cells.append("<table:table-row>" + "".join(out) + "</table:table-row>")
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="吸毒人员登记台帐">'
        + "".join(cells) + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", content)
        zf.writestr("META-INF/manifest.xml", manifest)
    return path


def canonical_persons(tmp: Path):
    """The canonical reading every persons variation must equal (canonical columns, origin dropped)."""
    from jindu_metrics.ledgers import load_ledgers

    p = write_xlsx(tmp / "canonical.xlsx", {"吸毒人员登记台帐": [PERSON_HEADER] + person_rows()})
    return comparable(load_ledgers([p])["persons"])


def comparable(df):
    """A persons frame without origin columns and unknown extras, for equality checks."""
    from jindu_metrics.ledgers.frames import columns_of

    cols = [c for c in columns_of("persons") if not c.startswith("_")]
    return df[cols].reset_index(drop=True)


def patch_sheet(src: Path, dst: Path, edit, member: str = "xl/worksheets/sheet1.xml") -> Path:
    """A copy of workbook `src` whose worksheet XML is `edit(xml)`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info, edit(data) if info.filename == member else data)
    return dst


def half_write_script(then: str, setup: str = "", patches: str = "") -> str:
    """A `python -c` script running jindu's CLI (argv after the script) whose atomic writer gets half of its
    first write flushed to the temporary file, after which the statements `then` run (a signal to itself).
    `setup` runs first (names `then` uses); `patches`, more monkeypatches of `outputs`."""
    return f"""
import os, signal, sys
from jindu_metrics import outputs
real_fdopen = os.fdopen
{setup}
class Half:
    def __init__(self, fh): self.fh = fh
    def __enter__(self): return self
    def __exit__(self, *exc): self.fh.close()
    def __getattr__(self, name): return getattr(self.fh, name)
    def write(self, data):
        self.fh.write(data[: len(data) // 2]); self.fh.flush(); os.fsync(self.fh.fileno())
        {then}
outputs.os.fdopen = lambda fd, *a, **k: Half(real_fdopen(fd, *a, **k))
{patches}
sys.argv = ["jindu", *sys.argv[1:]]
from jindu_metrics.cli import run
run()
"""
