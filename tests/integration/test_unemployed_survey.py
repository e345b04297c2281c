"""unemployed_survey: GB18030 survey file → survey facts and person mentions."""

import datetime as dt

import sqlalchemy as sa

from connectors.unemployed_survey import SOURCE
from tests.helpers import drop

HEADER = "调查表编号,调查年度,姓名,身份证号,残疾证号,残疾类别,残疾等级,户籍地址,联系电话,未就业原因,就业意愿,培训需求,调查日期,调查员"
ROWS = [
    "DC2024001,2024,王秀英,,37010219850312452242,肢体,二级,山东省济南市历下区文化东路1号,138 0531 1234,缺乏岗位,有,\"电商,直播\",2024-04-15,张三",
    "DC2024002,2024,李建國,37010219900101001x,,视力,一级,潍坊市奎文区,,身体原因,无,,2024-02-30,李四",
    ",2024,无编号,,,视力,一级,,,,,,2024-04-15,李四",
]


def test_survey_file_stages_survey_and_person(warehouse, sources_dir):
    drop(sources_dir / "unemployed_survey", "wjydc_2024.csv",
         ("\n".join([HEADER, *ROWS]) + "\n").encode("gb18030"))
    [result] = SOURCE.load(warehouse, sources_dir)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    out = SOURCE.stage(warehouse)
    assert out["wjydc_2024.csv"].unparsed == {"调查日期": 1}
    with warehouse.connect() as conn:
        survey = {r.questionnaire_id: r for r in conn.execute(sa.text("select * from staging.survey")).all()}
        pm = {r.source_key: r for r in conn.execute(sa.text(
            "select * from staging.person_mention where source = 'unemployed_survey'")).all()}
    assert survey["DC2024001"].interview_date == dt.date(2024, 4, 15) and survey["DC2024001"].survey_year == 2024
    assert survey["DC2024001"].training_wanted == "电商,直播"
    assert survey["DC2024002"].interview_date is None  # 30 February: kept in raw, nulled here
    assert pm["DC2024001"].id_number == "370102198503124522" and pm["DC2024001"].phone == "13805311234"
    assert pm["DC2024001"].hukou_region_code == "370102" and pm["DC2024001"].observed_on == dt.date(2024, 4, 15)
    assert pm["DC2024002"].full_name == "李建国" and pm["DC2024002"].id_number == "37010219900101001X"
    assert pm["DC2024002"].hukou_region_code == "370705"
    with warehouse.connect() as conn:
        assert conn.execute(sa.text(
            "select \"调查日期\" from raw.unemployed_survey where \"调查表编号\" = 'DC2024002'")).scalar() == "2024-02-30"
