"""Masking of personal data (ID numbers, names, phones) for logs and non-auditor views."""

import re

_DIGITS = re.compile(r"\d")


def mask_id(value: str | None) -> str | None:
    """Keep the region prefix and the last character: 370102**********1X style."""
    if not value:
        return value
    s = str(value)
    if len(s) <= 4:
        return "*" * len(s)
    return s[:4] + "*" * (len(s) - 5) + s[-1]


def mask_name(value: str | None) -> str | None:
    """Keep the family name only: 王** ."""
    if not value:
        return value
    s = str(value)
    return s[0] + "*" * (len(s) - 1)


def mask_phone(value: str | None) -> str | None:
    """Keep the first three and last two digits."""
    if not value:
        return value
    s = str(value)
    if len(s) <= 5:
        return "*" * len(s)
    return s[:3] + "*" * (len(s) - 5) + s[-2:]


def mask_text(value: str | None) -> str | None:
    """Mask any run of 6+ digits inside free text (IDs and phones hiding in a raw line)."""
    if not value:
        return value
    return re.sub(r"\d{6,}[0-9Xx]?", lambda m: mask_id(m.group(0)) or "", str(value))
