"""CONCURRENT_UNEMPLOYED: interviewed as unemployed on a day of the declared period."""

from expectations.rules._group import per_declared, unique_by
from expectations.rules.base import DECL, Finding, RuleContext, iso, mention

RULE = "CONCURRENT_UNEMPLOYED"

SQL = f"""
select d.*, s.questionnaire_id, s.survey_year, s.interview_date, s.reason, s.wants_work
from {DECL} d
join core.person_xref px on px.person_id = d.person_id and px.source = 'unemployed_survey'
join staging.survey s on s.questionnaire_id = px.source_key
where s.interview_date between d.period_start and d.period_end
"""


def find(ctx: RuleContext) -> list[Finding]:
    """The survey interview date lies inside the declared period (both ends included); an
    interview before the contract began or after it ended is no finding.
    """
    p = ctx.params(RULE)
    rows = ctx.rows(SQL)

    def build(group):
        surveys = unique_by(group, "questionnaire_id")
        extra = {"surveys": [{
            "questionnaire_id": r["questionnaire_id"], "survey_year": iso(r["survey_year"]),
            "interview_date": iso(r["interview_date"]), "reason": r["reason"],
            "wants_work": r["wants_work"],
        } for r in surveys]}
        mentions = [mention("unemployed_survey", r["questionnaire_id"]) for r in surveys]
        return p.raw("severity"), p.num("score"), extra, mentions

    return per_declared(rows, RULE, build)
