"""Masking of names and ID numbers wherever output must point at a person."""

from __future__ import annotations


def mask_id(value: object) -> str:
    """`440607199001011234` -> `440607********1234`; short or odd values keep only their ends."""
    if value is None:
        return ""
    s = str(value).strip()
    if not s or s.lower() == "nan":
        return ""
    if len(s) >= 10:
        return s[:6] + "*" * (len(s) - 10) + s[-4:]
    if len(s) > 2:
        return s[0] + "*" * (len(s) - 2) + s[-1]
    return "*" * len(s)


def mask_name(value: object) -> str:
    """`张三丰` -> `张**`."""
    if value is None:
        return ""
    s = str(value).strip()
    if not s or s.lower() == "nan":
        return ""
    return s[0] + "*" * max(len(s) - 1, 1)


def mask_value(column: str | None, value: object, show_pii: bool = False) -> str | None:
    """Mask `value` when `column` holds PII (姓名, 公民身份号码) unless `show_pii`."""
    if value is None:
        return None
    if show_pii or column is None:
        return str(value)
    if column == "公民身份号码" or column.endswith("身份号码"):
        return mask_id(value)
    if column == "姓名":
        return mask_name(value)
    return str(value)
