"""BELOW_MIN_WAGE: declared wage or a contribution base below the county minimum wage."""

from expectations.rules._group import per_declared
from expectations.rules.base import (
    DECL,
    Finding,
    RuleContext,
    iso,
    mention,
    min_wage_from_sql,
    min_wage_sql,
)

RULE = "BELOW_MIN_WAGE"

CONTRIB_SQL = f"""
with d as (select * from {DECL} where wage_tier is not null),
c as (
    select px.person_id, ex.employer_id, c.period, c.person_key, c.employer_key,
           min(c.base_yuan) as base_yuan
    from staging.contribution c
    join core.person_xref px on px.source = 'hr' and px.source_key = c.person_key
    join core.employer_xref ex on ex.source = 'hr' and ex.source_key = c.employer_key
    where px.person_id in (select person_id from d) and c.base_yuan is not null
    group by 1, 2, 3, 4, 5
)
select d.employee_record_id, c.period, c.base_yuan, c.person_key, c.employer_key,
       {min_wage_sql("d.wage_tier", "to_date(c.period::text, 'YYYYMM')")} as min_wage
from d
join c on c.person_id = d.person_id and c.employer_id = d.employer_id
      and c.period / 100 = d.year
"""


def _decl_sql(day: str) -> str:
    return f"""
select d.*, {min_wage_sql("d.wage_tier", "d." + day)} as min_wage,
       {min_wage_from_sql("d.wage_tier", "d." + day)} as min_wage_from
from {DECL} d where d.wage_tier is not null
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
    rows = ctx.frame(_decl_sql(day))
    contrib = ctx.frame(CONTRIB_SQL)
    low = contrib[contrib["base_yuan"].astype(float) < contrib["min_wage"].astype(float)] \
        if not contrib.empty else contrib
    by_record = {k: g for k, g in low.groupby("employee_record_id")} if not low.empty else {}

    def build(group):
        wage_low = [r for _, r in group.iterrows()
                    if r["monthly_wage"] is not None and r["min_wage"] is not None
                    and float(r["monthly_wage"]) < float(r["min_wage"])]
        months = [by_record[k] for k in group["employee_record_id"] if k in by_record]
        if not wage_low and not months:
            return None
        first = group.iloc[0]
        extra = {
            "county_code": first["unit_region_code"], "wage_tier": iso(first["wage_tier"]),
            "min_wage": iso(first["min_wage"]), "min_wage_effective_from":
                iso(first["min_wage_from"]), "min_wage_reference_day": day,
            "declared_wage_below": bool(wage_low),
            "declared_monthly_wage": iso(first["monthly_wage"]),
            "contribution_months_below": [
                {"period": int(r["period"]), "base_yuan": iso(r["base_yuan"]),
                 "min_wage": iso(r["min_wage"])}
                for g in months for _, r in g.sort_values("period").iterrows()],
        }
        mentions = [mention("hr", r[k], e) for g in months for _, r in g.iterrows()
                    for k, e in (("person_key", "person"), ("employer_key", "employer"))]
        score = p.num("score") if wage_low else p.num("score_base_only")
        return p.raw("severity"), score, extra, mentions

    return per_declared(rows, RULE, build, ("ref.region", "ref.min_wage"))
