"""CERT_INVALID: no certificate of the person valid on (all of) the declared period."""

from expectations.rules._certs import (
    VALID_FROM_SQL,
    VALID_TO_SQL,
    cert_evidence,
    certificates,
    covered_days,
    valid_interval,
)
from expectations.rules._group import per_declared
from expectations.rules.base import DECL, Finding, RuleContext, mention

RULE = "CERT_INVALID"


def find(ctx: RuleContext) -> list[Finding]:
    """No valid certificate on any day of the declared period (never registered, cancelled,
    moved out, expired): ``high``; valid on part of it: ``medium``. Several certificates of
    the person count together, so a re-assessment that replaced one by another is no gap.
    """
    p = ctx.params(RULE)
    # Most declared employees hold one certificate valid over the whole period: skip them.
    rows = ctx.rows(f"""
        select d.* from {DECL} d
        where not exists (
            select 1 from core.person_xref px
            join staging.certificate c on c.cert_number = px.source_key
            where px.person_id = d.person_id and px.source = 'disability_registry'
              and {VALID_FROM_SQL} <= d.period_start and {VALID_TO_SQL} >= d.period_end)""")
    certs = certificates(ctx, [r["employee_record_id"] for r in rows])

    def build(group):
        own = [certs[r["employee_record_id"]] for r in group if r["employee_record_id"] in certs]
        cert_rows = [c for g in own for c in g]
        intervals = [i for i in (valid_interval(r) for r in cert_rows) if i is not None]
        short = []
        for d in group:
            days = (d["period_end"] - d["period_start"]).days + 1
            covered = covered_days(intervals, d["period_start"], d["period_end"])
            short.append((covered, days))
        covered = min(c for c, _ in short)
        days = max(d for _, d in short)
        if covered >= days:
            return None
        finding = "never_registered" if not cert_rows else (
            "no_valid_day" if covered == 0 else "partly_valid")
        severity, score = ((p.raw("severity_none"), p.num("score_none")) if covered == 0
                           else (p.raw("severity_partial"), p.num("score_partial")))
        extra = {"finding": finding, "days_in_declared_period": days, "days_valid": covered,
                 "certificates": [cert_evidence(r) for r in cert_rows]}
        mentions = [mention("disability_registry", r["cert_number"]) for r in cert_rows]
        return severity, score, extra, mentions

    return per_declared(rows, RULE, build)
