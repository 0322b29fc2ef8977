"""Imports every command module so that each registers itself on the app.

The import order is the order `jindu --help` lists the commands in: the order of a month's work.
"""
# ruff: noqa: I001, F401

from . import init_cmd
from . import validate_cmd
from . import compute_cmd
from . import todo_cmd
from . import report_cmd
from . import batch_cmd
from . import docs_cmd
