"""Shared test helpers: `jindu` runs the CLI in-process through its console entry point; `golden` compares
an output with its reviewed golden file."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Timing checks measure the machine, not the code: a 2-core CI box under load trips them on correct code.
settings.register_profile("jindu", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("jindu")


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


def assert_golden(path: Path, text: str) -> None:
    """`text` equals the golden file. A missing golden fails: JINDU_WRITE_GOLDEN=1 (re)writes it, to be
    reviewed by eye and committed; a test never writes its own expectation otherwise."""
    if os.environ.get("JINDU_WRITE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"golden file {path.name} is missing: rerun with JINDU_WRITE_GOLDEN=1, review it, commit it"
    assert text == path.read_text(encoding="utf-8"), path.name


@pytest.fixture
def golden():
    return assert_golden
