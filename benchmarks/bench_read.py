"""Read benchmark: `load_ledgers` vs fastexcel→pandas (the floor) vs pandas+openpyxl (the naive script).

Generates (deterministically) a county workbook under benchmarks/data/ when absent:
15k persons, 20k seizures, 3k community orders, 150k contacts, canonical headers.
Usage: python benchmarks/bench_read.py [--repeat 3] [--skip-openpyxl]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
COUNTY = DATA / "county.xlsx"

TOWNS = [f"{n}镇" for n in ("乐平", "芦苞", "大塘", "南山", "白坭", "西南", "云东海")]
VILLAGES = {t: [f"{t[:-1]}{i}村" for i in range(1, 21)] for t in TOWNS}


def generate(path: Path = COUNTY, n_persons: int = 15_000, n_seizures: int = 20_000,
             n_community: int = 3_000, n_contacts: int = 150_000) -> Path:
    """Write the county workbook (write-only openpyxl; the generator is not timed)."""
    import openpyxl

    sys.path.insert(0, str(HERE.parent / "src"))
    from jindu_metrics import schema
    from jindu_metrics.ledgers.ids import make_id

    rnd = random.Random(20181031)
    base = dt.date(2010, 1, 1)

    def day(lo: int = 0, hi: int = 3200) -> dt.datetime:
        return dt.datetime.combine(base + dt.timedelta(days=rnd.randint(lo, hi)), dt.time())

    persons = []
    for i in range(n_persons):
        town = TOWNS[i % len(TOWNS)]
        birth = dt.date(1960, 1, 1) + dt.timedelta(days=rnd.randint(0, 14000))
        pid = make_id("440607", birth.strftime("%Y%m%d"), i)
        # make_id keeps only seq % 1000: vary the area digits to keep IDs unique
        pid = make_id(f"4406{(i // 1000) % 100:02d}", birth.strftime("%Y%m%d"), i)
        persons.append([
            f"张{chr(0x4E00 + i % 2000)}{chr(0x4E00 + (i * 7) % 2000)}", pid,
            rnd.choice(VILLAGES[town]), town, "男" if int(pid[16]) % 2 else "女",
            rnd.choice(("本地", "外来")), day(0, 2000), day(1000, 3200),
            rnd.choice(schema.DRUGS), rnd.choice(schema.PERSON_STATUS[:9]), rnd.choice(schema.CONTROL_LEVELS),
            rnd.choice("是否"), rnd.choice("否否否是"), rnd.choice("否否是"), rnd.choice("是否"),
            rnd.choice("是否"), rnd.choice("是否"),
        ])
    wb = openpyxl.Workbook(write_only=True)

    def sheet(kind: str, rows: list[list]) -> None:
        ws = wb.create_sheet(schema.KINDS[kind].name)
        ws.append(list(schema.KINDS[kind].column_names))
        for r in rows:
            ws.append(r)

    sheet("persons", persons)
    sheet("seizures", [
        [day(2000, 3200), p[1], p[0], p[2], p[3], rnd.choice("是否否否"), rnd.choice(schema.DISPOSALS),
         rnd.choice("是否"), rnd.choice("否否否是"), rnd.choice("是否")]
        for p in (persons[rnd.randrange(n_persons)] for _ in range(n_seizures))])
    sheet("community", [
        [p[1], rnd.choice(schema.COMMUNITY_TYPES), d, p[0], p[2], p[3], d + dt.timedelta(days=rnd.randint(1, 20)),
         rnd.choice("是是是否"), rnd.choice(schema.EXECUTION_STATES[:3]), None]
        for p, d in ((persons[rnd.randrange(n_persons)], day(2000, 3000)) for _ in range(n_community))])
    sheet("contacts", [
        [day(2500, 3200), p[1], rnd.choice(schema.CONTACT_METHODS), rnd.choice(("阴性", "阴性", "阳性", "见面")),
         p[2], f"社工{rnd.randint(1, 60)}", p[0]]
        for p in (persons[rnd.randrange(n_persons)] for _ in range(n_contacts))])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    tmp.replace(path)
    return path


CODE = {
    "jindu load_ledgers": "from jindu_metrics.ledgers import load_ledgers; s=load_ledgers([{p!r}]); "
                          "print(sum(len(f) for f in s.frames.values()))",
    "fastexcel→pandas (floor)": "import fastexcel; r=fastexcel.read_excel({p!r}); "
                                "print(sum(len(r.load_sheet(n).to_pandas()) for n in r.sheet_names))",
    "pandas+openpyxl (naive)": "import pandas as pd; d=pd.read_excel({p!r}, sheet_name=None, engine='openpyxl'); "
                               "print(sum(len(x) for x in d.values()))",
}


def run(code: str) -> tuple[float, str]:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return time.perf_counter() - t, out.stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-openpyxl", action="store_true")
    args = ap.parse_args()
    if not COUNTY.exists():
        t = time.perf_counter()
        generate()
        print(f"generated {COUNTY} in {time.perf_counter() - t:.1f}s")
    print(f"file: {COUNTY} ({COUNTY.stat().st_size / 1e6:.1f} MB), whole process, median of {args.repeat}")
    results = {}
    for name, code in CODE.items():
        if args.skip_openpyxl and "openpyxl" in name:
            continue
        times = []
        for _ in range(args.repeat):
            t, rows = run(code.format(p=str(COUNTY)))
            times.append(t)
        results[name] = statistics.median(times)
        print(f"{name:28s} {results[name]:7.2f} s   rows={rows}")
    floor = results["fastexcel→pandas (floor)"]
    for name, t in results.items():
        print(f"{name:28s} {t / floor:5.2f}× floor")


if __name__ == "__main__":
    main()
