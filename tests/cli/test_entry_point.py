"""The `jindu` executable (cli.run): everything written is flushed before the fast exit, and the exit codes
are main()'s."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "sample_ledgers"


def _jindu(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jindu_metrics", *args], capture_output=True, text=True,
                          timeout=120)


def test_large_output_arrives_whole_and_exit_code_is_kept():
    r = _jindu("validate", str(SAMPLE / "messy"), "--format", "json")
    doc = json.loads(r.stdout)  # the whole document: nothing lost to the exit without teardown
    assert doc["findings"] and doc["summary"]["sheets"]
    errors = doc["summary"]["错误"]
    assert r.returncode == (1 if errors else 0), (r.returncode, doc["summary"])


def test_usage_and_unusable_input_exit_2_with_chinese_message(tmp_path):
    missing = tmp_path / "没有这个文件.xlsx"
    r = _jindu("compute", str(missing))
    assert r.returncode == 2
    assert str(missing) in r.stderr and "不存在" in r.stderr
    assert "Traceback" not in r.stderr


def test_ok_run_exits_0_with_stdout_flushed(tmp_path):
    r = _jindu("compute", str(SAMPLE / "乐平镇台帐.xlsx"), "--period", "2018-01..2018-10", "--format", "json")
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["rows"]
    assert any(row["display"] == "24.49%" for row in rows)
