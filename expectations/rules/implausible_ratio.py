"""IMPLAUSIBLE_RATIO: disabled head count above 30 % of staff, not a concentrated unit."""

from expectations.rules._group import group_by
from expectations.rules.base import Finding, RuleContext, iso, mention

RULE = "IMPLAUSIBLE_RATIO"

SQL = """
select ex.employer_id, d.declaration_year::int as year, d.declaration_id, d.status,
       d.unit_name, ce.name as employer_name, d.total_staff, d.disabled_declared,
       d.updated_at, coalesce(n.employee_rows, 0) as employee_rows
from staging.declaration d
join core.employer_xref ex on ex.source = 'quota' and ex.source_key = d.declaration_id
left join core.employer ce on ce.employer_id = ex.employer_id
left join (select declaration_id, count(*) as employee_rows
           from staging.declared_employment group by 1) n
  on n.declaration_id = d.declaration_id
where d.status = any(:statuses) and d.total_staff is not null
"""

CONCENTRATED_SQL = """
select ex.employer_id, array_agg(r.registration_id order by r.registration_id) as keys
from staging.employment_registration r
join core.employer_xref ex on ex.source = 'employment_service'
                          and ex.source_key = r.registration_id
where r.form = any(:forms) and not coalesce(r.is_withdrawn, false)
group by ex.employer_id
"""


def find(ctx: RuleContext) -> list[Finding]:
    """An employer-year whose declaration (latest version; staging keeps no other) declares
    more disabled employees than 30 % of ``total_staff`` (``high`` when more than the staff),
    unless the employer is a concentrated-employment unit: a 福利 enterprise or sheltered
    workshop by name, or an employer with 集中就业 registrations in employment_service.
    The head count is ``disabled_declared``, else the number of declared employee rows.
    """
    p = ctx.params(RULE)
    rows = ctx.rows(SQL, statuses=ctx.statuses())
    concentrated = ctx.rows(CONCENTRATED_SQL, forms=p.list("concentrated_forms"))
    conc = {r["employer_id"]: r["keys"] for r in concentrated}
    keywords = p.list("concentrated_name_keywords")
    max_ratio = p.num("max_ratio")
    findings: list[Finding] = []
    for (employer_id, year), group in group_by(rows, ["employer_id", "year"], dropna=True):
        if employer_id in conc:
            continue
        names = [n for n in [r["unit_name"] for r in group] + [r["employer_name"] for r in group]
                 if n]
        if any(k in n for k in keywords for n in names):
            continue
        hits = []
        for r in group:
            staff = int(r["total_staff"])
            count = int(r["disabled_declared"]) if r["disabled_declared"] is not None \
                else int(r["employee_rows"])
            above_staff = count > staff
            if above_staff or count > max_ratio * staff:
                hits.append((r, staff, count, above_staff))
        if not hits:
            continue
        above = any(h[3] for h in hits)
        severity = p.raw("severity_above_staff") if above else p.raw("severity")
        score = p.num("score_above_staff") if above else p.num("score")
        evidence = {
            "declarations": [{
                "declaration_id": r["declaration_id"], "declaration_status": r["status"],
                "unit_name": r["unit_name"], "total_staff": staff,
                "disabled_headcount": count, "disabled_declared": iso(r["disabled_declared"]),
                "declared_employee_rows": int(r["employee_rows"]),
                "ratio": round(count / staff, 4) if staff else None,
                "exceeds_total_staff": above_staff, "updated_at": iso(r["updated_at"]),
            } for r, staff, count, above_staff in hits],
            "max_ratio": max_ratio,
            "concentrated_unit_checked": {"name_keywords": keywords,
                                          "employment_service_forms": p.list("concentrated_forms")},
            "mentions": [mention("quota", r["declaration_id"], "employer") for r, *_ in hits],
        }
        findings.append(Finding(RULE, int(year), str(employer_id), None, severity, score,
                                evidence))
    return findings
