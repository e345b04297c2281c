"""training: a real XLSX with a merged title row, header on row 2, Excel dates and a 合计 row."""

import datetime as dt
import io

import openpyxl
import sqlalchemy as sa

from connectors.training import SOURCE, document_kind
from tests.helpers import drop

HEADER = ["序号", "学员编号", "姓名", "证件类型", "证件号码", "性别", "年龄", "联系电话", "培训项目名称",
          "培训类别", "培训机构", "开班日期", "结业日期", "培训结果", "是否取得证书", "所在市"]
ROWS = [
    # A certificate number under 身份证, names with spaces, real Excel dates.
    [1, "PX2024030001", "王 秀 英", "身份证", "37010219850312452242", "女", 39, "13805311234",
     "电商直播基础班", "电商直播", "济南市残疾人职业培训学校", dt.datetime(2024, 7, 1), dt.datetime(2024, 7, 20),
     "合格", "是", "济南市"],
    # An 18-character ID under 残疾证; the start date as a bare Excel serial number.
    [2, "PX2024030002", "李建国", "残疾证", "37010219900101001X", "男", 34, None,
     "盲人保健按摩", "盲人保健按摩", "潍坊按摩学校", 45474, None, "未结业", "否", "潍坊市"],
    [3, "PX2024030003", "赵　四", "身份证", "37070219950505123x", "男", "二十九", "0536-8123456",
     "短视频制作", "短视频制作", "潍坊按摩学校", dt.datetime(2024, 8, 5), dt.datetime(2024, 8, 30),
     "不合格", "否", "潍坊市"],
    [4, None, "无编号", "身份证", "370102198503124522", "女", 39, None, "x", "实用技术", "x",
     dt.datetime(2024, 8, 5), None, "合格", "否", "济南市"],
]


def workbook(rows=ROWS, header=HEADER, total=True) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "培训学员名单"
    ws.append(["2024年第三季度残疾人职业培训学员名单"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(header)
    for row in rows:
        ws.append(row)
    for r in range(3, 3 + len(rows)):
        ws.cell(r, 12).number_format = "yyyy-mm-dd"
    if total:
        ws.append(["合计", None, f"{len(rows)}人"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_document_kind_is_decided_by_shape():
    assert document_kind("37010219850312452242") == "cert"
    assert document_kind("３７０１０２１９８５０３１２４５２２") == "id"
    assert document_kind("370102850312452") == "id"
    assert document_kind(" ") is None


def test_title_header_total_row_dates_and_mismatched_document_types(warehouse, sources_dir):
    drop(sources_dir / "training", "pxxy_2024Q3.xlsx", workbook())
    [result] = SOURCE.load(warehouse, sources_dir)
    # Four records: the title, the header and the 合计 row are not records.
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 3, 1)
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select row_ref from ops.quarantine")).scalar() == "培训学员名单!6"
    out = SOURCE.stage(warehouse)
    assert out["pxxy_2024Q3.xlsx"].unparsed == {"年龄": 1}
    with warehouse.connect() as conn:
        tr = {r.trainee_id: r for r in conn.execute(sa.text("select * from staging.training")).all()}
        pm = {r.source_key: r for r in conn.execute(sa.text(
            "select * from staging.person_mention where source = 'training'")).all()}
    assert set(tr) == set(pm) == {"PX2024030001", "PX2024030002", "PX2024030003"}
    assert tr["PX2024030001"].start_date == dt.date(2024, 7, 1) and tr["PX2024030001"].end_date == dt.date(2024, 7, 20)
    assert tr["PX2024030002"].start_date == dt.date(2024, 7, 1) and tr["PX2024030002"].end_date is None
    assert tr["PX2024030001"].certified is True and tr["PX2024030002"].certified is False
    assert tr["PX2024030001"].period == "2024Q3"
    first, second, third = pm["PX2024030001"], pm["PX2024030002"], pm["PX2024030003"]
    # Labelled 身份证 but a certificate number: kept as the certificate, ID taken from it.
    assert first.cert_number == "37010219850312452242" and first.id_number == "370102198503124522"
    assert first.id_quality == "from_cert" and first.id_number_raw == "37010219850312452242"
    assert (first.disability_category, first.disability_level) == (4, 2)
    # Labelled 残疾证 but an ID number: an ID, no certificate.
    assert second.id_number == "37010219900101001X" and second.cert_number is None and second.id_quality == "valid"
    assert first.full_name == "王秀英" and first.name_raw == "王 秀 英" and third.full_name == "赵四"
    # Age 39 on 2024-07-01 → born 1984-07-02 … 1985-07-01; no birth date is claimed.
    assert (first.birth_year_min, first.birth_year_max) == (1984, 1985)
    assert (second.birth_year_min, second.birth_year_max) == (1989, 1990)
    assert third.birth_year_min is None and third.phone == "05368123456"


def test_missing_required_column_rejects_workbook_others_load(warehouse, sources_dir):
    folder = sources_dir / "training"
    cut = [h for h in HEADER if h != "证件号码"]
    drop(folder, "pxxy_2024Q2.xlsx", workbook([[c for h, c in zip(HEADER, r, strict=True) if h != "证件号码"]
                                                for r in ROWS[:1]], header=cut))
    drop(folder, "pxxy_2024Q3.xlsx", workbook(ROWS[:2], total=False))
    results = {r.delivery: r for r in SOURCE.load(warehouse, sources_dir)}
    assert results["pxxy_2024Q2.xlsx"].status == "rejected" and "证件号码" in results["pxxy_2024Q2.xlsx"].reason
    assert results["pxxy_2024Q3.xlsx"].rows_loaded == 2
