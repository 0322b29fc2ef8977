"""`jindu --help` and `jindu metrics` stay light: importing the CLI and listing the catalog never import
pandas (or numpy/pyarrow); help pages and tables do not import rich either. Not timed; checks what the process has
imported."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("pandas", "numpy", "pyarrow", "fastexcel", "python_calamine", "openpyxl", "rich")


def imported_after(code: str) -> set[str]:
    probe = code + f"\nimport sys\nprint(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_cli_import_and_help_do_not_import_pandas():
    mods = imported_after(
        "import contextlib, io\n"
        "from jindu_metrics.cli import app\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        app(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "    for cmd in ('compute', 'validate', 'report', 'batch', 'init', 'explain', 'metrics'):\n"
        "        try:\n"
        "            app([cmd, '--help'])\n"
        "        except SystemExit:\n"
        "            pass\n")
    assert not mods, mods


def test_metrics_listing_does_not_import_pandas(tmp_path):
    mods = imported_after(
        "import contextlib, io, os\n"
        f"os.chdir({str(tmp_path)!r})\n"
        "from jindu_metrics.cli import app\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        "    try:\n"
        "        app(['metrics'])\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 0, e.code\n"
        "assert '送戒率' in buf.getvalue()\n")
    assert not mods, mods  # the listing is a plain-text table (cli/tables.py), not rich


def test_probe_detects_pandas():
    # the probe itself can fail: importing pandas is seen
    assert "pandas" in imported_after("import pandas")
