"""DISTANT_RESIDENCE: registered elsewhere, near-minimum wage, no contributions."""

from expectations.rules._group import per_declared
from expectations.rules.base import (
    DECL,
    REGION,
    Finding,
    RuleContext,
    iso,
    mention,
    min_wage_sql,
)

RULE = "DISTANT_RESIDENCE"


def _sql(day: str, contrib: str) -> str:
    # Household registration: the registry (latest certificate) first, then the golden person.
    return f"""
with d as (
    select d.*, {min_wage_sql("d.wage_tier", "d." + day)} as min_wage
    from {DECL} d
    where d.unit_region_code like :prefix || '%' and d.wage_tier is not null
),
paid as (select distinct person_id, employer_id, year from {contrib}),
-- The wage and contribution tests first: only the few employees left need a registration.
low as (
    select d.* from d
    where d.monthly_wage < :multiple * d.min_wage
      and not exists (select 1 from paid
                      where paid.person_id = d.person_id and paid.employer_id = d.employer_id
                        and paid.year = d.year)
),
-- Latest registry certificate with a household registration, per declared person: one
-- pass over the crosswalk (a correlated sub-select per employee here grew quadratically).
reg as (
    select distinct on (px.person_id) px.person_id, c.hukou_region_code
    from core.person_xref px
    join staging.certificate c on c.cert_number = px.source_key
    where px.source = 'disability_registry' and c.hukou_region_code is not null
      and px.person_id in (select person_id from low)
    order by px.person_id, c.changed_at desc nulls last, c.issued_on desc nulls last,
             c.cert_number
),
hk as (
    select low.employee_record_id,
           coalesce(reg.hukou_region_code, p.hukou_region_code) as hukou_region_code
    from low
    left join reg on reg.person_id = low.person_id
    left join core.person p on p.person_id = low.person_id
)
select low.*, hk.hukou_region_code,
       coalesce(hr.city_code, left(hk.hukou_region_code, 4)) as hukou_city_code,
       coalesce(low.unit_city_code, left(low.unit_region_code, 4)) as employer_city_code
from low
join hk on hk.employee_record_id = low.employee_record_id
left join {REGION} hr on hr.county_code = hk.hukou_region_code
where hk.hukou_region_code is not null
  and coalesce(hr.city_code, left(hk.hukou_region_code, 4))
      <> coalesce(low.unit_city_code, left(low.unit_region_code, 4))
order by low.employee_record_id
"""


def find(ctx: RuleContext) -> list[Finding]:
    """Household registration in another city (today's city of the county code) or
    province than the declaring employer, a declared wage under 1.2× the minimum wage,
    and no contribution row at all from the declaring employer in the year. Only Shandong
    employers (whose minimum wage and contributions we hold) are judged.
    """
    p = ctx.params(RULE)
    day = ctx.params("BELOW_MIN_WAGE").raw("wage_reference_day")
    rows = ctx.rows(_sql(day, ctx.contributions()), prefix=p.raw("region_prefix"),
                     multiple=p.num("wage_multiple"))

    def build(group):
        r = group[0]
        extra = {"hukou_region_code": r["hukou_region_code"],
                 "hukou_city_code": r["hukou_city_code"],
                 "employer_region_code": r["unit_region_code"],
                 "employer_city_code": r["employer_city_code"],
                 "monthly_wage": iso(r["monthly_wage"]), "min_wage": iso(r["min_wage"]),
                 "wage_multiple": p.num("wage_multiple"),
                 "contributions_from_declaring_employer": 0}
        return p.raw("severity"), p.num("score"), extra, [
            mention("quota", r["employee_record_id"])]

    return per_declared(rows, RULE, build, ("ref.region", "ref.min_wage"))
