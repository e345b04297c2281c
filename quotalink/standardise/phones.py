"""Phone numbers: digits only, mobiles 11 digits, landlines with their area code."""

import re

from quotalink.standardise._text import BAD_VALUE, fold

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}[2-9]\d{6,7}$")
_LOCAL = re.compile(r"^[2-9]\d{6,7}$")
# Several numbers in one cell: keep the first.
_SEPARATORS = re.compile(r"[/,;、，；|]|或")
_EXTENSION = re.compile(r"(转|ext\.?|EXT\.?|x)\s*\d+$")


def normalise_phone(raw: object) -> str | None:
    """Digits-only phone: 11-digit mobile, or landline with its 0-prefixed area code."""
    # Most cells are a bare mobile number already: the steps below would return it as is.
    if type(raw) is str and len(raw) == 11 and raw.isascii() and _MOBILE.match(raw):
        return raw
    try:
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        text = fold(raw)
        if text is None:
            return None
        text = _SEPARATORS.split(text.strip())[0].strip()
        text = _EXTENSION.sub("", text).strip()
        groups = re.findall(r"\d+", text)
        # '0531-86123456-801': a short trailing group after a full number is an extension.
        if len(groups) >= 3 and len(groups[-1]) <= 4 and groups[0].startswith("0"):
            groups = groups[:-1]
        digits = "".join(groups)
        if text.startswith("+") or digits.startswith("0086"):
            digits = digits[4:] if digits.startswith("0086") else digits
            digits = digits[2:] if digits.startswith("86") else digits
            if not digits.startswith("1") and not digits.startswith("0"):
                digits = "0" + digits
        elif digits.startswith("86") and len(digits) == 13:
            digits = digits[2:]
        if _MOBILE.match(digits) or _LANDLINE.match(digits) or _LOCAL.match(digits):
            return digits
        return None
    except BAD_VALUE:
        return None
