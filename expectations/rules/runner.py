"""Run every audit rule and upsert the findings into ``mart.anomaly_flag``."""

import datetime as dt
import hashlib
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, text

from expectations.rules import RULES
from expectations.rules.base import Finding, RuleContext, iso, prepare
from expectations.rules.config import rule_specs
from expectations.rules.reference import Reference, load_reference

log = logging.getLogger(__name__)

FOUND = "tmp_ql_found"


def flag_id(rule: str, year: int, person_id: str | None, employer_id: str | None) -> str:
    """Stable id of a finding: a hash of rule, year and the golden ids involved."""
    key = "|".join([rule, str(year), person_id or "", employer_id or ""])
    return "F" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:23]


def _json_default(value: Any) -> Any:
    out = iso(value)
    if out is value:
        return str(value)
    return out


def _row(f: Finding, now: dt.datetime, reference: Reference) -> dict[str, Any]:
    spec = rule_specs()[f.rule]
    evidence = dict(f.evidence)
    evidence["rule"] = f.rule
    evidence["rule_version"] = spec.version
    evidence["reference_tables"] = sorted(
        {"expectations/rules/data/thresholds.csv", *f.reference_tables})
    return {
        "flag_id": flag_id(f.rule, f.year, f.person_id, f.employer_id), "rule": f.rule,
        "year": f.year, "person_id": f.person_id, "employer_id": f.employer_id,
        "severity": f.severity, "score": max(0.0, min(1.0, float(f.score))),
        "evidence": json.dumps(evidence, ensure_ascii=False, default=_json_default,
                               sort_keys=True),
        "rule_version": spec.version, "now": now,
    }


@dataclass(frozen=True)
class RuleRun:
    """What one run of the rules did: findings per rule code, flags no longer found."""

    findings: dict[str, int]
    deactivated: int

    @property
    def total(self) -> int:
        """Findings of every rule run."""
        return sum(self.findings.values())


# Rules that read the contribution months share their temp table: one lane evaluates them,
# a second the others, each on its own connection, so both cores work.
CONTRIBUTIONS = "staging.contribution"


def lanes(selected: list[str]) -> list[list[str]]:
    """The selected rule codes split into lanes evaluated concurrently (non-empty ones)."""
    specs = rule_specs()
    contrib = [c for c in selected if CONTRIBUTIONS in specs[c].reads]
    others = [c for c in selected if c not in contrib]
    return [lane for lane in (others, contrib) if lane]


def _evaluate(ctx: RuleContext, codes: list[str]) -> dict[str, list[Finding]]:
    found: dict[str, list[Finding]] = {}
    for code in codes:
        started = time.perf_counter()
        found[code] = RULES[code](ctx)
        log.info("rule %s: %d findings in %.1f s", code, len(found[code]),
                 time.perf_counter() - started)
    return found


def _evaluate_aside(engine: Engine, snapshot: str, reference: Reference,
                    codes: list[str]) -> dict[str, list[Finding]]:
    """Evaluate rules on a connection of their own that sees what the run's transaction saw.

    It only reads (its temp tables are rolled back with it): every flag is still written
    by the run's one transaction.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin() as tx:
            conn.execute(text("set transaction snapshot :snapshot"), {"snapshot": snapshot})
            prepare(conn, reference)
            found = _evaluate(RuleContext(conn, reference), codes)
            tx.rollback()
    return found


def _evaluate_lanes(engine: Engine, conn: Connection, reference: Reference,
                    selected: list[str]) -> dict[str, list[Finding]]:
    """Findings per rule code: the first lane on the run's connection, others beside it."""
    first, *aside = lanes(selected)
    if not aside:
        return _evaluate(RuleContext(conn, reference), first)
    snapshot = conn.execute(text("select pg_export_snapshot()")).scalar_one()
    with ThreadPoolExecutor(len(aside), thread_name_prefix="rules") as pool:
        futures = [pool.submit(_evaluate_aside, engine, snapshot, reference, lane)
                   for lane in aside]
        found = _evaluate(RuleContext(conn, reference), first)
        for future in futures:
            found.update(future.result())
    return found


def run_rules(
    engine: Engine,
    now: dt.datetime | None = None,
    *,
    reference: Reference | None = None,
    rules: list[str] | None = None,
    run_id: str | None = None,
) -> RuleRun:
    """Evaluate the audit rules and upsert ``mart.anomaly_flag``; findings per rule.

    New findings get ``first_seen_at = last_seen_at = now``; findings seen again keep
    ``first_seen_at`` and get ``last_seen_at = now``, ``active = true``; flags of the
    evaluated rules that are no longer found become ``active = false``. Nothing is deleted
    and ``review.decision`` is never touched. When entity resolution merged golden ids, a
    finding's evidence names the flags of the retired ids in ``previous_flag_ids`` (their
    review decisions stay attached to them); when a split moved a mention to a new golden
    person and the finding now holds for that person, the new flag names the old one there
    too (the old one, no longer found, is deactivated). ``rules`` restricts the run to some codes.
    ``run_id`` (the pipeline run) is recorded on every finding the run produces.
    """
    now = now or dt.datetime.now(dt.UTC)
    reference = reference or load_reference()
    selected = list(rules or RULES)
    unknown = [r for r in selected if r not in RULES]
    if unknown:
        raise ValueError(f"unknown rule codes: {unknown}")
    with engine.begin() as conn:
        # One rule run at a time: concurrent runs would race on activity of vanished flags.
        conn.execute(text("select pg_advisory_xact_lock(7313005)"))
        prepare(conn, reference)
        found = _evaluate_lanes(engine, conn, reference, selected)
        counts: dict[str, int] = {}
        rows: dict[str, dict[str, Any]] = {}
        # Contract order whichever lane found them: flag rows keep one order run after run.
        for code in selected:
            for f in found[code]:
                row = _row(f, now, reference)
                rows[row["flag_id"]] = row
            counts[code] = len(found[code])
        conn.execute(text(f"drop table if exists {FOUND}"))
        conn.execute(text(
            f"create temp table {FOUND} (flag_id text primary key, rule text, year int,"
            " person_id text, employer_id text, severity text, score float, evidence jsonb,"
            " rule_version text)"))
        if rows:
            # One statement for all findings (a round trip per row cost more than the upsert).
            columns = ("flag_id", "rule", "year", "person_id", "employer_id", "severity",
                       "score", "evidence", "rule_version")
            conn.execute(text(
                f"insert into {FOUND} select * from unnest(cast(:flag_id as text[]),"
                " cast(:rule as text[]), cast(:year as int[]), cast(:person_id as text[]),"
                " cast(:employer_id as text[]), cast(:severity as text[]),"
                " cast(:score as float8[]), cast(:evidence as jsonb[]),"
                " cast(:rule_version as text[]))"),
                {c: [r[c] for r in rows.values()] for c in columns})
        # The upsert and the two joins below read it: plan them on its real size.
        conn.execute(text(f"analyze {FOUND}"))
        conn.execute(text(f"""
            insert into mart.anomaly_flag (flag_id, rule, year, person_id, employer_id,
                severity, score, evidence, rule_version, first_seen_at, last_seen_at, active, run_id)
            select flag_id, rule, year, person_id, employer_id, severity, score, evidence,
                   rule_version, :now, :now, true, :run_id
            from {FOUND}
            on conflict (flag_id) do update set
                severity = excluded.severity, score = excluded.score,
                evidence = excluded.evidence, rule_version = excluded.rule_version,
                last_seen_at = excluded.last_seen_at, active = true, run_id = excluded.run_id
        """), {"now": now, "run_id": run_id})
        # A merge retires golden ids: point the new finding at the flags (and decisions) of
        # the same finding under the retired ids.
        conn.execute(text(f"""
            with moved as (
                select n.flag_id as new_id, jsonb_agg(distinct o.flag_id) as old_ids
                from mart.anomaly_flag o
                join {FOUND} n on n.rule = o.rule and n.year = o.year and n.flag_id <> o.flag_id
                left join core.person_id_history ph on ph.retired_id = o.person_id
                left join core.employer_id_history eh on eh.retired_id = o.employer_id
                where (ph.retired_id is not null or eh.retired_id is not null)
                  and coalesce(ph.current_id, o.person_id) is not distinct from n.person_id
                  and coalesce(eh.current_id, o.employer_id) = n.employer_id
                group by n.flag_id
            )
            update mart.anomaly_flag f
            set evidence = f.evidence || jsonb_build_object('previous_flag_ids', m.old_ids)
            from moved m where f.flag_id = m.new_id
        """))
        # A split moves a mention to a new golden person: a finding that held for the old
        # person and now holds for the new one (same rule, year and employer) points at the
        # flag it replaces, whose decisions stay with it.
        conn.execute(text(f"""
            with moved as (
                select n.flag_id as new_id, jsonb_agg(distinct o.flag_id) as old_ids
                from {FOUND} n
                join mart.anomaly_flag o on o.rule = n.rule and o.year = n.year
                     and o.employer_id is not distinct from n.employer_id
                     and o.person_id <> n.person_id
                where not exists (select 1 from {FOUND} s where s.flag_id = o.flag_id)
                  and exists (
                      select 1 from core.person_xref x
                      join core.person_xref_version v
                        on v.source = x.source and v.source_key = x.source_key
                      where x.person_id = n.person_id and v.person_id = o.person_id)
                group by n.flag_id
            )
            update mart.anomaly_flag f
            set evidence = f.evidence || jsonb_build_object('previous_flag_ids', (
                select jsonb_agg(distinct e order by e) from jsonb_array_elements(
                    coalesce(f.evidence -> 'previous_flag_ids', '[]'::jsonb) || m.old_ids) e))
            from moved m where f.flag_id = m.new_id
        """))
        gone = conn.execute(text(f"""
            update mart.anomaly_flag f set active = false
            where f.active and f.rule = any(:rules)
              and not exists (select 1 from {FOUND} n where n.flag_id = f.flag_id)
        """), {"rules": selected})
    log.info("rules done: %d findings, %d deactivated", len(rows), gone.rowcount)
    return RuleRun(findings=counts, deactivated=gone.rowcount)
