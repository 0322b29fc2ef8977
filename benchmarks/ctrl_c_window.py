"""Measurement (not a test): how early a Ctrl-C reaches the `jindu` program's own handler (issue 29).

    python benchmarks/ctrl_c_window.py [--script PATH] [--tries 20] [--max-ms 60] [-- ARGS...]

Starts the console script `jindu` (the one pip wrote beside this interpreter, or --script) with ARGS
(default: compute on the sample, which runs for about a second), sends SIGINT 1, 2, … --max-ms
milliseconds after the process was spawned, --tries times each, and counts per delay what the user saw:
  traceback  Python's KeyboardInterrupt traceback (the signal came before jindu's handler was installed)
  silent     ended by the signal without a word (before the interpreter installed its own handler)
  jindu      jindu's "已中断。" and exit 130
  hang       still running 30 s after the signal (then killed)
--no-site runs the script with `python -S` (site-packages on PYTHONPATH instead): no .pth file runs, as on
an install whose site has nothing slow to do; what is left is the interpreter's own start.
A traceback is also counted by where its outermost frame was: `site` (the interpreter's start: site.py and
the .pth files it runs), `script` (the console script's own lines, before jindu_metrics was imported) or
the module of its innermost frame.
Prints one line per delay with any traceback or silent end, then the totals and the last delay that gave a
traceback. PYTHONPATH picks the source tree measured (the script imports jindu_metrics from it).
POSIX only (SIGINT to a child process).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def classify(code: int, err: str) -> str:
    if "Traceback" in err or "KeyboardInterrupt" in err:
        return "traceback"
    if code == -signal.SIGINT:
        return "silent"
    if code == 130 and "已中断" in err:
        return "jindu"
    return f"other(rc={code})"


def where(err: str, script: str) -> str:
    """Where the traceback happened: in `site` (the interpreter's start), in jindu_metrics, in the console
    `script` itself (its `import re`), else its innermost module."""
    files = re.findall(r'^  File "([^"]+)"', err, re.M)
    if not files:
        return "no frame"
    if any(f == "<frozen site>" or f.endswith(("/site.py", "\\site.py")) for f in files):
        return "site"
    if any("jindu_metrics" in f for f in files):
        return "jindu_metrics"
    if files[0] == script:
        return "script"
    return Path(files[-1]).stem if files[-1].endswith(".py") else files[-1]


def once(command: list[str], script: str, delay: float, places: collections.Counter) -> str:
    p = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(delay)
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return "hang"
    text = err.decode("utf-8", "replace")
    kind = classify(p.returncode, text)
    if kind == "traceback":
        places[where(text, script)] += 1
    return kind


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", default=str(Path(sys.executable).parent / "jindu"))
    ap.add_argument("--tries", type=int, default=20)
    ap.add_argument("--max-ms", type=int, default=60)
    ap.add_argument("--no-site", action="store_true")
    ap.add_argument("args", nargs="*")
    a = ap.parse_args()
    args = a.args or ["compute", str(ROOT / "sample_ledgers" / "乐平镇台帐.xlsx"), "--period", "2018-01..2018-10"]
    command = [a.script, *args]
    if a.no_site:
        import sysconfig

        command = [sys.executable, "-S", *command]
        paths = [p for p in (os.environ.get("PYTHONPATH"), sysconfig.get_path("purelib")) if p]
        os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    subprocess.run(command, capture_output=True, check=False)  # bytecode compiled, caches warm
    totals: collections.Counter = collections.Counter()
    places: collections.Counter = collections.Counter()
    last_traceback = 0
    for ms in range(1, a.max_ms + 1):
        seen = collections.Counter(once(command, a.script, ms / 1000, places) for _ in range(a.tries))
        totals.update(seen)
        if seen["traceback"]:
            last_traceback = ms
        if set(seen) - {"jindu"}:
            print(f"{ms:3d} ms: " + ", ".join(f"{k} {v}" for k, v in sorted(seen.items())), flush=True)
    print(f"PYTHONPATH={os.environ.get('PYTHONPATH', '')} command={command[:3]}")
    print("totals: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())))
    print("tracebacks by place: " + ", ".join(f"{k} {v}" for k, v in places.most_common()))
    print(f"last delay with a traceback: {last_traceback} ms" if last_traceback else "no traceback at any delay")


if __name__ == "__main__":
    main()
