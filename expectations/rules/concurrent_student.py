"""CONCURRENT_STUDENT: a full-time student declared as a full-time employee."""

from expectations.rules._group import per_declared, unique_by
from expectations.rules.base import DECL, Finding, RuleContext, iso, mention

RULE = "CONCURRENT_STUDENT"

SQL = f"""
select d.*, s.student_key, s.school_name, s.level as study_level, s.enrol_year,
       s.expected_graduation, s.destination, s.year as file_year,
       make_date(s.enrol_year, :enrol_month, 1) as study_start
from {DECL} d
join core.person_xref px on px.person_id = d.person_id and px.source = 'graduates'
-- staging.study holds a row per student and file year; the latest file states the student.
join (select distinct on (student_key) * from staging.study order by student_key, year desc) s
  on s.student_key = px.source_key
where d.employment_type = any(:types)
  and s.expected_graduation > d.year_end
  and coalesce(make_date(s.enrol_year, :enrol_month, 1), '-infinity'::date) <= d.period_end
"""


def find(ctx: RuleContext) -> list[Finding]:
    """Enrolled (from September of the enrolment year) on a day of the declared period,
    expected to graduate after the declaration year, and declared 全日制. A graduate who
    starts work after graduating expects graduation within the year and is no finding.
    """
    p = ctx.params(RULE)
    rows = ctx.rows(SQL, types=p.list("employment_types"), enrol_month=p.int("enrol_month"))

    def build(group):
        studies = unique_by(group, "student_key")
        extra = {"studies": [{
            "student_key": r["student_key"], "school_name": r["school_name"],
            "level": r["study_level"], "enrol_year": iso(r["enrol_year"]),
            "study_start": iso(r["study_start"]),
            "expected_graduation": iso(r["expected_graduation"]),
            "destination": r["destination"], "file_year": iso(r["file_year"]),
        } for r in studies]}
        mentions = [mention("graduates", r["student_key"]) for r in studies]
        return p.raw("severity"), p.num("score"), extra, mentions

    return per_declared(rows, RULE, build)
