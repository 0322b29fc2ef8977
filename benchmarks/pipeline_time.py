"""Seconds `jindu ARGS` takes once its imports are done: run in a fresh process by bench_compute.py.

    python benchmarks/pipeline_time.py compute benchmarks/data/csv_10000 --period 2018 --format json

Imports every module the command needs (pandas, pyarrow, pydantic for typer, the reader, the engine), then
times jindu's own main() on ARGS (read, check, compute, write JSON to /dev/null) and prints the seconds.
The interpreter's start and imports take ~0.9 s of noisy time in every run; with them out, the time that
depends on the rows can be told apart at 10⁴ rows. Caches start empty: each run is a new process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time


def main() -> None:
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.csv
    import pyarrow.parquet  # noqa: F401
    import typer._adapters  # noqa: F401 - typer builds its converters with pydantic

    import jindu_metrics.export
    import jindu_metrics.ledgers.normalize
    import jindu_metrics.metrics.catalog
    import jindu_metrics.metrics.engine
    import jindu_metrics.validate  # noqa: F401
    from jindu_metrics.cli import main as jindu

    sys.argv = ["jindu", *sys.argv[1:]]
    code = 0
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null):
        t = time.perf_counter()
        try:
            jindu()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        elapsed = time.perf_counter() - t
    if code not in (0, 1):
        raise SystemExit(f"jindu exited {code}")
    print(f"{elapsed:.6f}")
    sys.stdout.flush()
    os._exit(0)  # as the jindu executable does: no teardown


if __name__ == "__main__":
    main()
