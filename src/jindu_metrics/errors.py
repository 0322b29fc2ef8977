"""Errors the library raises; the CLI turns them into a Chinese message and an exit code at one boundary."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNUSABLE = 2

def shown(name: object) -> str:
    """A name from the input (a file, folder or sheet) as a message shows it: a control or format character in
    it (a newline, ESC, a bidi override) written as its escape (`\\n`, `\\x1b`, `\\u202e`), so that it can
    neither break the message's lines nor act on the console."""
    import unicodedata

    text = str(name)
    if text.isprintable():
        return text
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

    def one(c: str) -> str:
        if c.isprintable() or c == " " or unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            return c
        o = ord(c)
        return named.get(c) or (f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")

    return "".join(one(c) for c in text)


def command(*args: object) -> str:
    """A command line a message suggests (`jindu validate 台帐.xlsx --period 2018-10-31`), each argument quoted
    for the shell it will be pasted into: on Windows cmd and PowerShell, double quotes around an argument with
    a space or a character they treat specially; elsewhere single quotes (sh), and for a name holding a
    newline or another control character bash's $'…' with the character written as its escape, so the
    line stays one line and pastes back as the same name."""
    import os

    return " ".join(_quote(str(a), os.name == "nt") for a in args)


def _quote(arg: str, windows: bool) -> str:
    import re

    if arg and re.fullmatch(r"[\w@%+=:,./\\~-]+" if windows else r"[\w@%+=:,./~-]+", arg) and not arg.startswith("~"):
        return arg
    if windows:
        return '"' + arg.replace('"', '""') + '"'
    if arg.isprintable():
        return "'" + arg.replace("'", "'\"'\"'") + "'"
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\", "'": "\\'"}
    def one(c: str) -> str:
        if 0xDC80 <= ord(c) <= 0xDCFF:  # a byte of a name that is no UTF-8 (surrogateescape): that byte
            return f"\\x{ord(c) - 0xDC00:02x}"
        return named.get(c) or (c if c.isprintable() else shown(c))

    body = "".join(one(c) for c in arg)
    return "$'" + body + "'"


class JinduError(Exception):
    """An error whose message (Chinese) is fit to show the user as is."""

    exit_code = EXIT_UNUSABLE

    def __init__(self, message: str, *, file: str | None = None, sheet: str | None = None,
                 row: int | None = None, column: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(f"文件「{shown(self.file)}」")
        if self.sheet:
            where.append(f"工作表「{shown(self.sheet)}」")
        if self.row is not None:
            where.append(f"第{self.row}行")
        if self.column:
            where.append(f"列「{self.column}」")
        return ("，".join(where) + "：" if where else "") + self.message


class InputError(JinduError):
    """An input file cannot be read at all (encrypted, corrupt, not a spreadsheet, too large...)."""


class UsageError(JinduError):
    """Bad command-line usage or a bad option value (period, metric name...)."""


class ConfigError(JinduError):
    """An invalid catalog, scoring scheme, template or workspace file (data from another office)."""


class OutputError(JinduError):
    """An output that cannot or must not be written there (it is an input, a folder, a link; no permission...)."""


def os_reason(exc: OSError, *, writing: bool = False) -> str:
    """What an operating-system error means to the user, in Chinese (never the English strerror)."""
    import errno

    reasons = {errno.ENOENT: "文件夹不存在" if writing else "文件不存在",
               errno.EACCES: "没有写入权限" if writing else "没有读取权限",
               errno.EPERM: "没有写入权限" if writing else "没有读取权限",
               errno.ENOSPC: "磁盘空间不足", errno.EROFS: "文件系统只读", errno.ENAMETOOLONG: "文件名过长",
               errno.EISDIR: "这是一个文件夹，不是文件", errno.ENOTDIR: "路径中有一段不是文件夹",
               errno.EDQUOT: "磁盘配额已满", errno.EBUSY: "文件正被其他程序占用",
               errno.ETXTBSY: "文件正被其他程序占用", errno.EIO: "读写出错（磁盘或网络盘故障）",
               errno.ELOOP: "链接层数过多（循环的快捷方式或链接）", errno.EMFILE: "打开的文件过多",
               errno.EINVAL: "文件名或路径无效", errno.EPIPE: "管道已关闭", errno.EFBIG: "文件过大"}
    if getattr(exc, "winerror", None) == 32:  # Windows: another process (Excel, WPS) holds the file
        return "文件正被其他程序（如 Excel、WPS）占用，请关闭后重试"
    if exc.errno in reasons:
        return reasons[exc.errno]
    return f"系统错误（错误码 {exc.errno}）" if exc.errno else "系统错误"
