"""BELOW_MIN_WAGE: declared wage or a contribution base below the county minimum wage."""

from expectations.rules._group import group_by, per_declared
from expectations.rules.base import (
    DECL,
    MIN_WAGE,
    Finding,
    RuleContext,
    iso,
    mention,
    min_wage_from_sql,
    min_wage_sql,
)

RULE = "BELOW_MIN_WAGE"


def _low_months_sql(contrib: str) -> str:
    # Only months whose base is below the highest minimum anywhere need the exact lookup.
    return f"""
with c as (
    select d.employee_record_id, d.wage_tier, c.period, c.min_base, c.person_keys,
           c.employer_keys
    from {contrib} c
    join {DECL} d on d.person_id = c.person_id and d.employer_id = c.employer_id
                 and d.year = c.year and d.wage_tier is not null
    where c.min_base < (select max(monthly_yuan) from {MIN_WAGE})
)
select * from (
    select c.*, {min_wage_sql("c.wage_tier", "to_date(c.period::text, 'YYYYMM')")} as min_wage
    from c
) x where x.min_base < x.min_wage
"""


def _decl_sql(day: str) -> str:
    return f"""
select * from (
    select d.*, {min_wage_sql("d.wage_tier", "d." + day)} as min_wage,
           {min_wage_from_sql("d.wage_tier", "d." + day)} as min_wage_from
    from {DECL} d where d.wage_tier is not null
) x
where x.monthly_wage < x.min_wage or x.employee_record_id = any(:low_records)
"""


def find(ctx: RuleContext) -> list[Finding]:
    """Flag a declared monthly wage, or any monthly contribution base the declaring employer
    reported in the year, strictly below the minimum wage of the employer county's tier.

    The declared wage is compared with the minimum in force on the reference day of the
    declared period (``wage_reference_day``); each contribution month with the minimum in
    force on its first day. Employers whose county has no known tier are skipped.
    """
    p = ctx.params(RULE)
    day = p.raw("wage_reference_day")
    if day not in ("period_start", "period_end"):
        raise ValueError(f"{RULE}: wage_reference_day must be period_start or period_end")
    low = ctx.rows(_low_months_sql(ctx.contributions()))
    by_record = {k: g for (k,), g in group_by(low, ["employee_record_id"], dropna=True)}
    rows = ctx.rows(_decl_sql(day), low_records=list(by_record))

    def build(group):
        wage_low = [r for r in group
                    if r["monthly_wage"] is not None and r["min_wage"] is not None
                    and float(r["monthly_wage"]) < float(r["min_wage"])]
        months = [by_record[r["employee_record_id"]] for r in group
                  if r["employee_record_id"] in by_record]
        if not wage_low and not months:
            return None
        first = group[0]
        extra = {
            "county_code": first["unit_region_code"], "wage_tier": iso(first["wage_tier"]),
            "min_wage": iso(first["min_wage"]), "min_wage_effective_from":
                iso(first["min_wage_from"]), "min_wage_reference_day": day,
            "declared_wage_below": bool(wage_low),
            "declared_monthly_wage": iso(first["monthly_wage"]),
            "contribution_months_below": [
                {"period": int(r["period"]), "base_yuan": iso(r["min_base"]),
                 "min_wage": iso(r["min_wage"])}
                for g in months for r in sorted(g, key=lambda r: r["period"])],
        }
        mentions = [mention("hr", k, e) for g in months for r in g
                    for col, e in (("person_keys", "person"), ("employer_keys", "employer"))
                    for k in (r[col] or [])]
        score = p.num("score") if wage_low else p.num("score_base_only")
        return p.raw("severity"), score, extra, mentions

    return per_declared(rows, RULE, build, ("ref.region", "ref.min_wage"))
