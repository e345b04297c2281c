"""Regions: administrative division codes from codes and Chinese place names."""

import re
from dataclasses import dataclass
from functools import cache, lru_cache

from quotalink.standardise._text import BAD_VALUE, fold, strip_spaces, to_simplified

_CODE = re.compile(r"^\d{6}$")


@dataclass(frozen=True, slots=True)
class _Place:
    code: str
    name: str
    short: str
    kind: str


@cache
def _places() -> tuple[_Place, ...]:
    """Known places, longest names first so that 东营市 wins over 东营区 when both fit."""
    rows = _region_rows()
    places = [_Place(r["code"], r["name"], r["short"], r["kind"]) for r in rows]
    return tuple(sorted(places, key=lambda p: -len(p.name)))


def _region_rows() -> list[dict[str, str]]:
    """Province, city and county rows of the shared reference data (refdata package)."""
    from refdata.regions import region_rows

    return region_rows()


def normalise_region_code(raw: object) -> str | None:
    """A 6-digit division code as given (digits only), else None."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    text = fold(raw)
    if text is None:
        return None
    text = strip_spaces(text)
    return text if _CODE.match(text) else None


def city_code(code: object) -> str | None:
    """The 4-digit city (prefecture) part of a 6-digit code; None for province-level codes."""
    value = normalise_region_code(code)
    if value is None or value[2:4] == "00":
        return None
    return value[:4]


def _find(text: str, kind: str, within: str | None = None) -> _Place | None:
    """The place of `kind` named earliest in `text` (full name, else short name)."""
    best: tuple[int, int, _Place] | None = None
    for place in _places():
        if place.kind != kind or (within and not place.code.startswith(within)):
            continue
        for rank, label in enumerate((place.name, place.short)):
            if not label:
                continue
            pos = text.find(label)
            if pos >= 0:
                key = (pos, rank, place)
                if best is None or key[:2] < best[:2]:
                    best = key
                break
    return best[2] if best else None


def region_from_text(text: object) -> str | None:
    """Division code from an address or hukou text: county code, else city code + '00'.

    '山东省济南市历下区…' → '370102'; '济南市' → '370100'; '河北省石家庄市' → '130000'.
    A county name shared by two cities (市中区) counts only when its city is named too.
    """
    try:
        value = fold(text)
        if value is None:
            return None
        return _region_of(value)
    except BAD_VALUE:
        return None


@lru_cache(maxsize=65536)
def _region_of(value: str) -> str | None:
    """Cached core of region_from_text: the same hukou texts recur across many rows."""
    try:
        value = to_simplified(strip_spaces(value))
        code = normalise_region_code(value)
        if code:
            return code
        city = _find(value, "city")
        if city is not None:
            start = value.find(city.short)
            label = city.name if value.startswith(city.name, start) else city.short
            # After the city's own name first: in '东营市河口区' the 东营 of the city is
            # not the county 东营区; '东营区' alone still finds it from the start.
            county = (_find(value[start + len(label):], "county", city.code[:4])
                      or _find(value[start:], "county", city.code[:4]))
            return county.code if county else city.code
        province = _find(value, "province")
        if province is not None and province.code != "370000":
            return province.code
        county = _unique_county(value)
        if county:
            return county
        return province.code if province else None
    except BAD_VALUE:
        return None


def _unique_county(text: str) -> str | None:
    """A county named by its full name that exists in only one city."""
    hits = {p.code for p in _places() if p.kind == "county" and p.name in text}
    if len(hits) == 1:
        return hits.pop()
    return None


@cache
def city_names() -> tuple[tuple[str, str, str], ...]:
    """(city code 4 digits, full name, short name) of every known city."""
    return tuple((p.code[:4], p.name, p.short) for p in _places() if p.kind == "city")
