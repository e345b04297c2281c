"""Shared reference data of QuotaLink: regions, minimum wages, retirement ages, code lists."""

import csv
import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"

__all__ = [
    "DATA_DIR",
    "City",
    "Region",
    "cities",
    "city_name",
    "city_of",
    "counties",
    "current_county",
    "disability_category_code",
    "disability_category_name",
    "disability_level_code",
    "disability_level_name",
    "is_shandong",
    "load_table",
    "min_wage",
    "min_wage_by_tier",
    "region",
    "region_name",
    "retirement_bounds",
    "retirement_date",
    "social_avg_wage",
    "table_names",
    "unit_type_canonical",
    "wage_tier",
]


@dataclass(frozen=True, slots=True)
class City:
    """A prefecture-level city of Shandong."""

    code: str
    name: str
    area_code: str


@dataclass(frozen=True, slots=True)
class Region:
    """A current county-level division of Shandong."""

    code: str
    name: str
    city_code: str
    city_name: str
    kind: str
    wage_tier: int


def table_names() -> list[str]:
    """Names of every reference table (the CSV file stems under refdata/data)."""
    return sorted(p.stem for p in DATA_DIR.glob("*.csv"))


@functools.cache
def _read(name: str) -> tuple[dict[str, str], ...]:
    path = DATA_DIR / f"{name}.csv"
    if not path.is_file():
        raise KeyError(f"unknown reference table {name!r}; known: {', '.join(table_names())}")
    with path.open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


def load_table(name: str) -> list[dict[str, str]]:
    """Rows of one reference table as dicts of strings (for loading into the `ref` schema)."""
    return [dict(row) for row in _read(name)]


@functools.cache
def _cities() -> dict[str, City]:
    return {r["city_code"]: City(r["city_code"], r["city_name"], r["area_code"]) for r in _read("city")}


@functools.cache
def _regions() -> dict[str, Region]:
    return {
        r["county_code"]: Region(
            r["county_code"], r["county_name"], r["city_code"], r["city_name"], r["kind"],
            int(r["wage_tier"]),
        )
        for r in _read("region")
    }


@functools.cache
def _historical() -> dict[str, dict[str, str]]:
    return {r["old_code"]: r for r in _read("region_historical")}


def cities() -> list[City]:
    """The 16 current cities of Shandong, by code."""
    return list(_cities().values())


def counties(city_code: str | None = None) -> list[Region]:
    """Current county-level divisions, optionally of one city (4-digit code)."""
    return [r for r in _regions().values() if city_code is None or r.city_code == city_code]


def region(code: str) -> Region | None:
    """The current county-level division of a 6-digit code, historical codes mapped forward."""
    current = current_county(code)
    return _regions().get(current) if current else None


def is_shandong(code: str | None) -> bool:
    """True for a region code of Shandong (starts with 37)."""
    return bool(code) and str(code).startswith("37")


def current_county(code: str | None) -> str | None:
    """Today's 6-digit county code for a current or historical county code, else None."""
    if not code:
        return None
    code = str(code).strip()
    if code in _regions():
        return code
    hist = _historical().get(code)
    if hist and hist["current_county_code"]:
        return hist["current_county_code"]
    return None


def city_of(code: str | None) -> str | None:
    """Today's 4-digit city code for a 4- or 6-digit (current or historical) region code."""
    if not code:
        return None
    code = str(code).strip()
    county = current_county(code)
    if county:
        return _regions()[county].city_code
    if code[:4] in _cities():
        return code[:4]
    hist = _historical().get(code) or _historical().get(code[:4])
    if hist and hist["current_city_code"]:
        return hist["current_city_code"]
    return None


def city_name(city_code: str) -> str | None:
    """Chinese name of a 4-digit city code (e.g. 3701 → 济南市)."""
    city = _cities().get(str(city_code)[:4])
    return city.name if city else None


def region_name(code: str | None) -> str | None:
    """Chinese name of a region code: county (current or historical) or city; None if unknown."""
    if not code:
        return None
    code = str(code).strip()
    if code in _regions():
        return _regions()[code].name
    if code in _historical():
        return _historical()[code]["old_name"]
    if len(code) == 2 or (len(code) == 6 and code.endswith("0000")):
        for row in _read("province"):
            if row["province_code"] == code[:2]:
                return row["province_name"]
        return None
    if len(code) == 4 or (len(code) == 6 and code.endswith("00")):
        return city_name(code[:4])
    return None


def wage_tier(region_code: str | None) -> int | None:
    """Minimum-wage tier (1–3) of a county; None outside the table (e.g. other provinces)."""
    reg = region(region_code) if region_code else None
    return reg.wage_tier if reg else None


@functools.cache
def _min_wage_rows() -> tuple[tuple[date, int, Decimal], ...]:
    rows = [
        (date.fromisoformat(r["effective_from"]), int(r["tier"]), Decimal(r["monthly_yuan"]))
        for r in _read("min_wage")
    ]
    return tuple(sorted(rows))


def min_wage_by_tier(tier: int, on_date: date) -> Decimal | None:
    """Monthly minimum wage of a tier in force on a date; None before the first table row."""
    found = None
    for effective, row_tier, yuan in _min_wage_rows():
        if row_tier == tier and effective <= on_date:
            found = yuan
    return found


def min_wage(region_code: str | None, on_date: date) -> Decimal | None:
    """Monthly minimum wage in force in a Shandong county on a date; None if not known."""
    tier = wage_tier(region_code)
    return min_wage_by_tier(tier, on_date) if tier else None


def social_avg_wage(city_code: str, year: int) -> Decimal | None:
    """Annual social average wage of a city (or `37` for the province) for a year.

    Falls back to the latest earlier year of the same city, then to the province figure.
    """
    rows = _read("social_avg_wage")
    for key in (str(city_code)[:4], "37"):
        candidates = [r for r in rows if r["city_code"] == key and int(r["year"]) <= year]
        if candidates:
            return Decimal(max(candidates, key=lambda r: int(r["year"]))["yuan"])
    return None


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    # A birthday on the 29th-31st of a month that is shorter falls on its last day.
    for dd in (day.day, 30, 29, 28):
        try:
            return date(year, month, dd)
        except ValueError:
            continue
    raise ValueError(day)


@functools.cache
def _retirement_rules() -> dict[str, dict[str, str]]:
    return {r["kind"]: r for r in _read("retirement")}


def _normalise_sex(sex: str) -> str:
    value = str(sex).strip().upper()
    if value in ("M", "男", "1"):
        return "M"
    if value in ("F", "女", "2"):
        return "F"
    raise ValueError(f"unknown sex code {sex!r}")


def retirement_date(birth_date: date, sex: str, kind: str | None = None) -> date:
    """The day a person reaches statutory retirement age (schedule of ref table `retirement`).

    `sex` is M/F (or 男/女); `kind` is 'man', 'woman_worker' or 'woman_cadre' and defaults to
    'man' for men; for women it is required because the data do not say which applies.
    """
    norm = _normalise_sex(sex)
    if kind is None:
        if norm != "M":
            raise ValueError("kind ('woman_worker' or 'woman_cadre') is required for women")
        kind = "man"
    rules = _retirement_rules()
    if kind not in rules:
        raise ValueError(f"unknown retirement kind {kind!r}; known: {', '.join(rules)}")
    rule = rules[kind]
    if rule["sex"] != norm:
        raise ValueError(f"retirement kind {kind!r} does not apply to sex {norm}")
    cohort_year, cohort_month = (int(x) for x in rule["cohort_from"].split("-"))
    months_since = (birth_date.year - cohort_year) * 12 + (birth_date.month - cohort_month)
    extra = 0
    if months_since >= 0:
        extra = min(int(rule["max_extra_months"]), months_since // int(rule["months_per_step"]) + 1)
    return _add_months(birth_date, int(rule["base_age_years"]) * 12 + extra)


def retirement_bounds(birth_date: date, sex: str) -> tuple[date, date]:
    """(earliest, latest) statutory retirement date: women worker/cadre bounds; men twice."""
    if _normalise_sex(sex) == "M":
        day = retirement_date(birth_date, "M", "man")
        return day, day
    return (
        retirement_date(birth_date, "F", "woman_worker"),
        retirement_date(birth_date, "F", "woman_cadre"),
    )


@functools.cache
def _code_map(table: str) -> dict[str, str]:
    return {r["code"]: r["name"] for r in _read(table)}


def disability_category_name(code: int | str) -> str | None:
    """Chinese word of a disability category digit (4 → 肢体)."""
    return _code_map("disability_category").get(str(code).strip())


def disability_category_code(word: str) -> int | None:
    """Digit of a disability category word (肢体 → 4); accepts the digit as well."""
    text = str(word).strip()
    for code, name in _code_map("disability_category").items():
        if text in (name, code, f"{name}残疾"):
            return int(code)
    return None


def disability_level_name(code: int | str) -> str | None:
    """Chinese level word of a level digit (2 → 二级)."""
    return _code_map("disability_level").get(str(code).strip())


def disability_level_code(text: str) -> int | None:
    """Level digit of 一级…四级 (also accepts 1–4 and 'x级' with Arabic digits)."""
    value = str(text).strip()
    for code, name in _code_map("disability_level").items():
        if value in (name, code, f"{code}级"):
            return int(code)
    return None


def unit_type_canonical(code_system: str, code: str) -> str | None:
    """Canonical unit type for a code of a code system.

    Systems: 'quota' (企业…), 'hr_aab019' (10…70), 'establishment' (行政机关…),
    'uscc_type' (first two characters of a USCC, e.g. 91).
    """
    value = str(code).strip()
    for row in _read("unit_type"):
        if row["code_system"] == code_system and row["code"] == value:
            return row["canonical"]
    return None

