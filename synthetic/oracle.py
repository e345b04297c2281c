"""The 13 audit rules of warehouse-contract.md evaluated on the true world (the ground truth).

The generator plants cases on purpose; this oracle then reads the rule definitions
literally over the true facts, so `fraud_cases.csv` holds exactly what a perfect pipeline
would flag (including a planted case that, by definition, also satisfies a second rule).
"""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import refdata
from synthetic.declarations import Declaration, DeclRecord
from synthetic.model import YEAR_END, Chunk

ACTIVE = ("审核通过", "待审核")
RULES = (
    "MULTI_EMPLOYER", "NO_SOCIAL_INSURANCE", "BELOW_MIN_WAGE", "AGE_INELIGIBLE", "CERT_INVALID",
    "LEVEL_MISMATCH", "CONCURRENT_STUDENT", "CONCURRENT_UNEMPLOYED", "CIVIL_SERVANT_CONFLICT",
    "SHORT_CONTRACT", "DISTANT_RESIDENCE", "IMPLAUSIBLE_RATIO", "SHARED_CONTACT",
)

# The contract's thresholds (warehouse-contract.md), held by the oracle itself: the grader
# must not read the configuration of the system it grades, or a wrong threshold there would
# move the ground truth with it. tests/unit/test_synthetic_oracle.py compares both.
THRESHOLDS: dict[str, dict[str, Decimal]] = {
    "IMPLAUSIBLE_RATIO": {"max_ratio": Decimal("0.30")},
    "DISTANT_RESIDENCE": {"wage_multiple": Decimal("1.2")},
    "NO_SOCIAL_INSURANCE": {"months_short": Decimal(3)},
    "AGE_INELIGIBLE": {"min_age": Decimal(16)},
    "SHORT_CONTRACT": {"late_start_month": Decimal(10)},
    "SHARED_CONTACT": {"min_employers": Decimal(3)},
}

Finding = tuple[str, str, str, int]  # rule, person id ('' for employer rules), employer id, year


def _anniversary_eve(start: date) -> date:
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:
        anniversary = date(start.year + 1, 3, 1)
    return date.fromordinal(anniversary.toordinal() - 1)


def _overlap(a: tuple[date, date], b: tuple[date, date]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def active_records(decls: list[Declaration]) -> list[tuple[Declaration, DeclRecord]]:
    """Records of the latest version of declarations in status 审核通过 / 待审核."""
    return [(d, r) for d in decls if d.latest.status in ACTIVE for r in d.records]


def evaluate(chunk: Chunk, decls: list[Declaration]) -> set[Finding]:
    """Every finding of the 13 rules over the chunk's true facts."""
    found: set[Finding] = set()
    recs = active_records(decls)
    ratio_max = THRESHOLDS["IMPLAUSIBLE_RATIO"]["max_ratio"]
    distant_factor = THRESHOLDS["DISTANT_RESIDENCE"]["wage_multiple"]
    si_short = int(THRESHOLDS["NO_SOCIAL_INSURANCE"]["months_short"])
    min_age = int(THRESHOLDS["AGE_INELIGIBLE"]["min_age"])
    late_month = int(THRESHOLDS["SHORT_CONTRACT"]["late_start_month"])
    n_shared = int(THRESHOLDS["SHARED_CONTACT"]["min_employers"])

    concentrated = {r.employer.eid for r in chunk.registrations
                    if r.form == "集中就业" and r.employer is not None}
    students = defaultdict(list)
    for st in chunk.students:
        students[st.person.pid].append(st)
    interviews = defaultdict(list)
    for iv in chunk.interviews:
        interviews[iv.person.pid].append(iv)
    posts = defaultdict(list)
    for post in chunk.posts:
        posts[post.person.pid].append(post)

    by_person_year = defaultdict(list)
    for decl, rec in recs:
        p, e, y = rec.spell.person, decl.employer, decl.year
        per = rec.period
        key = (p.pid, e.eid, y)
        by_person_year[(p.pid, y)].append((e.eid, per))
        spell = rec.spell
        shandong = refdata.is_shandong(e.region) and not e.outside
        minimum = refdata.min_wage(e.region, per[0]) if shandong else None
        paid = spell.paid_months(y)
        # NO_SOCIAL_INSURANCE
        if shandong and (not paid or rec.si_months - len(paid) >= si_short):
            found.add(("NO_SOCIAL_INSURANCE", *key))
        # BELOW_MIN_WAGE
        if minimum is not None and (Decimal(rec.wage) < minimum
                                    or (paid and Decimal(spell.base_in(y)) < minimum)):
            found.add(("BELOW_MIN_WAGE", *key))
        # AGE_INELIGIBLE
        if p.age_on(per[0]) < min_age:
            found.add(("AGE_INELIGIBLE", *key))
        else:
            earliest, _latest = refdata.retirement_bounds(p.birth, p.sex)
            if per[1] >= earliest:
                found.add(("AGE_INELIGIBLE", *key))
        # CERT_INVALID and LEVEL_MISMATCH
        valid = []
        for cert in p.certs if p.in_registry else []:
            first, last = cert.valid_interval()
            if first <= per[1] and per[0] <= last:
                valid.append((cert, max(first, per[0]), min(last, per[1])))
        covered = _covers(per, [(a, b) for _c, a, b in valid])
        if not covered:
            found.add(("CERT_INVALID", *key))
        if valid and rec.level in (1, 2) and all(c.level in (3, 4) for c, _a, _b in valid):
            found.add(("LEVEL_MISMATCH", *key))
        # CONCURRENT_STUDENT
        if spell.emp_type == "全日制":
            for st in students.get(p.pid, ()):
                if st.enrol_year <= y < st.grad_year and date(st.enrol_year, 9, 1) <= per[1]:
                    found.add(("CONCURRENT_STUDENT", *key))
        # CONCURRENT_UNEMPLOYED
        if any(per[0] <= iv.day <= per[1] for iv in interviews.get(p.pid, ())):
            found.add(("CONCURRENT_UNEMPLOYED", *key))
        # CIVIL_SERVANT_CONFLICT
        if any(post.joined <= YEAR_END[y] and post.organ.eid != e.eid
               for post in posts.get(p.pid, ())):
            found.add(("CIVIL_SERVANT_CONFLICT", *key))
        # SHORT_CONTRACT
        if (rec.end is not None and rec.end < _anniversary_eve(rec.start)) or (
                rec.start.year == y and rec.start.month >= late_month):
            found.add(("SHORT_CONTRACT", *key))
        # DISTANT_RESIDENCE
        if minimum is not None and p.in_registry:
            other_place = refdata.city_of(p.hukou) != refdata.city_of(e.region)
            if other_place and Decimal(rec.wage) < distant_factor * minimum and not paid:
                found.add(("DISTANT_RESIDENCE", *key))

    # MULTI_EMPLOYER: overlapping declared periods of different employers in a year
    for (pid, y), items in by_person_year.items():
        for i, (e1, p1) in enumerate(items):
            for e2, p2 in items[i + 1:]:
                if e1 != e2 and _overlap(p1, p2):
                    found.add(("MULTI_EMPLOYER", pid, e1, y))
                    found.add(("MULTI_EMPLOYER", pid, e2, y))

    # IMPLAUSIBLE_RATIO: employer level, latest version only
    for decl in decls:
        v = decl.latest
        if v.status not in ACTIVE:
            continue
        emp = decl.employer
        if emp.welfare or emp.eid in concentrated:
            continue
        if v.disabled_declared > ratio_max * v.total_staff or v.disabled_declared > v.total_staff:
            found.add(("IMPLAUSIBLE_RATIO", "", emp.eid, decl.year))

    # SHARED_CONTACT: one phone for declared employees of >= 3 employers in a year
    by_phone = defaultdict(set)
    for decl, rec in recs:
        p = rec.spell.person
        if p.in_registry and p.phone:
            by_phone[(p.phone, decl.year)].add((p.pid, decl.employer.eid))
    for (_phone, y), members in by_phone.items():
        if len({e for _p, e in members}) >= n_shared:
            for pid, eid in members:
                found.add(("SHARED_CONTACT", pid, eid, y))
    return found


def _covers(period: tuple[date, date], intervals: list[tuple[date, date]]) -> bool:
    day = period[0]
    for first, last in sorted(intervals):
        if first > day:
            return False
        if last >= day:
            day = date.fromordinal(last.toordinal() + 1)
        if day > period[1]:
            return True
    return day > period[1]
