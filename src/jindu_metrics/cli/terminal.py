"""Where text meets a console, a pipe or a file: display width, sanitising, encoding for the stream.

The one home for these concerns; every command writes through `Out` (or `write`/`write_json`/`write_bytes`).
- Width: a Chinese character takes two columns; combining marks none. A console's real width when stdout is
  a terminal; pipes and files get a wide page (`PIPE_WIDTH`) so that tables keep their full layout.
- Sanitising: text from the ledgers may hold control characters, ANSI escapes, bidi overrides. `clean` shows
  them as `\\x1b`, `\\u202e` … so nothing from a cell can move the cursor, recolour or reorder the console.
- Encoding: Chinese Windows redirects stdout in code page 936. Text that the stream cannot encode is
  degraded (`1.03‱` → `万分之1.03`, other characters to an NFKC look-alike or `<U+20BB7>`), never raised.
Imports only the standard library: `jindu --help` uses `width_of`/`wrap`.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import os
import re
import sys
import unicodedata

PIPE_WIDTH = 200
MIN_WIDTH = 20
# encodings that hold every character: nothing to degrade
_FULL = {"utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "gb18030", "utf-8-sig"}
# legacy East Asian code pages: their consoles draw ambiguous-width characters (box lines, —, ↑) two columns wide
_CJK_LEGACY = {"gbk", "gb2312", "cp936", "big5", "cp950", "big5hkscs", "shift_jis", "cp932", "euc_jp", "euc_kr",
               "cp949", "hz", "iso2022_jp"}

_NO_LINE_START = set("，。、；：？！）》」』】〉”’%·…—,.;:?!)]}")
_NO_LINE_END = set("（《「『【〈“‘([{")
# a token: an unbroken run of ASCII (a number, a word, a path), or any one other character
_TOKEN = re.compile(r"[!-~]+|\s+|.", re.S)


@functools.lru_cache(maxsize=1 << 16)
def _width_slow(text: str, ambiguous: int) -> int:
    n = 0
    for c in text:
        if unicodedata.combining(c) or unicodedata.category(c) in ("Mn", "Me", "Cf"):
            continue
        eaw = unicodedata.east_asian_width(c)
        n += 2 if eaw in "WF" else ambiguous if eaw == "A" else 1
    return n


def width_of(text: str, ambiguous: int = 1) -> int:
    """Display columns: East Asian wide and full-width characters take two (ambiguous ones `ambiguous`)."""
    if text.isascii():
        return len(text)
    return _width_slow(text, ambiguous)


def wrap(text: str, width: int, ambiguous: int = 1) -> list[str]:
    """Lines of at most `width` columns, never broken inside a number or a word (one wider than that is cut),
    never beginning with closing punctuation nor ending with opening punctuation (避头尾)."""
    width = max(width, 1)
    if "\n" not in text and width_of(text, ambiguous) <= width:
        return [text]
    return list(_wrap(text, width, ambiguous))


@functools.lru_cache(maxsize=4096)
def _wrap(text: str, width: int, ambiguous: int) -> tuple[str, ...]:
    # cached: a table of findings repeats the same message thousands of times
    tokens: list[str] = []
    for tok in _TOKEN.findall(text):
        if tokens and (tok[0] in _NO_LINE_START or tokens[-1][-1] in _NO_LINE_END) and not tok.isspace():
            tokens[-1] += tok  # keep punctuation with its neighbour
        else:
            tokens.append(tok)
    lines: list[str] = []
    line, used = "", 0  # the line so far and its width
    for tok in tokens:
        if tok.isspace():
            if line:
                line += " "
                used += 1
            continue
        w = width_of(tok, ambiguous)
        if line and used + w > width:
            head = line.rstrip()
            carry = ""  # an opening mark (before a space, say) goes down with what it opens
            while len(head) > 1 and head[-1] in _NO_LINE_END:
                carry, head = head[-1] + carry, head[:-1]
            if carry and width_of(carry, ambiguous) + w > width:
                head, carry = head + carry, ""
            lines.append(head)
            line, used = carry, width_of(carry, ambiguous)
        while w > width:  # longer than a line: cut it
            cut, cw = 0, 0
            while cut < len(tok) and cw + width_of(tok[cut], ambiguous) <= width:
                cw += width_of(tok[cut], ambiguous)
                cut += 1
            cut = max(cut, 1)
            lines.append(tok[:cut])
            tok = tok[cut:]
            w = width_of(tok, ambiguous)
        line += tok
        used += w
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return tuple(lines)


# ---- sanitising ------------------------------------------------------------------------------------------

_UNSAFE = ("Cc", "Cf", "Cs", "Zl", "Zp")


def _escape(c: str) -> str:
    o = ord(c)
    return f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}"


def clean(text: object, keep_newlines: bool = False) -> str:
    """Text safe for a console: tab and (in cells) line breaks become a space; every other control or format
    character (ESC, BEL, NUL, bidi overrides, zero-width joiners, lone surrogates) is shown as `\\x1b`,
    `\\u202e` … No markup is interpreted anywhere, so `[/]` or `[bold]` print as they are."""
    text = "" if text is None else str(text)
    if text.isprintable():
        return text
    out = []
    for c in text:
        if c.isprintable() or c == " " or (c == "\n" and keep_newlines):
            out.append(c)
        elif c in "\t\n\r\x0b\x0c":
            out.append(" ")
        elif unicodedata.category(c) in _UNSAFE:
            out.append(_escape(c))
        else:  # spaces (U+3000, NBSP), unassigned and private-use characters: harmless
            out.append(c)
    return "".join(out)


# ---- encoding --------------------------------------------------------------------------------------------

_PERMYRIAD = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*([‱‰])")
_WORDS = {"‱": "万分之", "‰": "千分之"}
_LOOKALIKE = {"•": "·", "−": "-", "✓": "√", "✔": "√", "✗": "×", "✘": "×", "\u00a0": " ", "\u2009": " ",
              "\u202f": " ", "⋯": "…", "–": "-", "‒": "-", "↗": "↑", "↘": "↓"}


def encoding_of(stream) -> str:
    enc = getattr(stream, "encoding", None) or "utf-8"
    try:
        return codecs.lookup(enc).name
    except LookupError:
        return "utf-8"


def holds_everything(encoding: str) -> bool:
    return encoding in _FULL


@functools.lru_cache(maxsize=4096)
def _encodable(c: str, encoding: str) -> bool:
    try:
        c.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _fallback(c: str, encoding: str) -> str:
    if c in _WORDS:
        return _WORDS[c]
    for alt in (_LOOKALIKE.get(c), unicodedata.normalize("NFKC", c)):
        if alt and alt != c and all(_encodable(a, encoding) for a in alt):
            return alt
    return f"<U+{ord(c):04X}>"


def degrade(text: str, encoding: str) -> str:
    """`text` with what `encoding` cannot hold replaced by something readable: `1.03‱` → `万分之1.03`,
    `‰` → 千分之, `•` → `·`, full-width look-alikes by NFKC, anything else `<U+XXXX>`."""
    if holds_everything(encoding):
        return text
    try:
        text.encode(encoding)
        return text
    except UnicodeEncodeError:
        pass
    if not _encodable("‱", encoding):
        text = _PERMYRIAD.sub(lambda m: _WORDS[m.group(2)] + m.group(1) if not _encodable(m.group(2), encoding)
                              else m.group(0), text)
    return "".join(c if c.isascii() or _encodable(c, encoding) else _fallback(c, encoding) for c in text)


def _degrade_errors(exc: UnicodeError):
    """Codec error handler `jindu`: the safety net for text written past `write` (click's own messages)."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    enc = codecs.lookup(exc.encoding).name
    return "".join(_fallback(c, enc) for c in exc.object[exc.start:exc.end]), exc.end


codecs.register_error("jindu", _degrade_errors)


def guard_streams() -> None:
    """At the CLI boundary: stdout and stderr never raise on a character their encoding lacks."""
    for stream in (sys.stdout, sys.stderr):
        if holds_everything(encoding_of(stream)):
            continue
        with contextlib.suppress(AttributeError, ValueError, OSError):  # a test's StringIO, a closed stream
            stream.reconfigure(errors="jindu")


def write(text: str, stream=None) -> None:
    """Text to a stream, degraded to what its encoding holds."""
    stream = stream if stream is not None else sys.stdout
    with writing(stream):
        stream.write(degrade(text, encoding_of(stream)))


@contextlib.contextmanager
def writing(stream):
    """A write to `stream` that fails (disk full under `> file`, the reader of a pipe gone) ends the command:
    OutputError (exit 2) saying so, never a traceback and never exit 0 with part of the output. The stream
    is then pointed at the null device, so that nothing raises again when it is flushed at exit."""
    try:
        yield
    except OSError as exc:
        raise stream_error(exc, stream) from None


def stream_error(exc: OSError, stream=None):
    """The OutputError for a failed write to `stream` (stdout by default); the stream is silenced."""
    import errno

    from ..errors import OutputError, os_reason

    stream = stream if stream is not None else sys.stdout
    name = "标准错误" if stream is sys.stderr else "标准输出"
    _silence(stream)
    if exc.errno == errno.EPIPE:
        return OutputError(f"{name}已被关闭（读取输出的程序已退出），输出未写完。")
    return OutputError(f"无法写出到{name}：{os_reason(exc)}，输出不完整。")


def _silence(stream) -> None:
    with contextlib.suppress(AttributeError, ValueError, OSError):
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)


def flush_stdout() -> None:
    """What stdout still buffers, written now (the last write may fail only here)."""
    with writing(sys.stdout), contextlib.suppress(AttributeError, ValueError):
        sys.stdout.flush()


def write_json(text: str, stream=None) -> None:
    """JSON text: characters the stream cannot encode become `\\uXXXX` escapes (lossless, still JSON)."""
    stream = stream if stream is not None else sys.stdout
    enc = encoding_of(stream)
    if not holds_everything(enc):
        try:
            text.encode(enc)
        except UnicodeEncodeError:
            text = "".join(c if c.isascii() or _encodable(c, enc) else _json_escape(c) for c in text)
    with writing(stream):
        stream.write(text)


def _json_escape(c: str) -> str:
    o = ord(c)
    if o < 0x10000:
        return f"\\u{o:04x}"
    o -= 0x10000
    return f"\\u{0xD800 + (o >> 10):04x}\\u{0xDC00 + (o & 0x3FF):04x}"


def write_bytes(data: bytes, stream=None) -> None:
    """Bytes (UTF-8 CSV) to a pipe or file as they are; to a console (or a text-only stream) as text."""
    stream = stream if stream is not None else sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is not None and not _isatty(stream):
        with writing(stream):
            stream.flush()
            buffer.write(data)
            buffer.flush()
    else:
        write(data.decode("utf-8-sig"), stream)


def is_terminal(stream=None) -> bool:
    """Whether `stream` (stdout by default) is a console."""
    return _isatty(stream if stream is not None else sys.stdout)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def console_width(stream) -> int:
    """Columns of the console behind `stream` (COLUMNS overrides), or PIPE_WIDTH for a pipe or a file."""
    if not _isatty(stream):
        return PIPE_WIDTH
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        cols = int(env)
    else:
        try:
            cols = os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            cols = 80
        cols = cols or 80
    if os.name == "nt":  # a legacy Windows console adds a blank line after a line that fills it
        cols -= 1
    return max(cols, MIN_WIDTH)


class Out:
    """A stream as the commands see it: its width, whether to colour, how wide ambiguous characters are."""

    def __init__(self, stream=None, width: int | None = None, tty: bool | None = None):
        self.stream = stream if stream is not None else sys.stdout
        self.tty = _isatty(self.stream) if tty is None else tty
        self.width = width or (console_width(self.stream) if self.tty else PIPE_WIDTH)
        self.encoding = encoding_of(self.stream)
        self.legacy_cjk = self.encoding in _CJK_LEGACY
        self.ambiguous = 2 if self.legacy_cjk else 1
        # display width on this stream (a plain function: tables call it for every cell)
        self.width_of = width_of if self.ambiguous == 1 else functools.partial(width_of, ambiguous=2)
        self.color = self.tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
        self.box = not self.legacy_cjk  # box-drawing lines would be drawn double width there
        self._chunks: list[str] = []


    def style(self, text: str, style: str | None) -> str:
        if not style or not self.color:
            return text
        code = {"bold": "1", "red": "31", "yellow": "33", "dim": "2", "italic": "3"}[style]
        return f"\x1b[{code}m{text}\x1b[0m"

    def print(self, text: str = "", style: str | None = None) -> None:
        """A line of text (cleaned; wrapped to the console's width when it is a terminal)."""
        text = clean(text, keep_newlines=True)
        lines = text.split("\n")
        if self.tty:
            lines = [part for line in lines for part in wrap(line, self.width, self.ambiguous)]
        self._chunks.append("".join(self.style(line, style) + "\n" for line in lines))
        self._flush_if_big()

    def lines(self, lines: list[str]) -> None:
        """Lines already laid out (a table's): written as they are."""
        self._chunks.append("\n".join(lines) + "\n" if lines else "")
        self._flush_if_big()

    def _flush_if_big(self) -> None:
        if len(self._chunks) > 256:
            self.flush()

    def flush(self) -> None:
        if self._chunks:
            write("".join(self._chunks), self.stream)
            self._chunks = []
        with writing(self.stream), contextlib.suppress(AttributeError, ValueError):
            self.stream.flush()

    def getvalue(self) -> str:
        """Everything written so far (for an in-memory stream)."""
        self.flush()
        return self.stream.getvalue()
