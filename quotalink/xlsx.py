"""Spreadsheet safety: cell values that Excel or LibreOffice would run as formulas become text."""

from typing import Any

# A cell starting with one of these is read as a formula (or DDE command) by spreadsheet
# programs; tab and carriage return hide such a prefix from a casual look.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Prefix a string starting with ``= + - @``, tab or CR with ``'`` so it stays text;
    every other value (numbers, dates, None, other strings) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
