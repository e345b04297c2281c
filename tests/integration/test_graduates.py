"""graduates: a real XLSX with one sheet per university, key 学校代码-学号."""

import datetime as dt
import io

import openpyxl
import sqlalchemy as sa

from connectors.graduates import SOURCE
from tests.helpers import drop

HEADER = ["学校代码", "学号", "姓名", "身份证号", "残疾证号", "性别", "出生年月", "残疾类别", "学历层次", "专业",
          "入学年份", "预计毕业时间", "毕业去向", "就业单位", "联系电话", "帮扶措施", "更新日期"]
SHEETS = {
    "山东大学": [
        ["10422", "201900123", "王秀英", "370102198503124522", "37010219850312452242", "女", "1985.03", "肢体",
         "本科", "计算机科学与技术", 2019, "2023-06", "已就业", "济南明泰机械有限公司", "13805311234",
         "一人一策: 岗位推荐", "2023-12-01"],
        [10422, 201900124, "李建国", "37010219900101001X", None, "男", "1990.01", "视力", "硕士研究生", "法学",
         2022, "2025-06", "在读", None, None, None, "2024-03-01"],
    ],
    # The same student number at another university is a different student.
    "青岛大学": [
        ["11065", "201900123", "赵四", "37070219950505123X", None, "男", "1995.05", "听力", "本科", "英语",
         2019, "2023-06", "待就业", "  ", None, None, "2023-12-01"],
    ],
}


def workbook(sheets=SHEETS) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        ws.append(HEADER if rows is not None else [h for h in HEADER if h != "学号"])
        for row in rows or []:
            ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_every_sheet_loads_under_school_and_student_number(warehouse, sources_dir):
    drop(sources_dir / "graduates", "gxcjrdxs_2023.xlsx", workbook())
    [result] = SOURCE.load(warehouse, sources_dir)
    assert (result.rows_read, result.rows_loaded) == (3, 3)
    with warehouse.connect() as conn:
        sheets = conn.execute(sa.text('select sheet, count(*) from raw.graduates group by sheet order by sheet')).all()
    assert sorted(sheets) == [("山东大学", 2), ("青岛大学", 1)]
    SOURCE.stage(warehouse)
    with warehouse.connect() as conn:
        study = {r.student_key: r for r in conn.execute(sa.text("select * from staging.study")).all()}
        pm = {r.source_key: r for r in conn.execute(sa.text(
            "select * from staging.person_mention where source = 'graduates'")).all()}
        em = {r.source_key: r for r in conn.execute(sa.text(
            "select * from staging.employer_mention where source = 'graduates'")).all()}
    assert set(study) == set(pm) == {"10422-201900123", "10422-201900124", "11065-201900123"}
    assert set(em) == {"10422-201900123"}  # only a non-empty 就业单位 names an employer
    assert em["10422-201900123"].name == "济南明泰机械有限公司"
    first = study["10422-201900123"]
    assert first.school_name == "山东大学" and first.school_code == "10422" and first.year == 2023
    assert first.expected_graduation == dt.date(2023, 6, 1) and first.enrol_year == 2019
    assert study["10422-201900124"].expected_graduation == dt.date(2025, 6, 1)
    assert (pm["10422-201900124"].birth_year_min, pm["10422-201900124"].birth_year_max) == (1990, 1990)
    assert pm["10422-201900123"].cert_number == "37010219850312452242"
    assert pm["11065-201900123"].id_number == "37070219950505123X"


def test_sheet_missing_student_number_rejects_the_workbook(warehouse, sources_dir):
    folder = sources_dir / "graduates"
    drop(folder, "gxcjrdxs_2022.xlsx", workbook({"山东大学": SHEETS["山东大学"], "青岛大学": None}))
    drop(folder, "gxcjrdxs_2023.xlsx", workbook())
    results = {r.delivery: r for r in SOURCE.load(warehouse, sources_dir)}
    assert results["gxcjrdxs_2022.xlsx"].status == "rejected"
    assert "青岛大学" in results["gxcjrdxs_2022.xlsx"].reason and "学号" in results["gxcjrdxs_2022.xlsx"].reason
    assert results["gxcjrdxs_2023.xlsx"].rows_loaded == 3
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(distinct delivery) from raw.graduates")).scalar() == 1
