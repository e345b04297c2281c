"""hr: incremental pulls with an overlap window from SQLite, PostgreSQL and MariaDB sources."""

import datetime as dt
import os
import sqlite3
import uuid

import pytest
import sqlalchemy as sa

from connectors import hr
from tests.conftest import CI, SERVER_URL

MYSQL_URL = os.environ.get("TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306")
T0 = dt.datetime(2024, 5, 1, 10, 0, 0)

md = sa.MetaData()
AB01 = sa.Table(
    "ab01", md,
    sa.Column("aab001", sa.String(20), primary_key=True), sa.Column("aab003", sa.String(20)),
    sa.Column("aab004", sa.String(200)), sa.Column("aab019", sa.String(2)),
    sa.Column("aab301", sa.String(6)), sa.Column("aae036", sa.DateTime),
)
AC01 = sa.Table(
    "ac01", md,
    sa.Column("aac001", sa.String(20), primary_key=True), sa.Column("aac002", sa.String(18)),
    sa.Column("aac003", sa.String(50)), sa.Column("aac004", sa.String(1)),
    sa.Column("aac006", sa.Integer), sa.Column("aae005", sa.String(20)), sa.Column("aae036", sa.DateTime),
)
AC08 = sa.Table(
    "ac08", md,
    sa.Column("aaz223", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("aac001", sa.String(20)), sa.Column("aab001", sa.String(20)),
    sa.Column("aae002", sa.Integer), sa.Column("aae140", sa.String(3)),
    sa.Column("aac040", sa.Numeric(12, 2)), sa.Column("aae078", sa.String(1)), sa.Column("aae036", sa.DateTime),
)

EMPLOYERS = [
    {"aab001": "U001", "aab003": "91370102MA3C5ABC1X", "aab004": "济南明泰机械有限公司", "aab019": "10",
     "aab301": "370102", "aae036": T0},
    {"aab001": "U002", "aab003": "12345678-9", "aab004": "（济南）老字号 商行", "aab019": "70",
     "aab301": "370103", "aae036": T0},
]
PERSONS = [
    {"aac001": "P001", "aac002": "370102198503124522", "aac003": "王秀英", "aac004": "2",
     "aac006": 19850312, "aae005": "13805311234", "aae036": T0},
    {"aac001": "P002", "aac002": "37010219900101001x", "aac003": "李 建国", "aac004": "1",
     "aac006": 19900101, "aae005": None, "aae036": T0},
]


def contributions(n: int, paid: str = "0") -> list[dict]:
    return [
        {"aaz223": i, "aac001": "P001", "aab001": "U001", "aae002": 202401 + (i - 1) % 12, "aae140": "110",
         "aac040": "4500.00", "aae078": paid, "aae036": T0 + dt.timedelta(minutes=i)}
        for i in range(1, n + 1)
    ]


def _mysql_admin() -> sa.Engine:
    engine = sa.create_engine(MYSQL_URL)
    try:
        with engine.connect():
            return engine
    except sa.exc.OperationalError as exc:
        engine.dispose()
        message = f"MariaDB at {MYSQL_URL} is unreachable: {exc.orig}"
        if CI:
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def source(request, tmp_path):
    """An empty HR source database of each kind, with ab01/ac01/ac08; yields its URL."""
    name = f"ql_hrsrc_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hr.db'}"
    elif request.param == "postgresql":
        admin = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'create database "{name}"'))
        url = sa.engine.make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
        drop = (admin, f'drop database if exists "{name}" with (force)')
    else:
        admin = _mysql_admin()
        with admin.connect() as conn:
            conn.execute(sa.text(f"create database `{name}` character set utf8mb4"))
        url = f"{MYSQL_URL}/{name}?charset=utf8mb4"
        drop = (admin, f"drop database if exists `{name}`")
    engine = sa.create_engine(url)
    md.create_all(engine)
    yield engine, url
    engine.dispose()
    if drop:
        admin, sql = drop
        with admin.connect() as conn:
            conn.execute(sa.text(sql))
            conn.commit()
        admin.dispose()


def put(engine, table, rows):
    with engine.begin() as conn:
        for row in rows:
            key = table.primary_key.columns[0]
            conn.execute(table.delete().where(key == row[key.name]))
            conn.execute(table.insert().values(**row))


def audit(engine):
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "select delivery, raw_table, rows_read, rows_loaded, rows_quarantined, status "
            "from ops.load_audit order by load_id")).all()


def scalar(engine, sql):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()


def test_incremental_pull_overlap_upsert_and_staging(warehouse, source):
    src, url = source
    put(src, AB01, EMPLOYERS)
    put(src, AC01, PERSONS)
    put(src, AC08, contributions(5))

    first = hr.load_url(warehouse, url, chunk=2)
    assert [(r.delivery.split(":")[0], r.rows_read, r.rows_loaded) for r in first] == [
        ("hr_ab01", 2, 2), ("hr_ac01", 2, 2), ("hr_ac08", 5, 5)]
    assert scalar(warehouse, "select value from ops.watermark where stream = 'hr_ac08'") == "2024-05-01 10:05:00"

    # Nothing new: the overlap window is re-read but adds no delivery and no audit row.
    before = audit(warehouse)
    assert hr.load_url(warehouse, url, chunk=2) == []
    assert audit(warehouse) == before

    # Money arrives for month 1 (new aae036), a new row appears, and a row committed late
    # carries an aae036 below the watermark but inside the overlap window.
    changed = contributions(5)[0] | {"aae078": "1", "aae036": T0 + dt.timedelta(hours=2)}
    late = contributions(6)[5] | {"aae036": T0 - dt.timedelta(hours=3)}
    put(src, AC08, [changed, late])
    second = hr.load_url(warehouse, url, chunk=2)
    assert [(r.delivery.split(":")[0], r.rows_read, r.rows_loaded, r.rows_quarantined) for r in second] == [
        ("hr_ac08", 2, 2, 0)]
    assert scalar(warehouse, "select count(*) from raw.hr_ac08") == 6
    assert scalar(warehouse, "select value from ops.watermark where stream = 'hr_ac08'") == "2024-05-01 12:00:00"

    hr.stage(warehouse)
    with warehouse.connect() as conn:
        contrib = conn.execute(sa.text(
            "select contribution_id, person_key, employer_key, period, insurance, base_yuan, is_paid "
            "from staging.contribution order by contribution_id")).all()
        persons = conn.execute(sa.text(
            "select source_key, full_name, id_number, gender, birth_date, phone from staging.person_mention "
            "where source = 'hr' order by source_key")).all()
        employers = conn.execute(sa.text(
            "select source_key, name, uscc, org_code, region_code, unit_type from staging.employer_mention "
            "where source = 'hr' order by source_key")).all()
    assert len(contrib) == 6
    assert contrib[0].is_paid is True and contrib[1].is_paid is False
    assert (contrib[0].period, contrib[0].insurance, str(contrib[0].base_yuan)) == (202401, "110", "4500.00")
    assert [p.source_key for p in persons] == ["P001", "P002"]
    assert persons[0].gender == "F" and str(persons[0].birth_date) == "1985-03-12" and persons[0].phone == "13805311234"
    assert persons[1].full_name == "李建国" and persons[1].id_number == "37010219900101001X"
    assert [e.source_key for e in employers] == ["U001", "U002"]
    assert employers[0].uscc == "91370102MA3C5ABC1X" and employers[0].org_code == "MA3C5ABC1"
    assert employers[0].unit_type == "enterprise" and employers[0].region_code == "370102"
    assert employers[1].uscc is None and employers[1].org_code == "123456789"
    assert employers[1].unit_type == "individual_business" and employers[1].name == "(济南)老字号商行"

    # A later change of the same contribution supersedes it in staging too.
    put(src, AC08, [changed | {"aac040": "5000.00", "aae036": T0 + dt.timedelta(hours=4)}])
    assert [r.rows_loaded for r in hr.load_url(warehouse, url)] == [1]
    hr.stage(warehouse)
    assert scalar(warehouse, "select base_yuan from staging.contribution where contribution_id = 1") == 5000
    for _, _, read, loaded, quarantined, _ in audit(warehouse):
        assert read == loaded + quarantined


def test_missing_required_column_rejects_table_others_load(warehouse, tmp_path):
    path = tmp_path / "hr.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "create table ab01 (aab001 varchar(20) primary key, aab003 text, aab004 text, aab019 text,"
            " aab301 text, aae036 timestamp, aab999 text);"
            "create table ac01 (aac001 varchar(20) primary key, aac002 text, aac003 text, aac004 text,"
            " aac006 integer, aae005 text, aae036 timestamp);"
            # ac08 without aae140 (the insurance type): schema drift.
            "create table ac08 (aaz223 bigint primary key, aac001 text, aab001 text, aae002 integer,"
            " aac040 numeric, aae078 text, aae036 timestamp);"
            "insert into ab01 values ('U001', '91370102MA3C5ABC1X', '明泰', '10', '370102',"
            " '2024-05-01T10:00:00', '备注');"
            "insert into ac01 values ('P001', '370102198503124522', '王秀英', '2', 19850312, null,"
            " '2024-05-01 10:00:00');"
            "insert into ac08 values (1, 'P001', 'U001', 202401, 4500, '1', '2024-05-01 10:00:00');"
        )
    url = f"sqlite:///{path}"
    results = {r.delivery.split(":")[0]: r for r in hr.load_url(warehouse, url)}
    assert results["hr_ac08"].status == "rejected" and "aae140" in results["hr_ac08"].reason
    assert results["hr_ab01"].rows_loaded == 1 and results["hr_ac01"].rows_loaded == 1
    assert scalar(warehouse, "select extra::text from raw.hr_ab01") == '{"aab999": "备注"}'
    # 'T' in a SQLite text timestamp is read as the same instant.
    assert scalar(warehouse, "select aae036 from raw.hr_ab01") == "2024-05-01 10:00:00"
    with warehouse.connect() as conn:
        reason = conn.execute(sa.text("select reason from ops.quarantine where delivery = 'hr_ac08:schema'")).scalar()
    assert "missing required column(s) aae140" in reason
    # The same drift is not reported again on the next run; nothing else is new.
    before = audit(warehouse)
    assert hr.load_url(warehouse, url) == []
    assert audit(warehouse) == before


def test_settings_default_to_offline_sqlite_and_absent_file_is_no_delivery(warehouse, sources_dir):
    from quotalink.settings import get_settings

    settings = get_settings()
    assert hr.load(warehouse, settings) == []
    assert not (sources_dir / "hr" / "hr.db").exists()  # a missing file is never created
    (sources_dir / "hr").mkdir()
    engine = sa.create_engine(f"sqlite:///{sources_dir / 'hr' / 'hr.db'}")
    md.create_all(engine)
    put(engine, AB01, EMPLOYERS)
    engine.dispose()
    assert [(r.delivery.split(":")[0], r.rows_loaded) for r in hr.load(warehouse, settings)] == [("hr_ab01", 2)]


def test_unreachable_database_is_a_clear_config_error(warehouse):
    from quotalink.errors import ConfigError

    with pytest.raises(ConfigError, match="HR_DB_URL: cannot reach"):
        hr.load_url(warehouse, "postgresql+psycopg2://nobody:secret@127.0.0.1:1/none")

