"""Shared test helpers: `jindu` runs the CLI in-process through its console entry point."""

from __future__ import annotations

import contextlib
import io
import sys

import pytest


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """`jindu ARGS` through jindu_metrics.cli.main (the one error boundary): (exit code, stdout, stderr)."""
    from jindu_metrics.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = sys.argv
    sys.argv = ["jindu", *map(str, args)]
    code = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        sys.argv = old
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def jindu():
    return run_cli
