"""Each audit rule on hand-made minimal cases in PostgreSQL: positives and boundary decoys."""

import datetime as dt

import pytest
import sqlalchemy as sa

from expectations import run_rules
from expectations.rules.reference import retirement_date
from expectations.rules.testing import Fixture, flags, reset, scratch_warehouse, small_reference

pytestmark = pytest.mark.integration
D = dt.date
REF = small_reference(retirement=retirement_date)
JOINED = dt.date(2015, 3, 1)


@pytest.fixture(scope="module")
def engine():
    with scratch_warehouse("ql_rules_t") as eng:
        yield eng


@pytest.fixture
def fx(engine):
    reset(engine)
    with engine.begin() as conn:
        yield Fixture(conn)


def run(engine, rule):
    """Run one rule; return its flags as {(person_id, employer_id): row}."""
    counts = run_rules(engine, reference=REF, rules=[rule])
    df = flags(engine)
    df = df[df["rule"] == rule]
    assert counts.findings[rule] == len(df)
    return {(r["person_id"], r["employer_id"]): r for _, r in df.iterrows()}


def employ(f, pid, employer, year=2024, status="审核通过", region="370102", person=None,
           **kw):
    """A golden person declared by a golden employer (creating both when new)."""
    conn = f.conn
    if not conn.execute(sa.text("select 1 from core.person where person_id=:p"),
                        {"p": pid}).first():
        f.person(pid, **(person or {}))
    if not conn.execute(sa.text("select 1 from core.employer where employer_id=:e"),
                        {"e": employer}).first():
        f.employer(employer, region=region)
    did = f.declaration(employer, year=year, status=status, region=region)
    return f.employee(did, pid, year=year, **kw)


def commit(f):
    f.conn.commit()


def test_multi_employer_overlap_flags_both_and_sequential_spells_do_not(engine, fx):
    employ(fx, "P1", "E1", start=D(2024, 1, 1), end=D(2024, 6, 30))
    employ(fx, "P1", "E2", start=D(2024, 6, 30), end=D(2025, 6, 30))
    # Decoy: spells that follow each other without overlap.
    employ(fx, "P2", "E1", start=D(2024, 1, 1), end=D(2024, 6, 30))
    employ(fx, "P2", "E2", start=D(2024, 7, 1), end=D(2025, 6, 30))
    # Decoy: the second declaration was rejected (已驳回 is ignored).
    employ(fx, "P3", "E1")
    employ(fx, "P3", "E3", status="已驳回")
    commit(fx)
    got = run(engine, "MULTI_EMPLOYER")
    assert set(got) == {("P1", "E1"), ("P1", "E2")}
    ev = got[("P1", "E1")]["evidence"]
    assert got[("P1", "E1")]["severity"] == "high"
    assert [o["employer_id"] for o in ev["other_employers"]] == ["E2"]
    assert ev["other_employers"][0]["declared_period"] == ["2024-06-30", "2024-12-31"]
    assert ev["declared"][0]["declaration_status"] == "审核通过"
    assert ev["rule_version"] == "1.0.0"
    assert {m["source"] for m in ev["mentions"]} == {"quota"}


def test_pending_declarations_count_and_say_so(engine, fx):
    employ(fx, "P1", "E1", status="待审核")
    employ(fx, "P1", "E2")
    commit(fx)
    got = run(engine, "MULTI_EMPLOYER")
    assert got[("P1", "E1")]["evidence"]["declared"][0]["declaration_status"] == "待审核"


def test_no_social_insurance(engine, fx):
    employ(fx, "P1", "E1")  # nothing paid
    employ(fx, "P2", "E1")
    fx.full_contributions("P2", "E1", months=range(1, 10))  # 9 of 12: three short
    employ(fx, "P3", "E1")
    fx.full_contributions("P3", "E1", months=range(1, 11))  # 10 of 12: two short, decoy
    employ(fx, "P4", "E1", start=D(2024, 7, 1), si_months=6)
    fx.full_contributions("P4", "E1", months=range(7, 13))  # part-year, all paid: decoy
    employ(fx, "P5", "E9", region="440106")  # outside Shandong: decoy
    employ(fx, "P6", "E1")
    fx.full_contributions("P6", "E2", months=range(1, 13))  # paid by another employer
    commit(fx)
    got = run(engine, "NO_SOCIAL_INSURANCE")
    assert set(got) == {("P1", "E1"), ("P2", "E1"), ("P6", "E1")}
    assert got[("P1", "E1")]["evidence"]["finding"] == "none_paid"
    short = got[("P2", "E1")]["evidence"]
    assert (short["finding"], short["pension_months_paid"], short["months_short"]) == (
        "short", 9, 3)
    assert {"source": "hr", "source_key": "PP2", "entity": "person"} in short["mentions"]


def test_below_min_wage(engine, fx):
    employ(fx, "P1", "E1", wage=2099.99)  # tier 1, minimum 2100 since 2021-10-01
    employ(fx, "P2", "E1", wage=2100)  # equal to the minimum: decoy
    employ(fx, "P3", "E2", region="370124", wage=1900)  # tier 2 minimum 1900: decoy
    employ(fx, "P4", "E1", wage=3000)
    fx.contributions("P4", "E1", [202403], base=2000)  # one contribution base below
    fx.contributions("P4", "E1", [202404], base=2100)
    commit(fx)
    got = run(engine, "BELOW_MIN_WAGE")
    assert set(got) == {("P1", "E1"), ("P4", "E1")}
    ev = got[("P1", "E1")]["evidence"]
    assert (ev["min_wage"], ev["wage_tier"], ev["declared_monthly_wage"]) == (2100, 1, 2099.99)
    assert ev["min_wage_effective_from"] == "2021-10-01"
    base = got[("P4", "E1")]["evidence"]
    assert base["declared_wage_below"] is False
    assert [m["period"] for m in base["contribution_months_below"]] == [202403]
    assert got[("P4", "E1")]["score"] < got[("P1", "E1")]["score"]


def test_age_ineligible(engine, fx):
    employ(fx, "U15", "E1", person={"birth": D(2008, 6, 2), "gender": "M"})
    employ(fx, "U16", "E1", person={"birth": D(2008, 1, 1), "gender": "M"})  # 16: decoy
    employ(fx, "U17", "E1", person={"birth": D(2007, 3, 1), "gender": "F"})  # 17: decoy
    employ(fx, "M64", "E1", person={"birth": D(1963, 5, 1), "gender": "M"})
    # Born 1965-03: retires at 60 years 1 month, 2025-04-01: just below age in 2024.
    employ(fx, "M59", "E1", person={"birth": D(1965, 3, 1), "gender": "M"})
    employ(fx, "W52", "E1", person={"birth": D(1972, 3, 1), "gender": "F"})
    employ(fx, "W59", "E1", person={"birth": D(1965, 1, 1), "gender": "F"})
    # No golden birth date: taken from the declared ID (born 1950, male).
    fx.person("ID1", birth=None, gender=None)
    employ(fx, "ID1", "E1", id_number="370102195001011234")
    commit(fx)
    got = run(engine, "AGE_INELIGIBLE")
    assert set(got) == {("U15", "E1"), ("M64", "E1"), ("W52", "E1"), ("W59", "E1"),
                        ("ID1", "E1")}
    assert got[("U15", "E1")]["severity"] == "high"
    assert got[("U15", "E1")]["evidence"]["reaches_min_age_on"] == "2024-06-02"
    assert got[("M64", "E1")]["evidence"]["retirement_date"] == "2023-05-01"
    assert got[("W52", "E1")]["severity"] == "medium"
    assert got[("W52", "E1")]["evidence"]["finding"] == "between_worker_and_cadre_bounds"
    assert got[("W59", "E1")]["severity"] == "high"
    assert got[("ID1", "E1")]["evidence"]["birth_basis"] == "declared id_number"


def test_cert_invalid(engine, fx):
    employ(fx, "NONE", "E1")  # never registered
    employ(fx, "GONE", "E1")
    fx.certificate("GONE", status="cancelled", cancelled_on=D(2023, 5, 1))
    employ(fx, "HALF", "E1")
    fx.certificate("HALF", status="moved_out", cancelled_on=D(2024, 7, 1))
    employ(fx, "LATER", "E1")  # cancelled after the year: decoy
    fx.certificate("LATER", status="cancelled", cancelled_on=D(2025, 3, 1))
    employ(fx, "REASSESS", "E1")  # replaced on re-assessment by a new valid one: decoy
    fx.certificate("REASSESS", status="cancelled", cancelled_on=D(2024, 5, 1))
    fx.certificate("REASSESS", issued=D(2024, 5, 1), level=2)
    employ(fx, "EXP", "E1")  # valid until the last day of the year: decoy
    fx.certificate("EXP", valid_until=D(2024, 12, 31))
    commit(fx)
    got = run(engine, "CERT_INVALID")
    assert set(got) == {("NONE", "E1"), ("GONE", "E1"), ("HALF", "E1")}
    assert got[("NONE", "E1")]["evidence"]["finding"] == "never_registered"
    assert got[("GONE", "E1")]["severity"] == "high"
    half = got[("HALF", "E1")]
    assert half["severity"] == "medium"
    assert (half["evidence"]["days_valid"], half["evidence"]["days_in_declared_period"]) == (
        182, 366)
    assert half["evidence"]["certificates"][0]["status"] == "moved_out"


def test_level_mismatch(engine, fx):
    employ(fx, "INFL", "E1", level=2)
    fx.certificate("INFL", level=3)
    employ(fx, "UP", "E1", level=1)  # re-assessed from 3 to 1 before the period: decoy
    fx.certificate("UP", level=3, status="cancelled", cancelled_on=D(2023, 6, 1))
    fx.certificate("UP", level=1, issued=D(2023, 6, 1))
    employ(fx, "SAME", "E1", level=2)
    fx.certificate("SAME", level=2)
    employ(fx, "NOVALID", "E1", level=2)  # no valid certificate: CERT_INVALID's concern
    fx.certificate("NOVALID", level=3, status="cancelled", cancelled_on=D(2020, 1, 1))
    commit(fx)
    got = run(engine, "LEVEL_MISMATCH")
    assert set(got) == {("INFL", "E1")}
    assert got[("INFL", "E1")]["evidence"]["register_level"] == 3
    assert got[("INFL", "E1")]["evidence"]["declared_levels"] == [2]


def _study(fx, person, key, enrol, graduation):
    fx.insert("staging.study", student_key=key, school_code=key[:5], school_name="山东大学",
              level="本科", enrol_year=enrol, expected_graduation=graduation,
              destination="在读", year=2024)
    fx.xref("person", "graduates", key, person)


def test_concurrent_student(engine, fx):
    employ(fx, "S1", "E1")
    _study(fx, "S1", "10422-2022001", 2022, D(2026, 7, 1))
    # Graduate who starts work after graduating: decoy.
    employ(fx, "S2", "E1", start=D(2024, 7, 1))
    _study(fx, "S2", "10422-2020002", 2020, D(2024, 6, 1))
    # Part-time employment of a student: decoy.
    employ(fx, "S3", "E1", employment_type="非全日制")
    _study(fx, "S3", "10422-2022003", 2022, D(2026, 7, 1))
    # Enrolled only after the contract ended: decoy.
    employ(fx, "S4", "E1", start=D(2024, 1, 1), end=D(2024, 8, 31))
    _study(fx, "S4", "10422-2024004", 2024, D(2028, 7, 1))
    commit(fx)
    got = run(engine, "CONCURRENT_STUDENT")
    assert set(got) == {("S1", "E1")}
    study = got[("S1", "E1")]["evidence"]["studies"][0]
    assert (study["expected_graduation"], study["study_start"]) == ("2026-07-01", "2022-09-01")


def _survey(fx, person, key, day):
    fx.insert("staging.survey", questionnaire_id=key, survey_year=day.year, reason="缺乏岗位",
              wants_work="有", interview_date=day)
    fx.xref("person", "unemployed_survey", key, person)


def test_concurrent_unemployed(engine, fx):
    employ(fx, "U1", "E1", start=D(2024, 1, 1))
    _survey(fx, "U1", "Q1", D(2024, 5, 10))
    employ(fx, "U2", "E1", start=D(2024, 4, 1))
    _survey(fx, "U2", "Q2", D(2024, 3, 31))  # interview before the contract began: decoy
    employ(fx, "U3", "E1", start=D(2024, 1, 1), end=D(2024, 6, 30))
    _survey(fx, "U3", "Q3", D(2024, 7, 1))  # after it ended: decoy
    employ(fx, "U4", "E1", start=D(2024, 4, 1))
    _survey(fx, "U4", "Q4", D(2024, 4, 1))  # first day of the contract: finding
    commit(fx)
    got = run(engine, "CONCURRENT_UNEMPLOYED")
    assert set(got) == {("U1", "E1"), ("U4", "E1")}
    assert got[("U1", "E1")]["evidence"]["surveys"][0]["interview_date"] == "2024-05-10"


def _organ_staff(fx, person, key, organ, year=2024, joined=JOINED):
    fx.insert("staging.civil_service", staff_key=key, organ_name="某局", post="科员",
              joined_on=joined, year=year, staffing_type="行政编制")
    fx.xref("person", "org", key, person)
    fx.xref("employer", "org", key, organ)


def test_civil_servant_conflict(engine, fx):
    fx.employer("ORG1", unit_type="organ")
    employ(fx, "C1", "E1")
    _organ_staff(fx, "C1", "R1", "ORG1")
    employ(fx, "C2", "ORG1")  # an organ declaring its own staff: decoy
    _organ_staff(fx, "C2", "R2", "ORG1")
    employ(fx, "C3", "E1")  # joined the organ only after the year: decoy
    _organ_staff(fx, "C3", "R3", "ORG1", year=2025, joined=D(2025, 2, 1))
    commit(fx)
    got = run(engine, "CIVIL_SERVANT_CONFLICT")
    assert set(got) == {("C1", "E1")}
    assert got[("C1", "E1")]["evidence"]["organ_registers"][0]["organ_employer_id"] == "ORG1"


def test_short_contract(engine, fx):
    employ(fx, "T1", "E1", start=D(2024, 3, 1), end=D(2025, 2, 27))
    employ(fx, "T2", "E1", start=D(2024, 10, 15), end=D(2027, 10, 14))  # late start
    employ(fx, "T3", "E1", start=D(2024, 1, 1), end=D(2024, 12, 31))  # exactly 12 months
    employ(fx, "T4", "E1", start=D(2024, 3, 1), end=D(2025, 2, 28))  # exactly 12 months
    employ(fx, "T5", "E1", start=D(2024, 9, 30), end=None)  # open-ended, September
    # Begun 29 February: the anniversary is 1 March, so 28 February is the last short end.
    employ(fx, "T6", "E1", start=D(2024, 2, 29), end=D(2025, 2, 27))
    employ(fx, "T7", "E1", start=D(2024, 2, 29), end=D(2025, 2, 28))  # decoy
    commit(fx)
    got = run(engine, "SHORT_CONTRACT")
    assert set(got) == {("T1", "E1"), ("T2", "E1"), ("T6", "E1")}
    assert got[("T1", "E1")]["evidence"]["reasons"] == ["under_one_year"]
    assert got[("T1", "E1")]["evidence"]["earliest_compliant_end"] == "2025-02-28"
    assert got[("T2", "E1")]["evidence"]["reasons"] == ["late_start"]


def test_distant_residence(engine, fx):
    far = {"hukou": "370202"}  # Qingdao; the employer is in Jinan
    employ(fx, "R1", "E1", wage=2400, person=far)  # < 1.2 × 2100 = 2520
    employ(fx, "R2", "E1", wage=2600, person=far)  # ordinary wage: decoy
    employ(fx, "R3", "E1", wage=2400, person=far)
    fx.full_contributions("R3", "E1", months=range(1, 4))  # contributions: decoy
    employ(fx, "R4", "E1", wage=2400, person={"hukou": "371202"})  # old Laiwu = Jinan: decoy
    employ(fx, "R5", "E1", wage=2400, person={"hukou": "410102"})  # another province
    commit(fx)
    got = run(engine, "DISTANT_RESIDENCE")
    assert set(got) == {("R1", "E1"), ("R5", "E1")}
    ev = got[("R1", "E1")]["evidence"]
    assert (ev["hukou_city_code"], ev["employer_city_code"], ev["min_wage"]) == (
        "3702", "3701", 2100)


def test_implausible_ratio(engine, fx):
    for eid in ("H1", "H2", "OK30", "FL", "CJ"):
        fx.employer(eid)
    fx.declaration("H1", total_staff=10, disabled=4)  # 40 %
    fx.declaration("H2", total_staff=10, disabled=12)  # more than the staff
    fx.declaration("OK30", total_staff=10, disabled=3)  # exactly 30 %: decoy
    fx.declaration("FL", total_staff=10, disabled=6, name="济南康福福利厂")  # 福利 enterprise
    fx.declaration("CJ", total_staff=10, disabled=6)  # 集中就业 registrations: decoy
    fx.insert("staging.employment_registration", registration_id="J1", form="集中就业",
              is_withdrawn=False)
    fx.xref("employer", "employment_service", "J1", "CJ")
    commit(fx)
    got = run(engine, "IMPLAUSIBLE_RATIO")
    assert set(got) == {(None, "H1"), (None, "H2")}
    assert got[(None, "H1")]["severity"] == "medium"
    assert got[(None, "H2")]["severity"] == "high"
    assert got[(None, "H1")]["evidence"]["declarations"][0]["ratio"] == 0.4


def test_shared_contact(engine, fx):
    for i, eid in enumerate(("E1", "E2", "E3"), start=1):
        employ(fx, f"B{i}", eid, person={"phone": "13800000001"})
    # Family at one employer plus one other employer: two employers only, decoy.
    employ(fx, "F1", "E4", person={"phone": "13800000002"})
    employ(fx, "F2", "E4", person={"phone": "13800000002"})
    employ(fx, "F3", "E5", person={"phone": "13800000002"})
    # A phone known only from the registry certificate counts too.
    employ(fx, "B4", "E6")
    fx.certificate("B4", phone="138-0000-0001")
    commit(fx)
    got = run(engine, "SHARED_CONTACT")
    assert set(got) == {("B1", "E1"), ("B2", "E2"), ("B3", "E3"), ("B4", "E6")}
    ev = got[("B1", "E1")]["evidence"]
    assert ev["employers_sharing"] == 4
    assert {o["employer_id"] for o in ev["others"]} == {"E2", "E3", "E6"}
