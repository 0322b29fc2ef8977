"""Imports every command module so that each registers itself on the app."""

from . import (
    batch_cmd,  # noqa: F401
    compute_cmd,  # noqa: F401
    init_cmd,  # noqa: F401
    report_cmd,  # noqa: F401
    validate_cmd,  # noqa: F401
)
