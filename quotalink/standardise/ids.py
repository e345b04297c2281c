"""Resident ID numbers (GB 11643) and disability certificate numbers."""

import datetime as dt
import re
import time
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from stdnum.cn import ric

from quotalink.standardise._text import (
    BAD_VALUE,
    fold,
    is_missing,
    read_table,
    strip_quote_marks,
    strip_spaces,
)

ID_QUALITIES = ("valid", "from_15", "from_cert", "bad_check", "excel_damaged", "malformed",
                "missing")

# The form of an 18-character ID (the check character is not tested here).
ID18 = re.compile(r"^\d{17}[\dX]$")
_CHECK_CHARACTERS = frozenset("0123456789X")
_ID15 = re.compile(r"^\d{15}$")
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?E\+?\d{1,2}$")
_DECIMAL = re.compile(r"^(\d{15,18})\.0+$")
_CERT = re.compile(r"^\d{17}[\dX][0-9A-Z]{2,4}$")
# IDs older than this cannot exist; later than today is a typo.
_MIN_BIRTH = dt.date(1890, 1, 1)


@dataclass(frozen=True, slots=True)
class IdResult:
    """A standardised resident ID number with what could be read from it."""

    value: str | None
    quality: str
    birth_date: dt.date | None = None
    gender: str | None = None

    @property
    def region_code(self) -> str | None:
        """The 6-digit region code the number was assigned in (a soft signal only)."""
        return self.value[:6] if self.value else None


_MISSING = IdResult(None, "missing")
_MALFORMED = IdResult(None, "malformed")
_DAMAGED = IdResult(None, "excel_damaged")
_BAD_CHECK = IdResult(None, "bad_check")


def _clean(raw: object) -> str | None:
    """Fold and compact an ID-like value; floats and ints become their digit strings."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if raw != raw:
            return None
        # Excel stored the ID as a float: the digits beyond ~15 are already lost.
        return "E" if raw >= 1e16 else str(int(raw)) if raw.is_integer() else None
    # NFKC leaves ASCII as it is: most values skip the Unicode folding.
    text = raw if isinstance(raw, str) and raw.isascii() else fold(raw)
    if text is None:
        return None
    text = strip_quote_marks(strip_spaces(text)).upper().replace("-", "")
    return text or None


def _birth_date(digits: str) -> dt.date | None:
    """The date in positions 7–14 of an 18-character ID, if it is a real, plausible date."""
    try:
        born = dt.date(int(digits[6:10]), int(digits[10:12]), int(digits[12:14]))
    except ValueError:
        return None
    return born if _MIN_BIRTH <= born <= _today() else None


_TODAY: list = [None, 0.0]  # today's date, and the clock time it ends at


def birth_date_of(id18: str) -> dt.date | None:
    """The birth date an ID's digits 7–14 give, None when it is no real, plausible date."""
    return _birth_date(id18) if isinstance(id18, str) and len(id18) >= 14 else None


def _today() -> dt.date:
    """dt.date.today(), looked up again only once the day is over (called per ID read)."""
    now = time.time()
    if now >= _TODAY[1]:
        today = dt.date.today()
        _TODAY[:] = [today, dt.datetime.combine(today + dt.timedelta(days=1),
                                                dt.time()).timestamp()]
    return _TODAY[0]


def check_character(core17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 leading digits."""
    return ric.calc_check_digit(core17 + "0")


def _float_source(text: str) -> str | None:
    """The zero-padded value Excel kept, if `text` is such a value or its float read-back."""
    if len(text) != 18 or not text.isdigit():
        return None
    padded = str(round(int(text), -3))
    if len(padded) != 18:
        return None
    return padded if text in (padded, str(int(float(padded)))) else None


def looks_float_damaged(text: str) -> bool:
    """True when 18 digits are what Excel leaves of an ID stored as a number.

    Excel keeps 15 significant digits and pads with zeros ('…124000'); read back through a
    64-bit float the padded value comes out as the float nearest to it ('…123968'), because
    floats are 64 apart at this magnitude. A real ID has one of these shapes about 1 in 500.
    """
    return _float_source(text) is not None


def _from_18(text: str, quality: str) -> IdResult:
    """Judge an 18-character candidate (digits + check character)."""
    # A person's ID is read from every one of their mentions: each is judged once a day.
    return _judged_18(text, quality, _today())


@lru_cache(maxsize=500_000)
def _judged_18(text: str, quality: str, _today: dt.date) -> IdResult:
    if check_character(text[:17]) != text[17]:
        return _DAMAGED if looks_float_damaged(text) else _BAD_CHECK
    born = _birth_date(text)
    if born is None:
        return _MALFORMED
    gender = "M" if int(text[16]) % 2 == 1 else "F"
    return IdResult(text, quality, born, gender)


def normalise_id(raw: object) -> IdResult:
    """Standardise a resident ID number as typed in any source; never raises."""
    try:
        if type(raw) is str and len(raw) == 18 and raw.isascii() and raw[:17].isdigit() \
                and raw[17] in _CHECK_CHARACTERS:
            return _from_18(raw, "valid")  # already clean: what the general path gives
        if is_missing(raw):
            return _MISSING
        text = _clean(raw)
        if text is None:
            return _MISSING if is_missing(raw) else _MALFORMED
        if text == "E" or _SCIENTIFIC.match(text):
            return _DAMAGED
        match = _DECIMAL.match(text)
        if match:
            text = match.group(1)
        if ID18.match(text):
            return _from_18(text, "valid")
        if _ID15.match(text):
            core17 = text[:6] + "19" + text[6:]
            result = _from_18(core17 + check_character(core17), "from_15")
            return result if result.value else _MALFORMED
        if _CERT.match(text):
            result = _from_18(text[:18], "from_cert")
            return result if result.value else IdResult(None, result.quality)
        return _MALFORMED
    except BAD_VALUE:
        return _MALFORMED


def _typed_digits(raw: object) -> str | None:
    """The value as typed, cleaned, with an Excel '.0' tail dropped; None when scientific."""
    text = _clean(raw)
    if text is None or text == "E" or _SCIENTIFIC.match(text):
        return None
    match = _DECIMAL.match(text)
    return match.group(1) if match else text


def id_core17(raw: object) -> str | None:
    """The first 17 digits of an ID-like value (even with a wrong check), for fuzzy matching.

    A 15-digit number gives its 18-digit form's core; Excel-damaged values give None
    because their trailing digits are lost.
    """
    try:
        text = _typed_digits(raw)
        if text is None:
            return None
        if _ID15.match(text):
            return text[:6] + "19" + text[6:]
        if len(text) == 18 and looks_float_damaged(text):
            return None  # digits 16–18 are float noise, whatever the check says
        if ID18.match(text) or _CERT.match(text):
            return text[:17]
        if re.fullmatch(r"\d{17}", text):
            return text
        return None
    except BAD_VALUE:
        return None


def typed_id18(raw: object) -> str | None:
    """The 18 characters of an ID-like value as typed (check character not verified).

    None for anything else (15 digits, Excel-damaged, malformed). Used to repair IDs
    whose check character shows one typo.
    """
    try:
        text = _typed_digits(raw)
        if text is None:
            return None
        if ID18.match(text):
            return text
        if _CERT.match(text):
            return text[:18]
        return None
    except BAD_VALUE:
        return None


def one_typo_apart(a: str, b: str) -> bool:
    """True when two equally long strings differ by one substitution or one swap of
    neighbouring characters (the two typos the ID check character always catches)."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return (len(diff) == 2 and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])


def id_head14(raw: object) -> str | None:
    """Region code + birth date (14 digits) of an ID-like value, even an Excel-damaged one.

    A float keeps about 15 significant digits, so the first 14 survive Excel; they still
    tell where and when the holder was born.
    """
    try:
        core = id_core17(raw)
        if core:
            return core[:14]
        text = _clean(raw)
        if isinstance(raw, float) and raw == raw and raw >= 1e16:
            text = f"{raw:.17e}"
        if not text:
            return None
        match = re.match(r"^(\d)\.(\d{13,})E\+?17$", text.upper())
        if match:
            return (match.group(1) + match.group(2))[:14]
        source = _float_source(text)
        if source:
            return source[:14]
        return None
    except BAD_VALUE:
        return None


def normalise_cert(raw: object) -> str | None:
    """Standardise a disability certificate number (20–22 chars starting with a valid ID)."""
    # A certificate number is read from each of its holder's mentions: each text once.
    return _cert_of_text(raw, _today()) if isinstance(raw, str) else _normalise_cert(raw)


@lru_cache(maxsize=500_000)
def _cert_of_text(raw: str, _on: dt.date) -> str | None:
    return _normalise_cert(raw)


def _normalise_cert(raw: object) -> str | None:
    try:
        # NFKC leaves ASCII as it is: most values skip the Unicode folding.
        text = raw if isinstance(raw, str) and raw.isascii() and raw.strip() else fold(raw)
        if text is None:
            return None
        text = strip_quote_marks(strip_spaces(text)).upper()
        if not _CERT.match(text):
            return None
        result = _from_18(text[:18], "valid")
        return text if result.value else None
    except BAD_VALUE:
        return None


def id_from_cert(cert: object) -> str | None:
    """The holder's 18-character ID inside a certificate number, or None."""
    value = normalise_cert(cert)
    return value[:18] if value else None


def cert_category_level(cert: object) -> tuple[int | None, int | None]:
    """(disability category 1–7, level 1–4) encoded in characters 19 and 20 of a certificate."""
    value = normalise_cert(cert)
    if not value:
        return None, None
    categories = {int(row["code"]) for row in read_table("disability_category")}
    levels = {int(row["level"]) for row in read_table("disability_level")}
    category = int(value[18]) if value[18].isdigit() and int(value[18]) in categories else None
    level = int(value[19]) if value[19].isdigit() and int(value[19]) in levels else None
    return category, level


def birth_year_window(age: object, on: dt.date | None) -> tuple[int | None, int | None]:
    """Birth years compatible with an age in whole years on a given date."""
    try:
        if is_missing(age) or on is None:
            return None, None
        years = int(float(fold(age) or ""))
    except (TypeError, ValueError):
        return None, None
    if not 0 <= years <= 120:
        return None, None
    # Someone aged N on date D was born between D − N − 1 years (+1 day) and D − N years.
    return on.year - years - 1, on.year - years


# Column versions of the judgements above, for the many values that are already in
# canonical form (staging standardised them): exact equivalents on those values, leaving
# the rest to the per-value functions.
_CANONICAL_ID18 = r"^[0-9]{17}[0-9X]$"
_CANONICAL_CERT = r"^[0-9]{17}[0-9X][0-9A-Z]{2,4}$"
# Weight of each of the 17 digits in int(core17, 13) mod 11 (13 ≡ 2 mod 11).
_CHECK_WEIGHTS = np.array([pow(2, 16 - i, 11) for i in range(17)], dtype=np.int64)
_CHECK_BYTES = np.frombuffer(b"0123456789X", dtype=np.uint8)
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _arrow_text(values) -> pa.Array:
    """A column of text (pandas, numpy objects, Arrow) as one Arrow large_string array."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not isinstance(values, pa.Array):
        values = pa.array(values, type=pa.large_string(), from_pandas=True)
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
    return values.cast(pa.large_string())


def canonical_mask(values, pattern: str) -> np.ndarray:
    """Where a text column fully matches an ASCII regular expression (missing: False)."""
    arr = _arrow_text(values)
    return pc.fill_null(pc.match_substring_regex(arr, pattern), False).to_numpy(
        zero_copy_only=False)


def char_matrix(values, width: int) -> np.ndarray:
    """Values of exactly `width` ASCII characters each as an (n, width) byte matrix."""
    arr = _arrow_text(values)
    if len(arr) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    return data.reshape(len(arr), width)


def check_characters(cores: np.ndarray) -> np.ndarray:
    """check_character of each row of an (n, ≥17) byte matrix of ASCII digits (bytes)."""
    total = np.zeros(len(cores), dtype=np.int32)
    for col, weight in enumerate(_CHECK_WEIGHTS.tolist()):
        total += (cores[:, col].astype(np.int32) - ord("0")) * weight
    return _CHECK_BYTES[(1 - 2 * total) % 11]


def _numbers(chars: np.ndarray) -> np.ndarray:
    """Each row of a byte matrix of ASCII digits as its integer value."""
    out = np.zeros(len(chars), dtype=np.int64)
    for col in range(chars.shape[1]):
        out *= 10
        out += chars[:, col] - ord("0")
    return out


def valid_id18_mask(values) -> np.ndarray:
    """Where a value is an ID exactly as normalise_id gives it back: 18 ASCII characters,
    the right check character, a real birth date from 1890 to today (there
    `normalise_id(v).value == v`; elsewhere normalise_id itself decides)."""
    ok = canonical_mask(values, _CANONICAL_ID18)
    rows = np.flatnonzero(ok)
    if len(rows) == 0:
        return ok
    chars = char_matrix(pc.take(_arrow_text(values), pa.array(rows)), 18)
    good = check_characters(chars) == chars[:, 17]
    year, month, day = _numbers(chars[:, 6:10]), _numbers(chars[:, 10:12]), _numbers(chars[:, 12:14])
    leap = ((year % 4 == 0) & (year % 100 != 0)) | (year % 400 == 0)
    days = _DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
    real = (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
    today = _today()
    ymd = year * 10000 + month * 100 + day
    plausible = (ymd >= _MIN_BIRTH.year * 10000 + _MIN_BIRTH.month * 100 + _MIN_BIRTH.day) \
        & (ymd <= today.year * 10000 + today.month * 100 + today.day)
    ok[rows] = good & real & plausible
    return ok


def float_damaged_rows(chars: np.ndarray) -> np.ndarray:
    """looks_float_damaged of each row of an (n, 18) byte matrix of ASCII characters."""
    digits = ((chars >= ord("0")) & (chars <= ord("9"))).all(axis=1)
    value = _numbers(np.where(digits[:, None], chars, ord("0")))
    # round(value, -3): half to even, as Python rounds an int.
    q, r = np.divmod(value, 1000)
    padded = (q + ((r > 500) | ((r == 500) & (q % 2 == 1)))) * 1000
    eighteen = (padded >= 10**17) & (padded < 10**18)
    # The float nearest to the padded value, read back (exact: below 2**63).
    read_back = padded.astype(np.float64).astype(np.int64)
    return digits & eighteen & ((value == padded) | (value == read_back))
