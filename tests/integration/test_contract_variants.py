"""Deliveries another team would write from source-contracts.md: every liberty the contract
allows (header order, extra columns, quoting, encodings, every date format, legacy IDs,
repeated keys across periods, re-drops, late markers), loaded, staged and reconciled."""

import datetime as dt

import sqlalchemy as sa

from connectors.registry import SOURCE_OBJECTS
from quotalink.contracts import (
    DISABILITY_REGISTRY,
    EMPLOYMENT_SERVICE,
    ESTABLISHMENT,
    GRADUATES,
    ORG,
    TRAINING,
    UNEMPLOYED_SURVEY,
)
from quotalink.settings import get_settings
from quotalink.standardise.ids import check_character
from tests.contract_deliveries import csv_bytes, drop_csv, shuffled, xlsx_bytes
from tests.helpers import drop

# The registry fields the resolution tests' holders share.
REGISTRY_BASE = {"民族": "汉族", "残疾类别": "肢体", "残疾等级": "三级", "发证日期": "2015-06-01",
                 "有效期至": "长期", "证件状态": "正常", "户籍地区划代码": "370102",
                 "更新时间": "2024-05-03 10:00:00"}


def ident(core17: str) -> str:
    """A valid 18-character ID number from its first 17 digits."""
    return core17 + check_character(core17)


def q(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), params).all()


def reconciled(engine, source: str) -> list[tuple]:
    """Every audit row of a source, checked against rows_read = loaded + quarantined."""
    rows = q(engine, "select delivery, status, rows_read, rows_loaded, rows_quarantined from ops.load_audit "
                     "where source = :s order by load_id", s=source)
    for r in rows:
        assert r.rows_read == r.rows_loaded + r.rows_quarantined, r
    with engine.connect() as conn:
        for r in rows:
            if r.status != "loaded":
                continue
            n_q = conn.execute(sa.text("select count(*) from ops.quarantine where source = :s and delivery = :d"),
                               {"s": source, "d": r.delivery}).scalar()
            assert n_q == r.rows_quarantined, r
    return rows


def load_stage(engine, source: str):
    obj = SOURCE_OBJECTS[source]
    results = obj.load(engine, get_settings())
    report = obj.stage(engine)
    return {r.delivery: r for r in results}, report


ID_A = ident("37010219850312452")
ID_B15 = "370102500101001"  # legacy 15-digit: born 1950-01-01
ID_B18 = ident("37010219500101001")
ID_C = ident("37020319920611002")
ID_D = ident("37070219950505123")
ID_E = ident("37010219800229004")


def test_registry_any_order_extra_columns_quoting_legacy_ids(warehouse, sources_dir):
    header = shuffled(DISABILITY_REGISTRY.columns, seed=3, extra=["备注", "数据来源"])
    base = {"性别": "女", "民族": "汉族", "残疾类别": "肢体", "残疾等级": "二级", "发证日期": "2015-06-01",
            "有效期至": "2027-06-01", "证件状态": "正常", "户籍地区划代码": "370102",
            "更新时间": "2024-05-03 10:00:00"}
    rows = [
        {**base, "残疾人证号": ID_A + "42", "姓名": "王秀英", "出生日期": "1985-03-12", "公民身份号码": ID_A,
         "现居住地址": "济南市历下区, 解放路1号", "联系电话": "13805311234",
         "备注": '他说："已核实，无误"\n第二行', "数据来源": "省平台"},
        {**base, "残疾人证号": ID_B18 + "11", "姓名": "陳曉明", "性别": "男", "出生日期": "1950-01-01",
         "公民身份号码": ID_B15, "残疾类别": "视力", "残疾等级": "一级", "有效期至": "长期",
         "现居住地址": "济南市（历下区）　文化东路", "联系电话": "0531-86123456"},
        {**base, "残疾人证号": ID_C + "43", "姓名": "王𠀀", "出生日期": "1992-06-11", "公民身份号码": ID_C,
         "发证日期": "2015-02-30", "现居住地址": None, "联系电话": None},
        {**base, "残疾人证号": "", "姓名": "无证号", "公民身份号码": ID_D},
        {**base, "残疾人证号": ID_E + "64", "姓名": "阿依古丽·买买提", "出生日期": "1980-02-29",
         "公民身份号码": ID_E, "证件状态": "注销", "注销日期": "2024-03-01", "注销原因": "死亡",
         "残疾类别": "精神", "残疾等级": "四级"},
    ]
    drop_csv(sources_dir, "disability_registry", "cjrxx_202405.csv", header, rows, "utf-8", bom=True)
    results, report = load_stage(warehouse, "disability_registry")
    r = results["cjrxx_202405.csv"]
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 5, 4, 1)
    [quar] = q(warehouse, "select source, delivery, row_ref, column_name, reason from ops.quarantine")
    assert (quar.source, quar.delivery, quar.column_name) == ("disability_registry", "cjrxx_202405.csv", "残疾人证号")
    assert quar.row_ref == "6"  # the physical line the record starts on (row 1 spans two lines)
    reconciled(warehouse, "disability_registry")
    extra = q(warehouse, "select extra from raw.disability_registry where \"姓名\" = '王秀英'")[0].extra
    assert extra == {"备注": '他说："已核实，无误"\n第二行', "数据来源": "省平台"}
    assert q(warehouse, "select \"现居住地址\" from raw.disability_registry where \"姓名\" = '王秀英'")[0][0] \
        == "济南市历下区, 解放路1号"
    cert = {c.cert_number: c for c in q(warehouse, "select * from staging.certificate")}
    assert set(cert) == {ID_A + "42", ID_B18 + "11", ID_C + "43", ID_E + "64"}
    legacy = cert[ID_B18 + "11"]
    assert legacy.id_number == ID_B18 and legacy.valid_until is None and legacy.phone == "053186123456"
    assert legacy.full_name == "陈晓明" and legacy.birth_date == dt.date(1950, 1, 1)
    assert cert[ID_C + "43"].issued_on is None and cert[ID_C + "43"].full_name == "王𠀀"
    assert cert[ID_E + "64"].status == "cancelled" and cert[ID_E + "64"].cancelled_on == dt.date(2024, 3, 1)
    assert cert[ID_A + "42"].valid_until == dt.date(2027, 6, 1)
    assert report["cjrxx_202405.csv"].unparsed == {"发证日期": 1}
    pm = {p.source_key: p for p in q(warehouse, "select * from staging.person_mention")}
    assert pm[ID_B18 + "11"].id_number == ID_B18 and pm[ID_E + "64"].full_name == "阿依古丽买买提"


def test_registry_without_bom_lf_and_quote_all_loads_the_same(warehouse, sources_dir):
    header = list(DISABILITY_REGISTRY.columns)
    row = {"残疾人证号": ID_A + "42", "姓名": "王秀英", "性别": "女", "公民身份号码": ID_A, "残疾类别": "肢体",
           "残疾等级": "二级", "证件状态": "正常", "出生日期": "1985-03-12", "更新时间": "2024-05-03 10:00:00"}
    drop_csv(sources_dir, "disability_registry", "cjrxx_202404.csv", header, [row], "utf-8",
             eol="\n", quote_all=True)
    drop_csv(sources_dir, "disability_registry", "cjrxx_202405.csv", header[::-1], [row], "utf-8",
             bom=True, quote_all=True)  # the BOM stands before the first quoted header name
    results, _ = load_stage(warehouse, "disability_registry")
    assert [(r.status, r.rows_loaded) for r in results.values()] == [("loaded", 1), ("loaded", 1)]
    raw = q(warehouse, 'select "残疾人证号", "姓名", "民族", extra from raw.disability_registry order by delivery')
    assert raw[0] == raw[1] and raw[0][2] is None and raw[0].extra is None


ES_BASE = {"性别": "男", "残疾类别": "肢体", "残疾等级": "三级", "就业形式": "按比例就业",
           "户籍所在地": "山东省济南市历下区", "登记机构": "历下区残联", "登记日期": "2024-05-20",
           "操作类型": "新增"}


def test_employment_service_every_date_format_bad_dates_and_gb18030(warehouse, sources_dir):
    header = shuffled(EMPLOYMENT_SERVICE.columns, seed=7, extra=["经办人"])
    rows = [
        {**ES_BASE, "登记编号": "JY001", "姓名": "䶮王", "身份证号": ID_A, "就业单位": "济南（明泰）機械有限公司　",
         "单位社会信用代码": "91370102 ma3c5xxxxx", "就业日期": "2023-05-01", "离职日期": "2024/1/31",
         "月收入（元）": "２４５０", "户籍所在地": "山東省濟南市歷下區", "经办人": "张, 三"},
        {**ES_BASE, "登记编号": "JY002", "姓名": "陈晓明", "身份证号": ID_B15, "就业单位": None,
         "就业日期": "2023/5/1", "离职日期": None, "月收入（元）": None},
        {**ES_BASE, "登记编号": "JY003", "姓名": "赵四", "身份证号": None, "残疾证号": ID_D + "22",
         "就业单位": "潍坊\"福利\"厂", "就业日期": "2023年5月", "就业形式": "集中就业"},
        {**ES_BASE, "登记编号": "JY004", "姓名": "钱五", "身份证号": ID_C, "就业日期": "2023-02-30",
         "离职日期": "2023年13月", "登记日期": "2024/05/20"},
        {**ES_BASE, "登记编号": "", "姓名": "无编号", "身份证号": ID_E},
    ]
    drop_csv(sources_dir, "employment_service", "jyxx_202405.csv", header, rows, "gb18030")
    results, report = load_stage(warehouse, "employment_service")
    r = results["jyxx_202405.csv"]
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 5, 4, 1)
    [quar] = q(warehouse, "select row_ref, column_name from ops.quarantine")
    assert tuple(quar) == ("6", "登记编号")
    reconciled(warehouse, "employment_service")
    reg = {x.registration_id: x for x in q(warehouse, "select * from staging.employment_registration")}
    assert reg["JY001"].start_date == dt.date(2023, 5, 1) and reg["JY001"].end_date == dt.date(2024, 1, 31)
    assert reg["JY002"].start_date == dt.date(2023, 5, 1) and reg["JY003"].start_date == dt.date(2023, 5, 1)
    assert reg["JY001"].monthly_income == 2450 and reg["JY001"].uscc == "91370102MA3C5XXXXX"
    assert reg["JY004"].start_date is None and reg["JY004"].end_date is None and reg["JY004"].registered_on is None
    assert report["jyxx_202405.csv"].unparsed == {"就业日期": 1, "离职日期": 1, "登记日期": 1}
    pm = {p.source_key: p for p in q(warehouse, "select * from staging.person_mention")}
    assert pm["JY001"].full_name == "䶮王" and pm["JY001"].hukou_region_code == "370102"
    assert pm["JY002"].id_number == ID_B18 and pm["JY003"].id_number == ID_D
    em = {e.source_key: e for e in q(warehouse, "select * from staging.employer_mention")}
    assert set(em) == {"JY001", "JY003"}
    assert em["JY001"].name == "济南(明泰)机械有限公司" and em["JY001"].name_raw == "济南（明泰）機械有限公司"
    extra = q(warehouse, "select extra from raw.employment_service where \"登记编号\" = 'JY001'")[0].extra
    assert extra == {"经办人": "张, 三"}


def test_repeated_key_newer_period_wins_even_when_it_arrives_first(warehouse, sources_dir):
    header = list(EMPLOYMENT_SERVICE.columns)
    row = {**ES_BASE, "登记编号": "JY100", "姓名": "王秀英", "身份证号": ID_A, "就业单位": "济南明泰机械有限公司",
           "就业日期": "2024-01-01"}
    drop_csv(sources_dir, "employment_service", "jyxx_202406.csv", header,
             [{**row, "操作类型": "注销", "离职日期": "2024-06-15", "登记日期": "2024-06-16"}], "gb18030")
    load_stage(warehouse, "employment_service")
    # The May file arrives late (its marker only now): it is older state and must not win.
    drop_csv(sources_dir, "employment_service", "jyxx_202405.csv", header[::-1],
             [{**row, "操作类型": "变更", "月收入（元）": "3000"}], "gb18030", marker=False)
    results, _ = load_stage(warehouse, "employment_service")
    assert "jyxx_202405.csv" not in results
    (sources_dir / "employment_service" / "jyxx_202405.csv.ok").write_bytes(b"")
    results, _ = load_stage(warehouse, "employment_service")
    assert results["jyxx_202405.csv"].status == "loaded"
    [reg] = q(warehouse, "select * from staging.employment_registration")
    assert reg.is_withdrawn is True and reg.period == "202406" and reg.end_date == dt.date(2024, 6, 15)
    [pm] = q(warehouse, "select period from staging.person_mention where source_key = 'JY100'")
    assert pm.period == "202406"
    # The same file dropped again (a transfer retry): nothing changes.
    drop_csv(sources_dir, "employment_service", "jyxx_202405.csv", header[::-1],
             [{**row, "操作类型": "变更", "月收入（元）": "3000"}], "gb18030")
    results, _ = load_stage(warehouse, "employment_service")
    assert {r.status for r in results.values()} == {"skipped"}
    assert len(reconciled(warehouse, "employment_service")) == 2


def test_org_establishment_survey_formats(warehouse, sources_dir):
    org_rows = [
        {"人员编号": "RY001", "姓名": "王秀英", "身份证号": ID_A, "性别": "女", "出生日期": "19850312",
         "工作单位": "中共济南市历下区委组织部（机关）", "单位统一社会信用代码": "11370102MB2830000X",
         "职务职级": "一级主任科员", "进入本单位时间": "2010-07", "是否持残疾人证": "是",
         "残疾人证号": ID_A + "42", "编制类型": "行政编制"},
        {"人员编号": "RY002", "姓名": "陳曉明", "身份证号": ID_B15, "性别": "男", "出生日期": "1950-01-01",
         "工作单位": "济南市历下区档案馆", "单位统一社会信用代码": None, "职务职级": "科员",
         "进入本单位时间": "2010年7月", "是否持残疾人证": "否", "编制类型": "参照公务员法管理事业编制"},
    ]
    drop_csv(sources_dir, "org", "jgry_2024.csv", shuffled(ORG.columns, 11, ["备注"]), org_rows, "gb18030")
    inst = [
        {"统一社会信用代码": "11370102MB2830000X", "机构名称": "中共济南市历下区委组织部, 机关", "机构类别": "行政机关",
         "主管部门": "历下区委", "所在地区代码": "370102", "核定编制数": "30", "实有人数": "28",
         "残疾人在职人数": "1", "是否中小学幼儿园": "否", "是否残联机关": "否", "更新日期": "2024-12-31"},
        {"统一社会信用代码": "12370102MB28300017", "机构名称": "历下区实验小学", "机构类别": "事业单位",
         "主管部门": "历下区教育局", "所在地区代码": "370102", "核定编制数": "８０", "实有人数": "",
         "残疾人在职人数": "0", "是否中小学幼儿园": "是", "是否残联机关": "否", "更新日期": "2024/12/31"},
    ]
    drop_csv(sources_dir, "establishment", "jgbz_2024.csv", shuffled(ESTABLISHMENT.columns, 5), inst, "utf-8")
    survey = [
        {"调查表编号": "DC001", "调查年度": "2024", "姓名": "赵 四", "身份证号": ID_D, "残疾类别": "听力",
         "残疾等级": "四级", "户籍地址": "山東省濰坊市奎文區", "联系电话": "0536-8123456",
         "未就业原因": "缺乏岗位", "就业意愿": "有", "培训需求": "电商，直播\n短视频", "调查日期": "2024-06-01",
         "调查员": "李"},
        {"调查表编号": "DC002", "调查年度": "2024", "姓名": "钱五", "身份证号": None, "残疾证号": ID_C + "43",
         "残疾类别": "肢体", "残疾等级": "三级", "调查日期": "2024-06-31", "调查员": "李"},
    ]
    drop_csv(sources_dir, "unemployed_survey", "wjydc_2024.csv",
             shuffled(UNEMPLOYED_SURVEY.columns, 2, ["复核人"]), survey, "gb18030")
    _, org_report = load_stage(warehouse, "org")
    _, inst_report = load_stage(warehouse, "establishment")
    _, survey_report = load_stage(warehouse, "unemployed_survey")
    for source in ("org", "establishment", "unemployed_survey"):
        assert [r.status for r in reconciled(warehouse, source)] == ["loaded"], source
    cs = {c.staff_key: c for c in q(warehouse, "select * from staging.civil_service")}
    assert cs["RY001"].joined_on == dt.date(2010, 7, 1) and cs["RY002"].joined_on is None
    assert org_report["jgry_2024.csv"].unparsed == {"出生日期": 1, "进入本单位时间": 1}
    pm = {p.source_key: p for p in q(warehouse, "select * from staging.person_mention where source = 'org'")}
    assert pm["RY002"].birth_date == dt.date(1950, 1, 1)  # from the legacy ID
    em = {e.source_key: e for e in q(warehouse, "select * from staging.employer_mention where source = 'org'")}
    assert em["RY001"].unit_type == "organ" and em["RY002"].unit_type == "public_institution"
    inst_rows = {i.uscc: i for i in q(warehouse, "select * from staging.institution")}
    assert inst_rows["12370102MB28300017"].authorised_posts == 80
    assert inst_rows["12370102MB28300017"].actual_staff is None
    assert inst_rows["12370102MB28300017"].updated_on is None
    assert inst_report["jgbz_2024.csv"].unparsed == {"更新日期": 1}
    sv = {s.questionnaire_id: s for s in q(warehouse, "select * from staging.survey")}
    assert sv["DC001"].training_wanted == "电商，直播\n短视频" and sv["DC002"].interview_date is None
    assert survey_report["wjydc_2024.csv"].unparsed == {"调查日期": 1}
    spm = {p.source_key: p for p in q(warehouse, "select * from staging.person_mention "
                                                 "where source = 'unemployed_survey'")}
    assert spm["DC001"].hukou_region_code == "370705" and spm["DC001"].phone == "05368123456"
    assert spm["DC002"].id_number == ID_C


TRAINING_ROW = {"证件类型": "身份证", "性别": "女", "年龄": 39, "培训项目名称": "电商直播（初级）班",
                "培训类别": "电商直播", "培训机构": "济南市残疾人职业培训学校", "开班日期": dt.datetime(2024, 7, 1),
                "结业日期": dt.datetime(2024, 7, 20), "培训结果": "合格", "是否取得证书": "是", "所在市": "济南市"}


def test_training_shuffled_header_total_row_under_its_column_and_blank_tail(warehouse, sources_dir):

    header = shuffled(TRAINING.columns, seed=1, extra=["备注"])
    assert header.index("序号") >= 3  # the totals row's word stands far from column A
    records = [
        {**TRAINING_ROW, "序号": 1, "学员编号": "PX2024030001", "姓名": "王 秀 英", "证件号码": ID_A,
         "联系电话": 13805311234, "备注": "补录，已核"},
        {**TRAINING_ROW, "序号": 2, "学员编号": "PX2024030002", "姓名": "陳曉明", "证件号码": ID_B15,
         "性别": "男", "联系电话": "0531-86123456", "结业日期": None, "培训结果": "未结业", "是否取得证书": "否"},
        {**TRAINING_ROW, "序号": 3, "学员编号": "PX2024030003", "姓名": "赵四", "证件类型": "残疾证",
         "证件号码": ID_D + "22", "开班日期": dt.datetime(2024, 8, 5), "结业日期": dt.datetime(2024, 8, 30)},
        {**TRAINING_ROW, "序号": 4, "学员编号": None, "姓名": "无编号", "证件号码": ID_E},
    ]
    rows = [header, *([r.get(c) for c in header] for r in records),
            [{"序号": f"合 计：{len(records)}人"}.get(c) for c in header]]
    book = xlsx_bytes({"培训学员名单": (rows, len(header))}, title="2024年第三季度残疾人职业培训学员名单",
                      blank_tail=5, number_formats={header.index("开班日期") + 1: "yyyy-mm-dd",
                                                    header.index("结业日期") + 1: "yyyy-mm-dd"})
    drop(sources_dir / "training", "pxxy_2024Q3.xlsx", book)
    results, report = load_stage(warehouse, "training")
    r = results["pxxy_2024Q3.xlsx"]
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 4, 3, 1)
    [quar] = q(warehouse, "select row_ref, column_name, reason from ops.quarantine")
    assert (quar.row_ref, quar.column_name) == ("培训学员名单!6", "学员编号")
    reconciled(warehouse, "training")
    tr = {t.trainee_id: t for t in q(warehouse, "select * from staging.training")}
    assert tr["PX2024030001"].start_date == dt.date(2024, 7, 1) and tr["PX2024030002"].end_date is None
    assert tr["PX2024030001"].course == "电商直播（初级）班"
    pm = {p.source_key: p for p in q(warehouse, "select * from staging.person_mention")}
    assert pm["PX2024030001"].full_name == "王秀英" and pm["PX2024030001"].phone == "13805311234"
    assert pm["PX2024030002"].id_number == ID_B18 and pm["PX2024030002"].full_name == "陈晓明"
    assert pm["PX2024030003"].cert_number == ID_D + "22" and pm["PX2024030003"].id_number == ID_D
    extra = q(warehouse, "select extra from raw.training where \"学员编号\" = 'PX2024030001'")[0].extra
    assert extra == {"备注": "补录，已核"}
    assert report["pxxy_2024Q3.xlsx"].unparsed == {}


GRAD_ROW = {"身份证号": ID_A, "性别": "女", "残疾类别": "肢体", "学历层次": "本科", "专业": "计算机科学与技术",
            "入学年份": 2021, "毕业去向": "在读", "更新日期": dt.datetime(2024, 12, 1)}


def test_graduates_sheets_in_their_own_orders_numeric_cells_and_month_formats(warehouse, sources_dir):

    cols = GRADUATES.columns
    sheets = {
        "山东大学": (shuffled(cols, 4), [
            {**GRAD_ROW, "学校代码": 10422, "学号": 202100123, "姓名": "王秀英", "出生年月": "1985.03",
             "预计毕业时间": "2025-06", "残疾证号": ID_A + "42", "联系电话": 13805311234},
            {**GRAD_ROW, "学校代码": 10422, "学号": 202100124, "姓名": "陳曉明", "身份证号": ID_B15,
             "出生年月": "1950.01", "预计毕业时间": dt.datetime(2025, 6, 1), "毕业去向": "已就业",
             "就业单位": "济南（明泰）机械有限公司", "帮扶措施": "一人一策：岗位推荐,\n跟踪服务"},
            {**GRAD_ROW, "学校代码": 10422, "学号": None, "姓名": "无学号", "出生年月": "1990.01"},
        ]),
        "青岛大学": (shuffled(cols, 9, ["辅导员"]), [
            {**GRAD_ROW, "学校代码": "11065", "学号": "202100123", "姓名": "赵四", "身份证号": ID_D,
             "出生年月": "1995.10", "预计毕业时间": "2026-07", "辅导员": "李老师"},
            {**GRAD_ROW, "学校代码": "11065", "学号": "202100125", "姓名": "钱五", "身份证号": ID_C,
             "出生年月": "1992.13", "预计毕业时间": "2026-00", "更新日期": "2024-12-01"},
        ]),
        "潍坊学院": (list(cols), []),  # a university with no student this year: header only
    }
    book = xlsx_bytes({name: ([h, *([r.get(c) for c in h] for r in rows)], len(h))
                       for name, (h, rows) in sheets.items()}, blank_tail=3)
    drop(sources_dir / "graduates", "gxcjrdxs_2024.xlsx", book)
    results, report = load_stage(warehouse, "graduates")
    r = results["gxcjrdxs_2024.xlsx"]
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 5, 4, 1)
    [quar] = q(warehouse, "select row_ref, column_name from ops.quarantine")
    assert quar.row_ref == "山东大学!4" and quar.column_name == "学校代码-学号"
    reconciled(warehouse, "graduates")
    st = {s.student_key: s for s in q(warehouse, "select * from staging.study")}
    assert set(st) == {"10422-202100123", "10422-202100124", "11065-202100123", "11065-202100125"}
    assert st["10422-202100123"].expected_graduation == dt.date(2025, 6, 1)
    assert st["10422-202100124"].expected_graduation == dt.date(2025, 6, 1)
    assert st["11065-202100123"].school_name == "青岛大学" and st["10422-202100123"].updated_on == dt.date(2024, 12, 1)
    assert st["10422-202100124"].help_measures == "一人一策：岗位推荐,\n跟踪服务"
    pm = {p.source_key: p for p in q(warehouse, "select * from staging.person_mention")}
    assert pm["11065-202100123"].birth_year_min == 1995 and pm["10422-202100124"].id_number == ID_B18
    assert pm["11065-202100125"].birth_year_min is None
    assert report["gxcjrdxs_2024.xlsx"].unparsed == {"出生年月": 1, "预计毕业时间": 1}
    em = q(warehouse, "select source_key, name from staging.employer_mention")
    assert [tuple(e) for e in em] == [("10422-202100124", "济南(明泰)机械有限公司")]
    extra = q(warehouse, "select extra from raw.graduates where \"学号\" = '202100123' and sheet = '青岛大学'")
    assert extra[0].extra == {"辅导员": "李老师"}


def test_xlsx_with_a_stale_dimension_and_numbers_calamine_reads_differently(warehouse, sources_dir):
    """A workbook whose <dimension> says A1 (advisory in OOXML; several writers leave it) and
    with an error cell (a failed lookup formula: #N/A), which calamine reads differently, so
    openpyxl reads the workbook."""

    header = list(TRAINING.columns)
    records = [{**TRAINING_ROW, "序号": 1, "学员编号": "PX2024040001", "姓名": "王秀英", "证件号码": int(ID_B18[:17] + "0")},
               {**TRAINING_ROW, "序号": 2, "学员编号": "PX2024040002", "姓名": "赵四", "证件号码": ID_D,
                "所在市": "#N/A"}]
    rows = [header, *([r.get(c) for c in header] for r in records), ["合计", None, "2人"]]
    book = xlsx_bytes({"培训学员名单": (rows, len(header))}, title="2024年第四季度残疾人职业培训学员名单",
                      dimension="A1")
    drop(sources_dir / "training", "pxxy_2024Q4.xlsx", book)
    results, _ = load_stage(warehouse, "training")
    r = results["pxxy_2024Q4.xlsx"]
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 2, 2, 0), r
    staged = q(warehouse, "select trainee_id, city from staging.training order by 1")
    assert [tuple(t) for t in staged] == [("PX2024040001", "济南市"), ("PX2024040002", "#N/A")]


def test_unnamed_trailing_column_blank_keys_and_a_key_repeated_within_one_increment(warehouse, sources_dir):
    """Every line ending in a comma (an unnamed extra column), a key of spaces (full-width
    too), and one registration entered and then changed in the same month: the later row of
    the file holds the newer state."""
    header = [*EMPLOYMENT_SERVICE.columns, ""]
    row = {**ES_BASE, "登记编号": "JY200", "姓名": "王秀英", "身份证号": ID_A, "就业单位": "济南明泰机械有限公司",
           "就业日期": "2024-05-01"}
    rows = [row, {**row, "登记编号": "  ", "姓名": "空格编号"}, {**row, "登记编号": "\u3000", "姓名": "全角空格"},
            {**row, "操作类型": "变更", "月收入（元）": "3200", "就业单位": "济南明泰机械股份有限公司"}]
    drop_csv(sources_dir, "employment_service", "jyxx_202405.csv", header, rows, "gb18030")
    results, _ = load_stage(warehouse, "employment_service")
    r = results["jyxx_202405.csv"]
    assert (r.status, r.rows_read, r.rows_loaded, r.rows_quarantined) == ("loaded", 4, 2, 2), r
    assert [(x.row_ref, x.column_name) for x in q(warehouse, "select * from ops.quarantine order by row_ref")] \
        == [("3", "登记编号"), ("4", "登记编号")]
    reconciled(warehouse, "employment_service")
    [reg] = q(warehouse, "select * from staging.employment_registration")
    assert reg.operation == "变更" and reg.monthly_income == 3200 and reg.row_ref == "5"
    [em] = q(warehouse, "select name_raw from staging.employer_mention")
    assert em.name_raw == "济南明泰机械股份有限公司"


ID_X = "37010219881105006X"


def test_run_links_legacy_and_typed_ids_across_sources(warehouse, sources_dir, monkeypatch):
    """Variant deliveries through landing, staging and resolution: a legacy 15-digit holder, a
    lower-case x typed by an employer, a USCC in lower case with spaces; each resolves to one
    golden record. (The resolution steps of `quotalink run`, without its marts, for speed.)"""
    import json

    from entity_resolution import resolve_employers, resolve_persons

    monkeypatch.setenv("QUOTA_YEARS", "2024")
    registry = [
        {**REGISTRY_BASE, "残疾人证号": ID_A + "43", "姓名": "王秀英", "性别": "女", "出生日期": "1985-03-12",
         "公民身份号码": ID_A, "联系电话": "13805311234"},
        {**REGISTRY_BASE, "残疾人证号": ID_B18 + "43", "姓名": "陳曉明", "性别": "男", "出生日期": "1950-01-01",
         "公民身份号码": ID_B15, "联系电话": "0531-86123456"},
        {**REGISTRY_BASE, "残疾人证号": ID_X + "43", "姓名": "刘洋", "性别": "男", "出生日期": "1988-11-05",
         "公民身份号码": ID_X},
    ]
    drop_csv(sources_dir, "disability_registry", "cjrxx_202412.csv",
             shuffled(DISABILITY_REGISTRY.columns, 21, ["备注"]), registry, "utf-8", bom=True)
    es = [{**ES_BASE, "登记编号": "JY300", "姓名": "王秀英", "性别": "女", "身份证号": ID_A,
           "就业单位": "济南明泰机械有限公司", "单位社会信用代码": "91370102MA3C5XXXXX", "就业日期": "2024年1月"}]
    drop_csv(sources_dir, "employment_service", "jyxx_202401.csv",
             shuffled(EMPLOYMENT_SERVICE.columns, 8), es, "gb18030")
    decl = {"declaration_id": "D2024370102000123", "declaration_year": 2024, "unit_name": "济南明泰机械有限公司",
            "uscc": "91370102 ma3c5xxxxx", "org_code": None, "unit_region_code": "370102", "unit_type": "企业",
            "total_staff": 212, "avg_annual_wage": 78432.50, "disabled_declared": 3, "status": "审核通过",
            "submitted_at": "2025-03-02T10:12:00", "updated_at": "2025-04-11T09:30:12"}
    emp = {"declaration_id": "D2024370102000123", "disability_category": 4, "disability_level": 3,
           "contract_start": "2024-01-01", "contract_end": None, "monthly_wage": 2450.00, "si_months": 12,
           "position": "质检员", "employment_type": "全日制", "updated_at": "2025-04-11T09:30:12"}
    emps = [
        {**emp, "employee_record_id": "E2024370102000123-0001", "name": "王秀英",
         "id_number": ID_A[:6] + ID_A[8:17], "cert_number": None},  # the 15-digit form
        {**emp, "employee_record_id": "E2024370102000123-0002", "name": "陈晓明", "id_number": ID_B18,
         "cert_number": ID_B18 + "43"},
        {**emp, "employee_record_id": "E2024370102000123-0003", "name": "刘洋", "id_number": ID_X.lower(),
         "cert_number": None},
    ]
    folder = sources_dir / "quota"
    folder.mkdir()
    (folder / "declarations.jsonl").write_text(json.dumps(decl, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "declared-employees.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in emps), encoding="utf-8")
    for source in ("disability_registry", "employment_service", "quota"):
        load_stage(warehouse, source)
    resolve_persons(warehouse)
    resolve_employers(warehouse)
    for source in ("disability_registry", "employment_service", "quota"):
        assert reconciled(warehouse, source), source
    xref = {(x.source, x.source_key): x.person_id for x in q(warehouse, "select * from core.person_xref")}
    assert len(xref) == 7
    assert xref[("disability_registry", ID_A + "43")] == xref[("employment_service", "JY300")] \
        == xref[("quota", "E2024370102000123-0001")]
    assert xref[("disability_registry", ID_B18 + "43")] == xref[("quota", "E2024370102000123-0002")]
    assert xref[("disability_registry", ID_X + "43")] == xref[("quota", "E2024370102000123-0003")]
    assert len(set(xref.values())) == 3
    persons = {p.person_id: p for p in q(warehouse, "select * from core.person")}
    assert persons[xref[("quota", "E2024370102000123-0002")]].id_number == ID_B18
    assert persons[xref[("quota", "E2024370102000123-0003")]].id_number == ID_X
    exref = {(x.source, x.source_key): x.employer_id for x in q(warehouse, "select * from core.employer_xref")}
    assert exref[("quota", "D2024370102000123")] == exref[("employment_service", "JY300")]
    [employer] = q(warehouse, "select * from core.employer")
    assert employer.uscc == "91370102MA3C5XXXXX"


def test_hr_sqlite_written_by_hand_upper_case_names_text_timestamps_extra_columns(warehouse, sources_dir):
    """An offline hr.db another team wrote with sqlite3: upper-case table and column names, the
    declared types only as names, timestamps as text in both ISO spellings, a column more than
    the contract lists; then money arrives (aae078 0 → 1) and the window is pulled again."""
    import sqlite3

    from connectors import hr

    path = sources_dir / "hr" / "hr.db"
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.executescript("""
        create table AB01 (AAB001 varchar(20) primary key, AAB003 varchar(20), AAB004 varchar(200),
                           AAB019 varchar(2), AAB301 varchar(6), AAE036 timestamp, AAE011 varchar(20));
        create table AC01 (AAC001 varchar(20) primary key, AAC002 varchar(18), AAC003 varchar(50),
                           AAC004 varchar(1), AAC006 integer, AAE005 varchar(20), AAE036 timestamp);
        create table AC08 (AAZ223 bigint primary key, AAC001 varchar(20), AAB001 varchar(20),
                           AAE002 integer, AAE140 varchar(3), AAC040 numeric(12,2), AAE078 varchar(1),
                           AAE036 timestamp);
    """)
    db.executemany("insert into AB01 values (?,?,?,?,?,?,?)", [
        ("U001", "91370102ma3c5xxxxx", "济南明泰机械有限公司", "10", "370102", "2024-05-01T10:00:00", "张三"),
        ("U002", "MA3C5XXX-1", "济南（老字号）商行", "70", "370103", "2024-05-01 10:00:00.250000", None),
    ])
    db.executemany("insert into AC01 values (?,?,?,?,?,?,?)", [
        ("P001", ID_B15, "陈晓明", "1", 19500101, "0531-86123456", "2024-05-01 10:00:00"),
        ("P002", ID_X.lower(), "刘洋", "1", 19881105, "13805311234", "2024-05-01T10:00:01"),
    ])
    db.executemany("insert into AC08 values (?,?,?,?,?,?,?,?)", [
        (1, "P001", "U001", 202401, "110", 4500.00, "0", "2024-05-01T10:00:00"),
        (2, "P001", "U001", 202402, "110", 4500.5, "1", "2024-05-01 10:00:02"),
    ])
    db.commit()
    first = hr.load_url(warehouse, f"sqlite:///{path}")
    assert [(r.status, r.rows_read, r.rows_loaded) for r in first] == [("loaded", 2, 2)] * 3
    extra = q(warehouse, "select extra from raw.hr_ab01 where aab001 = 'U001'")[0].extra
    assert extra == {"aae011": "张三"}
    db.execute("update AC08 set AAE078 = '1', AAE036 = '2024-05-03T08:00:00' where AAZ223 = 1")
    db.commit()
    db.close()
    second = hr.load_url(warehouse, f"sqlite:///{path}")
    assert [(r.delivery.split(":")[0], r.rows_read, r.rows_loaded) for r in second] == [("hr_ac08", 1, 1)]
    assert hr.load_url(warehouse, f"sqlite:///{path}") == []
    reconciled(warehouse, "hr")
    hr.stage(warehouse)
    contrib = q(warehouse, "select contribution_id, is_paid, base_yuan, changed_at from staging.contribution "
                           "order by 1")
    assert [(c.contribution_id, c.is_paid) for c in contrib] == [(1, True), (2, True)]
    assert contrib[1].base_yuan == 4500.5 and contrib[0].changed_at.replace(tzinfo=None) == dt.datetime(2024, 5, 3, 8)
    pm = {p.source_key: p for p in q(warehouse, "select * from staging.person_mention where source = 'hr'")}
    assert pm["P001"].id_number == ID_B18 and pm["P002"].id_number == ID_X and pm["P001"].phone == "053186123456"
    em = {e.source_key: e for e in q(warehouse, "select * from staging.employer_mention where source = 'hr'")}
    assert em["U001"].uscc == "91370102MA3C5XXXXX" and em["U002"].org_code == "MA3C5XXX1"
    assert em["U002"].name == "济南(老字号)商行"


def test_resolution_of_noisy_mentions_the_contract_allows(warehouse, sources_dir, monkeypatch):
    """Free text with traditional and full-width characters, a spaced name, an ID typed with one
    wrong digit and no certificate, a certificate number standing in the ID column, an ID in
    full-width digits, a person known only by a certificate number; clerk-typed employer names."""
    import json

    from entity_resolution import resolve_employers, resolve_persons

    monkeypatch.setenv("QUOTA_YEARS", "2024")
    registry = [
        {**REGISTRY_BASE, "残疾人证号": ID_A + "43", "姓名": "王秀英", "性别": "女", "出生日期": "1985-03-12",
         "公民身份号码": ID_A, "联系电话": "13805311234"},
        {**REGISTRY_BASE, "残疾人证号": ID_C + "43", "姓名": "钱建华", "性别": "男", "出生日期": "1992-06-11",
         "公民身份号码": ID_C, "联系电话": "13905312222"},
        {**REGISTRY_BASE, "残疾人证号": ID_D + "22", "姓名": "赵丽", "性别": "女", "出生日期": "1995-05-05",
         "公民身份号码": ID_D, "残疾类别": "听力", "残疾等级": "二级"},
    ]
    drop_csv(sources_dir, "disability_registry", "cjrxx_202412.csv", DISABILITY_REGISTRY.columns, registry,
             "utf-8", bom=True)
    wrong = ID_A[:14] + str((int(ID_A[14]) + 1) % 10) + ID_A[15:]  # one wrong digit in the sequence
    emp = {"declaration_id": "D2024370102000777", "disability_category": 4, "disability_level": 3,
           "contract_start": "2024-01-01", "contract_end": "2026-12-31", "monthly_wage": 2450.00,
           "si_months": 12, "position": "质检员", "employment_type": "全日制", "updated_at": "2025-04-11T09:30:12"}
    decl = {"declaration_id": "D2024370102000777", "declaration_year": 2024, "unit_name": "济南明泰机械有限公司",
            "uscc": None, "org_code": "MA3C5XXX-1", "unit_region_code": "370102", "unit_type": "企业",
            "total_staff": 212, "avg_annual_wage": 78432.5, "disabled_declared": 2, "status": "待审核",
            "submitted_at": "2025-03-02T10:12:00", "updated_at": "2025-04-11T09:30:12"}
    folder = sources_dir / "quota"
    folder.mkdir()
    (folder / "declarations.jsonl").write_text(json.dumps(decl, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "declared-employees.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in [
        {**emp, "employee_record_id": "E2024370102000777-0001", "name": "王秀英", "id_number": wrong,
         "cert_number": None},
        {**emp, "employee_record_id": "E2024370102000777-0002", "name": "錢建華", "id_number": ID_C,
         "cert_number": ID_C + "43"},
    ]), encoding="utf-8")
    es = [{**ES_BASE, "登记编号": "JY400", "姓名": "钱 建华", "性别": "男", "身份证号": ID_C + "43",
           "就业单位": "濟南明泰機械有限公司（质检部）", "就业日期": "2024/1/1"}]
    drop_csv(sources_dir, "employment_service", "jyxx_202401.csv", EMPLOYMENT_SERVICE.columns, es, "gb18030")
    fw = ID_D.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"})
    grad_rows = [list(GRADUATES.columns), [
        {**GRAD_ROW, "学校代码": "10422", "学号": "201300001", "姓名": "趙麗", "身份证号": fw, "性别": "女",
         "出生年月": "1995.05", "预计毕业时间": "2017-06", "毕业去向": "已就业"}.get(c)
        for c in GRADUATES.columns]]
    drop(sources_dir / "graduates", "gxcjrdxs_2024.xlsx", xlsx_bytes({"山东大学": (grad_rows, 17)}))
    tr_rows = [list(TRAINING.columns), [
        {**TRAINING_ROW, "序号": 1, "学员编号": "PX2024010001", "姓名": "王　秀　英", "证件类型": "身份证",
         "证件号码": ID_A + "43"}.get(c) for c in TRAINING.columns]]
    drop(sources_dir / "training", "pxxy_2024Q1.xlsx", xlsx_bytes({"培训学员名单": (tr_rows, 16)}, title="x"))
    survey = [{"调查表编号": "DC500", "调查年度": "2024", "姓名": "赵丽", "残疾证号": ID_D + "22",
               "残疾类别": "听力", "残疾等级": "二级", "调查日期": "2024-06-01"}]
    drop_csv(sources_dir, "unemployed_survey", "wjydc_2024.csv", UNEMPLOYED_SURVEY.columns, survey, "gb18030")
    for source in ("disability_registry", "quota", "employment_service", "graduates", "training",
                   "unemployed_survey"):
        load_stage(warehouse, source)
        assert reconciled(warehouse, source), source
    resolve_persons(warehouse)
    resolve_employers(warehouse)
    xref = {(x.source, x.source_key): x.person_id for x in q(warehouse, "select * from core.person_xref")}
    a = xref[("disability_registry", ID_A + "43")]
    c = xref[("disability_registry", ID_C + "43")]
    d = xref[("disability_registry", ID_D + "22")]
    assert len({a, c, d}) == 3
    assert xref[("training", "PX2024010001")] == a
    assert xref[("quota", "E2024370102000777-0002")] == xref[("employment_service", "JY400")] == c
    assert xref[("graduates", "10422-201300001")] == xref[("unemployed_survey", "DC500")] == d
    assert xref[("quota", "E2024370102000777-0001")] == a, "one wrong digit, same name: the same person"
    exref = {(x.source, x.source_key): x.employer_id for x in q(warehouse, "select * from core.employer_xref")}
    assert exref[("quota", "D2024370102000777")] == exref[("employment_service", "JY400")]


def test_values_under_an_unnamed_column_are_kept_in_raw(warehouse, sources_dir):
    """An extra column without a name in the header still carries delivered values: nothing of
    a delivery may be lost, so raw keeps them (by column position)."""

    header = [*ORG.columns, ""]
    rows = [{"人员编号": "RY900", "姓名": "王秀英", "身份证号": ID_A, "工作单位": "历下区档案馆", "": "借调至区委"},
            {"人员编号": "RY901", "姓名": "刘洋", "身份证号": ID_X, "工作单位": "历下区档案馆"}]
    drop_csv(sources_dir, "org", "jgry_2024.csv", header, rows, "gb18030")
    xheader = [*TRAINING.columns[:5], None, *TRAINING.columns[5:]]
    record = {**TRAINING_ROW, "序号": 1, "学员编号": "PX2024020001", "姓名": "王秀英", "证件号码": ID_A}
    xrows = [xheader, [record.get(c) if c else "手工补录" for c in xheader]]
    drop(sources_dir / "training", "pxxy_2024Q2.xlsx", xlsx_bytes({"培训学员名单": (xrows, 17)}, title="x"))
    load_stage(warehouse, "org")
    load_stage(warehouse, "training")
    reconciled(warehouse, "org")
    reconciled(warehouse, "training")
    org = {r[0]: r.extra for r in q(warehouse, 'select "人员编号", extra from raw.org')}
    assert org == {"RY900": {"#13": "借调至区委"}, "RY901": None}
    [tr] = q(warehouse, "select extra from raw.training")
    assert tr.extra == {"#6": "手工补录"}


def test_quota_same_second_batch_longer_than_a_page_field_variants_and_an_extra_field(warehouse, sources_dir):
    """A re-review stamping five declarations with one updated_at (more than a page), another
    province's employer, USCC null / lower case with spaces / org code without its dash, IDs
    typed 15-digit and with a lower-case x, open-ended contracts, a field the contract does not
    list; a second pull from the watermark reads nothing again."""
    import json

    from connectors import quota
    from connectors.quota import QuotaClient, RetryPolicy
    from connectors.quota_emulator import QuotaEmulator

    t = "2025-04-11T09:30:12"
    decl = {"declaration_year": 2024, "unit_region_code": "370102", "unit_type": "企业", "total_staff": 100,
            "avg_annual_wage": 70000, "disabled_declared": 1, "status": "审核通过",
            "submitted_at": "2025-03-02T10:12:00", "updated_at": t, "org_code": None}
    decls = [{**decl, "declaration_id": f"D2024370102{i:06d}", "unit_name": f"济南明泰{i}有限公司",
              "uscc": None if i == 1 else f"91370102 ma3c5xxx{i:02d}"} for i in range(1, 6)]
    decls[0]["org_code"] = "MA3C5XXX1"
    decls.append({**decl, "declaration_id": "D2024110105000001", "unit_name": "北京某科技有限公司",
                  "uscc": "91110105MA0000000X", "unit_region_code": "110105", "updated_at": "2025-04-12T08:00:00",
                  "review_note": "跨省通办"})
    emp = {"disability_category": 4, "disability_level": 3, "contract_start": "2024-03-01", "contract_end": None,
           "monthly_wage": 2450, "si_months": 10, "position": "质检员", "employment_type": "非全日制",
           "updated_at": t, "cert_number": None}
    emps = [{**emp, "employee_record_id": "E2024370102000001-0001", "declaration_id": "D2024370102000001",
             "name": "陈晓明", "id_number": ID_B15},
            {**emp, "employee_record_id": "E2024110105000001-0001", "declaration_id": "D2024110105000001",
             "name": "刘洋", "id_number": ID_X.lower(), "employment_type": "劳务派遣"}]
    folder = sources_dir / "quota"
    folder.mkdir()
    (folder / "declarations.jsonl").write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in decls),
                                               encoding="utf-8")
    (folder / "declared-employees.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in emps), encoding="utf-8")
    with QuotaEmulator(folder, token="t0ken") as api:
        client = QuotaClient(api.url + "/", "t0ken", page_size=2, retry=RetryPolicy(attempts=2, backoff_s=0.01))
        first = quota.load(warehouse, client, years=[2024])
        assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in first] == [(6, 6, 0), (2, 2, 0)]
        assert quota.load(warehouse, client, years=[2024]) == []
        client.close()
    reconciled(warehouse, "quota")
    quota.stage(warehouse)
    dm = {d.declaration_id: d for d in q(warehouse, "select * from staging.declaration")}
    assert len(dm) == 6 and dm["D2024370102000002"].uscc == "91370102MA3C5XXX02"
    em = {e.source_key: e for e in q(warehouse, "select * from staging.employer_mention")}
    assert em["D2024370102000001"].org_code == "MA3C5XXX1" and em["D2024370102000001"].uscc is None
    assert em["D2024110105000001"].region_code == "110105"
    extra = q(warehouse, "select extra from raw.quota_declarations where declaration_id = 'D2024110105000001'")
    assert extra[0].extra == {"review_note": "跨省通办"}
    de = {d.employee_record_id: d for d in q(warehouse, "select * from staging.declared_employment")}
    assert de["E2024370102000001-0001"].id_number == ID_B18 and de["E2024370102000001-0001"].contract_end is None
    assert de["E2024110105000001-0001"].id_number == ID_X and de["E2024110105000001-0001"].declaration_year == 2024


def test_idless_registrations_in_traditional_script_link_only_when_one_person_fits(warehouse, sources_dir):
    """Employment registrations without ID or certificate (both may be empty), the name and the
    household text in traditional characters with stray spaces: linked to the one registered
    namesake of that county, gender, category and level; left alone when two fit."""
    from entity_resolution import resolve_persons

    base = {"民族": "汉族", "残疾类别": "肢体", "残疾等级": "三级", "发证日期": "2015-06-01", "有效期至": "长期",
            "证件状态": "正常", "更新时间": "2024-05-03 10:00:00", "性别": "女"}
    twin1, twin2, other = ident("37010319700101002"), ident("37010319700101004"), ident("37060219850312006")
    registry = [
        {**base, "残疾人证号": ID_A + "43", "姓名": "王秀英", "出生日期": "1985-03-12", "公民身份号码": ID_A,
         "户籍地区划代码": "370102"},
        {**base, "残疾人证号": other + "43", "姓名": "王秀英", "出生日期": "1985-03-12", "公民身份号码": other,
         "户籍地区划代码": "370602"},  # a namesake in Yantai
        {**base, "残疾人证号": twin1 + "43", "姓名": "李娟", "出生日期": "1970-01-01", "公民身份号码": twin1,
         "户籍地区划代码": "370103"},
        {**base, "残疾人证号": twin2 + "43", "姓名": "李娟", "出生日期": "1970-01-01", "公民身份号码": twin2,
         "户籍地区划代码": "370103"},
    ]
    drop_csv(sources_dir, "disability_registry", "cjrxx_202412.csv", DISABILITY_REGISTRY.columns, registry,
             "utf-8", bom=True)
    es = [{**ES_BASE, "登记编号": "JY600", "姓名": "王 秀英", "性别": "女", "户籍所在地": "山東省 濟南市 歷下區",
           "就业日期": "2024年3月"},
          {**ES_BASE, "登记编号": "JY601", "姓名": "李娟", "性别": "女", "户籍所在地": "山东省济南市市中区",
           "就业日期": "2024年3月"}]
    drop_csv(sources_dir, "employment_service", "jyxx_202403.csv", EMPLOYMENT_SERVICE.columns, es, "gb18030")
    for source in ("disability_registry", "employment_service"):
        load_stage(warehouse, source)
    resolve_persons(warehouse)
    xref = {(x.source, x.source_key): x.person_id for x in q(warehouse, "select * from core.person_xref")}
    assert xref[("employment_service", "JY600")] == xref[("disability_registry", ID_A + "43")]
    assert xref[("employment_service", "JY601")] not in {xref[("disability_registry", twin1 + "43")],
                                                         xref[("disability_registry", twin2 + "43")]}
    assert len(set(xref.values())) == 5


def test_gb18030_2022_codes_read_as_the_standard_characters(warehouse, sources_dir):
    """GB 18030-2022 (the standard in force, and what current JDKs and ICU write) encodes 龴 as
    FE59 and ︐ as A6D9, where Python's codec gives private-use code points; a name must read
    the same as in the UTF-8 register. The 4-byte codes older encoders wrote still read right."""
    header = list(UNEMPLOYED_SURVEY.columns)
    rows = [{"调查表编号": "DC700", "调查年度": "2024", "姓名": "王@1", "身份证号": ID_A, "培训需求": "电商@2"},
            {"调查表编号": "DC701", "调查年度": "2024", "姓名": "王\u9fb4", "身份证号": ID_C, "培训需求": "𠂇"}]
    data = csv_bytes(header, rows, "gb18030")
    data = data.replace(b"@1", bytes.fromhex("FE59")).replace(b"@2", bytes.fromhex("A6D9FE51"))
    drop(sources_dir / "unemployed_survey", "wjydc_2024.csv", bytes(data))
    load_stage(warehouse, "unemployed_survey")
    reconciled(warehouse, "unemployed_survey")
    raw = dict(q(warehouse, 'select "调查表编号", "姓名" from raw.unemployed_survey'))
    assert raw == {"DC700": "王\u9fb4", "DC701": "王\u9fb4"}
    sv = dict(q(warehouse, "select questionnaire_id, training_wanted from staging.survey"))
    assert sv == {"DC700": "电商\ufe10\U00020087", "DC701": "\U00020087"}


def test_clerk_typed_employer_names_in_lower_case_and_with_stray_punctuation(warehouse, sources_dir, monkeypatch):
    """A clerk types the employer's Latin letters in lower case and ends the name with a full-width
    comma (free text): the name is still the declared employer's."""
    import json

    from entity_resolution import resolve_employers, resolve_persons

    monkeypatch.setenv("QUOTA_YEARS", "2024")
    decl = {"declaration_id": "D2024370102000888", "declaration_year": 2024, "unit_name": "ＡＢＣ科技（济南）有限公司",
            "uscc": "91370102MA3C5ABC1X", "org_code": None, "unit_region_code": "370102", "unit_type": "企业",
            "total_staff": 50, "avg_annual_wage": 70000, "disabled_declared": 0, "status": "审核通过",
            "submitted_at": "2025-03-02T10:12:00", "updated_at": "2025-04-11T09:30:12"}
    folder = sources_dir / "quota"
    folder.mkdir()
    (folder / "declarations.jsonl").write_text(json.dumps(decl, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "declared-employees.jsonl").write_text("", encoding="utf-8")
    es = [{**ES_BASE, "登记编号": "JY800", "姓名": "刘洋", "身份证号": ID_X, "就业单位": "abc科技（济南）有限公司，",
           "就业日期": "2024-02-01"},
          {**ES_BASE, "登记编号": "JY801", "姓名": "钱五", "身份证号": ID_C, "就业单位": "Abc科技(济南)有限公司",
           "就业日期": "2024-03-01"}]
    drop_csv(sources_dir, "employment_service", "jyxx_202403.csv", EMPLOYMENT_SERVICE.columns, es, "gb18030")
    for source in ("quota", "employment_service"):
        load_stage(warehouse, source)
    resolve_persons(warehouse)
    resolve_employers(warehouse)
    exref = {(x.source, x.source_key): x.employer_id for x in q(warehouse, "select * from core.employer_xref")}
    assert exref[("employment_service", "JY800")] == exref[("employment_service", "JY801")] \
        == exref[("quota", "D2024370102000888")]
    [employer] = q(warehouse, "select name, uscc from core.employer")
    assert tuple(employer) == ("ABC科技(济南)有限公司", "91370102MA3C5ABC1X")
