"""Shared machinery of the audit rules: findings, context, the declared-period base table."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from expectations.rules.config import Params, rule_specs

# Temp tables every rule may read (created by ``prepare`` inside the run's transaction).
DECL = "tmp_ql_decl"
REGION = "tmp_ql_region"
MIN_WAGE = "tmp_ql_min_wage"
CONTRIB = "tmp_ql_contrib"
CONTRIB_KEYS = "tmp_ql_contrib_keys"


@dataclass
class Finding:
    """One finding of one rule: the unit a flag is made of."""

    rule: str
    year: int
    employer_id: str
    person_id: str | None
    severity: str
    score: float
    evidence: dict[str, Any] = field(default_factory=dict)
    reference_tables: tuple[str, ...] = ()


@dataclass
class RuleContext:
    """What a rule needs: an open connection (with the temp tables) and reference data."""

    conn: Connection
    reference: Any  # expectations.rules.reference.Reference
    _made: set[str] = field(default_factory=set)

    def params(self, rule: str) -> Params:
        """The rule's thresholds."""
        return Params(rule)

    def rows(self, sql: str, **binds: Any) -> list[dict[str, Any]]:
        """Run ``sql`` and return its rows as dicts, values as the driver returns them."""
        return rows(self.conn, sql, **binds)

    def statuses(self) -> list[str]:
        """Declaration statuses the rules read."""
        return Params("*").list("statuses")

    def contributions(self) -> str:
        """Name of the temp table of contribution months of declared person-employer pairs.

        Built once per run (one pass over ``staging.contribution``): one row per golden
        person, golden employer and month (``period`` YYYYMM, ``year``), with
        ``pension_paid`` (a pension row whose payment arrived), ``pension_any`` (any pension
        row), ``min_base`` and the hr keys behind it.
        """
        if CONTRIB not in self._made:
            build_contributions(self.conn)
            self._made.add(CONTRIB)
        return CONTRIB


RuleFn = Callable[[RuleContext], list[Finding]]


def rows(conn: Connection, sql: str, **binds: Any) -> list[dict[str, Any]]:
    """Rows of ``sql`` as dicts in the order the query returns them."""
    result = conn.execute(text(sql), binds)
    keys = list(result.keys())
    if len(set(keys)) != len(keys):
        raise ValueError(f"duplicate column names in a rule query: {keys}")
    return [dict(zip(keys, r, strict=True)) for r in result]


def mention(source: str, key: Any, entity: str = "person") -> dict[str, str]:
    """A source mention as evidence: ``{"source", "source_key", "entity"}``."""
    return {"source": source, "source_key": str(key), "entity": entity}


def iso(value: Any) -> Any:
    """JSON-friendly value: dates to ISO text, decimals and numpy numbers to float/int."""
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    if type(value).__name__ == "Decimal":
        return float(value)
    return value


def declared_evidence(row: Any) -> dict[str, Any]:
    """The facts of one declared employment that every person-level flag shows."""
    return {
        "declaration_id": row["declaration_id"],
        "employee_record_id": row["employee_record_id"],
        "declaration_status": row["declaration_status"],
        "unit_name": row["unit_name"],
        "unit_region_code": row["unit_region_code"],
        "contract_start": iso(row["contract_start"]),
        "contract_end": iso(row["contract_end"]),
        "declared_period": [iso(row["period_start"]), iso(row["period_end"])],
        "monthly_wage": iso(row["monthly_wage"]),
        "si_months": iso(row["si_months"]),
        "declared_level": iso(row["disability_level"]),
        "employment_type": row["employment_type"],
    }


def declared_mentions(row: Any) -> list[dict[str, str]]:
    """The quota mentions (employee record and declaration) behind a declared employment."""
    return [mention("quota", row["employee_record_id"]),
            mention("quota", row["declaration_id"], "employer")]


def prepare(conn: Connection, reference: Any) -> None:
    """Create the temp tables: reference data and the effective declared employments.

    ``tmp_ql_decl`` holds one row per declared employee of a declaration in a status the
    rules read (staging keeps only the latest version of each declaration and employee),
    linked to golden ids, with the declared period clipped to the declaration year. Rows
    whose contract does not touch the year are dropped: they declare nothing for it.
    """
    # JIT compilation costs more than it saves on these one-off analytical queries.
    conn.execute(text("set local jit = off"))
    # Month aggregates of the contribution table sort millions of rows: keep them in memory.
    conn.execute(text("set local work_mem = '128MB'"))
    reference.load_temp_tables(conn, REGION, MIN_WAGE)
    conn.execute(text(f"drop table if exists {DECL}"))
    conn.execute(text(f"""
        create temp table {DECL} as
        with base as (
            select e.employee_record_id, e.declaration_id,
                   d.declaration_year::int as year, d.status as declaration_status,
                   d.unit_name, coalesce(d.unit_region_code, ce.region_code) as unit_region_code,
                   coalesce(d.unit_type, ce.unit_type) as unit_type, d.total_staff,
                   e.full_name, e.id_number, e.cert_number, e.disability_category,
                   e.disability_level, e.contract_start, e.contract_end, e.monthly_wage,
                   e.si_months, e.employment_type, e.position,
                   px.person_id, ex.employer_id,
                   make_date(d.declaration_year::int, 1, 1) as year_start,
                   make_date(d.declaration_year::int, 12, 31) as year_end
            from staging.declared_employment e
            join staging.declaration d on d.declaration_id = e.declaration_id
            join core.person_xref px
              on px.source = 'quota' and px.source_key = e.employee_record_id
            join core.employer_xref ex
              on ex.source = 'quota' and ex.source_key = e.declaration_id
            left join core.employer ce on ce.employer_id = ex.employer_id
            where d.status = any(:statuses)
        )
        select b.*,
               greatest(coalesce(b.contract_start, b.year_start), b.year_start) as period_start,
               least(coalesce(b.contract_end, b.year_end), b.year_end) as period_end,
               r.city_code as unit_city_code, r.tier as wage_tier
        from base b
        left join {REGION} r on r.county_code = b.unit_region_code
        where greatest(coalesce(b.contract_start, b.year_start), b.year_start)
              <= least(coalesce(b.contract_end, b.year_end), b.year_end)
    """), {"statuses": Params("*").list("statuses")})
    conn.execute(text(f"create index on {DECL} (person_id)"))
    conn.execute(text(f"create index on {DECL} (employer_id)"))
    conn.execute(text(f"analyze {DECL}"))


def build_contributions(conn: Connection) -> None:
    """Create ``tmp_ql_contrib`` (see ``RuleContext.contributions``)."""
    pension = Params("NO_SOCIAL_INSURANCE").list("pension_insurance")
    conn.execute(text(f"drop table if exists {CONTRIB_KEYS}"))
    conn.execute(text(f"drop table if exists {CONTRIB}"))
    # The hr key pairs of the declared person-employer pairs first, with their real size:
    # the planner then hashes them and scans the contributions once (it probed an index
    # per pair, expecting a handful of rows from the unanalysed staging table).
    conn.execute(text(f"""
        create temp table {CONTRIB_KEYS} as
        with pairs as (select distinct person_id, employer_id from {DECL})
        select px.source_key as person_key, ex.source_key as employer_key,
               px.person_id, ex.employer_id
        from pairs
        join core.person_xref px on px.source = 'hr' and px.person_id = pairs.person_id
        join core.employer_xref ex on ex.source = 'hr' and ex.employer_id = pairs.employer_id
    """))
    conn.execute(text(f"analyze {CONTRIB_KEYS}"))
    conn.execute(text(f"""
        create temp table {CONTRIB} as
        select k.person_id, k.employer_id, c.period, c.period / 100 as year,
               bool_or(c.insurance = any(:pension) and coalesce(c.is_paid, false))
                 as pension_paid,
               bool_or(c.insurance = any(:pension)) as pension_any,
               min(c.base_yuan) as min_base,
               -- One hr key of each side per month is enough to point an auditor at it.
               array[min(c.person_key)] as person_keys,
               array[min(c.employer_key)] as employer_keys
        from staging.contribution c
        join {CONTRIB_KEYS} k on k.person_key = c.person_key and k.employer_key = c.employer_key
        group by 1, 2, 3
        -- Stored in index order (the rules read it by person, employer and year), whatever
        -- the plan; grouping by sorting gives it for free.
        order by 1, 2, 3
    """), {"pension": pension})
    conn.execute(text(f"create index on {CONTRIB} (person_id, employer_id, year)"))
    conn.execute(text(f"analyze {CONTRIB}"))


def min_wage_sql(tier_expr: str, day_expr: str) -> str:
    """SQL scalar subquery: the monthly minimum wage for a tier in force on a day."""
    return (f"(select m.monthly_yuan from {MIN_WAGE} m where m.tier = {tier_expr} "
            f"and m.effective_from <= {day_expr} order by m.effective_from desc limit 1)")


def min_wage_from_sql(tier_expr: str, day_expr: str) -> str:
    """SQL scalar subquery: the effective date of that minimum wage."""
    return (f"(select m.effective_from from {MIN_WAGE} m where m.tier = {tier_expr} "
            f"and m.effective_from <= {day_expr} order by m.effective_from desc limit 1)")


def version(rule: str) -> str:
    """The rule's version from ``rules.csv``."""
    return rule_specs()[rule].version
