"""Noise as the source systems produce it: typing errors, legacy forms, name and date variants."""

import functools
import random
from datetime import date

from synthetic.idcodes import id18_to_15
from synthetic.tables import homophone_groups

_FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ()"}
_FULLWIDTH[ord(" ")] = 0x3000


@functools.cache
def _s2t():
    import opencc  # noqa: PLC0415 - only needed when noise is rendered

    return opencc.OpenCC("s2t")


def traditional(text: str) -> str:
    """Simplified → traditional characters (OpenCC)."""
    return _s2t().convert(text)


def fullwidth(text: str) -> str:
    """ASCII digits, capitals, brackets and spaces → full-width forms."""
    return text.translate(_FULLWIDTH)


@functools.cache
def _homophone_map() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for group in homophone_groups():
        for ch in group:
            out[ch] = tuple(c for c in group if c != ch)
    return out


def homophone(name: str, rng: random.Random) -> str:
    """Replace one character of a name by a same-sounding one (given name first)."""
    table = _homophone_map()
    positions = [i for i in range(len(name) - 1, -1, -1) if name[i] in table]
    if not positions:
        return name
    i = positions[0] if rng.random() < 0.8 else rng.choice(positions)
    return name[:i] + rng.choice(table[name[i]]) + name[i + 1 :]


def spaced(name: str, rng: random.Random) -> str:
    """A name with a space (or an ideographic space) between characters."""
    if len(name) < 2:
        return name
    i = rng.randint(1, len(name) - 1)
    sep = " " if rng.random() < 0.7 else "\u3000"
    return name[:i] + sep + name[i:]


def name_variant(name: str, rng: random.Random, p_trad: float, p_homo: float,
                 p_space: float) -> str:
    """A name as typed into a source: traditional, homophone or spaced with given odds."""
    r = rng.random()
    if r < p_trad:
        return traditional(name)
    if r < p_trad + p_homo:
        return homophone(name, rng)
    if r < p_trad + p_homo + p_space:
        return spaced(name, rng)
    return name


def wrong_digit(id18: str, rng: random.Random) -> str:
    """One digit of the first 17 replaced by another (check left as it was)."""
    i = rng.randint(6, 16)
    digit = rng.choice([d for d in "0123456789" if d != id18[i]])
    return id18[:i] + digit + id18[i + 1 :]


def transposed(id18: str, rng: random.Random) -> str:
    """Two neighbouring different digits swapped."""
    for _ in range(10):
        i = rng.randint(6, 15)
        if id18[i] != id18[i + 1]:
            return id18[:i] + id18[i + 1] + id18[i] + id18[i + 2 :]
    return wrong_digit(id18, rng)


def excel_damaged(id18: str) -> int:
    """What Excel keeps of an 18-digit ID typed as a number: 15 significant digits + 000."""
    return int(id18[:15] + "000")


def typed_id(id18: str, rng: random.Random, *, p_wrong: float, p_swap: float, p_15: float,
             p_full: float, p_lower: float = 0.5) -> tuple[str, str]:
    """An ID as typed by a clerk, with the kind of noise applied ('' when clean)."""
    r = rng.random()
    if r < p_wrong:
        return wrong_digit(id18, rng), "wrong_digit"
    r -= p_wrong
    if r < p_swap:
        return transposed(id18, rng), "transposed"
    r -= p_swap
    if r < p_15:
        return id18_to_15(id18), "15_digit"
    r -= p_15
    if r < p_full:
        return fullwidth(id18), "fullwidth"
    if id18.endswith("X") and rng.random() < p_lower:
        return id18[:-1] + "x", "lower_x"
    return id18, ""


_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司")


def company_variant(name: str, city_short: str, rng: random.Random) -> str:
    """A company name as someone else typed it: city prefix, legal form, brackets, spaces."""
    choice = rng.randint(0, 5)
    if choice == 0 and name.startswith(city_short):
        return name[len(city_short) :]
    if choice == 1:
        for form in _LEGAL_FORMS:
            if name.endswith(form):
                other = "有限责任公司" if form == "有限公司" else "有限公司"
                return name[: -len(form)] + other
    if choice == 2 and name.startswith(city_short):
        rest = name[len(city_short) :]
        return rest[:2] + f"（{city_short}）" + rest[2:]
    if choice == 3 and name.startswith(city_short):
        rest = name[len(city_short) :]
        return rest[:2] + f"({city_short})" + rest[2:]
    if choice == 4:
        return spaced(name, rng)
    if choice == 5 and not name.startswith(city_short):
        return city_short + name
    return name


def clerk_name(name: str, city_short: str, city_full: str, rng: random.Random) -> str:
    """An employer name as an employment-service clerk types it from the person's words.

    Place prefixes dropped (city, and the district of an organ), 有限公司 ↔ 有限责任公司,
    sometimes traditional characters or a stray space; never a credit code.
    """
    out = name
    for prefix in (city_full, city_short):
        if prefix and out.startswith(prefix) and rng.random() < 0.8:
            out = out[len(prefix):]
            break
    if rng.random() < 0.4:
        for form in _LEGAL_FORMS:
            if out.endswith(form):
                other = "有限责任公司" if form == "有限公司" else "有限公司"
                out = out[: -len(form)] + other
                break
    r = rng.random()
    if r < 0.12:
        out = traditional(out)
    elif r < 0.2:
        out = spaced(out, rng)
    return out or name


def mixed_date(day: date, rng: random.Random) -> str:
    """A date in one of the employment-service formats: ISO, slashes, or year-month only."""
    r = rng.random()
    if r < 0.6:
        return day.isoformat()
    if r < 0.85:
        return f"{day.year}/{day.month}/{day.day}"
    return f"{day.year}年{day.month}月"
