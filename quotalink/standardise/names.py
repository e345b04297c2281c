"""Person names: Unicode folding, spaces and middle dots, simplified characters, pinyin keys."""

import re
from functools import lru_cache

from quotalink.standardise._text import BAD_VALUE, fold, read_table, to_simplified

# Middle dots of minority and foreign names (· • ‧ ・ and the half-width katakana dot).
_DOTS = re.compile(r"[\s\u00b7\u2022\u2027\u30fb\uff65\u2219\u22c5\u0387]+")
_HAS_LETTER = re.compile(r"[^\W\d_]")


def normalise_name(raw: object) -> str | None:
    """NFKC, no whitespace or middle dots, traditional → simplified; None if nothing is left."""
    try:
        text = fold(raw)
        if text is None:
            return None
        text = _DOTS.sub("", text).strip()
        if not text or not _HAS_LETTER.search(text):
            return None
        return to_simplified(text)
    except BAD_VALUE:
        return None


def name_pinyin(name: object) -> str | None:
    """Toneless pinyin of each character joined by spaces ('王伟' → 'wang wei')."""
    try:
        text = normalise_name(name)
        return _pinyin(text) if text is not None else None
    except BAD_VALUE:
        return None


@lru_cache(maxsize=200_000)
def _pinyin(text: str) -> str | None:
    # lazy_pinyin segments its input (phrases first) and converts each word; most of its
    # cost is per call, so each word of the name is converted once and then remembered.
    # Same result: a word the segmenter returned segments to itself.
    from pypinyin.seg.simpleseg import seg

    parts = [part for word in seg(text) for part in _word_pinyin(word)]
    return " ".join(part.lower() for part in parts if part.strip()) or None


@lru_cache(maxsize=100_000)
def _word_pinyin(word: str) -> tuple[str, ...]:
    from pypinyin import lazy_pinyin

    return tuple(lazy_pinyin(word))


def normalise_gender(raw: object) -> str | None:
    """'M' / 'F' from 男/女, 1/2, M/F (any case); None otherwise."""
    if type(raw) is str:  # a handful of distinct texts: each looked up once
        return _gender_of_text(raw)
    return _gender(raw)


@lru_cache(maxsize=10_000)
def _gender_of_text(raw: str) -> str | None:
    return _gender(raw)


def _gender(raw: object) -> str | None:
    try:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        text = fold(raw)
        if text is None:
            return None
        key = text.strip().upper()
        for row in read_table("gender"):
            if row["value"] == key:
                return row["gender"]
        return None
    except BAD_VALUE:
        return None
