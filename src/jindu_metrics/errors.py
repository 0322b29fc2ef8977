"""Errors the library raises; the CLI turns them into a Chinese message and an exit code at one boundary."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_UNUSABLE = 2


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
            where.append(f"文件「{self.file}」")
        if self.sheet:
            where.append(f"工作表「{self.sheet}」")
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
