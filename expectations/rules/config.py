"""Rule, threshold and levy parameters read from the CSV tables in ``expectations/rules/data``."""

import csv
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass(frozen=True)
class RuleSpec:
    """A rule code with its version, entity level and one-line title."""

    rule: str
    version: str
    entity: str
    title: str


@cache
def rule_specs() -> dict[str, RuleSpec]:
    """All rule codes of the contract, keyed by code (from ``rules.csv``)."""
    return {r["rule"]: RuleSpec(r["rule"], r["version"], r["entity"], r["title"])
            for r in _read_csv("rules.csv")}


@cache
def _thresholds() -> dict[tuple[str, str], str]:
    return {(r["rule"], r["parameter"]): r["value"] for r in _read_csv("thresholds.csv")}


class Params:
    """Typed access to one rule's parameters in ``thresholds.csv`` (falls back to rule ``*``)."""

    def __init__(self, rule: str) -> None:
        self.rule = rule

    def raw(self, name: str) -> str:
        """The parameter's text value; ``KeyError`` when neither the rule nor ``*`` defines it."""
        table = _thresholds()
        if (self.rule, name) in table:
            return table[(self.rule, name)]
        return table[("*", name)]

    def num(self, name: str) -> float:
        """The parameter as a float."""
        return float(self.raw(name))

    def dec(self, name: str) -> Decimal:
        """The parameter as a Decimal."""
        return Decimal(self.raw(name))

    def int(self, name: str) -> int:
        """The parameter as an int."""
        return int(self.raw(name))

    def list(self, name: str) -> list[str]:
        """The parameter as a ``;``-separated list."""
        return [v.strip() for v in self.raw(name).split(";") if v.strip()]


@cache
def levy_params() -> dict[str, str]:
    """Parameters of the levy formula (``levy.csv``)."""
    return {r["parameter"]: r["value"] for r in _read_csv("levy.csv")}
