"""Survivorship: which mention's value becomes the golden value, per attribute.

The rules are data (entity_resolution/survivorship.csv), one line per attribute, read
left to right: `source(a, b | c, …)` ranks sources (`|` = equal rank, unlisted sources
last), `prefer(column = value)` puts matching mentions first, `recency` prefers the
latest `observed_on`, `completeness` the mention with the most filled attributes. Only
mentions with a value for the attribute take part; the mention key breaks the last tie.
"""

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

RULES_FILE = Path(__file__).parent / "survivorship.csv"
_STEP = re.compile(r"^(source|prefer)\((.*)\)$|^(recency|completeness)$")


@dataclass(frozen=True)
class Rule:
    """Ranking steps of one golden attribute."""

    entity: str
    attribute: str
    steps: tuple[tuple[str, object], ...]


def _parse(entity: str, attribute: str, text: str) -> Rule:
    steps: list[tuple[str, object]] = []
    for raw in text.split(";"):
        step = raw.strip()
        match = _STEP.match(step)
        if not match:
            raise ValueError(f"survivorship rule {entity}.{attribute}: cannot read {step!r}")
        if match.group(1) == "source":
            ranks = {}
            for rank, group in enumerate(match.group(2).split(",")):
                for name in group.split("|"):
                    ranks[name.strip()] = rank
            steps.append(("source", ranks))
        elif match.group(1) == "prefer":
            column, _, value = match.group(2).partition("=")
            steps.append(("prefer", (column.strip(), value.strip())))
        else:
            steps.append((match.group(3), None))
    return Rule(entity, attribute, tuple(steps))


@cache
def rules(entity: str, path: Path = RULES_FILE) -> tuple[Rule, ...]:
    """The survivorship rules of an entity, in file order."""
    with open(path, encoding="utf-8", newline="") as handle:
        return tuple(_parse(r["entity"], r["attribute"], r["rank"])
                     for r in csv.DictReader(handle) if r["entity"] == entity)


def golden_values(mentions: pd.DataFrame, cluster_col: str, entity: str,
                  attributes: list[str] | None = None) -> pd.DataFrame:
    """One row per cluster with the surviving value of each attribute.

    `mentions` needs `source`, `source_key`, `observed_on`, the cluster column and the
    attribute columns (plus any column named in a prefer step).
    """
    entity_rules = [r for r in rules(entity) if attributes is None or r.attribute in attributes]
    attr_cols = [r.attribute for r in entity_rules]
    base = mentions.copy()
    base["_complete"] = -base[[c for c in attr_cols if c in base]].notna().sum(axis=1)
    base["_recent"] = pd.to_datetime(base["observed_on"], errors="coerce")
    out = pd.DataFrame({cluster_col: pd.unique(base[cluster_col])})
    for rule in entity_rules:
        have = base[base[rule.attribute].notna()]
        if have.empty:
            out[rule.attribute] = pd.Series([None] * len(out), dtype="object")
            continue
        keys, ascending = [], []
        frame = have[[cluster_col, rule.attribute, "source", "source_key", "_complete",
                      "_recent"]].copy()
        for n, (kind, arg) in enumerate(rule.steps):
            col = f"_k{n}"
            if kind == "source":
                frame[col] = have["source"].map(arg).fillna(len(arg) + 1)
                ascending.append(True)
            elif kind == "prefer":
                column, value = arg
                if column in have:
                    frame[col] = (have[column].astype("string") != value).fillna(True)
                else:
                    frame[col] = True
                ascending.append(True)
            elif kind == "recency":
                frame[col] = frame["_recent"]
                ascending.append(False)
            else:
                frame[col] = frame["_complete"]
                ascending.append(True)
            keys.append(col)
        frame = frame.sort_values([cluster_col, *keys, "source", "source_key"],
                                  ascending=[True, *ascending, True, True],
                                  na_position="last", kind="stable")
        first = frame.drop_duplicates(cluster_col)[[cluster_col, rule.attribute]]
        out = out.merge(first, on=cluster_col, how="left")
    return out
