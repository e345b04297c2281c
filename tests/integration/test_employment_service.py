"""employment_service: GB18030 increments, mixed date formats, 变更 / 注销 semantics, drift."""

import datetime as dt

import sqlalchemy as sa

from connectors.employment_service import SOURCE
from tests.helpers import drop

HEADER = ("登记编号,姓名,身份证号,残疾证号,性别,残疾类别,残疾等级,就业形式,就业单位,单位社会信用代码,"
          "就业日期,离职日期,月收入（元）,户籍所在地,登记机构,登记日期,操作类型")
MAY = [
    "JY001,王秀英,370102198503124522,,女,肢体,二级,按比例就业,济南明泰机械有限公司,,2023-05-01,,2450,山东省济南市历下区,历下区残联,2024-05-03,新增",
    # '𠮷' exists in GB18030 only (four bytes), not in GBK: the file must be read as GB18030.
    "JY002,𠮷祥,370102850312452,,女,视力,一级,灵活就业,,,2023/5/1,2024年3月,,山东省济南市市中区,市中区残联,2024-05-04,新增",
    "JY003,赵四,,37070219950505123X42,男,听力,四级,集中就业,,91370102MA3C5ABC1X,2023年5月,,3000,山东省青岛市市南区,市南区残联,2024-05-05,新增",
    ",无编号,,,男,听力,四级,集中就业,,,2023-05-01,,,,,2024-05-05,新增",
    "JY004,钱五,370103200102034565,,女,智力,三级,辅助性就业,福利工厂,,2023-13-45,,abc,,,2024-05-06,新增",
]
JUNE = [
    "JY001,王秀英,370102198503124522,,女,肢体,二级,按比例就业,济南明泰机械股份有限公司,,2023-05-01,2024/6/15,2600,山东省济南市历下区,历下区残联,2024-06-16,变更",
    "JY003,赵四,,37070219950505123X42,男,听力,四级,集中就业,,91370102MA3C5ABC1X,2023年5月,,3000,山东省青岛市市南区,市南区残联,2024-06-20,注销",
]


def gb(rows, header=HEADER) -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode("gb18030")


def test_gb18030_dates_operations_and_mentions(warehouse, sources_dir):
    folder = sources_dir / "employment_service"
    drop(folder, "jyxx_202406.csv", gb(JUNE))
    drop(folder, "jyxx_202405.csv", gb(MAY))
    results = SOURCE.load(warehouse, sources_dir)
    assert [(r.delivery, r.rows_read, r.rows_loaded, r.rows_quarantined) for r in results] == [
        ("jyxx_202405.csv", 5, 4, 1), ("jyxx_202406.csv", 2, 2, 0)]
    out = SOURCE.stage(warehouse)
    assert out["jyxx_202405.csv"].unparsed == {"就业日期": 1, "月收入（元）": 1}
    with warehouse.connect() as conn:
        reg = {r.registration_id: r for r in conn.execute(sa.text(
            "select * from staging.employment_registration")).all()}
        persons = {r.source_key: r for r in conn.execute(sa.text(
            "select * from staging.person_mention where source = 'employment_service'")).all()}
        employers = {r.source_key: r for r in conn.execute(sa.text(
            "select * from staging.employer_mention where source = 'employment_service'")).all()}
    # Three date formats, one day each.
    assert reg["JY002"].start_date == dt.date(2023, 5, 1) and reg["JY002"].end_date == dt.date(2024, 3, 1)
    assert reg["JY003"].start_date == dt.date(2023, 5, 1)
    assert reg["JY004"].start_date is None and reg["JY004"].monthly_income is None
    # 变更 replaced the registration; 注销 withdrew it; later files win whatever the load order.
    assert reg["JY001"].employer_name == "济南明泰机械股份有限公司" and reg["JY001"].end_date == dt.date(2024, 6, 15)
    assert reg["JY001"].operation == "变更" and reg["JY001"].is_withdrawn is False
    assert reg["JY003"].is_withdrawn is True and reg["JY003"].period == "202406"
    assert reg["JY002"].is_withdrawn is False
    assert set(persons) == {"JY001", "JY002", "JY003", "JY004"}
    assert persons["JY002"].full_name == "𠮷祥" and persons["JY002"].id_number == "370102198503124522"
    assert persons["JY002"].id_quality == "from_15" and persons["JY002"].hukou_region_code == "370103"
    assert persons["JY003"].id_number == "37070219950505123X" and persons["JY003"].id_quality == "from_cert"
    assert persons["JY001"].disability_category == 4 and persons["JY001"].disability_level == 2
    # Employer mentions only where a name or a credit code was given.
    assert set(employers) == {"JY001", "JY003", "JY004"}
    assert employers["JY001"].name == "济南明泰机械股份有限公司"
    assert employers["JY003"].uscc == "91370102MA3C5ABC1X" and employers["JY003"].name is None


def test_missing_required_column_rejects_only_that_delivery(warehouse, sources_dir):
    folder = sources_dir / "employment_service"
    cut = HEADER.rsplit(",", 1)[0]  # no 操作类型
    drop(folder, "jyxx_202405.csv", gb([r.rsplit(",", 1)[0] for r in MAY[:2]], header=cut))
    drop(folder, "jyxx_202406.csv", gb([JUNE[0] + ",备注"], header=HEADER + ",备注"))
    results = {r.delivery: r for r in SOURCE.load(warehouse, sources_dir)}
    assert results["jyxx_202405.csv"].status == "rejected"
    assert "missing required column(s) 操作类型" in results["jyxx_202405.csv"].reason
    assert results["jyxx_202406.csv"].rows_loaded == 1
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select extra from raw.employment_service")).scalar() == {"备注": "备注"}
        assert conn.execute(sa.text(
            "select rows_read = rows_loaded + rows_quarantined from ops.load_audit")).scalars().all() == [True, True]
