"""Bulletins (通报): the template context, sandboxed Jinja2 rendering, and the 公文-style Word writer."""

from .context import build_context
from .render import render_report, render_source

__all__ = ["build_context", "render_report", "render_source", "write_docx"]


def __getattr__(name):
    if name == "write_docx":  # python-docx is imported only when a docx is written
        from .docx import write_docx

        return write_docx
    raise AttributeError(name)
