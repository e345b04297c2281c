"""org: GB18030 staff roll → civil-service facts, a person and an employer mention per row."""

import datetime as dt

import sqlalchemy as sa

from connectors.org import SOURCE
from tests.helpers import drop

HEADER = "人员编号,姓名,身份证号,性别,出生日期,工作单位,单位统一社会信用代码,职务职级,进入本单位时间,是否持残疾人证,残疾人证号,编制类型"
ROWS = [
    "ZZ0001,王秀英,370102198503124522,女,19850312,中共济南市历下区委组织部,11370102004123456X,一级科员,2010-09,是,37010219850312452242,行政编制",
    "ZZ0002,李建国,37010219900101001X,男,19900101,济南市历下区残疾人联合会（参公）,,四级主任科员,2015-03,否,,参照公务员法管理事业编制",
    "ZZ0003,赵四,37070219950505123X,男,1995-05-05,潍坊市奎文区人民政府办公室,12370705MB1234567Y,科员,201807,否,,行政编制",
]


def test_staff_roll_gives_person_and_employer_mentions(warehouse, sources_dir):
    drop(sources_dir / "org", "jgry_2024.csv", ("\r\n".join([HEADER, *ROWS]) + "\r\n").encode("gb18030"))
    [result] = SOURCE.load(warehouse, sources_dir)
    assert (result.rows_read, result.rows_loaded) == (3, 3)
    out = SOURCE.stage(warehouse)
    assert out["jgry_2024.csv"].unparsed == {"出生日期": 1, "进入本单位时间": 1}
    with warehouse.connect() as conn:
        cs = {r.staff_key: r for r in conn.execute(sa.text("select * from staging.civil_service")).all()}
        pm = {r.source_key: r for r in conn.execute(sa.text(
            "select * from staging.person_mention where source = 'org'")).all()}
        em = {r.source_key: r for r in conn.execute(sa.text(
            "select * from staging.employer_mention where source = 'org'")).all()}
    assert set(pm) == set(em) == {"ZZ0001", "ZZ0002", "ZZ0003"}
    assert cs["ZZ0001"].joined_on == dt.date(2010, 9, 1) and cs["ZZ0001"].has_certificate is True
    assert cs["ZZ0001"].cert_number == "37010219850312452242" and cs["ZZ0001"].year == 2024
    assert cs["ZZ0002"].has_certificate is False and cs["ZZ0003"].joined_on is None
    assert pm["ZZ0001"].birth_date == dt.date(1985, 3, 12) and pm["ZZ0001"].gender == "F"
    assert pm["ZZ0003"].birth_date == dt.date(1995, 5, 5)  # YYYYMMDD expected; from the ID instead
    assert pm["ZZ0001"].observed_on == dt.date(2024, 12, 31)
    assert em["ZZ0001"].uscc == "11370102004123456X" and em["ZZ0001"].unit_type == "organ"
    assert em["ZZ0002"].uscc is None and em["ZZ0002"].unit_type == "public_institution"
    assert em["ZZ0002"].name == "济南市历下区残疾人联合会(参公)"
    assert em["ZZ0003"].unit_type == "public_institution"  # 12… code wins over the label
