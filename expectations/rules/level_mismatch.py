"""LEVEL_MISMATCH: declared level 1-2 (counted double) while the register holds 3-4."""

from expectations.rules._certs import cert_evidence, certificates, valid_interval
from expectations.rules._group import per_declared
from expectations.rules.base import DECL, Finding, RuleContext, mention

RULE = "LEVEL_MISMATCH"


def find(ctx: RuleContext) -> list[Finding]:
    """Declared level 1-2 while every certificate of the person valid on some day of the
    declared period holds level 3-4 (persons without such a certificate are CERT_INVALID's
    concern). A holder re-assessed to 1-2 before the period holds a valid 1-2 certificate
    and is no finding.
    """
    p = ctx.params(RULE)
    declared_levels = [int(v) for v in p.list("declared_levels")]
    register_levels = [int(v) for v in p.list("register_levels")]
    rows = ctx.rows(f"select * from {DECL} where disability_level = any(:lv)",
                     lv=declared_levels)
    certs = certificates(ctx, [r["employee_record_id"] for r in rows])

    def build(group):
        own = [certs[r["employee_record_id"]] for r in group if r["employee_record_id"] in certs]
        cert_rows = [c for g in own for c in g]
        if not cert_rows:
            return None
        start = min(r["period_start"] for r in group)
        end = max(r["period_end"] for r in group)
        in_period = [r for r in cert_rows if (iv := valid_interval(r)) is not None
                     and iv[0] <= end and iv[1] >= start]
        # No certificate valid in the period is CERT_INVALID's finding, not this rule's.
        basis = in_period
        levels = [int(r["disability_level"]) for r in basis if r["disability_level"] is not None]
        if not levels or any(lv not in register_levels for lv in levels):
            return None
        extra = {"declared_levels": sorted({int(r["disability_level"]) for r in group}),
                 "register_level": min(levels),
                 "certificates": [cert_evidence(r) for r in basis]}
        mentions = [mention("disability_registry", r["cert_number"]) for r in basis]
        return p.raw("severity"), p.num("score"), extra, mentions

    return per_declared(rows, RULE, build)
