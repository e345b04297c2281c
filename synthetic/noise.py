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


def _partial_traditional(text: str, rng: random.Random) -> str:
    """One character (or a run) in traditional form, the rest simplified: mixed input methods."""
    trad = traditional(text)
    diff = [i for i, (a, b) in enumerate(zip(text, trad, strict=False)) if a != b]
    if not diff or len(trad) != len(text):
        return text
    i = rng.choice(diff)
    return text[:i] + trad[i] + text[i + 1 :]


class Harsh:
    """Extra, contract-conform noise on top of a scenario's (`Scenario.noise_intensity`).

    Drawn from its own random stream so the scenario's other values stay as they were; every
    odd is multiplied by the intensity. Never touches a mention key.
    """

    def __init__(self, intensity: float, rng: random.Random) -> None:
        self.k = intensity
        self.rng = rng

    def p(self, odds: float) -> bool:
        """True with the given odds times the intensity."""
        return self.rng.random() < min(0.95, odds * self.k)

    def name(self, name: str | None) -> str | None:
        """A person's name: mixed traditional, homophone, spaces, full-width or padded."""
        if not name:
            return name
        rng = self.rng
        if self.p(0.04):
            name = _partial_traditional(name, rng)
        if self.p(0.02):
            name = homophone(name, rng)
        if self.p(0.04):
            name = spaced(name, rng)
        if self.p(0.02):
            name = rng.choice((" ", "\u3000", "")) + name + rng.choice((" ", "\u3000"))
        return name

    def id_number(self, value: str | None, *, may_drop: bool = True) -> str | None:
        """An ID as typed again: a wrong or swapped digit, lower x, spaces, missing (where the
        contract lets the column be empty)."""
        if not value or not isinstance(value, str):
            return value
        rng = self.rng
        if len(value) == 18 and value[:17].isdigit():
            if self.p(0.02):
                value = wrong_digit(value, rng)
            elif self.p(0.015):
                value = transposed(value, rng)
        if value.endswith("X") and self.p(0.3):
            value = value[:-1] + "x"
        if self.p(0.01):
            value = fullwidth(value)
        if self.p(0.02):
            value = rng.choice((" ", "\t", "'")) + value if rng.random() < 0.3 else value + " "
        if may_drop and self.p(0.01):
            return None
        return value

    def cert(self, value: str | None) -> str | None:
        """A certificate number: a wrong digit in its ID part, lower x, missing."""
        if not value or not isinstance(value, str):
            return value
        if len(value) >= 18 and value[:17].isdigit() and self.p(0.02):
            value = wrong_digit(value[:18], self.rng) + value[18:]
        if self.p(0.03):
            return None
        return value

    def phone(self, value: str | None, old: str | None = None) -> str | None:
        """A phone: missing, an old one, a wrong digit, or written with dashes or +86."""
        if not value:
            return value
        rng = self.rng
        if self.p(0.05):
            return None
        if old and self.p(0.1):
            value = old
        if self.p(0.03) and value.isdigit():
            i = rng.randint(3, len(value) - 1)
            value = value[:i] + rng.choice([d for d in "0123456789" if d != value[i]]) + value[i + 1 :]
        if self.p(0.03) and len(value) == 11 and value.isdigit():
            value = rng.choice((f"{value[:3]}-{value[3:7]}-{value[7:]}", f"+86{value}",
                                f"{value[:3]} {value[3:7]} {value[7:]}"))
        return value

    def employer(self, name: str | None, city_short: str = "") -> str | None:
        """An employer name as typed by someone else, with every variant real registers show."""
        if not name:
            return name
        rng = self.rng
        if city_short and name.startswith(city_short) and self.p(0.15):
            name = name[len(city_short):].removeprefix("市")
        if self.p(0.15):
            for form, others in (("股份有限公司", ("有限公司", "股份公司", "有限责任公司")),
                                 ("有限责任公司", ("有限公司", "公司")),
                                 ("有限公司", ("有限责任公司", "股份有限公司", "公司"))):
                if form in name:
                    name = name.replace(form, rng.choice(others), 1)
                    break
        if self.p(0.08):
            name = name.replace("（", "(").replace("）", ")") if "（" in name else (
                name.replace("(", "（").replace(")", "）"))
        if self.p(0.05):
            name = _partial_traditional(name, rng)
        if self.p(0.05):
            name = spaced(name, rng)
        if self.p(0.03):
            name = fullwidth(name)
        if self.p(0.02):
            name = name + rng.choice((" ", "\u3000"))
        return name

    def uscc(self, value: str | None) -> str | None:
        """A credit code: lower case, spaced, full-width, or missing."""
        if not value or not isinstance(value, str):
            return value
        if self.p(0.03):
            value = value.lower()
        if self.p(0.02):
            value = f"{value[:6]} {value[6:]}"
        if self.p(0.01):
            value = fullwidth(value)
        if self.p(0.05):
            return None
        return value

    def jyxx_date(self, text: str | None) -> str | None:
        """An employment-service date in its named forms written with zero-padded parts."""
        if not text or not self.p(0.3):
            return text
        if "/" in text:
            y, m, d = text.split("/")
            return f"{y}/{int(m):02d}/{int(d):02d}"
        if text.endswith("月"):
            y, m = text[:-1].split("年")
            return f"{y}年{int(m):02d}月"
        return text


def harsh(intensity: float, rng: random.Random) -> Harsh | None:
    """The extra noise of an intensity (None at 0: nothing drawn, output unchanged)."""
    return Harsh(intensity, rng) if intensity > 0 else None
