"""Reading the TOML files users write (jindu.toml, catalogs, scoring schemes): one place turns every way
tomllib can fail into a ConfigError naming the file and the line."""

from __future__ import annotations

import re
import tomllib

from .errors import ConfigError, os_reason

# No config of jindu nests deeper than a few levels; deeper nesting is a broken or hostile file, and tomllib
# recurses per level (a few hundred levels exhaust Python's stack).
MAX_DEPTH = 32


def _deep_line(text: str) -> int | None:
    """1-based line where bracket nesting first passes MAX_DEPTH (strings not parsed: a good enough pointer)."""
    depth = 0
    for n, line in enumerate(text.splitlines(), start=1):
        for ch in line:
            if ch in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return n
            elif ch in "]}":
                depth -= 1
    return None


def _depth(value) -> int:
    best, stack = 0, [(value, 0)]
    while stack:
        v, d = stack.pop()
        best = max(best, d)
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return best


def loads(text: str, file: str | None, what: str) -> dict:
    """tomllib.loads, or ConfigError(「{what}不是有效的 TOML…」, file, row)."""
    too_deep = ConfigError(f"{what}嵌套层数过多（数组或表套了超过{MAX_DEPTH}层），无法读取", file=file,
                           row=_deep_line(text))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
        msg = _toml_reason(re.sub(r" *[(]at (line|end of document).*", "", str(exc)))
        if m:
            msg += f"（第{m.group(2)}个字符处）"
        elif "end of document" in str(exc):  # unclosed to the end: the file's last line
            msg += "（直到文件末尾都没有闭合）"
        row = int(m.group(1)) if m else (len(text.splitlines()) or 1)
        raise ConfigError(f"{what}不是有效的 TOML：{msg}", file=file, row=row) from None
    except RecursionError:
        raise too_deep from None
    if _depth(data) > MAX_DEPTH:
        raise too_deep
    return data


# tomllib's messages (English) in Chinese: pattern → wording; {0} is the first group
_TOML_REASONS = [
    (r"Expected '=' after a key", "键名后面缺少「=」"),
    (r"Expected '\]' at the end of a table declaration", "表名缺少右方括号「]」"),
    (r"Expected '\]\]' at the end of an array declaration", "表数组名缺少「]]」"),
    (r"Expected newline or end of document", "一行只能写一项（此处之后应换行）"),
    (r"Invalid date or datetime", "日期写法无效（应写作 2018-10-31）"),
    (r"Invalid hex value|Escaped character|Unescaped '\\'", "字符串中的反斜杠「\\」用法不对（路径请改用单引号或写成 /）"),
    (r"Invalid initial character for a key part", "键名的写法不对（含空格或中文的键名请加英文双引号）"),
    (r"Invalid statement", "无法识别的一行"),
    (r"Invalid value", "值的写法不对（文字要加英文双引号，如 \"95%\"）"),
    (r"Unclosed array", "数组缺少右方括号「]」"),
    (r"Unclosed inline table", "内联表缺少右花括号「}」"),
    (r"Unterminated string", "字符串缺少结尾的引号"),
    (r"Cannot declare (.*) twice", "表 [{0}] 写了两次"),
    (r"Cannot (?:overwrite|mutate|redefine)", "同一个键或表写了两次"),
    (r"Duplicate inline table key (.*)", "内联表中的键 {0} 重复"),
    (r"Expected (.*)", "此处应为 {0}"),
    (r"Illegal character '\\n'", "字符串缺少结尾的引号（一行写完，不能换行）"),
    (r"(?:Found invalid|Illegal) character (.*)", "不允许的字符 {0}"),
]


def _toml_reason(message: str) -> str:
    for pattern, wording in _TOML_REASONS:
        m = re.match(pattern, message)
        if m:
            # a key arrives as a tuple's repr, ('a', 'b'): shown as a.b
            return wording.format(*(".".join(re.findall(r"'([^']*)'", g)) or g for g in m.groups()))
    return "格式错误"


class Locator:
    """Where a key is written in a TOML text (tomllib gives values, not lines): the one way every config of
    jindu points a ConfigError at its line. `table` names the array of tables an index counts in
    ([[indicator]], [[item]]) or the one table ([workspace]). A good-enough pointer: comments are skipped,
    strings are not parsed."""

    def __init__(self, text: str, file: str | None, table: str | None = None):
        self.lines = text.splitlines()
        self.file = file
        self.table = table

    def _block(self, table: str | None, index: int | None) -> tuple[int, int] | None:
        """Lines [start, end) of the `index`-th [table] / [[table]] (its sub-tables [table.x] included)."""
        if table is None or index is None:
            return None
        name = r"\[\[?\s*\"?" + re.escape(table) + r"\"?\s*"
        head, sub = re.compile(name + r"\]"), re.compile(name + r"\.")
        heads = [i for i, ln in enumerate(self.lines) if head.match(ln.strip())]
        if index >= len(heads):
            return None
        start, end = heads[index], len(self.lines)
        for j in range(start + 1, len(self.lines)):
            ln = self.lines[j].strip()
            if ln.startswith("[") and not sub.match(ln):
                end = j
                break
        return start, end

    def line(self, index: int | None = None, *keys: str, table: str | None = None) -> int | None:
        """1-based line of the last of `keys` found in order inside the `index`-th [table] (default: this
        locator's table; its header line when no key is given), or in the whole file when index is None or
        there is no such table."""
        block = self._block(table or self.table, index)
        start, end = block if block else (0, len(self.lines))
        pos, found = start, (start if block else None)
        for key in keys:
            pat = re.compile(r'(^|[\s{,.\[])"?' + re.escape(str(key)) + r'"?\s*(=|\])')
            for j in range(pos, end):
                if pat.search(self.lines[j].split("#", 1)[0]):
                    found = pos = j
                    break
        return None if found is None else found + 1

    def error(self, message: str, index: int | None = None, *keys: str, table: str | None = None) -> ConfigError:
        return ConfigError(message, file=self.file, row=self.line(index, *keys, table=table))


MAX_CONFIG_BYTES = 1_000_000  # a catalog of every indicator is 40 KB; a bigger file is no config of jindu


def read_bytes(path, what: str, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of a config file the user names (catalog, scoring scheme, jindu.toml, template): a regular
    file of at most `limit` bytes, else ConfigError. A FIFO or a device is refused without waiting on it
    (opened non-blocking, then checked), and a file is never read beyond `limit`."""
    import os
    import stat

    name = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise ConfigError(f"{what}无法读取：{os_reason(exc)}", file=name) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ConfigError(f"{what}应是一个文件，这里给的是文件夹", file=name)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(f"{what}不是普通文件（是命名管道、设备或套接字），未读取；请给出文件本身", file=name)
        if st.st_size > limit:
            raise ConfigError(f"{what}过大（超过 {limit // 1_000_000} MB），不像是 jindu 的配置文件", file=name)
        with os.fdopen(fd, "rb") as fh:
            fd = -1
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"{what}无法读取：{os_reason(exc)}", file=name) from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > limit:  # grew while being read
        raise ConfigError(f"{what}过大（超过 {limit // 1_000_000} MB），不像是 jindu 的配置文件", file=name)
    return data


def read(path, what: str, table: str | None = None) -> tuple[str, dict, Locator]:
    """A user's TOML file (UTF-8, BOM allowed; read_bytes: a regular file): its text, its data and its
    Locator; ConfigError naming the file (and the line) when it cannot be read or parsed."""
    try:
        text = read_bytes(path, what).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{what}无法读取：不是 UTF-8 编码的文本（请用记事本另存为 UTF-8）", file=str(path)) from None
    return text, loads(text, str(path), what), Locator(text, str(path), table)
