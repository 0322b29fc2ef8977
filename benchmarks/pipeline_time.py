"""Seconds `jindu ARGS` takes once its imports are done: run in a fresh process by bench_compute.py.

    python benchmarks/pipeline_time.py --repeat 15 compute benchmarks/data/csv_10000 --period 2018 --format json

Imports every module the command needs (pandas, pyarrow, pydantic for typer, the reader, the engine), then
times jindu's own main() on ARGS (read, check, compute, write JSON to /dev/null) --repeat times in this
process and prints each run's seconds. Every run starts with jindu's caches emptied (its lru_caches: the
per-value conversions, the area-code and other tables), so that each pays what a fresh process pays once
the imports are done. The interpreter's start and imports take ~0.9 s of noisy time in every process; with
them out, the time that depends on the rows can be told apart at 10⁴ rows.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import time


def clear_caches() -> None:
    """Empty every functools cache of jindu's modules."""
    for name, module in list(sys.modules.items()):
        if name.startswith("jindu_metrics") and module is not None:
            for obj in list(vars(module).values()):
                clear = getattr(obj, "cache_clear", None)
                if callable(clear):
                    clear()


def main() -> None:
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401
    import typer._adapters  # noqa: F401 - typer builds its converters with pydantic

    import jindu_metrics.ledgers.normalize
    import jindu_metrics.metrics.catalog
    import jindu_metrics.metrics.engine
    import jindu_metrics.outputs.compute
    import jindu_metrics.validate  # noqa: F401
    from jindu_metrics.cli import main as jindu

    args = sys.argv[1:]
    repeat = 1
    if args[:1] == ["--repeat"]:
        repeat, args = int(args[1]), args[2:]
    sys.argv = ["jindu", *args]
    times = []
    for _ in range(repeat):
        clear_caches()
        gc.collect()
        code = 0
        with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
            t = time.perf_counter()
            try:
                jindu()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 2
            times.append(time.perf_counter() - t)
        if code not in (0, 1):
            raise SystemExit(f"jindu exited {code}")
    print(" ".join(f"{t:.6f}" for t in times))
    sys.stdout.flush()
    os._exit(0)  # as the jindu executable does: no teardown


if __name__ == "__main__":
    main()
