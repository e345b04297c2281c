"""SHORT_CONTRACT: a contract under one year, or begun in October-December of the year."""

from expectations.rules._group import per_declared
from expectations.rules.base import DECL, Finding, RuleContext, iso

RULE = "SHORT_CONTRACT"

# Day before the first anniversary; the anniversary of 29 February is 1 March.
EVE = """(case when extract(month from d.contract_start) = 2
                and extract(day from d.contract_start) = 29
           then make_date(extract(year from d.contract_start)::int + 1, 3, 1)
           else (d.contract_start + interval '1 year')::date end - 1)"""

SQL = f"""
select d.*, {EVE} as min_end, make_date(d.year, :late_month, 1) as late_from
from {DECL} d
where (d.contract_end is not null and d.contract_start is not null
       and d.contract_end < {EVE})
   or d.contract_start between make_date(d.year, :late_month, 1) and d.year_end
"""


def find(ctx: RuleContext) -> list[Finding]:
    """``contract_end`` earlier than the day before the first anniversary of
    ``contract_start``, or ``contract_start`` in October-December of the declaration year.
    1 January - 31 December is exactly twelve months and no finding.
    """
    p = ctx.params(RULE)
    rows = ctx.rows(SQL, late_month=p.int("late_start_month"))

    def build(group):
        r = group[0]
        reasons = []
        for row in group:
            if row["contract_end"] is not None and row["min_end"] is not None \
                    and row["contract_end"] < row["min_end"]:
                reasons.append("under_one_year")
            if row["contract_start"] is not None and row["contract_start"] >= row["late_from"]:
                reasons.append("late_start")
        extra = {"reasons": sorted(set(reasons)),
                 "earliest_compliant_end": iso(r["min_end"]),
                 "late_start_from": iso(r["late_from"]),
                 "contract_days": None if r["contract_end"] is None or r["contract_start"] is None
                 else (r["contract_end"] - r["contract_start"]).days + 1}
        return p.raw("severity"), p.num("score"), extra, []

    return per_declared(rows, RULE, build)
