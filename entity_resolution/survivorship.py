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

import numpy as np
import pandas as pd

RULES_FILE = Path(__file__).parent / "survivorship.csv"
# Golden attributes in the golden tables' column order: bit i of
# core.<entity>_attr_source.attribute_mask is ATTRIBUTES[entity][i].
ATTRIBUTES = {
    "person": ("full_name", "id_number", "cert_number", "gender", "birth_date",
               "disability_category", "disability_level", "cert_status", "hukou_region_code",
               "phone"),
    "employer": ("name", "uscc", "org_code", "region_code", "unit_type"),
}
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
    return golden_with_winners(mentions, cluster_col, entity, attributes)[0]


def golden_with_winners(mentions: pd.DataFrame, cluster_col: str, entity: str,
                        attributes: list[str] | None = None
                        ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """golden_values, and per attribute the position (in `mentions`) of the mention whose
    value survived for each output row, -1 where no mention had one."""
    winners: dict[str, np.ndarray] = {}
    entity_rules = [r for r in rules(entity) if attributes is None or r.attribute in attributes]
    if mentions.empty:
        return pd.DataFrame(columns=[cluster_col, *(r.attribute for r in entity_rules)]), winners
    attr_cols = [r.attribute for r in entity_rules if r.attribute in mentions]
    base = mentions.reset_index(drop=True)
    n = len(base)
    clusters = base[cluster_col].to_numpy()
    # Ties after every declared step fall to (source, source_key): deterministic.
    tiebreak = np.lexsort((base["source_key"].astype(str).to_numpy(),
                           base["source"].astype(str).to_numpy()))
    tie_rank = np.empty(n, dtype=np.int64)
    tie_rank[tiebreak] = np.arange(n)
    completeness = -base[attr_cols].notna().sum(axis=1).to_numpy()
    recent = pd.to_datetime(base["observed_on"], errors="coerce")
    # Newest first; unknown dates last.
    recency = -(recent.astype("int64").to_numpy(dtype=np.float64))
    recency[recent.isna().to_numpy()] = np.inf
    source_codes, source_names = pd.factorize(base["source"].astype(str))
    shared_tail = np.empty(n, dtype=np.int64)
    shared_tail[np.lexsort((tie_rank, completeness, recency))] = np.arange(n)
    prefer_cache: dict[tuple[str, str], np.ndarray] = {}

    def prefer(arg: tuple[str, str]) -> np.ndarray:
        """0 where a row holds the preferred value of a column, else 1 (once per step)."""
        if arg not in prefer_cache:
            column, wanted = arg
            prefer_cache[arg] = ((base[column].astype("string") != wanted).fillna(True)
                                 .to_numpy(dtype=np.int64) if column in base
                                 else np.ones(n, dtype=np.int64))
        return prefer_cache[arg]

    # Rows sorted once by (cluster, shared tail); clusters become contiguous segments.
    base_order = np.lexsort((shared_tail, clusters))
    seg_clusters = clusters[base_order]
    seg_start = np.flatnonzero(np.r_[True, seg_clusters[1:] != seg_clusters[:-1]])
    # Sorting by cluster last makes the chosen rows come out in ascending cluster order.
    out = pd.DataFrame({cluster_col: seg_clusters[seg_start]})
    for rule in entity_rules:
        column = base[rule.attribute] if rule.attribute in base else None
        # Only the winners' values become Python objects (one per cluster, not per mention).
        have = (column.notna().to_numpy(dtype=bool) if column is not None
                else np.zeros(n, dtype=bool))
        steps = list(rule.steps)
        head_keys = []
        for kind, arg in steps:
            if kind == "source":
                ranks = np.array([arg.get(name, len(arg) + 1) for name in source_names],
                                 dtype=np.int64)
                head_keys.append((ranks[source_codes], len(arg) + 2))
            elif kind == "prefer":
                head_keys.append((prefer(arg), 2))
            else:
                break
        tail = [k for k, _ in steps[len(head_keys):]]
        if tail == ["recency", "completeness"]:
            first = _first_per_segment(base_order, seg_start, have, head_keys)
        else:
            first = _first_by_lexsort(clusters, have, steps, tie_rank, recency, completeness,
                                      source_names, source_codes, prefer)
        chosen = (column.take(first).to_numpy(dtype=object, copy=True) if column is not None
                  else np.full(len(first), None, dtype=object))
        chosen[~have[first]] = None
        out[rule.attribute] = chosen
        winners[rule.attribute] = np.where(have[first], first, -1)
    return out, winners


def _first_per_segment(base_order: np.ndarray, seg_start: np.ndarray, have: np.ndarray,
                       head_keys: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """Winning row per cluster when the rule is (source / prefer steps) + the shared tail.

    Rows are already in tail order within each cluster, so the winner is the first row
    with the smallest packed (missing, source rank, prefer…) score: no sort per attribute.
    """
    score = (~have).astype(np.int64)
    for key, size in head_keys:
        score = score * size + key
    score = score[base_order]
    best = np.minimum.reduceat(score, seg_start)
    seg_of_row = np.repeat(np.arange(len(seg_start)), np.diff(np.r_[seg_start, len(score)]))
    is_best = score == best[seg_of_row]
    positions = np.where(is_best, np.arange(len(score)), len(score))
    first_sorted = np.minimum.reduceat(positions, seg_start)
    return base_order[first_sorted]


def _first_by_lexsort(clusters, have, steps, tie_rank, recency, completeness, source_names,
                      source_codes, prefer) -> np.ndarray:
    """Winning row per cluster for any order of steps (general, slower path)."""
    keys = [tie_rank]
    for kind, arg in reversed(steps):
        if kind == "source":
            ranks = np.array([arg.get(name, len(arg) + 1) for name in source_names],
                             dtype=np.float64)
            keys.append(ranks[source_codes])
        elif kind == "prefer":
            keys.append(prefer(arg))
        elif kind == "recency":
            keys.append(recency)
        else:
            keys.append(completeness)
    keys.append(~have)  # mentions without a value never win
    keys.append(clusters)
    order = np.lexsort(keys)
    sorted_clusters = clusters[order]
    return order[np.r_[True, sorted_clusters[1:] != sorted_clusters[:-1]]]


def attribute_sources(mentions: pd.DataFrame, winners: dict[str, np.ndarray],
                      order: tuple[str, ...],
                      derived: dict[str, tuple[str, np.ndarray]] | None = None,
                      cluster_col: str = "cluster") -> pd.DataFrame:
    """Which mention supplied which golden attributes: one row per (cluster, mention) that
    won at least one attribute, the attributes as a bit mask (bit i: ``order[i]``, the
    golden table's column order; an integer is half the cost of a text[] to write).

    `winners` is golden_with_winners' (positions in `mentions`, one per golden row);
    `derived` names attributes computed from another one's value (gender from the ID
    number) with the golden rows where that happened: they are credited to the mention
    of that other attribute, and set in `derived_mask` as well.
    """
    bit = {a: np.int32(1 << i) for i, a in enumerate(order)}
    rows, bits, dbits = [], [], []
    for a, won in winners.items():
        if a not in bit:
            continue
        if derived and a in derived:
            won = np.where(derived[a][1], -1, won)  # computed, not delivered: credited below
        ok = won >= 0
        rows.append(won[ok])
        bits.append(np.full(len(rows[-1]), bit[a], dtype=np.int32))
        dbits.append(np.zeros(len(rows[-1]), dtype=np.int32))
    for a, (origin, mask) in (derived or {}).items():
        won = winners[origin][mask] if origin in winners else np.array([], dtype=np.int64)
        rows.append(won[won >= 0])
        bits.append(np.full(len(rows[-1]), bit[a], dtype=np.int32))
        dbits.append(bits[-1])
    columns = [cluster_col, "source", "source_key", "delivery", "attribute_mask", "derived_mask"]
    if not sum(len(r) for r in rows):
        return pd.DataFrame(columns=columns)
    row, b, d = np.concatenate(rows), np.concatenate(bits), np.concatenate(dbits)
    # A mention belongs to one cluster: grouping by mention groups by (cluster, mention).
    sort = np.argsort(row, kind="stable")
    row, b, d = row[sort], b[sort], d[sort]
    start = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    row = row[start]
    d = np.bitwise_or.reduceat(d, start)
    out = {c: mentions[c].take(row).to_numpy() if c in mentions else None
           for c in (cluster_col, "source", "source_key", "delivery")}
    out["attribute_mask"] = np.bitwise_or.reduceat(b, start)
    out["derived_mask"] = pd.array(d, dtype="Int32")
    out["derived_mask"][d == 0] = pd.NA
    return pd.DataFrame(out, columns=columns)


def mask_names(mask: int | None, order: tuple[str, ...]) -> list[str]:
    """The attributes of a bit mask of attribute_sources (core.<entity>_attr_source)."""
    return [a for i, a in enumerate(order) if mask and mask & (1 << i)]
