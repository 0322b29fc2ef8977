"""Imports every command module so that each registers itself on the app."""

from . import validate_cmd  # noqa: F401
from . import init_cmd  # noqa: F401
from . import batch_cmd  # noqa: F401
from . import report_cmd  # noqa: F401
from . import compute_cmd  # noqa: F401
