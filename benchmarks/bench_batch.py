"""Benchmark (not a test): `jindu batch` over 30 township files, --jobs 2 vs --jobs 1, median of 3 runs.

    python benchmarks/bench_batch.py [--towns 30] [--persons 400] [--repeat 3]

Target (issue 6): --jobs 2 at least 1.6× faster than --jobs 1.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--towns", type=int, default=30)
    ap.add_argument("--persons", type=int, default=400)  # about 乐平镇 (374 in register)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    from support.workbooks import write_canonical
    from test_batch import town_records  # the tests' synthetic township generator

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        rows = 0
        for j in range(args.towns):
            recs = town_records(f"镇{j:02d}", seed=j, n=args.persons, id_base=j * 1000)
            rows += sum(len(v) for v in recs.values())
            write_canonical(recs, folder / f"镇{j:02d}.xlsx")
        print(f"{args.towns} 个镇街文件，共 {rows} 行")

        def once(jobs: int) -> float:
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "jindu_metrics", "batch", str(folder), "--period",
                                "2018-01..2018-10", "--out", str(Path(tmp) / f"out{jobs}"), "--jobs", str(jobs)],
                               capture_output=True, text=True)
            dt = time.perf_counter() - t0
            if r.returncode != 0:
                raise SystemExit(f"batch failed ({r.returncode}): {r.stderr}")
            return dt

        # interleaved, so that a change in the machine's load touches both alike
        runs: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.repeat):
            for jobs in (1, 2):
                runs[jobs].append(once(jobs))
        times = {}
        for jobs in (1, 2):
            times[jobs] = statistics.median(runs[jobs])
            print(f"--jobs {jobs}: 中位数 {times[jobs]:.2f} s（{', '.join(f'{t:.2f}' for t in runs[jobs])}）")
        same = (Path(tmp) / "out1/summary.json").read_bytes() == (Path(tmp) / "out2/summary.json").read_bytes()
        print(f"加速比 --jobs 2 / --jobs 1 = {times[1] / times[2]:.2f}×（目标 ≥ 1.6×）；结果一致：{same}")


if __name__ == "__main__":
    main()
