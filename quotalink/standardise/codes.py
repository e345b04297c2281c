"""Code lists shared by the sources: disability category and level."""

import re
from functools import cache

from quotalink.standardise._text import BAD_VALUE, fold, read_table, strip_spaces

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "壹": 1, "贰": 2, "叁": 3, "肆": 4}


@cache
def _categories() -> dict[str, int]:
    return {row["name"]: int(row["code"]) for row in read_table("disability_category")}


@cache
def _levels() -> dict[str, int]:
    return {row["name"]: int(row["level"]) for row in read_table("disability_level")}


def _digit(raw: object, allowed: range) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        if raw != raw or not float(raw).is_integer():
            return None
        value = int(raw)
        return value if value in allowed else None
    text = fold(raw)
    if text is None:
        return None
    text = strip_spaces(text)
    if re.fullmatch(r"\d+(\.0+)?", text):
        value = int(float(text))
        return value if value in allowed else None
    return None


def parse_level(raw: object) -> int | None:
    """Disability level 1–4 from '一级'…'四级', '1'…'4', '2级' or a number."""
    try:
        value = _digit(raw, range(1, 5))
        if value is not None:
            return value
        text = fold(raw)
        if text is None:
            return None
        text = strip_spaces(text)
        if text in _levels():
            return _levels()[text]
        match = re.fullmatch(r"([一二三四壹贰叁肆1-4])级?", text)
        if match:
            char = match.group(1)
            return int(char) if char.isdigit() else _CN_DIGITS[char]
        return None
    except BAD_VALUE:
        return None


def parse_category(raw: object) -> int | None:
    """Disability category 1–7 from 视力…多重 (with or without 残疾) or a digit."""
    try:
        value = _digit(raw, range(1, 8))
        if value is not None:
            return value
        text = fold(raw)
        if text is None:
            return None
        text = strip_spaces(text).removesuffix("残疾").removesuffix("类")
        return _categories().get(text)
    except BAD_VALUE:
        return None
