"""MULTI_EMPLOYER: one person declared by two or more employers for overlapping periods."""

from expectations.rules._group import per_declared, unique_by
from expectations.rules.base import DECL, Finding, RuleContext, iso, mention

RULE = "MULTI_EMPLOYER"

SQL = f"""
select a.*, b.employer_id as o_employer_id, b.declaration_id as o_declaration_id,
       b.employee_record_id as o_record_id, b.unit_name as o_unit_name,
       b.declaration_status as o_status, b.period_start as o_start, b.period_end as o_end,
       b.employment_type as o_employment_type
from {DECL} a
join {DECL} b
  on b.person_id = a.person_id and b.year = a.year and b.employer_id <> a.employer_id
 and a.period_start <= b.period_end and b.period_start <= a.period_end
"""


def find(ctx: RuleContext) -> list[Finding]:
    """One flag per declaring employer whose declared period overlaps another employer's.

    Spells that follow each other (one ends the day before the other begins) do not overlap.
    """
    p = ctx.params(RULE)
    rows = ctx.rows(SQL)

    def build(group):
        others = unique_by(group, "o_record_id")
        if len({r["o_employer_id"] for r in others} - {None}) + 1 < p.int("min_employers"):
            return None
        listed = [{
            "employer_id": r["o_employer_id"], "unit_name": r["o_unit_name"],
            "declaration_id": r["o_declaration_id"], "employee_record_id": r["o_record_id"],
            "declaration_status": r["o_status"],
            "declared_period": [iso(r["o_start"]), iso(r["o_end"])],
            "employment_type": r["o_employment_type"],
        } for r in others]
        mentions = [m for o in listed for m in (mention("quota", o["employee_record_id"]),
                                                mention("quota", o["declaration_id"], "employer"))]
        return (p.raw("severity"), p.num("score"), {"other_employers": listed}, mentions)

    return per_declared(rows, RULE, build)
