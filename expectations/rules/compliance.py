"""``mart.quota_compliance``: quota, declared and verified counts and the levy per employer-year."""

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

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


def _rows(conn, sql: str, **binds: Any) -> list[dict[str, Any]]:
    result = conn.execute(text(sql), binds)
    keys = list(result.keys())
    return [dict(zip(keys, r, strict=True)) for r in result]


def _last_first(value: Any) -> tuple:
    # Sort key that orders a missing value after every present one.
    return (True, 0) if value is None else (False, value)


def primary_declarations(decls: list[dict[str, Any]],
                         statuses: list[str]) -> list[dict[str, Any]]:
    """One declaration per employer and year (in that order): the latest in a counted
    status, else the latest of any status (a rejected declaration counts nobody).

    Latest by ``updated_at`` then ``declaration_id``; a missing ``updated_at`` counts as
    the latest. Each row gains ``counted``.
    """
    counted = set(statuses)
    best: dict[tuple, tuple[tuple, dict[str, Any]]] = {}
    for d in decls:
        key = (d["employer_id"], d["year"])
        rank = (d["status"] in counted, _last_first(d["updated_at"]),
                _last_first(d["declaration_id"]))
        if key not in best or rank > best[key][0]:
            best[key] = (rank, d)
    return [{**d, "counted": rank[0]}
            for key, (rank, d) in sorted(best.items(),
                                         key=lambda kv: tuple(map(_last_first, kv[0])))]


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
        decls = primary_declarations(_rows(conn, DECLARATIONS_SQL), statuses)
        ids = [d["declaration_id"] for d in decls if d["counted"]]
        by_decl: dict[str, list[tuple[str | None, Any]]] = {}
        for e in _rows(conn, EMPLOYEES_SQL, ids=ids) if ids else []:
            by_decl.setdefault(e["declaration_id"], []).append(
                (e["person_id"], e["disability_level"]))
        flags = _rows(conn, FLAGS_SQL)
        high = {(f["person_id"], f["employer_id"], int(f["year"])) for f in flags
                if f["severity"] == "high"}
        level_down = {(f["person_id"], f["employer_id"], int(f["year"])) for f in flags
                      if f["rule"] == "LEVEL_MISMATCH"}
        out = []
        for d in decls:
            declared = Decimal(0)
            verified = Decimal(0)
            if d["counted"] and d["declaration_id"] in by_decl:
                for person_id, disability_level in by_decl[d["declaration_id"]]:
                    level = None if disability_level is None else int(disability_level)
                    w = employee_weight(level)
                    declared += w
                    key = (person_id, d["employer_id"], int(d["year"]))
                    if person_id is not None and key in high:
                        continue
                    verified += 1 if key in level_down else w
            staff = int(d["total_staff"]) if d["total_staff"] is not None else 0
            # Only Shandong's average wages are known: no cap for employers elsewhere.
            shandong = str(d["region_code"] or "").startswith("37")
            city = reference.city_of(d["region_code"]) if shandong else None
            social = reference.social_average(city, int(d["year"])) if shandong else None
            wage = d["avg_annual_wage"] if d["avg_annual_wage"] is not None else 0
            ld = levy(staff, declared, wage, d["unit_type"], int(d["year"]), social)
            lv = levy(staff, verified, wage, d["unit_type"], int(d["year"]), social)
            out.append({
                "employer_id": d["employer_id"], "year": int(d["year"]),
                "total_staff": None if d["total_staff"] is None else staff, "quota_ratio": ratio,
                "required_count": (Decimal(staff) * ratio).quantize(Decimal("0.001")),
                "declared_count": declared, "verified_count": verified,
                "levy_declared": ld, "levy_verified": lv, "levy_gap": lv - ld,
                "computed_at": now,
            })
        # Derived table: rebuilt whole inside one transaction, so readers never see a gap.
        conn.execute(text("delete from mart.quota_compliance"))
        if out:
            # One statement, rows in employer-year order (a round trip per row cost most).
            columns = {"employer_id": "text", "year": "int", "total_staff": "int",
                       "quota_ratio": "numeric", "required_count": "numeric",
                       "declared_count": "numeric", "verified_count": "numeric",
                       "levy_declared": "numeric", "levy_verified": "numeric",
                       "levy_gap": "numeric", "computed_at": "timestamptz"}
            conn.execute(text(
                f"insert into mart.quota_compliance ({', '.join(columns)}) select * from unnest("
                + ", ".join(f"cast(:{c} as {t}[])" for c, t in columns.items()) + ")"),
                {c: [o[c] for o in out] for c in columns})
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
