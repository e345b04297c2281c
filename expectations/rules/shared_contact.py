"""SHARED_CONTACT: one phone number for declared employees of three or more employers."""

from expectations.rules._group import per_declared, unique_by
from expectations.rules.base import DECL, Finding, RuleContext, mention

RULE = "SHARED_CONTACT"

SQL = f"""
with ph as (
    select p.person_id, regexp_replace(p.phone, '\\D', '', 'g') as phone,
           'core.person' as origin, null::text as cert_number
    from core.person p
    where p.person_id in (select person_id from {DECL}) and p.phone is not null
    union
    select px.person_id, regexp_replace(c.phone, '\\D', '', 'g'), 'disability_registry',
           c.cert_number
    from core.person_xref px join staging.certificate c on c.cert_number = px.source_key
    where px.source = 'disability_registry' and c.phone is not null
      and px.person_id in (select person_id from {DECL})
),
dp as (
    select distinct d.year, d.person_id, d.employer_id, d.unit_name, ph.phone
    from {DECL} d join ph on ph.person_id = d.person_id
    where length(ph.phone) >= 7
),
shared as (
    select year, phone from dp group by year, phone
    having count(distinct employer_id) >= :min_employers
)
-- A row per phone source: the certificates behind a phone are the rows' cert_numbers (a
-- sub-select per row for them grew quadratically).
select d.*, s.phone, ph.cert_number as phone_cert_number
from {DECL} d
join ph on ph.person_id = d.person_id
join shared s on s.phone = ph.phone and s.year = d.year
"""


def find(ctx: RuleContext) -> list[Finding]:
    """A phone (the golden person's, or any registry certificate's) shared by declared
    employees of at least three distinct employers in one year: one flag per declared
    person and employer, naming the other employers and persons. Family members sharing a
    phone at one employer count as one employer and are no finding.
    """
    p = ctx.params(RULE)
    rows = ctx.rows(SQL, min_employers=p.int("min_employers"))
    by_phone = unique_by(rows, "year", "phone", "person_id", "employer_id")
    # Positions in by_phone of each year and phone: a group lists its sharers in that order.
    at: dict[tuple, list[int]] = {}
    for i, r in enumerate(by_phone):
        at.setdefault((r["year"], r["phone"]), []).append(i)

    def build(group):
        phones = sorted({r["phone"] for r in group})
        year = int(group[0]["year"])
        pid, eid = group[0]["person_id"], group[0]["employer_id"]
        sharing = [by_phone[i] for i in sorted(i for ph in phones for i in at.get((year, ph), ()))]
        others = [r for r in sharing if not (r["person_id"] == pid and r["employer_id"] == eid)]
        extra = {
            "phones": phones,
            "employers_sharing": len({r["employer_id"] for r in sharing} - {None}),
            "others": [{"person_id": r["person_id"], "employer_id": r["employer_id"],
                        "unit_name": r["unit_name"], "employee_record_id":
                            r["employee_record_id"]} for r in others],
        }
        certs = {r["phone_cert_number"] for r in group} - {None}
        mentions = [mention("disability_registry", c) for c in sorted(certs)]
        return p.raw("severity"), p.num("score"), extra, mentions

    return per_declared(rows, RULE, build)
