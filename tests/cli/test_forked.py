"""conftest.run_forked with a script: the forked child ends as `python -c SCRIPT ARGS` would (exit status,
argv, output, an uncaught exception printed, a signal to itself)."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest
from conftest import run_forked

SCRIPTS = {
    "argv and output": "import sys; print(sys.argv); print('中文', file=sys.stderr)",
    "exit 3": "import sys; sys.exit(3)",
    "exit text": "import sys; sys.exit('停止')",
    "exception": "raise ValueError('坏了')",
    "killed": "import os, signal, sys; print('before', flush=True); os.kill(os.getpid(), signal.SIGKILL)",
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_a_forked_script_ends_as_python_c_would(name):
    script, args = SCRIPTS[name], ["a b", "乙"]
    real = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, timeout=60)
    forked = run_forked(args, timeout=60, text=False, script=script)
    assert forked.returncode == real.returncode
    assert forked.stdout == real.stdout
    if name == "exception":  # the traceback's frames differ (exec here); its last line does not
        assert forked.stderr.splitlines()[-1] == real.stderr.splitlines()[-1] == "ValueError: 坏了".encode()
    else:
        assert forked.stderr == real.stderr
    assert {"killed": -signal.SIGKILL, "exit 3": 3, "exit text": 1, "exception": 1}.get(name, 0) == real.returncode
