"""Auditors' must-link / cannot-link decisions: record them, see which are pending, apply them."""

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

ENTITIES = ("person", "employer")
DECISIONS = ("must_link", "cannot_link")
_COLUMNS = ("override_id", "entity", "source_a", "key_a", "source_b", "key_b", "decision",
            "decided_by", "reason", "decided_at")


def record_override(conn, entity: str, source_a: str, key_a: str, source_b: str, key_b: str,
                    decision: str, decided_by: str, reason: str) -> int:
    """Append a decision to core.link_override (hash-chained by its triggers); its ID.

    It is an input of the next resolution run, which applies it: a cannot-link keeps the
    two mentions in different golden records, a must-link puts them in one.
    """
    if entity not in ENTITIES:
        raise ValueError(f"entity must be one of {ENTITIES}, not {entity!r}")
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, not {decision!r}")
    if (source_a, key_a) == (source_b, key_b):
        raise ValueError("an override needs two different mentions")
    if not (decided_by or "").strip():
        raise ValueError("an override needs the name of who decided")
    conn.execute(sa.text(
        "insert into core.link_override (entity, source_a, key_a, source_b, key_b, decision, "
        "decided_by, reason) values (:e, :sa, :ka, :sb, :kb, :d, :by, :why)"),
        {"e": entity, "sa": source_a, "ka": key_a, "sb": source_b, "kb": key_b, "d": decision,
         "by": decided_by, "why": reason or ""})
    # Not RETURNING: a city-scoped console role may append overrides it cannot read back
    # (row-level security), and RETURNING would need that read.
    return int(conn.execute(sa.text(
        "select currval(pg_get_serial_sequence('core.link_override', 'override_id'))")).scalar())


def split_mention(conn, entity: str, source: str, key: str, decided_by: str,
                  reason: str) -> list[int]:
    """"Not the same person (employer)": cannot-links between a mention and every other
    mention of its golden record now, so the next run sets it apart whatever links it had
    (a single cannot-link only keeps two mentions apart, and either may be the one that
    leaves). The override IDs, one per other mention."""
    if entity not in ENTITIES:
        raise ValueError(f"entity must be one of {ENTITIES}, not {entity!r}")
    others = conn.execute(sa.text(
        f"select o.source, o.source_key from core.{entity}_xref m "
        f"join core.{entity}_xref o on o.{entity}_id = m.{entity}_id "
        "where m.source = :s and m.source_key = :k "
        "and (o.source, o.source_key) <> (m.source, m.source_key) "
        "order by o.source, o.source_key"), {"s": source, "k": key}).all()
    return [record_override(conn, entity, source, key, s, k, "cannot_link", decided_by, reason)
            for s, k in others]


def pending_overrides(conn, entity: str,
                      keys: Iterable[tuple[str, str]] | None = None) -> list[dict]:
    """Overrides no resolution run has applied yet, oldest first; with `keys` (source,
    source_key pairs) only those naming one of these mentions."""
    if entity not in ENTITIES:
        raise ValueError(f"entity must be one of {ENTITIES}, not {entity!r}")
    sql = (f"select {', '.join('o.' + c for c in _COLUMNS)} from core.link_override o "
           "where o.entity = :e and not exists (select 1 from core.link_override_applied a "
           "where a.override_id = o.override_id)")
    params: dict = {"e": entity}
    if keys is not None:
        keys = list(keys)
        if not keys:
            return []
        sql += (" and (array[o.source_a, o.key_a] in (select array[s, k] from "
                "unnest(cast(:s as text[]), cast(:k as text[])) as m(s, k)) "
                "or array[o.source_b, o.key_b] in (select array[s, k] from "
                "unnest(cast(:s as text[]), cast(:k as text[])) as m(s, k)))")
        params |= {"s": [s for s, _ in keys], "k": [k for _, k in keys]}
    rows = conn.execute(sa.text(sql + " order by o.decided_at, o.override_id"), params)
    return [dict(r._mapping) for r in rows]


@dataclass
class Decisions:
    """Overrides read by a run, as record-index pairs (the latest decision per pair wins)."""

    must: list[tuple[int, int]] = field(default_factory=list)
    cannot: list[tuple[int, int]] = field(default_factory=list)
    # pair → (override_id, decided_by, reason) of the must-link in force
    must_info: dict[tuple[int, int], tuple[int, str, str]] = field(default_factory=dict)
    # override_id → applied | superseded | unknown_mention (refused is set after clustering)
    outcome: dict[int, str] = field(default_factory=dict)
    pair_of: dict[int, tuple[int, int]] = field(default_factory=dict)
    unknown: int = 0


def decisions(overrides: pd.DataFrame | None, features: pd.DataFrame) -> Decisions:
    """Must-link and cannot-link pairs of record indexes from core.link_override rows."""
    out = Decisions()
    if overrides is None or overrides.empty:
        return out
    wanted = set(zip(overrides["source_a"], overrides["key_a"], strict=True)) | set(
        zip(overrides["source_b"], overrides["key_b"], strict=True))
    named = features[pd.Series(list(zip(features["source"], features["source_key"],
                                        strict=True)), index=features.index).isin(wanted)]
    index = {(s, k): int(i) for s, k, i in zip(named["source"], named["source_key"],
                                                named["unique_id"], strict=True)}
    rows = overrides.sort_values(["decided_at", "override_id"], kind="stable")
    latest: dict[tuple[int, int], tuple[str, int, str, str]] = {}
    for r in rows.itertuples(index=False):
        oid = int(r.override_id)
        a, b = index.get((r.source_a, r.key_a)), index.get((r.source_b, r.key_b))
        if a is None or b is None:
            out.unknown += 1
            out.outcome[oid] = "unknown_mention"
            continue
        pair = (min(a, b), max(a, b))
        if pair in latest:
            out.outcome[latest[pair][1]] = "superseded"
        latest[pair] = (r.decision, oid, getattr(r, "decided_by", "") or "",
                        getattr(r, "reason", "") or "")
        out.outcome[oid] = "applied"
        out.pair_of[oid] = pair
    for pair, (decision, oid, by, why) in latest.items():
        if decision == "must_link":
            out.must.append(pair)
            out.must_info[pair] = (oid, by, why)
        elif decision == "cannot_link":
            out.cannot.append(pair)
    return out


def mark_refused(d: Decisions, labels) -> None:
    """A must-link whose two mentions did not end in one cluster was refused (a cannot-link
    in force forbids it); labels are the run's cluster labels by record."""
    for oid, pair in d.pair_of.items():
        if d.outcome.get(oid) == "applied" and pair in d.must_info \
                and d.must_info[pair][0] == oid and labels[pair[0]] != labels[pair[1]]:
            d.outcome[oid] = "refused"


def applied_frame(entity: str, d: Decisions, run_id: str | None) -> pd.DataFrame:
    """Rows of core.link_override_applied for the overrides a run read."""
    return pd.DataFrame({"override_id": list(d.outcome), "entity": entity,
                         "outcome": list(d.outcome.values()), "run_id": run_id})
