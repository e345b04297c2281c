"""Identifier arithmetic: resident IDs, certificate numbers, organisation codes, USCCs, phones."""

from datetime import date

_RIC_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_MOBILE_PREFIXES = ("135", "136", "137", "138", "139", "150", "152", "158", "186", "188")


def ric_check(first17: str) -> str:
    """Check character (ISO 7064 MOD 11-2) of the first 17 digits of a resident ID."""
    total = sum(int(c) * w for c, w in zip(first17, _RIC_WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_id18(region: str, birth: date, seq: int) -> str:
    """An 18-character resident ID from region code, birth date and 3-digit sequence."""
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + ric_check(first17)


def id18_to_15(id18: str) -> str:
    """The legacy 15-digit form of an 18-character ID (century and check removed)."""
    return id18[:6] + id18[8:17]


def is_valid_id18(value: str) -> bool:
    """True when an 18-character ID has a correct check character."""
    return len(value) == 18 and value[:17].isdigit() and ric_check(value[:17]) == value[17]


def cert_number(id18: str, category: int, level: int, suffix: str = "") -> str:
    """Disability certificate number: ID + category digit + level digit (+ re-issue suffix)."""
    return f"{id18}{category}{level}{suffix}"


def org_code_check(body8: str) -> str:
    """Check character of an 8-character organisation-code body (GB 11714)."""
    total = sum(_ORG_ALPHABET.index(c) * w for c, w in zip(body8, _ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return {10: "X", 11: "0"}.get(value, str(value))


def make_org_code(index: int) -> str:
    """A unique 9-character organisation code (no dash) for an employer index."""
    # A bijective scramble of the index mod 10^8 keeps codes unique but unordered.
    body = f"{(index * 48271 + 31415926) % 10**8:08d}"
    return body + org_code_check(body)


def uscc_check(first17: str) -> str:
    """Final check character (mod 31) of a unified social credit code."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def make_uscc(type_code: str, region: str, org_code: str) -> str:
    """USCC = registration authority + type (2 chars) + region + organisation code + check."""
    first17 = f"{type_code}{region}{org_code}"
    return first17 + uscc_check(first17)


def is_valid_uscc(value: str) -> bool:
    """True when an 18-character USCC has valid characters and check characters."""
    if len(value) != 18 or any(c not in USCC_ALPHABET for c in value):
        return False
    return uscc_check(value[:17]) == value[17] and org_code_check(value[8:16]) == value[16]


def mobile(index: int) -> str:
    """A mobile number unique to a person index (< 10^8)."""
    prefix = _MOBILE_PREFIXES[index % len(_MOBILE_PREFIXES)]
    return f"{prefix}{(index * 7919 + 1234567) % 10**8:08d}"


def special_mobile(prefix: str, index: int) -> str:
    """A mobile number from a reserved prefix (brokers 170, old numbers 171, wrong 172)."""
    return f"{prefix}{(index * 7919 + 7654321) % 10**8:08d}"


def landline(area_code: str, index: int) -> str:
    """A landline `0531-8xxxxxxx` unique to a person index within its area."""
    return f"{area_code}-8{(index * 7919 + 2718281) % 10**7:07d}"
