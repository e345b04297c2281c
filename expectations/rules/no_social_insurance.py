"""NO_SOCIAL_INSURANCE: the declaring Shandong employer paid no or too few pension months."""

from expectations.rules._group import per_declared
from expectations.rules.base import DECL, Finding, RuleContext, mention

RULE = "NO_SOCIAL_INSURANCE"


def _sql(contrib: str, paid_column: str) -> str:
    return f"""
with d as (
    select d.*,
           ((extract(year from d.period_end) - extract(year from d.period_start)) * 12
            + extract(month from d.period_end) - extract(month from d.period_start) + 1)::int
             as period_months
    from {DECL} d where d.unit_region_code like :prefix || '%'
),
paid as (
    select person_id, employer_id, year,
           count(*) filter (where {paid_column}) as months,
           array_agg(period order by period) filter (where {paid_column}) as periods
    from {contrib} group by 1, 2, 3
),
dd as (
    select d.*, coalesce(p.months, 0) as paid_months, p.periods
    from d
    left join paid p on p.person_id = d.person_id and p.employer_id = d.employer_id
                    and p.year = d.year
),
hit as (
    select year, person_id, employer_id from dd group by 1, 2, 3
    having max(paid_months) = 0
        or least(coalesce(max(si_months), max(period_months)), max(period_months))
           - max(paid_months) >= :short
)
select dd.*,
       (select array_agg(distinct k) from {contrib} c, unnest(c.person_keys) k
        where c.person_id = dd.person_id and c.employer_id = dd.employer_id
          and c.year = dd.year and c.{paid_column}) as person_keys,
       (select array_agg(distinct k) from {contrib} c, unnest(c.employer_keys) k
        where c.person_id = dd.person_id and c.employer_id = dd.employer_id
          and c.year = dd.year and c.{paid_column}) as employer_keys
from dd join hit using (year, person_id, employer_id)
"""


def find(ctx: RuleContext) -> list[Finding]:
    """Flag when no pension month was paid in the year, or paid months fall short by ≥ 3.

    The months expected are the declared ``si_months``, but never more than the calendar
    months the declared period touches: a part-year contract whose months are all paid is
    not a finding. Employers outside Shandong are skipped (the hr source does not cover them).
    """
    p = ctx.params(RULE)
    paid_column = "pension_any" if p.int("count_unpaid") else "pension_paid"
    rows = ctx.rows(_sql(ctx.contributions(), paid_column), prefix=p.raw("region_prefix"),
                     short=p.int("months_short"))

    def build(group):
        periods = sorted({m for r in group if isinstance(r["periods"], list)
                          for m in r["periods"]})
        paid = len(periods)
        declared = max(-1 if r["si_months"] is None else int(r["si_months"]) for r in group)
        months_in_period = int(max(r["period_months"] for r in group))
        expected = months_in_period if declared < 0 else min(declared, months_in_period)
        if paid == 0:
            severity, score, finding = p.raw("severity_none"), p.num("score_none"), "none_paid"
        elif expected - paid >= p.int("months_short"):
            severity, score, finding = p.raw("severity_short"), p.num("score_short"), "short"
        else:
            return None
        mentions = [mention("hr", k) for r in group if isinstance(r["person_keys"], list)
                    for k in r["person_keys"]]
        mentions += [mention("hr", k, "employer") for r in group
                     if isinstance(r["employer_keys"], list) for k in r["employer_keys"]]
        extra = {
            "finding": finding, "pension_months_paid": paid, "paid_periods": periods,
            "si_months_declared": None if declared < 0 else declared,
            "months_in_declared_period": months_in_period, "months_expected": expected,
            "months_short": expected - paid, "insurance_codes": p.list("pension_insurance"),
        }
        return severity, score, extra, mentions

    return per_declared(rows, RULE, build)
