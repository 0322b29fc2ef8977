"""Deterministic county- and province-scale ledgers for the benchmarks (generation is not timed).

    python benchmarks/generate.py                      # county.xlsx (15k persons, 20k seizures, 3k community,
                                                       # 150k contacts) and CSV/Parquet at 1e4, 1e5, 1e6 rows
    python benchmarks/generate.py --rows 1e4,1e5,1e6,1.88e6 --formats csv,parquet
    python benchmarks/generate.py --formatted          # also county_formatted.xlsx (below)

Scale is counted in total ledger rows (all four ledgers together), in the county workbook's proportions
(persons 8%, seizures 10.6%, community 1.6%, contacts 79.8%): county = 188k rows, 10× county = 1.88M.
CSV: one UTF-8 file per ledger kind in a folder (the reader classifies each file by its header);
Parquet: the same, one file per kind. Everything lands under benchmarks/data/ (git-ignored).
county_formatted.xlsx is county.xlsx as WPS/Excel leave it after formatting whole columns: every sheet
carries styled empty cells down to row 200,000, and one whitespace cell sits at A1,048,576.
The xlsx is written with xlsxwriter when installed (shared strings, as Excel and WPS write), else openpyxl.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
sys.path.insert(0, str(HERE.parent / "src"))

from jindu_metrics import schema  # noqa: E402
from jindu_metrics.ledgers.ids import check_digit  # noqa: E402

COUNTY = {"persons": 15_000, "seizures": 20_000, "community": 3_000, "contacts": 150_000}
COUNTY_ROWS = sum(COUNTY.values())
TOWNS = [f"{n}镇" for n in ("乐平", "芦苞", "大塘", "南山", "白坭", "西南", "云东海")]
SEED = 20181031
BASE = np.datetime64("2010-01-01")


def sizes(rows: float) -> dict[str, int]:
    """Rows per kind for a total of `rows`, in the county workbook's proportions."""
    f = rows / COUNTY_ROWS
    return {k: max(1, round(v * f)) for k, v in COUNTY.items()}


def frames(n: dict[str, int]):
    """The four ledgers as pandas frames with canonical headers and typed values (dates as datetime64)."""
    import pandas as pd

    rng = np.random.default_rng(SEED)
    np_ = n["persons"]
    town_i = np.arange(np_) % len(TOWNS)
    towns = np.array(TOWNS, dtype=object)[town_i]
    villages = np.array([f"{t[:-1]}{v}村" for t in TOWNS for v in range(1, 21)], dtype=object)
    village = villages[town_i * 20 + rng.integers(0, 20, np_)]
    birth = np.datetime64("1960-01-01") + rng.integers(0, 14000, np_).astype("timedelta64[D]")
    births = pd.Series(birth).dt.strftime("%Y%m%d").to_numpy()
    areas = [f"4406{(i // 1000) % 100:02d}" for i in range(np_)]
    # IDs unique within a county: the area digits vary with the sequence's thousands
    bodies = [f"{a}{b}{i % 1000:03d}" for a, b, i in zip(areas, births, range(np_))]
    ids = np.array([s + check_digit(s) for s in bodies], dtype=object)
    names = np.array([f"张{chr(0x4E00 + i % 2000)}{chr(0x4E00 + (i * 7) % 2000)}" for i in range(np_)], dtype=object)
    sex = np.where(np.array([int(s[16]) % 2 for s in ids]) == 1, "男", "女").astype(object)

    def day(lo: int, hi: int, k: int) -> np.ndarray:
        return BASE + rng.integers(lo, hi + 1, k).astype("timedelta64[D]")

    def pick(values, k: int) -> np.ndarray:
        return np.array(list(values), dtype=object)[rng.integers(0, len(values), k)]

    persons = pd.DataFrame({
        "姓名": names, "公民身份号码": ids, "所属村居": village, "所属镇街": towns, "性别": sex,
        "人员类别": pick(("本地", "外来"), np_), "初次发现日期": day(0, 2000, np_), "末次查获日期": day(1000, 3200, np_),
        "滥用毒品种类": pick(schema.DRUGS, np_), "人员状态": pick(schema.PERSON_STATUS[:9], np_),
        "管控等级": pick(schema.CONTROL_LEVELS, np_), "纳入网格化": pick("是否", np_), "病残": pick("否否否是", np_),
        "人户分离": pick("否否是", np_), "已查找": pick("是否", np_), "已见面": pick("是否", np_), "已建档": pick("是否", np_),
    })

    def of_persons(k: int) -> np.ndarray:
        return rng.integers(0, np_, k)

    ns = n["seizures"]
    p = of_persons(ns)
    seizures = pd.DataFrame({
        "查处日期": day(2000, 3200, ns), "公民身份号码": ids[p], "姓名": names[p], "所属村居": village[p],
        "所属镇街": towns[p], "新发现": pick("是否否否", ns), "处置结果": pick(schema.DISPOSALS, ns),
        "应送戒": pick("是否", ns), "病残": pick("否否否是", ns), "送治": pick("是否", ns),
    })
    nc = n["community"]
    p = of_persons(nc)
    decided = day(2000, 3000, nc)
    community = pd.DataFrame({
        "公民身份号码": ids[p], "类别": pick(schema.COMMUNITY_TYPES, nc), "决定日期": decided, "姓名": names[p],
        "所属村居": village[p], "所属镇街": towns[p],
        "报到日期": decided + rng.integers(1, 21, nc).astype("timedelta64[D]"), "已建档": pick("是是是否", nc),
        "执行状态": pick(schema.EXECUTION_STATES[:3], nc), "解除日期": np.full(nc, np.datetime64("NaT"), "M8[D]"),
    })
    nk = n["contacts"]
    p = of_persons(nk)
    contacts = pd.DataFrame({
        "日期": day(2500, 3200, nk), "公民身份号码": ids[p], "方式": pick(schema.CONTACT_METHODS, nk),
        "结果": pick(("阴性", "阴性", "阳性", "见面"), nk), "所属村居": village[p],
        "经办人": np.array([f"社工{i}" for i in range(1, 61)], dtype=object)[rng.integers(0, 60, nk)],
        "姓名": names[p],
    })
    return {"persons": persons, "seizures": seizures, "community": community, "contacts": contacts}


def write_xlsx(path: Path, dfs: dict) -> Path:
    try:
        import xlsxwriter
    except ImportError:
        xlsxwriter = None
    tmp = path.with_suffix(".tmp.xlsx")
    path.parent.mkdir(parents=True, exist_ok=True)
    if xlsxwriter is not None:
        wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": False})
        datefmt = wb.add_format({"num_format": "yyyy-mm-dd"})
        for kind, df in dfs.items():
            ws = wb.add_worksheet(schema.KINDS[kind].name)
            ws.write_row(0, 0, list(df.columns))
            for j, col in enumerate(df.columns):
                s = df[col]
                if s.dtype.kind == "M":
                    for i, v in enumerate(s.dt.to_pydatetime() if hasattr(s.dt, "to_pydatetime") else s):
                        if v is not None and v == v:
                            ws.write_datetime(i + 1, j, v, datefmt)
                else:
                    ws.write_column(1, j, s.tolist())
        wb.close()
    else:
        import openpyxl

        wb = openpyxl.Workbook(write_only=True)
        for kind, df in dfs.items():
            ws = wb.create_sheet(schema.KINDS[kind].name)
            ws.append(list(df.columns))
            for row in df.astype(object).where(df.notna(), None).itertuples(index=False):
                ws.append([v.to_pydatetime() if hasattr(v, "to_pydatetime") else v for v in row])
        wb.save(tmp)
    tmp.replace(path)
    return path


def write_folder(folder: Path, dfs: dict, fmt: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, df in dfs.items():
        out = folder / f"{schema.KINDS[kind].name}.{fmt}"
        tmp = out.with_name(out.name + ".tmp")
        if fmt == "csv":
            df2 = df.copy()
            for c in df2.columns:
                if df2[c].dtype.kind == "M":
                    df2[c] = df2[c].dt.strftime("%Y-%m-%d")
            df2.to_csv(tmp, index=False, encoding="utf-8")
        else:
            df.to_parquet(tmp, index=False)
        tmp.replace(out)
    return folder


def county_xlsx() -> Path:
    path = DATA / "county.xlsx"
    if not path.exists():
        write_xlsx(path, frames(COUNTY))
    return path


FORMATTED_ROWS = 200_000
LAST_ROW = 1_048_576


def county_formatted_xlsx() -> Path:
    """county.xlsx as WPS/Excel save a sheet formatted far below its data: every sheet gets rows of styled empty
    cells (the header's width) down to row 200,000, one whitespace-only cell at row 1,048,576, and a
    dimension that claims all of it. The cells' style is the workbook's second cell format (xf 1)."""
    clean, out = county_xlsx(), DATA / "county_formatted.xlsx"
    if out.exists() and out.stat().st_mtime >= clean.stat().st_mtime:
        return out
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(clean) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", info.filename):
                body = _pad_sheet(body.decode("utf-8")).encode("utf-8")
            dst.writestr(info, body)
    tmp.replace(out)
    return out


def _pad_sheet(xml: str) -> str:
    from openpyxl.utils import column_index_from_string, get_column_letter

    rows = [int(r) for r in re.findall(r'<row r="(\d+)"', xml)]
    last = max(rows, default=0)
    head = re.search(r'<row r="1".*?</row>', xml, re.S)
    width = max((column_index_from_string(c) for c in re.findall(r'<c r="([A-Z]+)1"', head.group(0))),
                default=1) if head else 1
    letters = [get_column_letter(i) for i in range(1, width + 1)]
    pad = [f'<row r="{r}" spans="1:{width}" s="1" customFormat="1">'
           + "".join(f'<c r="{c}{r}" s="1"/>' for c in letters) + "</row>"
           for r in range(last + 1, FORMATTED_ROWS + 1)]
    pad.append(f'<row r="{LAST_ROW}"><c r="A{LAST_ROW}" t="inlineStr"><is><t xml:space="preserve"> </t></is></c></row>')
    claim = f'<dimension ref="A1:{letters[-1]}{LAST_ROW}"/>'
    if "<dimension " in xml:
        xml = re.sub(r'<dimension ref="[^"]*"/>', claim, xml, count=1)
    else:  # openpyxl's writer leaves it out; Excel and WPS write it after <sheetPr>
        at = xml.find("<sheetViews") if "<sheetViews" in xml else xml.find("<sheetData")
        xml = xml[:at] + claim + xml[at:]
    if "<sheetData/>" in xml:
        xml = xml.replace("<sheetData/>", "<sheetData></sheetData>", 1)
    return xml.replace("</sheetData>", "".join(pad) + "</sheetData>", 1)


def scaled(rows: float, fmt: str) -> Path:
    folder = DATA / f"{fmt}_{int(rows)}"
    if not (folder / f"{schema.KINDS['contacts'].name}.{fmt}").exists():
        write_folder(folder, frames(sizes(rows)), fmt)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="1e4,1e5,1e6", help="total rows per scaled input, comma-separated")
    ap.add_argument("--formats", default="csv,parquet")
    ap.add_argument("--formatted", action="store_true",
                    help="also county_formatted.xlsx: county.xlsx formatted to row 200,000, a stray cell below")
    args = ap.parse_args()
    t = time.perf_counter()
    print(county_xlsx(), f"{time.perf_counter() - t:.1f}s")
    if args.formatted:
        t = time.perf_counter()
        print(county_formatted_xlsx(), f"{time.perf_counter() - t:.1f}s")
    for r in [float(x) for x in args.rows.split(",")]:
        for fmt in args.formats.split(","):
            t = time.perf_counter()
            print(scaled(r, fmt), f"{time.perf_counter() - t:.1f}s")


if __name__ == "__main__":
    main()
