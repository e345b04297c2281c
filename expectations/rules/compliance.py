"""``mart.quota_compliance``: quota, declared and verified counts and the levy per employer-year."""

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text

from expectations.rules.config import Params, levy_params
from expectations.rules.levy import employee_weight, levy
from expectations.rules.reference import Reference, load_reference

log = logging.getLogger(__name__)

DECLARATIONS_SQL = """
select ex.employer_id, d.declaration_year::int as year, d.declaration_id, d.status,
       d.total_staff, d.avg_annual_wage,
       coalesce(d.unit_region_code, ce.region_code) as region_code,
       coalesce(d.unit_type, ce.unit_type) as unit_type, d.updated_at
from staging.declaration d
join core.employer_xref ex on ex.source = 'quota' and ex.source_key = d.declaration_id
left join core.employer ce on ce.employer_id = ex.employer_id
where d.declaration_year is not null
"""

EMPLOYEES_SQL = """
select e.declaration_id, e.employee_record_id, e.disability_level, px.person_id
from staging.declared_employment e
left join core.person_xref px on px.source = 'quota' and px.source_key = e.employee_record_id
where e.declaration_id = any(:ids)
"""

FLAGS_SQL = """
select distinct person_id, employer_id, year, rule, severity
from mart.anomaly_flag
where active and person_id is not null
"""


def _frame(conn, sql: str, **binds: Any) -> pd.DataFrame:
    result = conn.execute(text(sql), binds)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)


def primary_declarations(decls: pd.DataFrame, statuses: list[str]) -> pd.DataFrame:
    """One declaration per employer and year: the latest in a counted status, else the
    latest of any status (a rejected declaration counts nobody)."""
    if decls.empty:
        return decls.assign(counted=pd.Series(dtype=bool))
    d = decls.copy()
    d["counted"] = d["status"].isin(statuses)
    d["_ts"] = pd.to_datetime(d["updated_at"], utc=True)
    d = d.sort_values(["employer_id", "year", "counted", "_ts", "declaration_id"])
    return d.groupby(["employer_id", "year"], sort=True).tail(1).drop(columns="_ts")


def build_quota_compliance(engine: Engine, *, reference: Reference | None = None,
                           now: dt.datetime | None = None) -> dict[str, Any]:
    """Rebuild ``mart.quota_compliance`` from declarations and the active flags.

    ``declared_count``: employees of the employer-year's declaration weighted by declared
    level (1-2 count double). ``verified_count``: the same without employees holding an
    active ``high`` flag of that employer and year, and weighted 1 where LEVEL_MISMATCH
    says the register holds level 3-4. Levies by ``expectations.rules.levy.levy``; ``levy_gap`` =
    verified − declared. Employer-years whose only declaration was rejected count nobody.
    """
    reference = reference or load_reference()
    statuses = Params("*").list("statuses")
    ratio = Decimal(levy_params()["quota_ratio"])
    now = now or dt.datetime.now(dt.UTC)
    with engine.begin() as conn:
        conn.execute(text("select pg_advisory_xact_lock(7313006)"))
        decls = primary_declarations(_frame(conn, DECLARATIONS_SQL), statuses)
        ids = list(decls.loc[decls["counted"], "declaration_id"]) if len(decls) else []
        emps = _frame(conn, EMPLOYEES_SQL, ids=ids)
        flags = _frame(conn, FLAGS_SQL)
        high = {(r.person_id, r.employer_id, int(r.year)) for r in flags.itertuples()
                if r.severity == "high"}
        level_down = {(r.person_id, r.employer_id, int(r.year)) for r in flags.itertuples()
                      if r.rule == "LEVEL_MISMATCH"}
        by_decl = {k: g for k, g in emps.groupby("declaration_id")} if len(emps) else {}
        out = []
        for r in decls.itertuples():
            declared = Decimal(0)
            verified = Decimal(0)
            if r.counted and r.declaration_id in by_decl:
                for e in by_decl[r.declaration_id].itertuples():
                    level = None if e.disability_level is None else int(e.disability_level)
                    w = employee_weight(level)
                    declared += w
                    key = (e.person_id, r.employer_id, int(r.year))
                    if e.person_id is not None and key in high:
                        continue
                    verified += 1 if key in level_down else w
            staff = int(r.total_staff) if r.total_staff is not None else 0
            # Only Shandong's average wages are known: no cap for employers elsewhere.
            shandong = str(r.region_code or "").startswith("37")
            city = reference.city_of(r.region_code) if shandong else None
            social = reference.social_average(city, int(r.year)) if shandong else None
            wage = r.avg_annual_wage if r.avg_annual_wage is not None else 0
            ld = levy(staff, declared, wage, r.unit_type, int(r.year), social)
            lv = levy(staff, verified, wage, r.unit_type, int(r.year), social)
            out.append({
                "employer_id": r.employer_id, "year": int(r.year),
                "total_staff": None if r.total_staff is None else staff, "quota_ratio": ratio,
                "required_count": (Decimal(staff) * ratio).quantize(Decimal("0.001")),
                "declared_count": declared, "verified_count": verified,
                "levy_declared": ld, "levy_verified": lv, "levy_gap": lv - ld,
                "computed_at": now,
            })
        # Derived table: rebuilt whole inside one transaction, so readers never see a gap.
        conn.execute(text("delete from mart.quota_compliance"))
        if out:
            conn.execute(text(
                "insert into mart.quota_compliance (employer_id, year, total_staff, quota_ratio,"
                " required_count, declared_count, verified_count, levy_declared, levy_verified,"
                " levy_gap, computed_at) values (:employer_id, :year, :total_staff,"
                " :quota_ratio, :required_count, :declared_count, :verified_count,"
                " :levy_declared, :levy_verified, :levy_gap, :computed_at)"), out)
    summary = {
        "rows": len(out),
        "levy_declared": sum((o["levy_declared"] for o in out), Decimal(0)),
        "levy_verified": sum((o["levy_verified"] for o in out), Decimal(0)),
    }
    summary["levy_gap"] = summary["levy_verified"] - summary["levy_declared"]
    # Floats for orchestration metadata (Dagster metadata takes no Decimal).
    summary = {k: float(v) if isinstance(v, Decimal) else v for k, v in summary.items()}
    log.info("quota_compliance: %d employer-years", len(out))
    return summary
