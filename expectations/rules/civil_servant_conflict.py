"""CIVIL_SERVANT_CONFLICT: on an organ's staff register at year end, declared by another."""

from expectations.rules._group import per_declared, unique_by
from expectations.rules.base import DECL, Finding, RuleContext, iso, mention

RULE = "CIVIL_SERVANT_CONFLICT"

SQL = f"""
select d.*, cs.staff_key, cs.organ_name, cs.organ_uscc, cs.post, cs.joined_on,
       cs.staffing_type, cs.year as register_year, ox.employer_id as organ_employer_id
from {DECL} d
join core.person_xref px on px.person_id = d.person_id and px.source = 'org'
-- staging.civil_service holds a row per staff record and register year; the latest counts.
join (select distinct on (staff_key) * from staging.civil_service order by staff_key, year desc) cs
  on cs.staff_key = px.source_key
left join core.employer_xref ox on ox.source = 'org' and ox.source_key = cs.staff_key
where (cs.joined_on is null or cs.joined_on <= d.year_end)
  and ox.employer_id is distinct from d.employer_id
"""


def find(ctx: RuleContext) -> list[Finding]:
    """The person is on an organ's staff register, having joined on or before 31 December
    of the declaration year, and the declaring employer is not that organ. Registers list
    current staff, so a person on any register who joined by the year end was on staff at
    the year end. An organ declaring its own staff is no finding.
    """
    p = ctx.params(RULE)
    rows = ctx.rows(SQL)
    if rows:
        # A person on the declaring employer's own register at the same time is that
        # organ's staff: registers naming the declaring employer exclude the person.
        own = {r["employee_record_id"] for r in ctx.rows(f"""
            select distinct d.employee_record_id from {DECL} d
            join core.person_xref px on px.person_id = d.person_id and px.source = 'org'
            join core.employer_xref ox on ox.source = 'org' and ox.source_key = px.source_key
            where ox.employer_id = d.employer_id""")}
        rows = [r for r in rows if r["employee_record_id"] not in own]

    def build(group):
        regs = unique_by(group, "staff_key")
        extra = {"organ_registers": [{
            "staff_key": r["staff_key"], "organ_name": r["organ_name"],
            "organ_uscc": r["organ_uscc"], "organ_employer_id": r["organ_employer_id"],
            "post": r["post"], "joined_on": iso(r["joined_on"]),
            "staffing_type": r["staffing_type"], "register_year": iso(r["register_year"]),
        } for r in regs]}
        mentions = [m for r in regs
                    for m in (mention("org", r["staff_key"]),
                              mention("org", r["staff_key"], "employer"))]
        return p.raw("severity"), p.num("score"), extra, mentions

    return per_declared(rows, RULE, build)
