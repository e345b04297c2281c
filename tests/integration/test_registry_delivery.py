"""The delivery model end to end on disability_registry files in a real PostgreSQL."""

import pytest
import sqlalchemy as sa

from connectors.disability_registry import SOURCE
from tests.helpers import drop

HEADER = ("残疾人证号,姓名,性别,民族,出生日期,公民身份号码,残疾类别,残疾等级,发证日期,有效期至,"
          "证件状态,注销日期,注销原因,户籍地区划代码,现居住地址,联系电话,更新时间")
ROWS = [
    "37010219850312452242,王秀英,女,汉族,1985-03-12,370102198503124522,肢体,二级,2015-06-01,2025-06-01,正常,,,370102,济南市历下区,13805311234,2024-05-03 10:00:00",
    "37010219700101001011,李 建国,男,汉族,1970-01-01,370102197001010010,视力,一级,2012-01-01,长期,注销,2024-03-01,死亡,370102,\"济南市,历下区\",0531-86123456,2024-03-02 09:00:00",
    ",张三,男,汉族,1990-01-01,37010219900101001x,视力,一级,2012-01-01,长期,正常,,,370102,x,,2024-03-02 09:00:00",
    "37010219900101001X42,赵四,男,汉族,1990-13-45,37010219900101001x,听力,四级,2012-01-01,长期,正常,,,370102,x,,2024-03-02 09:00:00",
]


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    return ("\r\n".join([header, *rows]) + "\r\n").encode(encoding)


def audit(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "select delivery, rows_read, rows_loaded, rows_quarantined, status from ops.load_audit order by load_id"
        )).all()


def test_snapshot_loads_quarantines_and_reconciles(warehouse, sources_dir):
    drop(sources_dir / "disability_registry", "cjrxx_202405.csv", csv_bytes(ROWS))
    results = SOURCE.load(warehouse, sources_dir)
    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in results] == [(4, 3, 1)]
    with warehouse.connect() as conn:
        q = conn.execute(sa.text("select row_ref, column_name, reason from ops.quarantine")).one()
        assert q.row_ref == "4" and q.column_name == "残疾人证号" and "empty" in q.reason
        assert conn.execute(sa.text("select count(*) from raw.disability_registry")).scalar() == 3
    SOURCE.stage(warehouse)
    with warehouse.connect() as conn:
        cert = conn.execute(sa.text(
            "select id_number, status, valid_until, phone, disability_level, birth_date "
            "from staging.certificate order by cert_number")).all()
        pm = conn.execute(sa.text(
            "select source_key, full_name, id_quality, gender from staging.person_mention order by source_key")).all()
        unparsed = conn.execute(sa.text("select rows_unparsed from ops.stage_audit")).scalar()
    assert cert[0].status == "cancelled" and cert[0].valid_until is None and cert[0].phone == "053186123456"
    assert cert[1].disability_level == 2 and str(cert[1].birth_date) == "1985-03-12"
    assert cert[2].birth_date is not None  # bad 出生日期 nulled, birth date taken from the ID
    assert unparsed == {"出生日期": 1}
    assert [p.full_name for p in pm] == ["李建国", "王秀英", "赵四"]
    assert pm[1].gender == "F" and pm[1].id_quality == "valid"


def test_marker_less_file_waits_then_loads_once(warehouse, sources_dir):
    folder = sources_dir / "disability_registry"
    drop(folder, "cjrxx_202405.csv", csv_bytes(ROWS[:2]), marker=False)
    assert SOURCE.load(warehouse, sources_dir) == []
    assert audit(warehouse) == []
    (folder / "cjrxx_202405.csv.ok").write_bytes(b"")
    assert [r.status for r in SOURCE.load(warehouse, sources_dir)] == ["loaded"]
    before = audit(warehouse)
    # A transfer retry drops the identical file again: nothing changes.
    drop(folder, "cjrxx_202405.csv", csv_bytes(ROWS[:2]))
    assert [r.status for r in SOURCE.load(warehouse, sources_dir)] == ["skipped"]
    assert audit(warehouse) == before
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from raw.disability_registry")).scalar() == 2


def test_wrong_encoding_and_missing_column_rejected_rest_loads(warehouse, sources_dir):
    folder = sources_dir / "disability_registry"
    drop(folder, "cjrxx_202404.csv", csv_bytes(ROWS[:2], encoding="gb18030"))
    drop(folder, "cjrxx_202405.csv", csv_bytes([r.split(",", 1)[1] for r in ROWS[:2]],
                                               header=HEADER.split(",", 1)[1]))
    drop(folder, "cjrxx_202406.csv", csv_bytes(ROWS[:2]))
    results = {r.delivery: r for r in SOURCE.load(warehouse, sources_dir)}
    assert results["cjrxx_202404.csv"].status == "rejected"
    assert "utf-8" in results["cjrxx_202404.csv"].reason and "gb18030" in results["cjrxx_202404.csv"].reason
    assert results["cjrxx_202405.csv"].status == "rejected"
    assert "残疾人证号" in results["cjrxx_202405.csv"].reason
    assert results["cjrxx_202406.csv"].rows_loaded == 2
    for _, read, loaded, quarantined, _ in audit(warehouse):
        assert read == loaded + quarantined
    with warehouse.connect() as conn:
        reasons = conn.execute(sa.text("select delivery, reason from ops.quarantine order by delivery")).all()
    assert [d for d, _ in reasons] == ["cjrxx_202404.csv", "cjrxx_202405.csv"]


def test_later_snapshot_supersedes_earlier_state(warehouse, sources_dir):
    folder = sources_dir / "disability_registry"
    later = ROWS[0].replace(",正常,,,", ",注销,2024-06-10,迁出,")
    drop(folder, "cjrxx_202406.csv", csv_bytes([later]))
    drop(folder, "cjrxx_202405.csv", csv_bytes([ROWS[0]]))
    SOURCE.load(warehouse, sources_dir)
    SOURCE.stage(warehouse)
    with warehouse.connect() as conn:
        status, period = conn.execute(sa.text("select status, period from staging.certificate")).one()
    assert (status, period) == ("cancelled", "202406")


def test_extra_columns_are_kept_in_raw(warehouse, sources_dir):
    drop(sources_dir / "disability_registry", "cjrxx_202405.csv",
         csv_bytes([ROWS[0] + ",备注内容"], header=HEADER + ",备注"))
    SOURCE.load(warehouse, sources_dir)
    with warehouse.connect() as conn:
        extra = conn.execute(sa.text("select extra from raw.disability_registry")).scalar()
    assert extra == {"备注": "备注内容"}


def test_truncated_csv_quarantines_the_cut_row(warehouse, sources_dir):
    content = csv_bytes(ROWS[:2])
    cut = content[: content.index("济南市,历下区".encode()) + 3]  # inside a quoted field
    drop(sources_dir / "disability_registry", "cjrxx_202405.csv", cut)
    [result] = SOURCE.load(warehouse, sources_dir)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (2, 1, 1)
    with warehouse.connect() as conn:
        row_ref, reason = conn.execute(sa.text("select row_ref, reason from ops.quarantine")).one()
    assert row_ref == "3" and "fields" in reason


def test_truncated_xlsx_is_rejected_whole(warehouse, sources_dir):
    from connectors.training import SOURCE as TRAINING

    drop(sources_dir / "training", "pxxy_2024Q3.xlsx", b"PK\x03\x04 truncated archive")
    [result] = TRAINING.load(warehouse, sources_dir)
    assert result.status == "rejected" and "XLSX" in result.reason
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ops.quarantine where delivery = 'pxxy_2024Q3.xlsx'")).scalar() == 1


def test_staging_refuses_a_row_for_a_table_the_contract_does_not_declare(warehouse, sources_dir):
    # The asset graph is derived from RawTable.stages: a row function writing elsewhere
    # would move data outside the lineage, so staging stops and names it.
    from connectors.staging import stage_pending
    from quotalink.contracts import DISABILITY_REGISTRY

    drop(sources_dir / "disability_registry", "cjrxx_202405.csv", csv_bytes(ROWS[:1]))
    SOURCE.load(warehouse, sources_dir)

    def stray(row, ctx):
        yield "staging.survey", {"survey_id": "x"}

    with pytest.raises(ValueError, match="disability_registry: raw.disability_registry staged a "
                                         "row for staging.survey"):
        stage_pending(warehouse, DISABILITY_REGISTRY, stray)
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from staging.survey")).scalar() == 0
        assert conn.execute(sa.text("select count(*) from ops.stage_audit")).scalar() == 0
