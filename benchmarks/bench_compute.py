"""Whole-process benchmark of `jindu compute`, side by side with the reading floor, in one run (issue 7).

    python benchmarks/bench_compute.py [--repeat 3] [--rows 1e4,1e5,1e6] [--formats csv,parquet] [--skip-openpyxl]

Every figure is the median of --repeat runs of a fresh subprocess (wall time), interleaved run by run so
that all commands see the same machine load. Peak RSS: one extra run per command under /usr/bin/time -v (else getrusage of a wrapper's child).
Times per row are *marginal*: (t(N) − t(base)) / N, where t is the time jindu takes once its imports are
done (benchmarks/pipeline_time.py: repeated in one fresh process with jindu's caches emptied before each
run, the fastest run taken) and t(base) the same on a 100-row input of the same format: the fixed cost of a
run (interpreter, imports, catalog) taken out.
Prints Markdown tables (for the README's 性能 section) and the machine.
Data come from benchmarks/generate.py (written under benchmarks/data/ when absent; not timed). jindu's modules
are compiled to bytecode first, as an installed package's are (installed_bytecode).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

PY = sys.executable
JINDU = [PY, "-m", "jindu_metrics"]
FLOOR = ("import sys, fastexcel; r = fastexcel.read_excel(sys.argv[1]); "
         "print(sum(len(r.load_sheet(n).to_pandas()) for n in r.sheet_names))")
NAIVE = ("import sys, pandas as pd; d = pd.read_excel(sys.argv[1], sheet_name=None, engine='openpyxl'); "
         "print(sum(len(x) for x in d.values()))")


def installed_bytecode() -> None:
    """Compile jindu's modules to bytecode, as pip does when it installs the package. Run from a source
    tree under PYTHONDONTWRITEBYTECODE (as here), every process would compile them again (~0.1–0.2 s of CPU
    that no installed jindu pays, and the floor's libraries do not pay either)."""
    import compileall

    import jindu_metrics

    compileall.compile_dir(str(Path(jindu_metrics.__file__).resolve().parent), quiet=1)


# CPU seconds (user + system) of each run, by command, where os.wait4 gives them (not on Windows): on a shared
# machine a second core is not always there to be had, and the CPU time shows what a change saved regardless
CPU: dict[tuple[str, ...], list[float]] = {}
# peak RSS in bytes of each run, by command, where os.wait4 gives it: one run's peak depends on how the threads
# met (which tables were alive at once), so a median over the rounds says more than one extra run
PEAK: dict[tuple[str, ...], list[int]] = {}


def run(cmd: list[str]) -> float:
    """Wall seconds of one subprocess (its CPU seconds go to CPU); output discarded, failure raises."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if hasattr(os, "wait4"):
        err = proc.stderr.read()
        proc.stderr.close()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        CPU.setdefault(tuple(cmd), []).append(usage.ru_utime + usage.ru_stime)
        PEAK.setdefault(tuple(cmd), []).append(usage.ru_maxrss * 1024)  # KiB on Linux
    else:
        err = proc.communicate()[1]
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 1):  # 1 = findings present, still a complete result
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err.decode()[-2000:]}")
    return wall


def cpu_median(cmd: list[str]) -> float | None:
    """The median CPU seconds of the runs of `cmd` so far (None where they are not known)."""
    got = CPU.get(tuple(cmd))
    return statistics.median(got) if got else None


def peak_median(cmd: list[str]) -> int | None:
    """The median peak RSS in bytes of the runs of `cmd` so far (None where it is not known)."""
    got = PEAK.get(tuple(cmd))
    return int(statistics.median(got)) if got else None


def rss(cmd: list[str]) -> int:
    """Peak RSS of one command alone, via /usr/bin/time -v when present, else a wrapper process."""
    if Path("/usr/bin/time").exists():
        proc = subprocess.run(["/usr/bin/time", "-v", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
        for line in proc.stderr.splitlines():
            if "Maximum resident set size" in line:
                return int(line.split(":")[1]) * 1024
    code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
            "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([PY, "-c", code, *cmd], capture_output=True, text=True)
    return int(out.stdout.strip()) * 1024


def timings(cmds: dict[str, list[str]], repeat: int) -> dict[str, list[float]]:
    """Every run's wall seconds, by command; interleaved: each round runs every command once."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            times[name].append(run(cmd))
    return times


def medians(cmds: dict[str, list[str]], repeat: int) -> dict[str, float]:
    return {k: statistics.median(v) for k, v in timings(cmds, repeat).items()}


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    import pandas as pd

    try:
        import fastexcel

        fx = fastexcel.__version__
    except Exception:  # noqa: BLE001
        fx = "—"
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = float("nan")
    return (f"{os.cpu_count()} CPU（{model}），Python {platform.python_version()}，pandas {pd.__version__}，"
            f"fastexcel {fx}，{platform.system()} {platform.release()}；开始时 1 分钟负载 {load:.2f}")


def fmt_s(x: float) -> str:
    return f"{x:.2f} s"


def fmt_mb(b: int) -> str:
    return f"{b / 2**20:.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rows", default="1e4,1e5,1e6", help="total ledger rows of the scaled inputs")
    ap.add_argument("--formats", default="csv,parquet", help='scaled inputs to time ("" for none)')
    ap.add_argument("--skip-openpyxl", action="store_true", help="leave out the slow naive openpyxl read")
    args = ap.parse_args()

    print(f"机器：{machine()}\n")
    installed_bytecode()
    county = generate.county_xlsx()
    period = ["--period", "2018", "--format", "json"]

    # 1. County workbook: jindu vs the floor vs the naive read; jindu --help
    cmds = {
        "jindu compute --format json": [*JINDU, "compute", str(county), *period],
        "fastexcel → pandas（下限）": [PY, "-c", FLOOR, str(county)],
    }
    if not args.skip_openpyxl:
        cmds["pandas.read_excel(openpyxl)（手写脚本）"] = [PY, "-c", NAIVE, str(county)]
    cmds["jindu --help"] = ["jindu", "--help"] if shutil.which("jindu") else [*JINDU, "--help"]
    times = timings(cmds, args.repeat)
    med = {k: statistics.median(v) for k, v in times.items()}
    floor = med["fastexcel → pandas（下限）"]
    rounds = sorted(a / b for a, b in zip(times["jindu compute --format json"], times["fastexcel → pandas（下限）"]))
    size = county.stat().st_size / 1e6
    print(f"县级台帐 {county.name}（{size:.1f} MB；{generate.COUNTY_ROWS:,} 行：吸毒人员 15k、查处 20k、社区戒毒康复 3k、"
          f"帮教 150k），整进程墙钟时间，{args.repeat} 次中位数\n")
    print("| 命令 | 时间 | 相对下限 | CPU 时间（用户+系统） | CPU 相对下限 | 峰值内存 |")
    print("|---|---:|---:|---:|---:|---:|")
    floor_cpu = cpu_median(cmds["fastexcel → pandas（下限）"])
    for name, t in med.items():
        ratio = "—" if name == "jindu --help" else f"{t / floor:.2f}×"
        c = cpu_median(cmds[name])
        c_ratio = "—" if c is None or floor_cpu is None or name == "jindu --help" else f"{c / floor_cpu:.2f}×"
        print(f"| {name} | {fmt_s(t)} | {ratio} | {'—' if c is None else fmt_s(c)} | {c_ratio} | "
              f"{fmt_mb(rss(cmds[name]))} |")
    print(f"\n逐轮比值（同一轮内 jindu ÷ 下限，由小到大）：{'、'.join(f'{r:.2f}×' for r in rounds)}\n")

    # 2. Scale: CSV / Parquet folders at 1e4..1e6 rows. Whole-process time, and the time after the imports
    # (pipeline_time.py): the interpreter's start and imports are ~0.9 s of noise in every run, more than
    # what 10⁴ rows cost, so the time per row is taken from the latter.
    rows = [float(x) for x in args.rows.split(",")]
    small = max(args.repeat, 15)  # the small inputs' differences are a few hundredths of a second
    for fmt in [f for f in args.formats.split(",") if f]:  # --formats "": the county workbook only
        base = generate.scaled(100, fmt)
        folders = {int(r): generate.scaled(r, fmt) for r in rows}
        whole = medians({str(n): [*JINDU, "compute", str(f), *period] for n, f in folders.items()}, args.repeat)
        inner = {"base": pipeline(base, period, small)}
        inner.update({str(n): pipeline(f, period, small if n <= 10_000 else args.repeat) for n, f in folders.items()})
        t0 = inner["base"]
        print(f"规模：{fmt.upper()} 文件夹（每类台帐一个文件），`jindu compute --period 2018 --format json`。"
              f"整进程时间取 {args.repeat} 次中位数；导入后时间 = 解释器启动和导入完成之后 jindu 的读取、校验、计算和输出，"
              f"在同一进程内重复（≤10⁴ 行 {small} 次，其余 {args.repeat} 次）、每次先清空 jindu 的缓存，取最快一次"
              f"（共享机器上的干扰只会让时间变长；benchmarks/pipeline_time.py）；"
              f"每行时间 = (t(N) − t(100 行)) / N，t 取导入后时间，t(100 行) = {fmt_s(t0)}\n")
        print("| 行数 N | 整进程时间 | 导入后时间 | 每行时间（边际） | 相对 10⁴ 行 | 峰值内存 |")
        print("|---:|---:|---:|---:|---:|---:|")
        first = None
        for n, f in folders.items():
            t = inner[str(n)]
            per = (t - t0) / n
            first = per if first is None else first
            print(f"| {n:,} | {fmt_s(whole[str(n)])} | {fmt_s(t)} | {per * 1e6:.1f} µs | {per / first:.2f}× | "
                  f"{fmt_mb(rss([*JINDU, 'compute', str(f), *period]))} |")
        print()


def pipeline(folder: Path, period: list[str], repeat: int) -> float:
    """Seconds of `jindu compute FOLDER` after its imports, the fastest of `repeat` runs in one fresh process,
    each with jindu's caches emptied (pipeline_time.py). The fastest, as timeit takes it: on a shared machine
    noise only ever adds time, and the differences measured at 10⁴ rows are a few hundredths of a second."""
    cmd = [PY, str(HERE / "pipeline_time.py"), "--repeat", str(repeat), "compute", str(folder), *period]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return min(float(x) for x in proc.stdout.split())

if __name__ == "__main__":
    main()
