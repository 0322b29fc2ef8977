"""jindu-metrics: 禁毒工作台帐读取、校验、指标计算与通报生成。

The Python API (the CLI is a thin layer over the same functions; see :mod:`jindu_metrics.api`):

    from jindu_metrics import load_ledgers, validate, compute, explain, todo, load_catalog, parse_period
    ledgers = load_ledgers(["乐平镇台帐.xlsx"])
    result = compute(ledgers, "2018-01..2018-10", by="所属村居")
    df = result.to_frame()

Importing the package does not import pandas (the command line must start fast).
"""

import sys as _sys
import types as _types

from . import interrupt as _interrupt  # noqa: F401 - first: Ctrl-C while the program is still importing
from .api import Validation, compute, explain, load_catalog, load_ledgers, parse_period, todo, validate

__version__ = "0.1.0"
__all__ = ["Validation", "compute", "explain", "load_catalog", "load_ledgers", "parse_period", "todo", "validate"]


class _Package(_types.ModuleType):
    """Keeps `jindu_metrics.validate` the API function: importing the submodule `jindu_metrics.validate`
    (the checks; imported as `from jindu_metrics.validate import validate`) would otherwise rebind the
    package attribute to that module."""

    def __setattr__(self, name, value):
        if name == "validate" and isinstance(value, _types.ModuleType):
            return
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package
