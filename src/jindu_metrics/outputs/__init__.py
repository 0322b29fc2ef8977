"""Output destinations: the one place that resolves where an output goes, refuses what would lose data,
and writes atomically (a file through a temporary beside it and a rename; a folder built whole beside it).

Refused, with a Chinese message (OutputError, exit 2): an output that is an input (same file or inode, or a
ledger file inside an input folder), a folder, a symbolic link to a file (replacing it would cut the link),
a block device or socket, a read-only file or folder (by its mode bits: what the user protected stays so,
also for root, whom permissions do not stop), a missing or unwritable folder. `-`, a character device and a
FIFO are streams: written to directly, never replaced by a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import OutputError, os_reason, shown

STREAM = "-"
# The process's own standard streams, reached through links whose target may be a file the shell opened.
_STD_LINKS = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/")


# ---------------------------------------------------------------- checking a destination


def json_text(doc) -> str:
    """The JSON documents jindu writes (compute/explain/validate --format json, batch's summary.json): indented
    two spaces, except that an object or list holding no object or list stays on one line — a finding, a
    row's change. json's C encoder writes only unindented JSON; indenting 10⁴ findings field by field in
    Python took 0.7 s of a county batch. Same document, same text."""
    import json

    dumps = json.JSONEncoder(ensure_ascii=False).encode  # one encoder: json.dumps builds one per call here

    def flat(x) -> bool:
        values = x.values() if isinstance(x, dict) else x
        return not any(isinstance(v, dict | list | tuple) for v in values)

    def walk(x, pad: str) -> str:
        if not isinstance(x, dict | list | tuple) or not x or flat(x):
            return dumps(x)
        inner = pad + "  "
        if isinstance(x, dict):
            items = [f"{inner}{dumps(str(k))}: {walk(v, inner)}" for k, v in x.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        return "[\n" + ",\n".join(inner + walk(v, inner) for v in x) + "\n" + pad + "]"

    return walk(doc, "") + "\n"


def check_output(path: str | Path, inputs: Iterable = (), *, create_folder: bool = False) -> Path | None:
    """The file to write `path` to, or None when `path` is a stream. Raises OutputError when writing there
    would replace an input, a folder, a link or a device, or cannot succeed (missing or unwritable folder).

    `inputs`: every file or folder the run reads (ledgers, catalog, template...); None entries are ignored.
    `create_folder`: a missing parent folder will be created (batch's township folders), not refused.
    """
    p = Path(path)
    if str(path) == STREAM:
        return None
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise OutputError(f"无法访问输出位置「{shown(p)}」：{reason(exc)}。") from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        if _is_stream_link(p):
            return None
        target = os.readlink(p)
        raise OutputError(f"输出位置「{shown(p)}」是符号链接（指向「{shown(target)}」）：写入会用新文件替换这个链接，"
                          "链接指向的文件却不会更新，因此未写入。请直接指定目标文件。")
    _refuse_inputs(p, st, inputs)  # first: "this is your ledger" says more than "read-only"
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"输出位置「{shown(p)}」是一个文件夹，请在它后面写上文件名。")
        if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            return None
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"输出位置「{shown(p)}」不是普通文件（设备或套接字），未写入。")
        if read_only(st):
            raise OutputError(f"输出文件「{shown(p)}」已设为只读，未覆盖。请先取消只读，或换一个文件名。")
    parent = p.parent
    if parent.is_dir():
        refuse_read_only_folder(parent)
        if not os.access(parent, os.W_OK):
            raise OutputError(f"没有权限写入文件夹「{shown(parent)}」。")
    elif parent.exists():
        raise OutputError(f"输出位置「{shown(p)}」的上级「{shown(parent)}」不是文件夹。")
    elif not create_folder:
        raise OutputError(f"输出文件夹「{shown(parent)}」不存在，请先建立它，或换一个输出位置。")
    else:
        refuse_read_only_folder(_existing_ancestor(parent))
    return p


def read_only(st: os.stat_result) -> bool:
    """A file whose mode grants nobody write access (chmod 444, Windows' read-only attribute)."""
    return not st.st_mode & 0o222


def refuse_read_only_folder(folder: Path) -> None:
    """Refuse to write into (or replace) a folder whose mode grants nobody write access (chmod 555): the user
    protected it. Checked by the mode bits, not by trying: root writes there all the same. Not on Windows,
    where a folder's read-only attribute only marks it as customised (Explorer ignores it)."""
    if os.name == "nt":
        return
    try:
        st = os.stat(folder)
    except OSError:
        return
    if stat.S_ISDIR(st.st_mode) and read_only(st):
        raise OutputError(f"文件夹「{shown(folder)}」已设为只读，未写入。请先取消只读（如 chmod u+w），或换一个输出位置。")


def _existing_ancestor(folder: Path) -> Path:
    """The nearest folder above `folder` (or itself) that exists: where a missing one would be created."""
    for f in (folder, *folder.parents):
        if f.exists():
            return f
    return folder


def _is_stream_link(p: Path) -> bool:
    """A link to a stream: to a character device or FIFO, or one of the process's standard streams."""
    absolute = os.path.abspath(p)
    if absolute.startswith(_STD_LINKS) or absolute in _STD_LINKS:
        return True
    try:
        st = os.stat(p)
    except OSError:
        return False
    return stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)


def _refuse_inputs(p: Path, st: os.stat_result | None, inputs: Iterable) -> None:
    from ..ledgers.sources import LEDGER_SUFFIXES

    real = os.path.realpath(p)
    for inp in inputs:
        if inp is None or str(inp) == STREAM:
            continue
        ip = Path(inp)
        try:
            ist = os.stat(ip)
        except OSError:
            continue
        if stat.S_ISDIR(ist.st_mode):
            if os.path.realpath(p.parent) == os.path.realpath(ip) and p.suffix.lower() in LEDGER_SUFFIXES \
                    and not p.name.startswith((".", "~")):
                raise OutputError(f"输出文件「{shown(p)}」在输入文件夹「{shown(ip)}」中，会覆盖台帐或在下次运行时被当作台帐读入，"
                                  "未写入。请写到别的文件夹。")
            if st is not None:
                for f in _files(ip):
                    if os.path.samestat(st, f[1]):
                        raise OutputError(f"输出文件「{shown(p)}」就是输入文件夹「{shown(ip)}」中的「{shown(f[0].name)}」，写入会覆盖它，"
                                          "未写入。请换一个输出文件名。")
        elif (st is not None and os.path.samestat(st, ist)) or real == os.path.realpath(ip):
            raise OutputError(f"输出文件「{shown(p)}」就是输入文件「{shown(ip)}」，写入会覆盖它，未写入。请换一个输出文件名。")


def _files(folder: Path) -> Iterator[tuple[Path, os.stat_result]]:
    with contextlib.suppress(OSError), os.scandir(folder) as it:
        for e in it:
            with contextlib.suppress(OSError):
                if e.is_file():
                    yield Path(e.path), e.stat()


# ---------------------------------------------------------------- writing


def atomic_write_bytes(path: str | Path, data: bytes, *, inputs: Iterable = (), create_folder: bool = True) -> None:
    """Write `data` to `path` after check_output(): a stream directly; a file through a temporary beside it
    and a rename, so that an interrupted run leaves the old file whole."""
    target = check_output(path, inputs, create_folder=create_folder)
    try:
        if target is None:
            _write_stream(path, data)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{_short(target.name)}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            # mkstemp creates 0600; outputs are ordinary documents, so give them the usual umask-based mode.
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise OutputError(f"无法写入「{shown(path)}」：{reason(exc)}。") from None


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8", *, inputs: Iterable = (),
                      create_folder: bool = True) -> None:
    """Text output; a character the encoding cannot hold (a lone surrogate from a damaged cell) is written
    as its escape (\\udc80) rather than failing the run."""
    atomic_write_bytes(path, text.encode(encoding, "backslashreplace"), inputs=inputs, create_folder=create_folder)


def _write_stream(path: str | Path, data: bytes) -> None:
    if str(path) == STREAM:
        out = getattr(sys.stdout, "buffer", None)
        if out is None:  # a text-only stdout (tests' StringIO)
            sys.stdout.write(data.decode("utf-8", "backslashreplace"))
        else:
            sys.stdout.flush()
            out.write(data)
            out.flush()
        return
    # no O_CREAT, no O_TRUNC: a device or pipe is written to, never created or cut short
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def reason(exc: OSError) -> str:
    """An OSError's cause in Chinese, said of an output (errors.os_reason)."""
    return os_reason(exc, writing=True)


# ---------------------------------------------------------------- safe names


MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; leave room for the temporaries' affixes
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f\ud800-\udfff]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_name(text: str, taken: set[str] | None = None) -> str:
    """A file or folder name for `text` that is valid on Windows and Linux, cannot leave its folder, fits in
    MAX_NAME_BYTES of UTF-8 and, given `taken` (the casefolded names used so far, updated), is unique.
    A name that had to be cut, or that collides, ends in 8 hex digits of the original's hash."""
    name = _UNSAFE.sub("_", str(text)).strip().lstrip(".").rstrip(". ")
    if not name or name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    if len(name.encode("utf-8")) > MAX_NAME_BYTES or (taken is not None and name.casefold() in taken):
        digest = hashlib.sha256(str(text).encode("utf-8", "surrogatepass")).hexdigest()[:8]
        base, name, k = _cut(name, MAX_NAME_BYTES - 13), _cut(name, MAX_NAME_BYTES - 9) + "-" + digest, 1
        while taken is not None and name.casefold() in taken:  # the same text twice
            k += 1
            name = f"{base}-{digest}-{k}"
    if taken is not None:
        taken.add(name.casefold())
    return name


def _cut(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


def _short(name: str) -> str:
    """A temporary's stem: long names are cut so that '.{name}.XXXXXXXX.tmp' still fits."""
    return _cut(name, MAX_NAME_BYTES)


# ---------------------------------------------------------------- a folder written whole

MARKER = ".jindu-batch"
MARKER_TEXT = "本文件夹由 jindu batch 写出，整个文件夹一次替换；jindu batch 不会把本文件夹中的文件当作台帐读入。\n"
OWNER = ".jindu-stage"  # in a folder being built: the pid of the process building it (removed at commit)


def _alive(pid: int) -> bool:
    """Whether process `pid` runs. On Windows os.kill(pid, 0) would terminate it: ask the kernel instead."""
    if pid <= 0:
        return False
    if sys.platform == "win32":
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return False
        code = ctypes.c_ulong()
        ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        kernel32.CloseHandle(handle)
        return bool(ok) and code.value == 259  # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it runs, under another user
        return True
    return True


def _sweep_stale(out: Path) -> None:
    """Remove what a killed earlier run left beside `out`: stages whose builder is gone, and a previous
    folder set aside at commit once the new one is in place. Best effort, never an error."""
    import shutil

    stem = f".{_short(out.name)}."
    try:
        entries = [e for e in out.parent.iterdir() if e.name.startswith(stem) and e.name.endswith(".tmp")]
    except OSError:
        return
    for e in entries:
        if e.is_symlink() or not e.is_dir():
            continue
        owner = e / OWNER
        try:
            stale = not _alive(int(owner.read_text(encoding="ascii").strip()))
        except (OSError, ValueError):
            # killed between commit's two renames, `out` is missing and this is the last whole output: keep it
            stale = e.name.startswith(stem + "old.") and is_output_folder(e) and is_output_folder(out)
        if stale:
            shutil.rmtree(e, ignore_errors=True)


def is_output_folder(folder: str | Path) -> bool:
    """A folder that jindu batch wrote (it holds the marker)."""
    return (Path(folder) / MARKER).is_file()


class FreshFolder:
    """Build an output folder's whole content in a temporary folder beside it, then put it in place at once.

    `own(entry)` says whether an entry of an existing folder at `out` is one this writer makes: the folder
    is replaced only when every entry is (or it holds the marker and nothing foreign), otherwise refused, so
    that replacing it never loses a file someone put there. Until commit() the previous folder stays whole.
    """

    def __init__(self, out: str | Path, own: Callable[[Path], bool]):
        self.out = Path(out)
        self.own = own
        self.stage: Path | None = None

    def check(self) -> None:
        """Refuse now what __enter__ would refuse (a file, a link, a folder holding foreign entries)."""
        out = self.out
        if out.is_symlink():
            raise OutputError(f"输出文件夹「{shown(out)}」是符号链接，为免替换链接，未写入。请直接指定目标文件夹。")
        if out.exists() and not out.is_dir():
            raise OutputError(f"输出位置「{shown(out)}」已存在且不是文件夹。")
        refuse_read_only_folder(_existing_ancestor(out.parent))  # where the new folder is built
        if out.is_dir():
            foreign = sorted(e.name for e in out.iterdir() if not self.own(e))
            if foreign:
                raise OutputError(f"输出文件夹「{shown(out)}」中有不是 jindu batch 写出的「{shown(foreign[0])}」"
                                  f"{'等' + str(len(foreign)) + '项' if len(foreign) > 1 else ''}；整个文件夹会被替换，"
                                  "为免丢失它们，未写入。请换一个新的或空的输出文件夹。")
            self._refuse_protected()

    def _refuse_protected(self) -> None:
        """A read-only folder, or a read-only file or folder in it (two levels: batch's depth), was protected
        by the user: replacing the folder would undo that, so it is refused (outputs.read_only)."""
        refuse_read_only_folder(self.out)
        for entry in sorted(self.out.rglob("*")):
            if len(entry.relative_to(self.out).parts) > 2 or entry.is_symlink():
                continue
            try:
                st = entry.stat()
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                refuse_read_only_folder(entry)
            elif stat.S_ISREG(st.st_mode) and read_only(st):
                raise OutputError(f"输出文件夹「{shown(self.out)}」中的「{shown(entry.relative_to(self.out))}」已设为只读；"
                                  "整个文件夹会被替换，为免改动它，未写入。请先取消只读，或换一个输出文件夹。")

    def __enter__(self) -> Path:
        out = self.out
        self.check()
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            _sweep_stale(out)
            self.stage = Path(tempfile.mkdtemp(prefix=f".{_short(out.name)}.", suffix=".tmp", dir=out.parent))
            os.chmod(self.stage, 0o777 & ~_umask())
        except OSError as exc:
            raise OutputError(f"无法写入文件夹「{shown(out.parent)}」：{reason(exc)}。") from None
        try:
            atomic_write_text(self.stage / OWNER, str(os.getpid()))
        except BaseException:
            import shutil

            shutil.rmtree(self.stage, ignore_errors=True)
            raise
        return self.stage

    def __exit__(self, exc_type, exc, tb) -> None:
        import shutil

        assert self.stage is not None
        if exc_type is not None:
            shutil.rmtree(self.stage, ignore_errors=True)
            if isinstance(exc, OSError):
                raise OutputError(f"无法写入「{shown(self.out)}」：{reason(exc)}。") from None
            return
        try:
            atomic_write_text(self.stage / MARKER, MARKER_TEXT)
            (self.stage / OWNER).unlink()
            self._commit()
        except BaseException as e:
            shutil.rmtree(self.stage, ignore_errors=True)
            if isinstance(e, OSError):
                raise OutputError(f"无法写入「{shown(self.out)}」：{reason(e)}。") from None
            raise

    def _commit(self) -> None:
        import shutil

        stage, out = self.stage, self.out
        if not out.exists():
            os.rename(stage, out)
            return
        if _exchange(stage, out):  # one atomic step: `out` is the old or the new folder, never neither
            shutil.rmtree(stage, ignore_errors=True)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{_short(out.name)}.old.", suffix=".tmp", dir=out.parent))
        os.rmdir(old)
        os.rename(out, old)  # killed between these two renames: both folders whole, beside `out`
        os.rename(stage, out)
        shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0
