"""Every output door at county scale, side by side in one run (issue 17): one workbook, interleaved rounds.

    python benchmarks/bench_outputs.py [--repeat 5] [--skip-formatted]

Commands on benchmarks/data/county.xlsx (benchmarks/generate.py): `compute --format json`; `--by 所属村居` as
json, csv, table written to a file, xlsx; `--by 所属镇街 --format json`; `batch --jobs 2`; and `compute --format
json` on a copy of the workbook formatted down to row 200,000 with one whitespace cell at row 1,048,576
(generate.county_formatted_xlsx(); not timed). Each round runs every command once, in a fresh process (wall time), so
that all of them see the same machine load; the figure is the median of --repeat rounds, the ratio its
reference's median beside it, and the per-round ratios (same round) are listed too. Peak RSS: one extra run
per command (bench_compute.rss). Prints Markdown for the README's 性能 section.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from bench_compute import JINDU, fmt_mb, fmt_s, installed_bytecode, machine, rss, run  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-formatted", action="store_true", help="leave out the formatted-to-row-200,000 copy")
    args = ap.parse_args()

    print(f"机器：{machine()}\n")
    installed_bytecode()
    county = generate.county_xlsx()
    tmp = Path(tempfile.mkdtemp(prefix="jindu-bench-"))
    try:
        year, month = ["--period", "2018"], ["--period", "2018-10"]
        village = [*JINDU, "compute", str(county), *year, "--by", "所属村居"]
        # name → (command, the name of the command it is compared with)
        cmds: dict[str, tuple[list[str], str | None]] = {
            "compute --format json": ([*JINDU, "compute", str(county), *year, "--format", "json"], None),
            "compute --by 所属村居 --format json": ([*village, "--format", "json"], None),
            "compute --by 所属村居 --format csv": ([*village, "--format", "csv"], "compute --by 所属村居 --format json"),
            "compute --by 所属村居（表格，写入文件）": ([*village, "-o", str(tmp / "t.txt")],
                                              "compute --by 所属村居 --format json"),
            "compute --by 所属村居 --format xlsx": ([*village, "--format", "xlsx", "-o", str(tmp / "v.xlsx")],
                                               "compute --by 所属村居 --format json"),
            "compute --period 2018-10 --by 所属镇街 --format json": (
                [*JINDU, "compute", str(county), *month, "--by", "所属镇街", "--format", "json"], None),
            "batch --period 2018-10 --jobs 2": ([*JINDU, "batch", str(county), *month, "--jobs", "2", "--out",
                                                 str(tmp / "batch")], "compute --period 2018-10 --by 所属镇街 --format json"),
        }
        if not args.skip_formatted:
            fmt_copy = generate.county_formatted_xlsx()
            cmds["compute --format json（带格式至第 200,000 行的副本）"] = (
                [*JINDU, "compute", str(fmt_copy), *year, "--format", "json"], "compute --format json")

        times: dict[str, list[float]] = {k: [] for k in cmds}
        for _ in range(args.repeat):
            for name, (cmd, _ref) in cmds.items():
                times[name].append(run(cmd))
                shutil.rmtree(tmp / "batch", ignore_errors=True)  # batch writes a fresh folder each time
        med = {k: statistics.median(v) for k, v in times.items()}
        peak = {}
        for name, (cmd, _ref) in cmds.items():
            peak[name] = rss(cmd)
            shutil.rmtree(tmp / "batch", ignore_errors=True)

        print(f"县级台帐 {county.name}（{generate.COUNTY_ROWS:,} 行），整进程墙钟时间，{args.repeat} 轮交替执行取中位数；"
              "“相对”为同一次运行中参照命令（括号内）的中位数之比\n")
        print("| 命令 | 时间 | 相对 | 峰值内存 | 内存相对 |")
        print("|---|---:|---:|---:|---:|")
        for name, (_cmd, ref) in cmds.items():
            rel = f"{med[name] / med[ref]:.2f}×（{ref}）" if ref else "—"
            mem = f"{peak[name] / peak[ref]:.2f}×" if ref else "—"
            print(f"| {name} | {fmt_s(med[name])} | {rel} | {fmt_mb(peak[name])} | {mem} |")
        print("\n逐轮比值（同一轮内 命令 ÷ 参照，由小到大）：\n")
        for name, (_cmd, ref) in cmds.items():
            if ref:
                rounds = sorted(a / b for a, b in zip(times[name], times[ref]))
                print(f"- {name}：{'、'.join(f'{r:.2f}×' for r in rounds)}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
