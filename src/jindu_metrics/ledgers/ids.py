"""GB 11643 resident ID numbers: check digit, 15→18 upgrade, synthetic IDs for samples and tests."""

from __future__ import annotations


def check_digit(first17: str) -> str:
    """The GB 11643 check character for 17 digits (python-stdnum).

    stdnum's calc_check_digit expects the whole number *including* a check-digit slot (it reads
    number[:-1]), so a placeholder is appended. Imported here: stdnum pulls in ssl, and clean IDs are
    checked by arrays (normalize._convert_all) without it.
    """
    from stdnum.cn import ric

    return ric.calc_check_digit(first17 + "0")


def upgrade15(id15: str) -> str:
    """First-generation 15-digit ID -> 18 characters (century 19 inserted, check digit appended)."""
    body = id15[:6] + "19" + id15[6:]
    return body + check_digit(body)


def make_id(area: str, birth: str, seq: int) -> str:
    """A synthetic but valid 18-character ID: area code (6), birth date YYYYMMDD, 3-digit sequence."""
    body = f"{area}{birth}{seq % 1000:03d}"
    return body + check_digit(body)
