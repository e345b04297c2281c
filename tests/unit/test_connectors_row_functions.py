"""Row functions of the seven connectors on plain dicts: no database, no files."""

import datetime as dt
from decimal import Decimal

from connectors import (
    employment_service,
    establishment,
    graduates,
    hr,
    org,
    training,
    unemployed_survey,
)
from connectors.staging import Context


def staged(fn, row, period="202405"):
    ctx = Context("test", "d", period)
    out: dict[str, list[dict]] = {}
    for table, values in fn(row, ctx):
        out.setdefault(table, []).append(values)
    return out, ctx


def test_employment_service_withdrawal_and_employer_mention_rule():
    row = {"登记编号": "JY9", "姓名": "王秀英", "身份证号": "370102198503124522", "操作类型": "注销",
           "就业日期": "2023年5月", "离职日期": "2024/6/15", "单位社会信用代码": None, "就业单位": "  "}
    out, ctx = staged(employment_service.stage_row, row)
    reg = out["staging.employment_registration"][0]
    assert reg["is_withdrawn"] is True and reg["operation"] == "注销"
    assert reg["start_date"] == dt.date(2023, 5, 1) and reg["end_date"] == dt.date(2024, 6, 15)
    assert "staging.employer_mention" not in out  # a blank employer name is no employer
    out, ctx = staged(employment_service.stage_row, row | {"操作类型": "撤销", "就业日期": "45123"})
    assert out["staging.employment_registration"][0]["is_withdrawn"] is None
    assert ctx.unparsed == {"操作类型": 1, "就业日期": 1}  # a serial number is not a contract format


def test_training_shape_beats_label_and_age_gives_birth_years():
    row = {"学员编号": "PX1", "姓名": "李 建 国", "证件类型": "残疾证", "证件号码": "37010219900101001x",
           "年龄": "34", "开班日期": "2024-07-01"}
    out, _ = staged(training.stage_row, row, "2024Q3")
    person = out["staging.person_mention"][0]
    assert person["id_number"] == "37010219900101001X" and person["cert_number"] is None
    assert (person["birth_year_min"], person["birth_year_max"]) == (1989, 1990)
    assert person["full_name"] == "李建国"
    out, _ = staged(training.stage_row, row | {"开班日期": None}, "2024Q3")
    assert out["staging.person_mention"][0]["birth_year_min"] == 1989  # age on 2024-07-01
    assert training.quarter_start("2024Q4") == dt.date(2024, 10, 1) and training.quarter_start("x") is None


def test_graduates_key_and_employer_only_when_named():
    row = {"学校代码": "10422", "学号": "201900123", "姓名": "王秀英", "出生年月": "1985.03",
           "预计毕业时间": "2023-06", "就业单位": None, "sheet": "山东大学"}
    out, _ = staged(graduates.stage_row, row, "2023")
    assert out["staging.study"][0]["student_key"] == "10422-201900123"
    assert out["staging.person_mention"][0]["birth_year_min"] == 1985
    assert "staging.employer_mention" not in out
    assert graduates.student_key({"学校代码": "10422", "学号": " "}) is None


def test_org_unit_type_from_code_then_staffing_type():
    base = {"人员编号": "Z1", "姓名": "王秀英", "工作单位": "某局", "出生日期": "19850312",
            "进入本单位时间": "2010-09"}
    out, _ = staged(org.stage_row, base | {"编制类型": "参照公务员法管理事业编制"}, "2024")
    assert out["staging.employer_mention"][0]["unit_type"] == "public_institution"
    out, _ = staged(org.stage_row, base | {"单位统一社会信用代码": "11370102004123456X"}, "2024")
    assert out["staging.employer_mention"][0]["unit_type"] == "organ"
    assert out["staging.civil_service"][0]["joined_on"] == dt.date(2010, 9, 1)


def test_establishment_booleans_and_survey_dates():
    out, ctx = staged(establishment.stage_row, {"统一社会信用代码": "11370102004123456X", "机构名称": "x",
                                                "是否中小学幼儿园": "是", "是否残联机关": "N"}, "2024")
    inst = out["staging.institution"][0]
    assert inst["is_school"] is True and inst["is_dpf_organ"] is None and ctx.unparsed == {"是否残联机关": 1}
    out, ctx = staged(unemployed_survey.stage_row, {"调查表编号": "D1", "姓名": "x", "调查日期": "2024/4/15"}, "2024")
    assert out["staging.survey"][0]["interview_date"] is None and ctx.unparsed == {"调查日期": 1}


def test_hr_timestamps_render_one_way_and_contributions_stage():
    assert hr._render_ts("2024-05-01T10:00:00") == "2024-05-01 10:00:00"
    assert hr._render_ts("2024-05-01 10:00:00.000000") == "2024-05-01 10:00:00"
    assert hr._render_ts(dt.datetime(2024, 5, 1, 10)) == "2024-05-01 10:00:00"
    assert hr._render(Decimal("4500.00")) == "4500.00"
    row = {"aaz223": "7", "aac001": "P1", "aab001": "U1", "aae002": "202413", "aae140": "110",
           "aac040": "4500.00", "aae078": "1", "aae036": "2024-05-01 10:00:00"}
    out, ctx = staged(hr.stage_contribution, row, "")
    c = out["staging.contribution"][0]
    assert c["is_paid"] is True and c["period"] is None and ctx.unparsed == {"aae002": 1}
    assert c["changed_at"] == dt.datetime(2024, 5, 1, 10)
