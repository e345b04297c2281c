"""establishment: UTF-8 (no BOM) register of organs and institutions → facts and employers."""

import datetime as dt

import sqlalchemy as sa

from connectors.establishment import SOURCE
from tests.helpers import drop

HEADER = "统一社会信用代码,机构名称,机构类别,主管部门,所在地区代码,核定编制数,实有人数,残疾人在职人数,是否中小学幼儿园,是否残联机关,更新日期"
ROWS = [
    "11370102004123456X,中共济南市历下区委组织部,行政机关,中共济南市历下区委,370102,20,18,1,否,否,2024-01-05",
    "12370102MB1234567Y,济南市历下区第一实验小学,事业单位,历下区教育和体育局,370102,80,85,0,是,否,2024-02-01",
    "13370102MC7654321A,济南市历下区残疾人联合会,群团机关,历下区委,370102,12,十二,3,否,是,2024-02-01",
]


def utf8(rows) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def test_register_stages_institutions_and_employer_mentions(warehouse, sources_dir):
    drop(sources_dir / "establishment", "jgbz_2024.csv", utf8(ROWS))
    [result] = SOURCE.load(warehouse, sources_dir)
    assert (result.rows_read, result.rows_loaded) == (3, 3)
    out = SOURCE.stage(warehouse)
    assert out["jgbz_2024.csv"].unparsed == {"实有人数": 1}
    with warehouse.connect() as conn:
        inst = {r.uscc: r for r in conn.execute(sa.text("select * from staging.institution")).all()}
        em = {r.source_key: r for r in conn.execute(sa.text(
            "select * from staging.employer_mention where source = 'establishment'")).all()}
    assert set(em) == {"11370102004123456X", "12370102MB1234567Y", "13370102MC7654321A"}
    school = inst["12370102MB1234567Y"]
    assert school.is_school is True and school.is_dpf_organ is False
    assert (school.authorised_posts, school.actual_staff, school.disabled_staff) == (80, 85, 0)
    assert school.updated_on == dt.date(2024, 2, 1) and school.year == 2024
    assert inst["13370102MC7654321A"].is_dpf_organ is True and inst["13370102MC7654321A"].actual_staff is None
    assert em["11370102004123456X"].unit_type == "organ" and em["11370102004123456X"].org_code == "004123456"
    assert em["12370102MB1234567Y"].unit_type == "public_institution"
    assert em["13370102MC7654321A"].unit_type == "organ" and em["13370102MC7654321A"].region_code == "370102"


def test_gb18030_file_is_rejected_with_the_encoding_named(warehouse, sources_dir):
    folder = sources_dir / "establishment"
    drop(folder, "jgbz_2023.csv", ("\n".join([HEADER, *ROWS]) + "\n").encode("gb18030"))
    drop(folder, "jgbz_2024.csv", utf8(ROWS[:1]))
    results = {r.delivery: r for r in SOURCE.load(warehouse, sources_dir)}
    assert results["jgbz_2023.csv"].status == "rejected"
    assert "utf-8" in results["jgbz_2023.csv"].reason and "gb18030" in results["jgbz_2023.csv"].reason
    assert results["jgbz_2024.csv"].rows_loaded == 1
