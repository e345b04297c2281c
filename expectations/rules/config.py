"""Rule specs, thresholds, levy parameters (``data/*.csv``) and the tables the rules read."""

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
    # Warehouse tables the rule reads besides BASE_READS (the asset graph is derived from it).
    reads: tuple[str, ...] = ()


# Tables every rule reads through ``base.prepare`` (the declared periods and golden IDs).
BASE_READS = ("staging.declaration", "staging.declared_employment", "core.person_xref",
              "core.employer_xref", "core.employer")
# Tables ``compliance.build_quota_compliance`` reads.
COMPLIANCE_READS = ("staging.declaration", "staging.declared_employment", "core.person_xref",
                    "core.employer_xref", "core.employer", "mart.anomaly_flag")


@cache
def rule_specs() -> dict[str, RuleSpec]:
    """All rule codes of the contract, keyed by code (from ``rules.csv``)."""
    return {r["rule"]: RuleSpec(r["rule"], r["version"], r["entity"], r["title"],
                                tuple(t for t in (r.get("reads") or "").split(";") if t))
            for r in _read_csv("rules.csv")}


def rules_read(rules: list[str] | None = None) -> tuple[str, ...]:
    """Every table the given rules (default: all) read, BASE_READS first."""
    specs = rule_specs()
    tables = dict.fromkeys(BASE_READS)
    for code in rules or specs:
        tables.update(dict.fromkeys(specs[code].reads))
    return tuple(tables)


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
