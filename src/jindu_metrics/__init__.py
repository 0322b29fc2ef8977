"""jindu-metrics: 禁毒工作台帐读取、校验、指标计算与通报生成。

Library entry points (the CLI is a thin layer over these):

    from jindu_metrics import load_ledgers
    ledgers = load_ledgers(["乐平镇台帐.xlsx"])
"""

from . import interrupt as _interrupt  # noqa: F401 - first: Ctrl-C while the program is still importing

__version__ = "0.1.0"


def load_ledgers(*args, **kwargs):
    """Read ledgers from files or folders; see :func:`jindu_metrics.ledgers.load_ledgers`."""
    from .ledgers import load_ledgers as _load

    return _load(*args, **kwargs)
