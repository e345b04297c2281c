"""NO_SOCIAL_INSURANCE: the declaring Shandong employer paid no or too few pension months."""

from expectations.rules._group import per_declared
from expectations.rules.base import DECL, Finding, RuleContext, mention

RULE = "NO_SOCIAL_INSURANCE"

SQL = f"""
with d as (select * from {DECL} where unit_region_code like :prefix || '%'),
c as (
    select px.person_id, ex.employer_id, c.period / 100 as year,
           array_agg(distinct c.period order by c.period) as periods,
           array_agg(distinct c.person_key) as person_keys,
           array_agg(distinct c.employer_key) as employer_keys
    from staging.contribution c
    join core.person_xref px on px.source = 'hr' and px.source_key = c.person_key
    join core.employer_xref ex on ex.source = 'hr' and ex.source_key = c.employer_key
    where c.insurance = any(:insurance) and (c.is_paid or :count_unpaid)
      and px.person_id in (select person_id from d)
    group by 1, 2, 3
)
select d.*, c.periods, c.person_keys, c.employer_keys,
       ((extract(year from d.period_end) - extract(year from d.period_start)) * 12
        + extract(month from d.period_end) - extract(month from d.period_start) + 1)::int
         as period_months
from d
left join c on c.person_id = d.person_id and c.employer_id = d.employer_id and c.year = d.year
"""


def find(ctx: RuleContext) -> list[Finding]:
    """Flag when no pension month was paid in the year, or paid months fall short by ≥ 3.

    The months expected are the declared ``si_months``, but never more than the calendar
    months the declared period touches: a part-year contract whose months are all paid is
    not a finding. Employers outside Shandong are skipped (the hr source does not cover them).
    """
    p = ctx.params(RULE)
    rows = ctx.frame(SQL, prefix=p.raw("region_prefix"), insurance=p.list("pension_insurance"),
                     count_unpaid=bool(p.int("count_unpaid")))

    def build(group):
        periods = sorted({m for ps in group["periods"] if isinstance(ps, list) for m in ps})
        paid = len(periods)
        declared = max(int(v) for v in group["si_months"].fillna(-1))
        months_in_period = int(group["period_months"].max())
        expected = months_in_period if declared < 0 else min(declared, months_in_period)
        if paid == 0:
            severity, score, finding = p.raw("severity_none"), p.num("score_none"), "none_paid"
        elif expected - paid >= p.int("months_short"):
            severity, score, finding = p.raw("severity_short"), p.num("score_short"), "short"
        else:
            return None
        mentions = [mention("hr", k) for ks in group["person_keys"] if isinstance(ks, list)
                    for k in ks]
        mentions += [mention("hr", k, "employer") for ks in group["employer_keys"] if isinstance(ks, list)
                     for k in ks]
        extra = {
            "finding": finding, "pension_months_paid": paid, "paid_periods": periods,
            "si_months_declared": None if declared < 0 else declared,
            "months_in_declared_period": months_in_period, "months_expected": expected,
            "months_short": expected - paid, "insurance_codes": p.list("pension_insurance"),
        }
        return severity, score, extra, mentions

    return per_declared(rows, RULE, build)
