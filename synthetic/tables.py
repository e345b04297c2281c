"""Word lists of the generator (names, companies, courses …) read from synthetic/data."""

import csv
import functools
from pathlib import Path

_DATA = Path(__file__).parent / "data"


@functools.cache
def rows(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a CSV word list under synthetic/data."""
    with (_DATA / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


@functools.cache
def lines(name: str) -> tuple[str, ...]:
    """Non-empty lines of a text word list under synthetic/data."""
    text = (_DATA / f"{name}.txt").read_text(encoding="utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


@functools.cache
def homophone_groups() -> tuple[str, ...]:
    """Groups of same-sounding characters (one group per row)."""
    return tuple(r["group"] for r in rows("homophones"))


@functools.cache
def surnames() -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Surnames and their weights."""
    data = rows("surnames")
    return tuple(r["surname"] for r in data), tuple(int(r["weight"]) for r in data)


@functools.cache
def given_chars(sex: str) -> tuple[str, ...]:
    """Characters for given names of one sex (M/F), unisex ones included."""
    return tuple(r["char"] for r in rows("given_chars") if r["sex"] in (sex, "U"))
