"""Unit tests of the generator's rule oracle on hand-made minimal worlds (contract boundaries)."""

from datetime import date

from synthetic.declarations import derive
from synthetic.model import Cert, Chunk, Employer, Interview, OrgPost, Person, Spell
from synthetic.oracle import evaluate


def person(pid: str, birth=date(1985, 3, 12), sex="F", hukou="370102") -> Person:
    p = Person(pid=pid, index=int(pid[1:]), name="王秀英", sex=sex, birth=birth,
               id_region=hukou, seq=452 if sex == "F" else 451, hukou=hukou, address="",
               ethnicity="汉族", phone=f"1380000{int(pid[1:]):04d}")
    p.certs.append(Cert(p, 4, 3, date(2020, 1, 1), date(2029, 12, 31)))
    return p


def employer(eid: str, region="370102", kind="enterprise") -> Employer:
    e = Employer(eid=eid, index=int(eid[1:]), kind=kind, name=f"单位{eid}", trade="明泰",
                 industry="机械", region=region, org_code="279096555",
                 uscc="91370102279096555M", city_short="济南")
    e.staff = {2024: 200, 2025: 200}
    e.decl_status = {2024: "审核通过", 2025: "审核通过"}
    return e


def spell(sid, p, e, start, end=None, wage=3000) -> Spell:
    return Spell(sid=sid, person=p, employer=e, start=start, end=end,
                 wage={2024: wage, 2025: wage}, declared=True)


def findings(chunk: Chunk) -> set[tuple[str, str, str, int]]:
    return evaluate(chunk, derive(chunk, 1))


def test_clean_employee_has_no_finding():
    p, e = person("P1"), employer("E1")
    chunk = Chunk(0, persons=[p], employers=[e], spells=[spell(1, p, e, date(2020, 1, 1))])
    assert findings(chunk) == set()


def test_short_contract_boundaries():
    e = employer("E1")
    exact = person("P1")
    short = person("P2")
    late = person("P3")
    chunk = Chunk(0, persons=[exact, short, late], employers=[e], spells=[
        spell(1, exact, e, date(2024, 3, 1), date(2025, 2, 28)),   # day before anniversary
        spell(2, short, e, date(2024, 3, 1), date(2025, 2, 27)),
        spell(3, late, e, date(2024, 10, 1)),
    ])
    rules = {(r, p, y) for r, p, _e, y in findings(chunk)}
    assert ("SHORT_CONTRACT", "P1", 2024) not in rules
    assert ("SHORT_CONTRACT", "P2", 2024) in rules
    assert ("SHORT_CONTRACT", "P3", 2024) in rules
    assert ("SHORT_CONTRACT", "P3", 2025) not in rules


def test_min_wage_boundary_and_distant_residence():
    e = employer("E1")  # 370102: tier 1, 2100 yuan
    at_min = person("P1")
    below = person("P2")
    distant = person("P3", hukou="370202")
    s3 = spell(3, distant, e, date(2020, 1, 1), wage=2500)  # < 1.2 x 2100 = 2520
    s3.si_none_years = {2024, 2025}
    chunk = Chunk(0, persons=[at_min, below, distant], employers=[e], spells=[
        spell(1, at_min, e, date(2020, 1, 1), wage=2100),
        spell(2, below, e, date(2020, 1, 1), wage=2090), s3])
    found = findings(chunk)
    assert ("BELOW_MIN_WAGE", "P1", "E1", 2024) not in found
    assert ("BELOW_MIN_WAGE", "P2", "E1", 2024) in found
    assert ("DISTANT_RESIDENCE", "P3", "E1", 2024) in found
    assert ("NO_SOCIAL_INSURANCE", "P3", "E1", 2024) in found


def test_multi_employer_overlap_and_sequence():
    a, b = employer("E1"), employer("E2")
    seq, both = person("P1"), person("P2")
    chunk = Chunk(0, persons=[seq, both], employers=[a, b], spells=[
        spell(1, seq, a, date(2023, 7, 1), date(2024, 6, 30)),
        spell(2, seq, b, date(2024, 7, 1)),
        spell(3, both, a, date(2020, 1, 1)),
        spell(4, both, b, date(2024, 12, 31)),
    ])
    found = findings(chunk)
    assert not any(r == "MULTI_EMPLOYER" and p == "P1" for r, p, _e, _y in found)
    assert ("MULTI_EMPLOYER", "P2", "E1", 2024) in found
    assert ("MULTI_EMPLOYER", "P2", "E2", 2024) in found


def test_age_bounds():
    e = employer("E1")
    sixteen = person("P1", birth=date(2007, 12, 31))
    fifteen = person("P2", birth=date(2008, 1, 2))
    woman_between = person("P3", birth=date(1972, 1, 1))  # worker 2022, cadre 2027-08
    man_below = person("P4", birth=date(1965, 9, 15), sex="M")  # retires 2025-12-15
    chunk = Chunk(0, persons=[sixteen, fifteen, woman_between, man_below], employers=[e],
                  spells=[spell(1, sixteen, e, date(2024, 1, 1)),
                          spell(2, fifteen, e, date(2024, 1, 1)),
                          spell(3, woman_between, e, date(2020, 1, 1)),
                          spell(4, man_below, e, date(2020, 1, 1), date(2025, 12, 14))])
    ages = {(p, y) for r, p, _e, y in findings(chunk) if r == "AGE_INELIGIBLE"}
    assert ("P1", 2024) not in ages and ("P2", 2024) in ages
    assert ("P3", 2024) in ages
    assert not any(p == "P4" for p, _y in ages)


def test_certificates_level_survey_and_organ():
    e, organ = employer("E1"), employer("E2", kind="organ")
    replaced = person("P1")
    replaced.certs[0].status, replaced.certs[0].ended_on = "注销", date(2024, 5, 1)
    replaced.certs.append(Cert(replaced, 4, 2, date(2024, 5, 1), date(2034, 4, 30)))
    expired = person("P2")
    expired.certs[0].valid_until = date(2024, 6, 30)
    inflated = person("P3")
    surveyed = person("P4")
    civil = person("P5")
    own_staff = person("P6")
    s3 = spell(3, inflated, e, date(2020, 1, 1))
    s3.level_override = {2024: 2}
    chunk = Chunk(0, persons=[replaced, expired, inflated, surveyed, civil, own_staff],
                  employers=[e, organ], spells=[
                      spell(1, replaced, e, date(2020, 1, 1)),
                      spell(2, expired, e, date(2020, 1, 1)), s3,
                      spell(4, surveyed, e, date(2024, 5, 1)),
                      spell(5, civil, e, date(2020, 1, 1)),
                      spell(6, own_staff, organ, date(2020, 1, 1))])
    chunk.interviews = [Interview(surveyed, 2024, "Q1", date(2024, 3, 10), "", "", "", ""),
                        Interview(surveyed, 2025, "Q2", date(2025, 3, 10), "", "", "", "")]
    chunk.posts = [OrgPost(civil, organ, "Z1", "科员", date(2025, 3, 1), True, "行政编制"),
                   OrgPost(own_staff, organ, "Z2", "科员", date(2019, 3, 1), True, "行政编制")]
    found = {(r, p, y) for r, p, _e, y in findings(chunk)}
    assert not any(p == "P1" for _r, p, _y in found)
    assert ("CERT_INVALID", "P2", 2024) in found and ("CERT_INVALID", "P2", 2025) in found
    assert ("LEVEL_MISMATCH", "P3", 2024) in found and ("LEVEL_MISMATCH", "P3", 2025) not in found
    assert ("CONCURRENT_UNEMPLOYED", "P4", 2024) not in found
    assert ("CONCURRENT_UNEMPLOYED", "P4", 2025) in found
    assert ("CIVIL_SERVANT_CONFLICT", "P5", 2024) not in found
    assert ("CIVIL_SERVANT_CONFLICT", "P5", 2025) in found
    assert not any(p == "P6" for _r, p, _y in found)


def test_ratio_rejected_and_shared_phone():
    small = employer("E1")
    small.staff = {2024: 2, 2025: 100}
    small.decl_edit = {2024: "ratio"}
    rejected = employer("E2")
    rejected.decl_status = {2024: "已驳回", 2025: "已驳回"}
    others = [employer(f"E{i}") for i in (3, 4, 5)]
    ps = [person(f"P{i}") for i in range(1, 7)]
    for p in ps[3:]:
        p.phone = "17000000001"
    spells = [spell(1, ps[0], small, date(2020, 1, 1)),
              spell(2, ps[1], rejected, date(2020, 1, 1), wage=900),
              spell(3, ps[2], others[0], date(2020, 1, 1))]
    spells += [spell(10 + i, p, others[i], date(2020, 1, 1)) for i, p in enumerate(ps[3:])]
    chunk = Chunk(0, persons=ps, employers=[small, rejected, *others], spells=spells)
    found = findings(chunk)
    assert ("IMPLAUSIBLE_RATIO", "", "E1", 2024) in found
    assert ("IMPLAUSIBLE_RATIO", "", "E1", 2025) not in found
    assert not any(e == "E2" for _r, _p, e, _y in found)
    shared = {p for r, p, _e, _y in found if r == "SHARED_CONTACT"}
    assert shared == {"P4", "P5", "P6"}


def test_oracle_thresholds_agree_with_the_rules_parameters():
    # The oracle keeps its own copy of the contract's thresholds; a change on one side only
    # would silently move either the ground truth or the rules.
    from expectations.rules.config import Params
    from synthetic.oracle import THRESHOLDS

    for rule, params in THRESHOLDS.items():
        for name, value in params.items():
            assert Params(rule).dec(name) == value, (rule, name)
