"""Shared helpers of the standardisers: missing-value test, Unicode folding, data tables."""

import csv
import math
import unicodedata
from functools import cache
from pathlib import Path

_DATA_DIR = Path(__file__).parent / "tables"
# What a malformed value raises on its way through int(), float(), date() and str(): the
# standardisers answer None for these. Anything else is a bug and must propagate, not be
# counted as an "unparsed" value.
BAD_VALUE = (TypeError, ValueError, OverflowError)


def is_missing(value: object) -> bool:
    """True for None, NaN, pandas NA/NaT and blank strings; never raises."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    try:
        # pandas.NA / NaT / numpy NaN compare unequal to themselves (NA raises on bool()).
        return bool(value != value)
    except (TypeError, ValueError):
        return True


def fold(value: object) -> str | None:
    """Return `value` as NFKC-folded text (full-width → ASCII), or None when missing."""
    if is_missing(value):
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        text = str(value)
    except BAD_VALUE:
        return None
    return unicodedata.normalize("NFKC", text)


# A spreadsheet's text marker ('370102…, typed so Excel keeps the digits) and quotes a
# copied cell brings along: never part of an identifier.
_QUOTE_MARKS = "'\"`‘’“”"


def strip_quote_marks(text: str) -> str:
    """An identifier without the quote marks at either end (Excel's leading apostrophe)."""
    return text.strip(_QUOTE_MARKS)


def strip_spaces(text: str) -> str:
    """Remove every kind of whitespace (NFKC already mapped U+3000 to a plain space)."""
    return "".join(text.split())


@cache
def read_table(name: str) -> tuple[dict[str, str], ...]:
    """Rows of the reference CSV `tables/<name>.csv` as dicts (cached, read once)."""
    with open(_DATA_DIR / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


@cache
def t2s():
    """The shared OpenCC traditional → simplified converter (created once: it loads data)."""
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese."""
    return t2s().convert(text)
