"""The report's mart tables from hand-made warehouse rows: exact figures per table."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from warehouse.report import build_marts
from warehouse.report.marts import targets

NOW = dt.datetime(2024, 12, 1, tzinfo=dt.UTC)


def _insert(conn, table: str, rows: list[dict]) -> None:
    from warehouse.schema import metadata

    names = metadata.tables[table].columns.keys()
    # Staging lineage columns the hand-made rows do not care about.
    rows = [{**{k: "t" for k in ("delivery", "period") if k in names}, **r} for r in rows]
    cols = list(dict.fromkeys(c for r in rows for c in r))
    conn.execute(sa.text(f"insert into {table} ({', '.join(cols)}) values ({', '.join(':' + c for c in cols)})"),
                 [{c: r.get(c) for c in cols} for r in rows])


def person(pid: str, hukou: str, cert: bool = True, birth: str = "1990-01-01", gender: str = "M",
           category: int = 4, level: int = 3) -> dict:
    return {"person_id": pid, "full_name": "某" + pid, "cert_number": f"3701021990010112{pid[-2:]:>02}43" if cert else None,
            "gender": gender, "birth_date": dt.date.fromisoformat(birth), "disability_category": category,
            "disability_level": level, "hukou_region_code": hukou}


def xref(source: str, key: str, pid: str) -> dict:
    return {"source": source, "source_key": key, "person_id": pid}


def fill(conn) -> None:
    """A small province: every boundary the mart definitions name."""
    _insert(conn, "core.person", [
        person("P01", "370102"), person("P02", "370102"), person("P03", "370102"),
        person("P04", "370103"), person("P05", "370102"), person("P06", "370202"),
        person("P07", "370102"), person("P08", "370302"), person("P09", "370102"),
        person("P10", "370102", cert=False),
        person("P11", "370102", birth="1990-05-01"), person("P12", "370102", birth="1960-01-01"),
        person("P13", "370104", birth="1995-03-01", gender="F"), person("P14", "370102"),
        person("P15", "370202", category=1, level=1),
        person("P16", "370502"), person("P17", "370502"),
    ])
    _insert(conn, "core.person_xref", [
        xref("graduates", "10422-001", "P01"), xref("graduates", "10422-002", "P02"),
        xref("graduates", "10422-004", "P04"), xref("graduates", "10422-005", "P05"),
        xref("hr", "A01", "P01"), xref("hr", "A03", "P03"), xref("hr", "A05", "P05"),
        xref("employment_service", "R06", "P06"), xref("employment_service", "R07", "P07"),
        xref("employment_service", "R10", "P10"),
        xref("quota", "E-06", "P06"), xref("quota", "E-08", "P08"), xref("quota", "E-09", "P09"),
        xref("quota", "E-14", "P14"),
        *[xref("unemployed_survey", f"WJ{n}", f"P{n}") for n in (11, 12, 13, 14, 15)],
        xref("graduates", "10422-016", "P16"), xref("employment_service", "R16", "P16"),
        xref("hr", "A16", "P16"), xref("graduates", "10422-017", "P17"), xref("org", "S17", "P17"),
    ])
    _insert(conn, "core.employer", [
        {"employer_id": "E1", "name": "=cmd|'/c calc'!A1", "region_code": "370102", "unit_type": "enterprise"},
        {"employer_id": "E2", "name": "青岛大厂股份有限公司", "region_code": "370202", "unit_type": "enterprise"},
        {"employer_id": "E3", "name": "淄博达标公司", "region_code": "370302", "unit_type": "enterprise"},
        {"employer_id": "E4", "name": "济南小店", "region_code": "370102", "unit_type": "enterprise"},
        {"employer_id": "EH", "name": "青岛参保单位", "region_code": "370202", "unit_type": "enterprise"},
    ])
    _insert(conn, "core.employer_xref", [
        {"source": "hr", "source_key": "B1", "employer_id": "EH"},
        {"source": "quota", "source_key": "D1", "employer_id": "E3"},
        {"source": "quota", "source_key": "D2", "employer_id": "E2"},
    ])
    base = {"delivery": "t", "period": "2024"}
    _insert(conn, "staging.study", [
        # Employed after graduating: the school says 待就业, contributions from September say otherwise.
        {**base, "student_key": "10422-001", "school_code": "10422", "school_name": "山东大学", "level": "本科",
         "major": "软件工程", "expected_graduation": dt.date(2024, 6, 1), "destination": "待就业",
         "help_measures": "岗位推荐3次", "year": 2024},
        # Not found anywhere.
        {**base, "student_key": "10422-002", "school_code": "10422", "school_name": "山东大学", "level": "专科",
         "major": "会计", "expected_graduation": dt.date(2024, 7, 1), "destination": "待就业",
         "help_measures": None, "year": 2024},
        # Graduating next year, still studying.
        {**base, "student_key": "10422-004", "school_code": "10422", "school_name": "山东大学", "level": "本科",
         "major": "数学", "expected_graduation": dt.date(2025, 6, 1), "destination": "在读", "year": 2024},
        # Further study; a job before graduation is no employment after it.
        {**base, "student_key": "10422-005", "school_code": "10422", "school_name": "山东大学", "level": "本科",
         "major": "法学", "expected_graduation": dt.date(2024, 6, 1), "destination": "升学", "year": 2024},
        # A registration in August before contributions from October: the earliest evidence.
        {**base, "student_key": "10422-016", "school_code": "10422", "school_name": "山东大学", "level": "硕士研究生",
         "major": "特殊教育", "expected_graduation": dt.date(2024, 6, 1), "destination": None, "year": 2024},
        # On an organ's staff register at the year end, joined after graduating.
        {**base, "student_key": "10422-017", "school_code": "10422", "school_name": "山东大学", "level": "本科",
         "major": "行政管理", "expected_graduation": dt.date(2024, 7, 1), "destination": "待就业", "year": 2024},
        # Graduating in two years: not in the ledger.
        {**base, "student_key": "10422-006", "school_code": "10422", "school_name": "山东大学", "level": "本科",
         "major": "历史", "expected_graduation": dt.date(2026, 6, 1), "destination": "在读", "year": 2024},
    ])
    hr = {"delivery": "t", "insurance": "110", "base_yuan": Decimal("4000"), "is_paid": True}
    _insert(conn, "staging.contribution", [
        {**hr, "contribution_id": 1, "person_key": "A03", "employer_key": "B1", "period": 202301},
        {**hr, "contribution_id": 2, "person_key": "A03", "employer_key": "B1", "period": 202401},
        {**hr, "contribution_id": 3, "person_key": "A01", "employer_key": "B1", "period": 202409},
        {**hr, "contribution_id": 4, "person_key": "A01", "employer_key": "B1", "period": 202410},
        {**hr, "contribution_id": 5, "person_key": "A05", "employer_key": "B1", "period": 202403},
        {**hr, "contribution_id": 6, "person_key": "A16", "employer_key": "B1", "period": 202410},
    ])
    _insert(conn, "staging.civil_service", [
        {"staff_key": "S17", "organ_name": "东营市某局", "joined_on": dt.date(2024, 9, 1), "year": 2024},
    ])
    reg = {"delivery": "t", "period": "202405"}
    _insert(conn, "staging.employment_registration", [
        {**reg, "registration_id": "R06", "form": "灵活就业", "start_date": dt.date(2024, 5, 1), "is_withdrawn": False},
        {**reg, "registration_id": "R07", "form": "集中就业", "start_date": dt.date(2024, 5, 1), "is_withdrawn": True},
        {**reg, "registration_id": "R10", "form": "集中就业", "start_date": dt.date(2024, 5, 1), "is_withdrawn": False},
        {**reg, "registration_id": "R16", "form": "自主创业", "start_date": dt.date(2024, 8, 1), "is_withdrawn": False},
    ])
    _insert(conn, "staging.declaration", [
        {"delivery": "t", "declaration_id": "D1", "declaration_year": 2024, "status": "审核通过",
         "unit_region_code": "370302"},
        {"delivery": "t", "declaration_id": "D2", "declaration_year": 2024, "status": "已驳回",
         "unit_region_code": "370202"},
    ])
    _insert(conn, "staging.declared_employment", [
        {"delivery": "t", "employee_record_id": "E-06", "declaration_id": "D1", "contract_start": dt.date(2024, 3, 1)},
        {"delivery": "t", "employee_record_id": "E-08", "declaration_id": "D1", "contract_start": dt.date(2024, 2, 1)},
        {"delivery": "t", "employee_record_id": "E-09", "declaration_id": "D2", "contract_start": dt.date(2024, 2, 1)},
        {"delivery": "t", "employee_record_id": "E-14", "declaration_id": "D1", "contract_start": dt.date(2023, 1, 1),
         "contract_end": dt.date(2025, 12, 31)},
    ])
    _insert(conn, "mart.quota_compliance", [
        {"employer_id": "E1", "year": 2024, "total_staff": 300, "required_count": Decimal("4.5"),
         "declared_count": 2, "verified_count": 1, "levy_declared": Decimal("157500"),
         "levy_verified": Decimal("283500"), "levy_gap": Decimal("126000")},
        {"employer_id": "E2", "year": 2024, "total_staff": 1000, "required_count": Decimal("15"),
         "declared_count": 12, "verified_count": 12, "levy_declared": Decimal("100000.10"),
         "levy_verified": Decimal("100000.10"), "levy_gap": 0},
        {"employer_id": "E3", "year": 2024, "total_staff": 100, "required_count": Decimal("1.5"),
         "declared_count": 2, "verified_count": 2, "levy_declared": 0, "levy_verified": 0, "levy_gap": 0},
        {"employer_id": "E4", "year": 2024, "total_staff": 40, "required_count": Decimal("0.6"),
         "declared_count": 0, "verified_count": 0, "levy_declared": 0, "levy_verified": 0, "levy_gap": 0},
    ])
    inst = {"delivery": "t", "period": "2024", "year": 2024, "is_school": False, "is_dpf_organ": False}
    _insert(conn, "staging.institution", [
        # A city Federation at exactly 15%, a county one just below.
        {**inst, "uscc": "13370100MB0000001X", "name": "济南市残疾人联合会", "kind": "群团机关",
         "region_code": "370100", "authorised_posts": 22, "actual_staff": 20, "disabled_staff": 3, "is_dpf_organ": True},
        {**inst, "uscc": "13370102MB0000002X", "name": "历下区残疾人联合会", "kind": "群团机关",
         "region_code": "370102", "authorised_posts": 22, "actual_staff": 21, "disabled_staff": 3, "is_dpf_organ": True},
        {**inst, "uscc": "11370100MB0000003X", "name": "济南市某局", "kind": "行政机关",
         "region_code": "370100", "authorised_posts": 60, "actual_staff": 80, "disabled_staff": 0},
        {**inst, "uscc": "12370102MB0000004X", "name": "历下区某中心", "kind": "事业单位",
         "region_code": "370102", "authorised_posts": 90, "actual_staff": 100, "disabled_staff": 2},
        {**inst, "uscc": "12370102MB0000005X", "name": "历下区实验小学", "kind": "事业单位",
         "region_code": "370102", "authorised_posts": 500, "actual_staff": 500, "disabled_staff": 0, "is_school": True},
        # The next year's register of one of them: a row of its own.
        {**inst, "uscc": "13370100MB0000001X", "name": "济南市残疾人联合会", "kind": "群团机关", "year": 2025,
         "period": "2025", "region_code": "370100", "actual_staff": 20, "disabled_staff": 4, "is_dpf_organ": True},
    ])
    sv = {"delivery": "t", "period": "2024", "survey_year": 2024, "interview_date": dt.date(2024, 6, 1)}
    _insert(conn, "staging.survey", [
        {**sv, "questionnaire_id": "WJ11", "wants_work": "有", "training_wanted": "电商直播"},
        {**sv, "questionnaire_id": "WJ12", "wants_work": "有", "training_wanted": "电商直播"},  # past retirement
        {**sv, "questionnaire_id": "WJ13", "wants_work": "无", "training_wanted": " 电商直播 "},
        {**sv, "questionnaire_id": "WJ14", "wants_work": "有", "training_wanted": "电商直播"},  # declared employed
        {**sv, "questionnaire_id": "WJ15", "wants_work": "不确定", "training_wanted": None},
    ])


@pytest.fixture
def province(warehouse):
    with warehouse.begin() as conn:
        fill(conn)
    build_marts(warehouse, now=NOW)
    return warehouse


def _all(engine, sql: str) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(sql)).mappings()]


def test_city_progress_counts_each_new_employment_once_by_form(province):
    rows = {r["city_code"]: r for r in _all(province, "select * from mart.city_progress where year = 2024")}
    # Every city has a row; 0000 only when something could not be placed.
    assert len(rows) == 16
    jinan, qingdao, zibo = rows["3701"], rows["3702"], rows["3703"]
    # P01 and P05: contributions begun 2024-09 / 2024-03 (after the extract's first month) →
    # 按比例 in 济南 (hukou, not the 青岛 employer). P03's run from the extract's first month: not
    # new. P07's registration was withdrawn, P10 holds no certificate, P14's contract began in 2023.
    assert (jinan["new_count"], jinan["new_quota_count"], jinan["new_concentrated_count"]) == (2, 2, 0)
    # P06: a registration (灵活就业) and a declaration in the same year count once, as the registration.
    assert (qingdao["new_count"], qingdao["new_flexible_count"], qingdao["new_quota_count"]) == (1, 1, 0)
    # P08: a declared contract begun in the declaration year; P09's declaration was rejected.
    assert (zibo["new_count"], zibo["new_quota_count"]) == (1, 1)
    goal = targets()
    assert jinan["target_count"] == goal[("3701", 2024)]
    assert jinan["progress_ratio"] == (Decimal(2) / goal[("3701", 2024)]).quantize(Decimal("0.0001"))
    assert jinan["plan_target_count"] == sum(goal[("3701", y)] for y in (2022, 2023, 2024))
    assert jinan["plan_new_count"] == 2
    # P16: a registration (自主创业) and later contributions: once, as the registration. P17's
    # post on an organ's register is no new-employment event.
    assert (rows["3705"]["new_count"], rows["3705"]["new_self_employed_count"]) == (1, 1)
    assert sum(r["new_count"] for r in rows.values()) == 5


def test_graduate_ledger_status_from_every_source(province):
    rows = {r["student_key"]: r for r in _all(province, "select * from mart.graduate_ledger")}
    assert set(rows) == {"10422-001", "10422-002", "10422-004", "10422-005", "10422-016", "10422-017"}
    employed = rows["10422-001"]
    assert (employed["status"], employed["employed_found"], employed["employed_source"],
            employed["employed_since"]) == ("employed", True, "社保缴费", dt.date(2024, 9, 1))
    assert employed["help_measures"] == "岗位推荐3次" and employed["city_code"] == "3701"
    assert (rows["10422-002"]["status"], rows["10422-002"]["employed_found"]) == ("not_employed", False)
    assert (rows["10422-004"]["status"], rows["10422-004"]["graduates_in_year"]) == ("not_employed", False)
    assert (rows["10422-005"]["status"], rows["10422-005"]["employed_found"]) == ("further_study", False)
    assert (rows["10422-016"]["status"], rows["10422-016"]["employed_source"], rows["10422-016"]["employed_since"]) \
        == ("employed", "就业登记", dt.date(2024, 8, 1))
    assert (rows["10422-017"]["status"], rows["10422-017"]["employed_source"], rows["10422-017"]["employed_since"]) \
        == ("employed", "机关在编", dt.date(2024, 9, 1))


def test_priority_employer_ranks_the_largest_gap_first(province):
    rows = _all(province, "select * from mart.priority_employer where year = 2024 order by rank")
    assert [(r["employer_id"], r["rank"]) for r in rows] == [("E1", 1), ("E2", 2), ("E4", 3)]
    first = rows[0]
    assert first["quota_gap"] == Decimal("3.5") and first["hiring_potential_count"] == 4
    assert (first["is_large_staff"], first["is_large_gap"], first["is_large_potential"], first["is_priority"]) \
        == (True, True, True, True)
    # E2: 1000 staff but a gap of 3; E4: 40 staff, too small to be a priority.
    assert rows[1]["quota_gap"] == Decimal("3") and rows[1]["is_priority"] is True
    assert rows[2]["is_large_staff"] is False and rows[2]["is_priority"] is False


def test_public_sector_excludes_schools_and_dpf_organ_at_exactly_15_percent(province):
    ps = {(r["kind"]): r for r in _all(province, "select * from mart.public_sector where year = 2024")}
    assert set(ps) == {"organ", "institution"}
    organ, inst = ps["organ"], ps["institution"]
    assert (organ["unit_count"], organ["staff_count"], organ["disabled_staff_count"],
            organ["units_employing_none"], organ["large_units_employing_none"]) == (3, 121, 6, 1, 1)
    assert (inst["unit_count"], inst["staff_count"], inst["disabled_staff_count"],
            inst["units_employing_none"], inst["schools_excluded"]) == (1, 100, 2, 0, 1)
    none = _all(province, "select uscc, kind, admin_level, is_large from mart.public_unit_without_disabled "
                          "where year = 2024")
    # The school employs none too, but schools are not counted.
    assert none == [{"uscc": "11370100MB0000003X", "kind": "organ", "admin_level": "city", "is_large": True}]
    dpf = {r["uscc"]: r for r in _all(province, "select * from mart.dpf_organ where year = 2024")}
    city_dpf, county_dpf = dpf["13370100MB0000001X"], dpf["13370102MB0000002X"]
    assert (city_dpf["admin_level"], city_dpf["disabled_share"], city_dpf["meets_target"]) == (
        "city", Decimal("0.1500"), True)
    assert (county_dpf["admin_level"], county_dpf["disabled_share"], county_dpf["meets_target"]) == (
        "county", Decimal("0.1429"), False)
    assert _all(province, "select disabled_staff_count from mart.dpf_organ where year = 2025") == [
        {"disabled_staff_count": 4}]


def test_unemployed_profile_working_age_not_employed(province):
    rows = _all(province, "select city_code, category, level, training_need, person_count, wants_work_count "
                          "from mart.unemployed_profile where year = 2024 order by city_code")
    assert rows == [
        {"city_code": "3701", "category": "肢体", "level": "三级", "training_need": "电商直播",
         "person_count": 2, "wants_work_count": 1},
        {"city_code": "3702", "category": "视力", "level": "一级", "training_need": "无",
         "person_count": 1, "wants_work_count": 0},
    ]


def test_marts_rebuild_whole_and_stay_equal(province):
    before = _all(province, "select * from mart.city_progress order by city_code, year")
    build_marts(province, now=NOW)
    assert _all(province, "select * from mart.city_progress order by city_code, year") == before
