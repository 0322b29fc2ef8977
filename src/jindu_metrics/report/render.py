"""Rendering bulletins with Jinja2 in a sandbox: a template is data from another office, never code."""

from __future__ import annotations

import functools
import re
from datetime import date as Date
from importlib import resources
from pathlib import Path

from ..errors import ConfigError, UsageError
from .context import build_context
from .filters import FILTERS

FORMATS = ("txt", "md", "docx")
MAX_TEMPLATE_BYTES = 1_000_000
MAX_OUTPUT_CHARS = 5_000_000


def _finalize(value):
    """Missing data prints "—", never "None" (the context already holds "—" for empty texts)."""
    return "—" if value is None else value


def default_template_source(fmt: str) -> tuple[str, str]:
    """(source, name) of the shipped template for `fmt` (docx is laid out from the txt bulletin)."""
    name = "bulletin.md.j2" if fmt == "md" else "bulletin.txt.j2"
    src = resources.files("jindu_metrics").joinpath("templates", name).read_text(encoding="utf-8")
    return src, f"默认模板 {name}"


def read_template(path: Path) -> str:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"模板文件无法读取：{exc.strerror or exc}", file=str(path)) from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise ConfigError("模板文件过大（超过 1 MB），不像是通报模板。", file=str(path))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise ConfigError("模板文件不是 UTF-8 或 GBK 编码的文本。", file=str(path)) from None


def _environment(source: str, name: str):
    from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound
    from jinja2.sandbox import SandboxedEnvironment

    class _OnlyThisTemplate(BaseLoader):
        # A user template may not include or extend other files: it renders on its own.
        def get_source(self, environment, template):
            if template != name:
                raise TemplateNotFound(template)
            return source, name, lambda: True

    env = SandboxedEnvironment(
        loader=_OnlyThisTemplate(), undefined=StrictUndefined, autoescape=False, trim_blocks=True,
        lstrip_blocks=True, keep_trailing_newline=True, finalize=_finalize, auto_reload=False,
    )
    env.filters.update(FILTERS)
    return env


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
            text = f"模板语法错误：{msg}"
        else:
            filt = re.search(r"'([^']+)'", msg)
            text = f"模板使用了不存在的过滤器「{filt.group(1) if filt else msg}」；可用的过滤器见 docs/templates.md"
    elif isinstance(exc, TemplateNotFound):
        text = f"模板不能引用其他文件（「{exc.name}」）：通报模板只能使用自身内容"
    elif isinstance(exc, SecurityError) or (isinstance(exc, UndefinedError) and "unsafe" in msg):
        attr = re.search(r"attribute '([^']+)'", msg)
        what = f"「{attr.group(1)}」" if attr else ""
        text = f"模板试图访问内部属性{what}，已拒绝：通报模板在沙箱中运行，只能使用文档列出的变量和过滤器"
    elif isinstance(exc, UndefinedError):
        m = re.search(r"'([^']+)' is undefined", msg) or re.search(r"has no attribute '([^']+)'", msg)
        nm = m.group(1) if m else msg
        text = f"模板使用了未定义的变量「{nm}」；可用的变量见 docs/templates.md"
    else:
        text = f"模板运行出错：{type(exc).__name__}: {msg}"
    return ConfigError(text, file=name, row=line)


@functools.lru_cache(maxsize=8)
def _compiled(source: str, name: str):
    """The sandboxed template, compiled once per process (a county batch renders one per township)."""
    return _environment(source, name).get_template(name)


def render_source(source: str, context: dict, *, name: str = "<模板>") -> str:
    """Render template text in the sandbox; any template problem becomes a ConfigError naming the line."""
    from jinja2 import TemplateError

    try:
        text = _compiled(source, name).render(context)
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError, AttributeError,
            RecursionError) as exc:
        raise _config_error(exc, name) from None
    if len(text) > MAX_OUTPUT_CHARS:
        raise ConfigError("模板生成的内容过长（超过 500 万字），请检查模板中的循环。", file=name)
    return _tidy(text)


def _tidy(text: str) -> str:
    """Trailing spaces off each line, no leading or trailing blank lines, one final newline."""
    lines = [ln.rstrip() for ln in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def render_report(result_ytd, *, month=None, villages=None, workspace=None, template: Path | None = None,
                  fmt: str = "txt", date: Date | None = None, catalog=None) -> str:
    """The bulletin's text (txt or md; docx is laid out from the txt text by write_docx)."""
    if fmt not in FORMATS:
        raise UsageError(f"不支持的通报格式「{fmt}」，可选：{'、'.join(FORMATS)}")
    if template is None and workspace is not None and getattr(workspace, "template", None):
        template = workspace.template
    if template is not None:
        source, name = read_template(Path(template)), str(template)
    else:
        source, name = default_template_source(fmt)
    context = build_context(result_ytd, month=month, villages=villages, workspace=workspace,
                            catalog=catalog, date=date)
    return render_source(source, context, name=name)


def bulletin_results(ledgers, catalog, period, main=None) -> dict:
    """The results a bulletin is rendered from, as offices mean `--period 2018-10`.

    A single month (other than January) → the year to date (flows 1至N月, stocks on its last day) plus the
    month's own figures; any other window is reported as given. Villages: by 所属村居 over the same window.
    `main`: the result for `period` when the caller has already computed it (batch does).
    """
    from ..metrics.engine import compute

    main = main if main is not None else compute(ledgers, catalog, period)
    ytd_period = period.year_to_date() if period.months == 1 and period.start.month != 1 else period
    if period != ytd_period:
        ytd, month = compute(ledgers, catalog, ytd_period), main
    else:
        ytd, month = main, None
    villages = compute(ledgers, catalog, ytd_period, by="所属村居", compare=False)
    return {"result_ytd": ytd, "month": month, "villages": villages}
