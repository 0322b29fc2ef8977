"""The help page of `jindu` and its commands: usage, description, then 参数 / 选项 / 命令 as two-column lists.

Drawn here rather than by typer's rich panels, which cut long descriptions short and import markdown and
syntax-highlighting modules (≈0.1 s on every `jindu --help`). Lines wrap by display width (a Chinese
character takes two columns), never inside a number or an English word, and never begin with a closing
punctuation mark nor end with an opening one (避头尾).
"""

from __future__ import annotations

import inspect
import shutil

from .terminal import _NO_LINE_END, _NO_LINE_START, width_of, wrap  # noqa: F401  (one home)

USAGE_PREFIX = "用法："
MAX_WIDTH = 100
NAME_MAX = 26  # a longer option name puts its description on the next line
GAP = 3
# what an option's value is, by parameter name, for options declared without a metavar
METAVARS = {"period": "统计期", "by": "字段", "metric": "指标", "unit": "单位", "fmt": "格式", "catalog": "文件",
            "output": "文件", "template": "文件", "scoring": "文件", "out": "文件夹", "report_date": "日期",
            "jobs": "N", "level": "层级", "office": "落款单位", "county_template": "文件", "baseline": "年份"}


def render_help(command, ctx) -> str:
    """The help text of a click/typer command in its context."""
    width = max(min(shutil.get_terminal_size((MAX_WIDTH, 24)).columns, MAX_WIDTH) - 1, 40)
    out = wrap(f"{USAGE_PREFIX}{ctx.command_path} {' '.join(command.collect_usage_pieces(ctx))}".rstrip(), width)
    for paragraph in _paragraphs(command.help or ""):
        out.append("")
        for raw in paragraph.splitlines():
            indent = "  " + " " * (len(raw) - len(raw.lstrip()))
            if raw.lstrip().startswith("jindu "):  # an example: broken between words only, as typed
                out.extend(_wrap_command(raw.strip(), width - len(indent), indent))
            else:
                out.extend(indent + line for line in wrap(raw.strip(), width - len(indent)))
    for title, rows in _sections(command, ctx):
        if rows:
            out += ["", f"{title}："] + _two_columns(rows, width)
    return "\n".join(out) + "\n"


def _wrap_command(command: str, width: int, indent: str) -> list[str]:
    """An example command over lines of `width` columns, broken only between its words (a path or value is
    never cut: a reader copies it), the continuation lines indented four more."""
    lines: list[str] = []
    line = ""
    for word in command.split():
        room = width - (4 if lines else 0)
        if line and width_of(line) + 1 + width_of(word) > room:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return [indent + ("    " if i else "") + text for i, text in enumerate(lines)]


def _two_columns(rows: list[tuple[str, str]], width: int) -> list[str]:
    col = min(max(width_of(name) for name, _ in rows), NAME_MAX)
    text_width = max(width - 2 - col - GAP, 20)
    out = []
    for name, text in rows:
        lines = wrap(text, text_width) if text else [""]
        if width_of(name) > col:
            out.append(f"  {name}")
            first = 0
        else:
            out.append(f"  {name}{' ' * (col - width_of(name) + GAP)}{lines[0]}".rstrip())
            first = 1
        out.extend(f"  {' ' * (col + GAP)}{line}" for line in lines[first:])
    return out


def _paragraphs(text: str) -> list[str]:
    """Docstring paragraphs: lines joined, except in a paragraph whose later lines are indented (examples)."""
    out = []
    for block in inspect.cleandoc(text).split("\n\n"):
        lines = block.splitlines()
        if any(line.startswith(" ") for line in lines[1:]):
            out.append(block)
        else:
            out.append("".join(line.strip() for line in lines))
    return [p for p in out if p.strip()]


def _sections(command, ctx) -> list[tuple[str, list[tuple[str, str]]]]:
    arguments, options = [], []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            arguments.append(((param.metavar or param.name or "").strip("[]."), _text(param)))
        else:
            names = ", ".join(sorted(param.opts, key=len) + list(param.secondary_opts))
            if not (param.is_flag or param.count):
                names += f" {param.metavar or METAVARS.get(param.name, '值')}"
            options.append((names, _text(param)))
    commands = []
    for name in getattr(command, "list_commands", lambda c: [])(ctx):
        sub = command.get_command(ctx, name)
        if sub is not None and not sub.hidden:
            commands.append((name, sub.short_help or next(iter(_paragraphs(sub.help or "")), "")))
    return [("参数", arguments), ("选项", options), ("命令", commands)]


def _text(param) -> str:
    """A parameter's help with its default and whether it is required."""
    text = (getattr(param, "help", None) or "").strip()
    default = param.default
    empty = default is None or default is False or default == () or default == []
    if getattr(param, "show_default", True) and not empty and not getattr(param, "is_flag", False) \
            and not callable(default):
        text += f"（默认：{default}）"
    if param.required:
        text += "（必填）"
    return text
