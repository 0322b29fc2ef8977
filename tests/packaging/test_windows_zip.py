"""The Windows zip, built by scripts/build_windows_zip.py and run for real under Wine.

Skips, saying why, where Wine, mingw-w64 or the zh_CN.UTF-8 locale is missing (in a moment: nothing is built
then), or where the package index cannot be reached. Wine 8's own gaps are bridged in this test's prefix
only, never in the zip: Rust ≥ 1.78 binaries (fastexcel, python-calamine, cryptography) import
bcryptprimitives.dll!ProcessPrng, which Wine 8 lacks (a shim built here with mingw-w64); numpy ≥ 2 and
pyarrow call ucrtbase.crealf, a Wine stub (a native ucrtbase.dll, from pynsist's wheel); Python 3.12's
platform module reaches WMI through _wmi.pyd (disabled). Python under Wine rejects a regular file as
stdin or stdout, so the commands run through pipes, read until the command ends (Explorer, started by the
drop script, keeps its copy of the pipe open). One wineserver, started before the first command, serves the
whole module: a cold start costs each command about a second.

Downloads (≈64 MB), a fresh Wine prefix (≈700 MB) and the zip's deflate streams (≈60 MB) are kept in the
user's cache, ~/.cache/jindu-metrics/win-cache (under $XDG_CACHE_HOME if set), or $JINDU_WIN_CACHE: a fresh
clone of the project finds them there too.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import shutil
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "scripts" / "build_windows_zip.py"
CACHE = Path(os.environ.get("JINDU_WIN_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
             / "jindu-metrics" / "win-cache")
MISSING = [t for t in ("wine", "wineserver", "x86_64-w64-mingw32-gcc") if shutil.which(t) is None]


def _has_zh_locale() -> bool:
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(x.lower().replace("-", "") in ("zh_cn.utf8",) for x in out.split())


WHY = (f"未安装 {'、'.join(MISSING)}（.ci/run 尽量安装 wine、wine64、mingw-w64）" if MISSING else
       "" if _has_zh_locale() else "未生成 glibc 的 zh_CN.UTF-8 区域设置（Wine 需要它来显示中文文件名）")
pytestmark = [pytest.mark.skipif(bool(WHY), reason=WHY or "-"), pytest.mark.slow]

SHIM = r"""
#include <windows.h>
#include <bcrypt.h>
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    return BCryptGenRandom(NULL, data, (ULONG)len, BCRYPT_USE_SYSTEM_PREFERRED_RNG) == 0;
}
"""


def _load_build():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_windows_zip", BUILD)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build


# (zlib version, method, level, size, sha256) -> deflate stream: held for the second build, and kept in the
# cache between runs (those this run used)
_STREAMS: dict = {}
_USED: set = set()
STREAMS_FILE = CACHE / "deflate-streams.marshal"


class _Deflater:
    """zipfile's compressor for one entry, remembering its stream by the entry's bytes (and zlib's version,
    method, level): a build reuses the stream of an entry whose bytes are the same (the reproducibility
    check's second build, and the first build of a later run), since deflate is a pure function of them. An
    entry whose bytes differ is compressed afresh, and names, order, stamps and attributes are written anew,
    so any difference still changes the zip."""

    def __init__(self, real, compress_type, level):
        self.real, self.key, self.parts = real, (zlib.ZLIB_RUNTIME_VERSION, compress_type, level), []

    def compress(self, data) -> bytes:
        self.parts.append(bytes(data))
        return b""

    def flush(self) -> bytes:
        data = b"".join(self.parts)
        key = (*self.key, len(data), hashlib.sha256(data).digest())
        if key not in _STREAMS:
            _STREAMS[key] = self.real.compress(data) + self.real.flush()
        _USED.add(key)
        return _STREAMS[key]


def _load_streams() -> None:
    """The streams kept by an earlier run (none when the file is missing or unreadable)."""
    try:
        kept = marshal.loads(STREAMS_FILE.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return
    if isinstance(kept, dict):
        _STREAMS.update(kept)


def _keep_streams() -> None:
    """The streams this run used, written for the next run (atomically: another run may read them)."""
    part = STREAMS_FILE.with_name(f"{STREAMS_FILE.name}.{os.getpid()}.part")
    part.write_bytes(marshal.dumps({k: _STREAMS[k] for k in _USED}))
    part.replace(STREAMS_FILE)


def _build(out: Path) -> tuple[Path, float]:
    """scripts/build_windows_zip.py run in this process (no second interpreter), deflate streams shared."""
    import contextlib
    import io
    import time

    build = _load_build()
    real = zipfile._get_compressor

    def compressor(compress_type, compresslevel=None):
        made = real(compress_type, compresslevel)
        return _Deflater(made, compress_type, compresslevel) if made is not None else None

    t, said = time.monotonic(), io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(said):
        mp.setattr(zipfile, "_get_compressor", compressor)
        try:
            code = build.build(["--out", str(out), "--cache", str(CACHE)])
        except build.FetchError as exc:
            pytest.skip(f"无法从软件包索引下载 win_amd64 wheel 或嵌入式 Python：{str(exc)[-300:]}")
    assert code == 0
    zips = list(out.glob("jindu-*-win64.zip"))
    assert len(zips) == 1, said.getvalue()
    print(said.getvalue())
    return zips[0], time.monotonic() - t


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    _load_streams()
    made = _build(tmp_path_factory.mktemp("zip1"))
    _keep_streams()
    return made


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A Wine prefix of this test's own, with the three bridges; the environment to run wine in."""
    base = tmp_path_factory.mktemp("wine")
    e = {**os.environ, "WINEPREFIX": str(base / "prefix"), "WINEDEBUG": "-all", "LANG": "zh_CN.UTF-8",
         "LC_ALL": "zh_CN.UTF-8", "WINEARCH": "win64",
         "WINEDLLOVERRIDES": "mscoree,mshtml=;bcryptprimitives=n,b;ucrtbase=n,b;_wmi.pyd=d"}
    e.pop("DISPLAY", None)  # no window: the prefix's explorer runs headless
    # this host's choice, not the user's: as on their PC, the bundled Python keeps its compiled modules in the
    # unpacked folder after the first command (each later jindu starts ~1.5 s sooner under Wine)
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    _copy_of_a_fresh_prefix(e, base)
    # One server for the module, its services started here, away from any command's pipe. Should it end
    # anyway (idle 60 s), the next command starts it again, only slower.
    subprocess.run(["wineserver", "-p60"], env=e, timeout=60, check=True)
    subprocess.run(["wine", "cmd", "/c", "exit"], env=e, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)
    yield e
    subprocess.run(["wineserver", "-k"], env=e, timeout=60)


def _copy_of_a_fresh_prefix(e: dict, base: Path) -> None:
    """A new prefix (wineboot) with the two DLL bridges, at e["WINEPREFIX"]: a copy of the one kept in the
    cache for this Wine, these bridges and this environment, made there first if missing (wineboot takes
    ~10 s of CPU). Each run works in its own copy, so every run starts from the same untouched prefix."""
    wheels = CACHE / "pynsist"
    if not list(wheels.glob("pynsist-*.whl")):
        r = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(wheels), "pynsist"],
                           capture_output=True, text=True, timeout=600)
        if r.returncode:
            pytest.skip(f"无法下载 pynsist（其 wheel 带有测试用的原生 ucrtbase.dll）：{r.stderr.strip()[-300:]}")
    with zipfile.ZipFile(sorted(wheels.glob("pynsist-*.whl"))[-1]) as z:
        ucrtbase = z.read("nsist/msvcrt/x64/ucrtbase.dll")
    version = subprocess.run(["wine", "--version"], capture_output=True, text=True, timeout=60).stdout
    key = hashlib.sha256("\0".join([version, SHIM, hashlib.sha256(ucrtbase).hexdigest(), *(
        f"{k}={e.get(k)}" for k in ("LANG", "LC_ALL", "WINEARCH", "WINEDLLOVERRIDES"))]).encode()).hexdigest()[:16]
    kept = CACHE / "wine-prefix" / key
    if not kept.is_dir():
        making = kept.with_name(f"{key}.{os.getpid()}.part")
        shutil.rmtree(making, ignore_errors=True)
        making.parent.mkdir(parents=True, exist_ok=True)
        made = {**e, "WINEPREFIX": str(making)}
        r = subprocess.run(["wineboot", "-i"], env=made, capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]
        subprocess.run(["wineserver", "-w"], env=made, timeout=300)
        system32 = making / "drive_c" / "windows" / "system32"
        (base / "prng.c").write_text(SHIM)
        (base / "prng.def").write_text("LIBRARY bcryptprimitives.dll\nEXPORTS\nProcessPrng\n")
        subprocess.run(["x86_64-w64-mingw32-gcc", "-O2", "-shared", "-s", "-o", str(system32 / "bcryptprimitives.dll"),
                        str(base / "prng.c"), str(base / "prng.def"), "-lbcrypt"], check=True, timeout=120)
        (system32 / "ucrtbase.dll").write_bytes(ucrtbase)
        try:
            making.rename(kept)
        except OSError:  # another run made it first
            shutil.rmtree(making, ignore_errors=True)
    # cp shares or clones the blocks where the file system can (shutil.copytree reads and writes 700 MB)
    subprocess.run(["cp", "-a", "--reflink=auto", str(kept), e["WINEPREFIX"]], check=True, timeout=300)


@pytest.fixture(scope="module")
def app(built, tmp_path_factory) -> Path:
    """The zip unpacked, as a user would (its names are UTF-8, flagged so)."""
    dest = tmp_path_factory.mktemp("app")
    with zipfile.ZipFile(built[0]) as z:
        z.extractall(dest)
    (top,) = dest.iterdir()
    return top


def wine(env: dict, cwd: Path, line: str, timeout: float = 600) -> tuple[int, bytes]:
    """`cmd /c LINE` in the prefix: its output through a pipe, read until the command has ended and then
    what is left in the pipe (a process it started, such as Explorer, may keep the pipe open)."""
    import selectors
    import time

    proc = subprocess.Popen(["wine", "cmd", "/c", line], cwd=cwd, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    proc.stdin.close()  # `pause` reads end of input and goes on
    fd, chunks, deadline = proc.stdout.fileno(), [], time.monotonic() + timeout
    os.set_blocking(fd, False)
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while proc.poll() is None:
                if time.monotonic() > deadline:
                    raise subprocess.TimeoutExpired(line, timeout)
                if sel.select(0.2) and _read_ready(fd, chunks) == 0:  # end of file: no writer left
                    proc.wait(max(deadline - time.monotonic(), 0))
            while _read_ready(fd, chunks):  # all the ended command wrote is in the pipe now
                pass
    except subprocess.TimeoutExpired:
        subprocess.run(["wineserver", "-k"], env=env, timeout=60)
        raise
    finally:
        proc.stdout.close()
    return proc.returncode, b"".join(chunks)


def _read_ready(fd: int, chunks: list[bytes]) -> int | None:
    """Bytes read from a non-blocking pipe into `chunks`: 0 at its end, None when nothing waits in it."""
    try:
        data = os.read(fd, 1 << 16)
    except BlockingIOError:
        return None
    chunks.append(data)
    return len(data)


def test_zip_is_reproducible_and_lean(built, tmp_path_factory):
    zip1, seconds = built
    try:
        zip2, _ = _build(tmp_path_factory.mktemp("zip2"))
    finally:
        _STREAMS.clear()
        _USED.clear()
    h1, h2 = (hashlib.sha256(z.read_bytes()).hexdigest() for z in (zip1, zip2))
    print(f"{zip1.name}: {zip1.stat().st_size / 2**20:.1f} MiB, first build {seconds:.0f} s, sha256 {h1} / {h2}")
    assert h1 == h2
    with zipfile.ZipFile(zip1) as z:
        names = z.namelist()
        assert names == sorted(names)
        assert {i.date_time for i in z.infolist()} == {(2020, 1, 1, 0, 0, 0)}
        top = names[0].split("/")[0]
        for f in ("jindu.cmd", "拖入台帐.cmd", "拖入县区台帐.cmd", "添加到PATH.cmd", "从PATH移除.cmd", "使用说明.txt",
                  "python/python.exe", "python/python312._pth", "python/jindu_drop.py",
                  "sample_ledgers/乐平镇台帐.xlsx", "docs/指标口径.md", "docs/台帐格式.md", "docs/README.md",
                  "python/Lib/site-packages/jindu_metrics/cli/__init__.py"):
            assert f"{top}/{f}" in names, f
        assert z.read(f"{top}/python/python312._pth").split(b"\r\n")[:3] == [b"python312.zip", b".",
                                                                            b"Lib\\site-packages"]
        assert not [n for n in names if n.endswith((".pyc", ".pyi")) or "/tests/" in n or "__pycache__" in n]
        assert all(z.read(n).isascii() for n in names if n.endswith(".cmd"))  # any console code page
    assert zip1.stat().st_size < 70 * 2**20


def test_python_exe_signature(built):
    """The bundled python.exe is python.org's, as signed: its Authenticode digest is the signed one, the
    signer the PSF, the chain Microsoft's; one changed byte is refused."""
    build = _load_build()
    with zipfile.ZipFile(built[0]) as z:
        exe = z.read(next(n for n in z.namelist() if n.endswith("/python/python.exe")))
    said = build.authenticode(exe)
    print(said)
    assert "is the signed digest" in said and "Python Software Foundation <- " in said
    assert "Microsoft Identity Verification Root Certificate Authority 2020" in said
    changed = bytearray(exe)
    changed[0x400] ^= 1
    with pytest.raises(SystemExit, match="not the signed one"):
        build.authenticode(bytes(changed))


def test_compute_under_wine(env, app):
    code, out = wine(env, app, r"jindu.cmd compute sample_ledgers\ --period 2018-01..2018-10")
    text = out.decode("gbk")  # stdout is a pipe: Python writes it in the ANSI code page, 936 here
    print(text[:1500])
    assert code == 0, text[-2000:]
    assert "统计期：2018年1-10月" in text and "2018-01-01 至 2018-10-31" in text
    line = next(x for x in text.splitlines() if x.startswith("刑拘查处比"))
    assert "24.49%" in line
    assert "万分之1.03" in text  # ‱ is not in GBK: jindu says it in words


def test_gbk_console_shows_chinese_and_parquet_reads(env, app):
    """A console in code page 936, on a Parquet ledger (pyarrow.parquet and the DLLs it needs are shipped)."""
    import pandas as pd

    frame = pd.read_excel(app / "sample_ledgers" / "乐平镇台帐.xlsx", sheet_name="查处台帐", dtype=str,
                          engine="openpyxl")
    frame.to_parquet(app / "查处台帐.parquet")
    code, out = wine(env, app, "chcp 936 >nul & jindu.cmd validate 查处台帐.parquet")
    text = out.decode("gbk")  # strict: every byte is GBK
    print(text[-800:])
    assert code in (0, 1), text[-2000:]
    assert f"查处台帐.parquet ｜ 查处台帐 ｜ 查处台帐 ｜ {len(frame)} 行" in text
    assert "个错误" in text


def test_drop_script_writes_the_three_files(env, app):
    code, out = wine(env, app, r"拖入台帐.cmd sample_ledgers\乐平镇台帐.xlsx")
    text = out.decode("gbk", "replace")
    print(text[-1500:])
    assert code in (0, 1), text[-2000:]
    folder = app / "sample_ledgers" / "乐平镇台帐_jindu结果"
    assert sorted(p.name for p in folder.iterdir()) == ["乐平镇台帐_问题标注.xlsx", "指标.xlsx", "通报.docx"]
    assert "完成，结果在：" in text and "【3/3】" in text
    import docx
    import openpyxl

    body = "\n".join(p.text for p in docx.Document(str(folder / "通报.docx")).paragraphs)
    assert "乐平镇" in body and "2018年" in body
    book = openpyxl.load_workbook(folder / "指标.xlsx", read_only=True)
    assert book.sheetnames
    book.close()


def test_county_drop_script_runs_batch(env, app):
    county = app / "县区台帐"
    county.mkdir()
    shutil.copy(app / "sample_ledgers" / "乐平镇台帐.xlsx", county / "乐平镇.xlsx")
    code, out = wine(env, app, "拖入县区台帐.cmd 县区台帐")
    text = out.decode("gbk", "replace")
    assert code in (0, 1), text[-2000:]
    folder = app / "县区台帐_jindu汇总"
    assert (folder / "汇总.xlsx").is_file() and (folder / "全县通报.txt").is_file(), text[-2000:]


def test_drop_script_without_input_says_so_and_waits(env, app):
    code, out = wine(env, app, "拖入台帐.cmd")
    text = out.decode("gbk", "replace")
    assert code == 2
    assert "出错了：没有收到台帐" in text and "按任意键关闭窗口" in text  # and the .cmd pauses on exit 2


def test_path_add_and_remove(env, app):
    """添加到PATH.cmd writes the folder into the current user's PATH (HKCU, no administrator); its undo
    takes it out again, leaving what was there."""
    def user_path() -> str:
        return wine(env, app, r"reg query HKCU\Environment /v Path")[1].decode("gbk", "replace")

    code, out = wine(env, app, r"reg add HKCU\Environment /v Path /t REG_EXPAND_SZ /d C:\tools /f")
    assert code == 0, out.decode("gbk", "replace")
    code, out = wine(env, app, "添加到PATH.cmd")
    assert code == 0, out.decode("gbk", "replace")
    assert "已加入当前用户的 PATH" in out.decode("gbk")
    home = "Z:" + str(app).replace("/", "\\")
    assert f"C:\\tools;{home}".lower() in user_path().lower()
    code, out = wine(env, app, "从PATH移除.cmd")
    assert code == 0 and "已移除" in out.decode("gbk")
    after = user_path()
    assert "C:\\tools" in after and home.lower() not in after.lower()
