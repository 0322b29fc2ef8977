"""Rendering bulletins with Jinja2 in a sandbox: a template is data from another office, never code."""

from __future__ import annotations

import contextlib
import functools
import re
import sys
import threading
import time
from datetime import date as Date
from importlib import resources
from pathlib import Path

from ..errors import ConfigError, UsageError
from ..periods import bulletin_window
from .context import build_context
from .filters import FILTERS

FORMATS = ("txt", "md", "docx")
MAX_TEMPLATE_BYTES = 1_000_000
MAX_OUTPUT_CHARS = 5_000_000
# A template is data from another office: its rendering is bounded. A bulletin renders in milliseconds.
MAX_SECONDS = 10.0
MAX_INT_ARG = 100_000  # no filter or call needs a larger number (widths, decimals, counts)
MAX_INT_BITS = 4096  # results of ** and * on integers
MAX_RANGE = 100_000  # items of one range(); nested loops are bounded by MAX_SECONDS


class _Bound(Exception):
    """A template passed one of the rendering bounds (time, size, numbers)."""


def _overtime() -> str:
    return f"模板运行超过 {MAX_SECONDS:g} 秒，已停止，请检查模板中的循环和过滤器"


class _Overtime(_Bound):
    """The deadline passed inside one of jindu's own filters (raised there by _Watchdog, which can only name
    the class)."""

    def __init__(self, *args):
        super().__init__(*(args or (_overtime(),)))


def _finalize(value):
    """Missing data prints "—", never "None" (the context already holds "—" for empty texts)."""
    return "—" if value is None else value


def default_template_source(fmt: str, kind: str = "bulletin") -> tuple[str, str]:
    """(source, name) of the shipped template for `fmt` (docx is laid out from the md text: its tables).
    kind: "bulletin" (a township's 通报) or "county" (全县通报)."""
    name = f"{kind}.md.j2" if fmt in ("md", "docx") else f"{kind}.txt.j2"
    src = resources.files("jindu_metrics.templates").joinpath(name).read_text(encoding="utf-8")
    return src, f"默认模板 {name}"


def read_template(path: Path) -> str:
    """A user's template (UTF-8 or GBK): a regular file of at most 1 MB (tomlread.read_bytes), else ConfigError."""
    from ..tomlread import read_bytes

    path = Path(path)
    data = read_bytes(path, "模板文件", MAX_TEMPLATE_BYTES)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise ConfigError("模板文件不是 UTF-8 或 GBK 编码的文本。", file=str(path)) from None


def _check_args(args, kwargs) -> None:
    for a in (*args, *kwargs.values()):
        if isinstance(a, int) and not isinstance(a, bool) and abs(a) > MAX_INT_ARG:
            raise _Bound(f"模板中的数字 {a} 过大（参数不超过 {MAX_INT_ARG}）")


def _sized(value):
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_OUTPUT_CHARS:
        raise _Bound("模板生成的内容过长（超过 500 万字），请检查模板中的循环")
    return value


_IN_FILTER = [0]  # Jinja's filters running (nested): their own lines are checked against the deadline too


def _bounded_filter(f, traced: bool):
    """`f` with its numbers and result bounded, and run against the deadline. `traced`: Jinja's own filters
    (wordwrap, indent, …), whose loops a template can drive with a long text, have every line they run
    checked. jindu's own filters (cn, table, sentence, …) are not traced (tracing cn2an's first use line by
    line costs more than a bulletin's time): the rendering's _Watchdog stops them at the deadline instead."""
    from jinja2 import pass_context
    from jinja2.utils import _PassArg

    wants = _PassArg.from_obj(f)
    # Every filter takes the context: Jinja calls a filter on constants while compiling (`{{ 1|f }}` is
    # folded into the code), outside the rendering's deadline, unless it takes the context.
    passed = {_PassArg.context: lambda c: (c,), _PassArg.eval_context: lambda c: (c.eval_ctx,),
              _PassArg.environment: lambda c: (c.environment,), None: lambda c: ()}[wants]

    @pass_context
    @functools.wraps(f)
    def wrapper(context, *args, **kwargs):
        args = (*passed(context), *args)
        _check_args(args[1:], kwargs)
        if not traced:
            with _Watchdog.watching():
                return _sized(f(*args, **kwargs))
        _IN_FILTER[0] += 1
        try:
            return _sized(f(*args, **kwargs))
        finally:
            _IN_FILTER[0] -= 1

    return wrapper


REFIRE = 0.25  # seconds between the watchdog's raises while a filter runs on (see _Watchdog)


class _Watchdog:
    """The hard deadline of jindu's own filters during one rendering: past the deadline, a thread raises
    _Overtime in the rendering thread while one of them runs, between any two of its bytecodes however it
    loops (only a single C call, whose input the size caps bound, finishes first). It raises again every
    REFIRE seconds while the filter runs on without the exception having passed out of it: one that lands in
    a generator being finalised is printed as "Exception ignored" and lost (sentence's genexpr, seen under
    load). The rendering stops with _Overtime however the filter took it, and the watchdog has ended by then:
    nothing is left to arrive in the caller's code afterwards."""

    _current = threading.local()  # the watchdog of this thread's rendering, if any

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.target = threading.get_ident()
        self.depth = 0  # jindu filters running now (nested through map, say)
        self.fired = False
        self.passed = False  # an _Overtime has passed out of one of jindu's filters
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="jindu-template-deadline", daemon=True)

    def __enter__(self):
        self._current.watchdog = self
        self._hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._current.watchdog = None
        self._done.set()
        self._thread.join()
        sys.unraisablehook = self._hook
        if self.fired and not isinstance(exc, _Overtime):
            # Not delivered yet (the filter was returning) or swallowed by it. Not cancelled: clearing a
            # thread's pending exception (SetAsyncExc with NULL) leaves CPython 3.11's eval breaker set, and
            # a traced frame then spins on it. It lands at this loop's first back edge, if still pending.
            for _ in range(2):
                pass
            raise _Overtime()

    def _unraisable(self, info) -> None:
        """A stop lost in a finaliser is raised again (REFIRE), not printed as "Exception ignored … Traceback"."""
        if not isinstance(info.exc_value, _Overtime):
            self._hook(info)

    def _watch(self) -> None:
        wait = self.deadline - time.monotonic()
        while not self._done.wait(max(wait, 0.0)):
            if self.fired and (self.passed or not self.depth):
                return  # on its way out, or the filter returned first: __exit__ raises it
            if self.depth:
                self.fired = True
                _async_raise(self.target, _Overtime)  # a pending one is replaced, never doubled
                wait = REFIRE
                continue
            wait = 0.02  # past the deadline, outside jindu's filters: the traced template lines stop it

    @classmethod
    @contextlib.contextmanager
    def watching(cls):
        """Around a call of one of jindu's filters: the deadline checked on entry and exit, enforced between."""
        dog = getattr(cls._current, "watchdog", None)
        if dog is None:  # not rendering (a filter called on its own)
            yield
            return
        dog.check()
        dog.depth += 1
        try:
            yield
        except _Overtime:
            dog.passed = True
            raise
        finally:
            dog.depth -= 1
        dog.check()

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Overtime()


def _async_raise(thread_id: int, exc_type: type[BaseException]) -> None:
    """Raise `exc_type` in the thread `thread_id` at its next bytecode check (CPython's
    PyThreadState_SetAsyncExc: pure-Python code checks between instructions, on every platform)."""
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), ctypes.py_object(exc_type))


def _sandbox_class():
    import operator

    from jinja2.sandbox import SandboxedEnvironment

    class BoundedSandbox(SandboxedEnvironment):
        """The sandbox, bounded: big powers and repetitions refused, calls and loops checked against a deadline."""

        intercepted_binops = frozenset({"**", "*", "+"})
        deadline = float("inf")

        def tick(self) -> None:
            if time.monotonic() > self.deadline:
                raise _Overtime()

        def call_binop(self, context, op, left, right):
            self.tick()
            ints = all(isinstance(x, int) for x in (left, right))
            if op == "**":
                if ints and right > 0 and abs(left) > 1 and (abs(left).bit_length() * right > MAX_INT_BITS):
                    raise _Bound("模板中的乘方结果过大")
                return operator.pow(left, right)
            if op == "*":
                if ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise _Bound("模板中的乘法结果过大")
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_OUTPUT_CHARS:
                        raise _Bound("模板生成的内容过长（超过 500 万字），请检查模板中的重复")
                return operator.mul(left, right)
            return _sized(operator.add(left, right))

        def getattr(self, obj, attribute):
            return _sized(super().getattr(obj, attribute))

        def getitem(self, obj, argument):
            return _sized(super().getitem(obj, argument))

        def call(__self, __context, __obj, *args, **kwargs):
            __self.tick()
            _check_args(args, kwargs)
            return _sized(super().call(__context, __obj, *args, **kwargs))

    def bounded_range(*args):
        _check_args(args, {})
        r = range(*args)
        if len(r) > MAX_RANGE:
            raise _Bound(f"range 的长度超过 {MAX_RANGE}")
        return r

    return BoundedSandbox, bounded_range


def _environment(source: str, name: str):
    from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound

    class _OnlyThisTemplate(BaseLoader):
        # A user template may not include or extend other files: it renders on its own.
        def get_source(self, environment, template):
            if template != name:
                raise TemplateNotFound(template)
            return source, name, lambda: True

    sandbox, bounded_range = _sandbox_class()
    env = sandbox(
        loader=_OnlyThisTemplate(), undefined=StrictUndefined, autoescape=False, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True, finalize=_finalize, auto_reload=False,
    )
    env.filters.update(FILTERS)
    env.filters = {k: _bounded_filter(f, k not in FILTERS) for k, f in env.filters.items()}
    env.globals["range"] = bounded_range
    env.globals.pop("lipsum", None)  # placeholder text has no place in a bulletin (and lipsum(10**6) hangs)
    return env


def _check_literals(env, source: str, name: str) -> None:
    """A number literal out of range (1e309 reads as infinity) is a template error, not "inf" in a bulletin."""
    import math

    from jinja2 import nodes

    for node in env.parse(source, name).find_all(nodes.Const):
        if isinstance(node.value, float) and not math.isfinite(node.value):
            raise ConfigError("模板中的数字超出范围（如 1e309），请改为正常的数字", file=name, row=node.lineno)


def _render_bounded(env, template, context: dict) -> str:
    """Render with a deadline and a size cap. The deadline is checked at every template line, call and
    operator, and at every line a filter runs, down to what it calls: a filter such as wordwrap over a long
    text loops inside itself (textwrap), where no template line runs. Only a single C call (whose inputs
    the size caps bound) goes unchecked."""
    import sys

    code_name = template.filename or template.name

    def local(frame, event, arg):
        if event == "line":
            env.tick()
            for v in frame.f_locals.values():  # `{% set s = s ~ s %}` repeated doubles a text without a call
                if type(v) in (str, list) and len(v) > MAX_OUTPUT_CHARS:
                    raise _Bound("模板生成的内容过长（超过 500 万字），请检查模板")
        return local

    def inner(frame, event, arg):
        if event == "line":
            env.tick()
        return inner

    def tracer(frame, event, arg):
        if frame.f_code.co_filename == code_name:
            return local
        return inner if _IN_FILTER[0] else None  # the sandbox's own code and the context's: not traced

    env.deadline = time.monotonic() + MAX_SECONDS
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        with _Watchdog(env.deadline):
            parts, size = [], 0
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_OUTPUT_CHARS:
                    raise _Bound("模板生成的内容过长（超过 500 万字），请检查模板中的循环")
                parts.append(chunk)
        return "".join(parts)
    finally:
        sys.settrace(previous)


def _template_line(exc: BaseException, name: str) -> int | None:
    """The template line an error happened on (Jinja rewrites tracebacks to template lines)."""
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == name:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _config_error(exc: BaseException, name: str) -> ConfigError:
    from jinja2 import TemplateNotFound, TemplateSyntaxError, UndefinedError
    from jinja2.exceptions import SecurityError

    line = _template_line(exc, name)
    msg = str(getattr(exc, "message", None) or exc)
    if isinstance(exc, TemplateSyntaxError):
        if "no filter named" not in msg.lower():
            text = f"模板语法错误：{_syntax_reason(msg)}"
        else:
            filt = re.search(r"'([^']+)'", msg)
            text = f"模板使用了不存在的过滤器「{filt.group(1) if filt else msg}」；可用的过滤器见 jindu 说明 模板"
    elif isinstance(exc, TemplateNotFound):
        text = f"模板不能引用其他文件（「{exc.name}」）：通报模板只能使用自身内容"
    elif isinstance(exc, SecurityError) or (isinstance(exc, UndefinedError) and "unsafe" in msg):
        attr = re.search(r"attribute '([^']+)'", msg)
        what = f"「{attr.group(1)}」" if attr else ""
        text = f"模板试图访问内部属性{what}，已拒绝：通报模板在沙箱中运行，只能使用文档列出的变量和过滤器"
    elif isinstance(exc, UndefinedError):
        m = re.search(r"'([^']+)' is undefined", msg) or re.search(r"has no attribute '([^']+)'", msg)
        nm = m.group(1) if m else msg
        text = f"模板使用了未定义的变量「{nm}」；可用的变量见 jindu 说明 模板"
    else:
        text = f"模板运行出错：{_RUNTIME_REASONS.get(type(exc), '模板中的运算无法完成')}"
    return ConfigError(text, file=name, row=line)


# Jinja's syntax messages (English) in Chinese: pattern → wording ({0}: the first group)
_SYNTAX_REASONS = [
    (r"Unexpected end of template.*innermost block that needs to be closed is '(\w+)'",
     "模板结束时「{{% {0} %}}」还没有闭合（缺少对应的 {{% end{0} %}}）"),
    (r"Unexpected end of template", "模板没有写完（有未闭合的 {{% … %}} 或 {{{{ … }}}}）"),
    (r"Encountered unknown tag '(\w+)'.*looking for the following tags: (.*?)\.",
     "这里应为 {1}，却遇到了「{0}」（标签写错或多写了一个）"),
    (r"Encountered unknown tag '(end\w+)'", "多余的「{{% {0} %}}」（前面没有与之配对的开始标签）"),
    (r"Encountered unknown tag '(\w+)'", "未知的标签「{0}」"),
    (r"Expected an expression, got 'end of (statement block|print statement)'", "缺少要输出或判断的内容"),
    (r"Expected an expression, got '(.*)'", "此处应为变量或数值，却是「{0}」"),
    (r"expected token 'end of print statement', got '(.*)'", "「{{{{ … }}}}」中多出了「{0}」"),
    (r"expected token 'end of statement block', got '(.*)'", "「{{% … %}}」中多出了「{0}」"),
    (r"expected token '(.*)', got '(.*)'", "此处应为「{0}」，却是「{1}」"),
    (r"expected name or number", "「.」后面应写变量名"),
    (r"unexpected '(.)'", "多余的「{0}」"),
    (r"unexpected char '(.*)' at \d+", "无法识别的字符「{0}」"),
    (r"unexpected end of template", "模板没有写完"),
    (r"tag name expected", "「{{%」后面缺少标签名"),
    (r"Block '(.*)' defined twice", "块「{0}」定义了两次"),
    (r"unclosed (.*)", "缺少与之配对的括号或引号"),
]
_RUNTIME_REASONS = {ZeroDivisionError: "除数为零", TypeError: "运算的类型不对（如文字与数字相加）",
                    ValueError: "值无效", OverflowError: "数值过大", IndexError: "下标超出范围",
                    KeyError: "没有这一项", AttributeError: "没有这个属性", RecursionError: "嵌套或递归层数过多",
                    MemoryError: "占用内存过多"}


def _syntax_reason(message: str) -> str:
    for pattern, wording in _SYNTAX_REASONS:
        m = re.match(pattern, message, re.S)
        if m:
            return wording.format(*(g.replace("'", "").replace(" or ", "、") for g in m.groups()))
    return "写法有误（检查这一行的 {{ }}、{% %} 是否成对）"


@functools.lru_cache(maxsize=8)
def _compiled(source: str, name: str):
    """(sandbox, template), checked and compiled once per process (a county batch renders one per township)."""
    env = _environment(source, name)
    _check_literals(env, source, name)
    return env, env.get_template(name)


def render_source(source: str, context: dict, *, name: str = "<模板>") -> str:
    """Render template text in the sandbox; any template problem becomes a ConfigError naming the line."""
    from jinja2 import TemplateError

    try:
        env, template = _compiled(source, name)
        text = _render_bounded(env, template, context)
    except _Bound as exc:
        raise ConfigError(f"{exc}。", file=name, row=_template_line(exc, name)) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError,
            RecursionError, MemoryError) as exc:
        raise _config_error(exc, name) from None
    return _tidy(text)


def _tidy(text: str) -> str:
    """Trailing spaces off each line, no leading or trailing blank lines, one final newline."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def template_source(template: Path | None, fmt: str, kind: str = "bulletin", workspace=None) -> tuple[str, str]:
    """(source, name) of the template to render: `template`, else the workspace's (`template`, or
    `county_template` for kind "county"), else the shipped one."""
    if fmt not in FORMATS:
        raise UsageError(f"不支持的通报格式「{fmt}」，可选：{'、'.join(FORMATS)}")
    key = "template" if kind == "bulletin" else f"{kind}_template"
    if template is None and workspace is not None and getattr(workspace, key, None):
        template = getattr(workspace, key)
    if template is not None:
        return read_template(Path(template)), str(template)
    return default_template_source(fmt, kind)


def render_report(result_ytd, *, month=None, villages=None, workspace=None, template: Path | None = None,
                  fmt: str = "txt", date: Date | None = None, catalog=None) -> str:
    """The bulletin's text (txt or md; docx is laid out from the md text by write_docx)."""
    source, name = template_source(template, fmt, "bulletin", workspace)
    context = build_context(result_ytd, month=month, villages=villages, workspace=workspace,
                            catalog=catalog, date=date)
    return render_source(source, context, name=name)


def render_county(result, catalog, *, workspace=None, template: Path | None = None, fmt: str = "txt",
                  date: Date | None = None) -> str:
    """全县通报's text (txt or md; docx is laid out from the md text) from a batch.BatchResult, through the
    same sandbox as the township bulletin; `template` (or the workspace's county_template) overrides it."""
    from .context import county_context

    source, name = template_source(template, fmt, "county", workspace)
    return render_source(source, county_context(result, catalog, workspace=workspace, date=date), name=name)


def bulletin_results(ledgers, catalog, period, main=None, *, ytd=None, baseline: int | None = None) -> dict:
    """The results a bulletin is rendered from: the cumulative window (bulletin_window) plus, when it differs
    from `period`, the month's own figures. Villages: by 所属村居 over the cumulative window.
    `main` / `ytd`: the results for `period` / for the cumulative window when the caller has them (batch does);
    `baseline`: the base year of `m.X.baseline`.
    """
    from ..metrics.engine import compute

    window = bulletin_window(period)
    if window == period:
        ytd, month = ytd or main or compute(ledgers, catalog, period, baseline=baseline), None
    else:
        ytd = ytd or compute(ledgers, catalog, window, baseline=baseline)
        month = main or compute(ledgers, catalog, period, baseline=baseline)
    villages = compute(ledgers, catalog, window, by="所属村居", compare=False)
    return {"result_ytd": ytd, "month": month, "villages": villages}
