"""The reader's targets, before and after a change, interleaved in one run: two source trees side by side.

    python benchmarks/bench_trees.py BEFORE_SRC AFTER_SRC [--repeat 7]

Each round runs, each in a fresh process: the fastexcel floor (bench_compute.FLOOR) on county.xlsx, then for
each tree `compute --format json` on county.xlsx and on county_formatted.xlsx (benchmarks/generate.py). The
figures are medians over the rounds (wall, and CPU user+sys, which load moves less) and the ratios of medians:
compute / floor, formatted / clean. Peak RSS:
the median over the rounds (os.wait4), else one extra run per command (bench_compute.rss). Both trees are compiled to bytecode first, as pip does. A shared machine's load moves every figure; the ratios hold.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402
from bench_compute import FLOOR, PY, cpu_median, peak_median, rss, run  # noqa: E402


def _in(tree: str, cmd: list[str]) -> list[str]:
    return ["env", f"PYTHONPATH={tree}", *cmd]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trees", nargs=2, help="the src folders to compare (before, after)")
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    clean, formatted = generate.county_xlsx(), generate.county_formatted_xlsx()
    for tree in args.trees:  # as installed: each tree's modules compiled once, not in every process
        compileall.compile_dir(tree, quiet=1)
    cmds = {"floor": [PY, "-c", FLOOR, str(clean)]}
    for name, tree in zip(("before", "after"), args.trees):
        for kind, path in (("clean", clean), ("formatted", formatted)):
            cmds[f"{name} {kind}"] = _in(os.path.abspath(tree), [PY, "-m", "jindu_metrics", "compute", str(path),
                                                                   "--format", "json"])
    got: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(args.repeat):
        for k, cmd in cmds.items():
            got[k].append(run(cmd))
    med = {k: statistics.median(v) for k, v in got.items()}
    peak = {k: peak_median(cmd) or rss(cmd) for k, cmd in cmds.items()}
    print(f"| command | median s ({args.repeat} rounds) | median CPU s (user+sys) | median peak RSS MB |\n|---|---|---|---|")
    for k, cmd in cmds.items():
        cpu = cpu_median(cmd)
        print(f"| {k} | {med[k]:.2f} | {'—' if cpu is None else f'{cpu:.2f}'} | {peak[k] / 2**20:.0f} |")
    for name in ("before", "after"):
        print(f"{name}: clean/floor {med[f'{name} clean'] / med['floor']:.2f}×, formatted/clean "
              f"{med[f'{name} formatted'] / med[f'{name} clean']:.2f}×, RSS formatted/clean "
              f"{peak[f'{name} formatted'] / peak[f'{name} clean']:.2f}×")


if __name__ == "__main__":
    main()
