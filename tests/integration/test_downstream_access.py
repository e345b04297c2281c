"""Downstream access, connecting as each role through real login users: grants, masking, RLS,
the hash chain, ID tokens and golden records as of a date, on a province run twice."""

import datetime as dt
import re
import uuid
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from orchestration.cli import main
from tests.conftest import _server_url
from warehouse import descriptions, roles

pytestmark = pytest.mark.integration

PERSONS = 300
KEY = "test-deployment-key"
CITY = "3701"


def _create_db(server: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    admin.dispose()
    return sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)


def _drop_db(server: str, url: str) -> None:
    from warehouse import db

    db._engine_for.cache_clear()
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{sa.engine.make_url(url).database}" with (force)'))
    admin.dispose()


def _rows(conn, sql: str, **kw) -> list:
    return [tuple(r) for r in conn.execute(sa.text(sql), kw).all()]


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """A province run once on October's deliveries and again after November's."""
    import synthetic
    from quotalink.settings import get_settings
    from warehouse.db import get_engine

    server = _server_url()
    url = _create_db(server, "ql_ds")
    root = tmp_path_factory.mktemp("downstream")
    with pytest.MonkeyPatch.context() as mp:
        for name, value in {"WAREHOUSE_URL": url, "SOURCES_DIR": str(root / "sources"),
                            "QUOTALINK_VAR_DIR": str(root / "var"), "DAGSTER_HOME": str(root / "dagster"),
                            "QUOTALINK_PROGRESS": "0", "QUOTALINK_ID_TOKEN_KEY": KEY}.items():
            mp.setenv(name, value)
        mp.delenv("QUOTA_API_URL", raising=False)
        mp.delenv("HR_DB_URL", raising=False)
        mp.delenv("QUOTALINK_ROLE_PREFIX", raising=False)
        get_settings.cache_clear()
        synthetic.generate(root / "sources", root / "truth", persons=PERSONS, seed=5, progress=False,
                           as_of="202610")
        assert main(["run"]) == 0
        engine = get_engine(get_settings())
        with engine.begin() as conn:
            first_persons = _rows(conn, "select * from core.person order by person_id")
            first_xref = _rows(conn, "select source, source_key, person_id, match_probability "
                                     "from core.person_xref order by 1, 2")
            first_run = conn.execute(sa.text("select distinct run_id from mart.anomaly_flag")).scalars().all()
            # The first run happened forty days ago, as far as the published versions know.
            for table in ("person", "employer", "person_xref", "employer_xref"):
                conn.execute(sa.text(f"update core.{table}_version set valid_from = valid_from - "
                                     "interval '40 days', valid_to = valid_to - interval '40 days'"))
        synthetic.generate(root / "sources", root / "truth", persons=PERSONS, seed=5, progress=False,
                           as_of="202611")
        assert main(["run"]) == 0
        yield SimpleNamespace(engine=engine, url=url, first_persons=first_persons,
                              first_xref=first_xref, first_run=first_run, root=root)
        get_settings.cache_clear()
    engine.dispose()
    _drop_db(server, url)


@pytest.fixture(scope="module")
def login(province):
    """connect(kind) → an engine logged in as a fresh login user granted that role."""
    admin = sa.create_engine(province.url, isolation_level="AUTOCOMMIT")
    made, engines = [], []

    def connect(kind: str) -> sa.Engine:
        group = roles.city_role(kind.split(":")[1]) if kind.startswith("city:") else roles.role_name(kind)
        user = f"ql_t_{uuid.uuid4().hex[:10]}"
        with admin.connect() as conn:
            conn.execute(sa.text(f"create role {user} login password 'x' in role {group}"))
        made.append(user)
        engine = sa.create_engine(sa.engine.make_url(province.url).set(username=user, password="x"))
        engines.append(engine)
        return engine

    yield connect
    for e in engines:
        e.dispose()
    with admin.connect() as conn:
        for user in made:
            conn.execute(sa.text(f"drop role if exists {user}"))
    admin.dispose()


def test_reader_is_denied_core_and_sees_masked_values(province, login):
    reader = login("reader")
    with reader.connect() as conn:
        for table in ("core.person", "core.person_xref", "mart.anomaly_flag", "staging.person_mention",
                      "review.decision"):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text(f"select * from {table} limit 1"))
            conn.rollback()
        masked = {r[0]: r[1:] for r in conn.execute(sa.text(
            "select person_id, full_name, id_number, phone, birth_date, id_token from api.person"))}
    with province.engine.connect() as conn:
        clear = {r[0]: r[1:] for r in conn.execute(sa.text(
            "select person_id, full_name, id_number, phone, birth_date, id_token from core.person"))}
    assert masked.keys() == clear.keys() and len(clear) >= PERSONS * 0.8
    ids = [(m[1], c[1]) for m, c in zip(masked.values(), clear.values(), strict=True) if c[1]]
    assert len(ids) > PERSONS / 2
    for pid, (name, id_number, phone, birth, token) in masked.items():
        c = clear[pid]
        if c[0]:
            assert name == c[0][0] + "*" * max(len(c[0]) - 1, 1)
        if c[1]:
            assert re.fullmatch(r"\d{6}\*{8}[0-9X]{4}", id_number) and id_number[:6] == c[1][:6]
            assert id_number[-4:] == c[1][-4:]
            assert token == c[4] and len(token) == 64
        if c[2] and len(c[2]) == 11:
            assert phone == c[2][:3] + "****" + c[2][-4:]
        assert birth is None


def test_pii_reader_sees_clear_values(province, login):
    with login("pii_reader").connect() as conn:
        seen = _rows(conn, "select person_id, full_name, id_number, phone, birth_date from api.person "
                           "order by person_id")
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(sa.text("select 1 from core.person limit 1"))
    with province.engine.connect() as conn:
        clear = _rows(conn, "select person_id, full_name, id_number, phone, birth_date from core.person "
                            "order by person_id")
    assert seen == clear


# How to tell a row's city, per api view: a city_code column, or a golden ID whose cities the
# warehouse knows (employers by region, persons by core.person_city).
PERSON_CITIES = "select person_id from core.person_city where city_code = :c"
EMPLOYER_CITY = "select employer_id from core.employer where api.city_of(region_code) = :c"
CITY_OF_ROW = {
    "person": ("person_id", PERSON_CITIES), "person_history": ("person_id", PERSON_CITIES),
    "person_xref": ("person_id", PERSON_CITIES), "person_xref_history": ("person_id", PERSON_CITIES),
    "person_id_lookup": ("current_id", PERSON_CITIES),
    "employer_xref": ("employer_id", EMPLOYER_CITY), "employer_xref_history": ("employer_id", EMPLOYER_CITY),
    "employer_id_lookup": ("current_id", EMPLOYER_CITY),
    "employer": ("city_code", None), "employer_history": ("city_code", None),
    "declared_employment": ("city_code", None), "anomaly_flag": ("city_code", None),
    "quota_compliance": ("city_code", None),
}


def test_a_city_role_sees_no_row_of_another_city_in_any_api_view(province, login):
    with province.engine.connect() as conn:
        views = set(conn.execute(sa.text(
            "select table_name from information_schema.views where table_schema = 'api'")).scalars())
        allowed = {sql: set(conn.execute(sa.text(sql), {"c": CITY}).scalars())
                   for sql in (PERSON_CITIES, EMPLOYER_CITY)}
        province_counts = {v: conn.execute(sa.text(f"select count(*) from api.{v}")).scalar() for v in views}
    assert views == set(CITY_OF_ROW), "every api view needs a city test"
    city = login(f"city:{CITY}")
    with city.connect() as conn:
        for view, (column, sql) in CITY_OF_ROW.items():
            values = conn.execute(sa.text(f"select {column} from api.{view}")).scalars().all()
            outside = [v for v in values if (v != CITY if sql is None else v not in allowed[sql])]
            assert outside == [], f"api.{view}: {len(outside)} rows of other cities"
            if view in ("employer", "anomaly_flag", "person", "declared_employment", "quota_compliance"):
                assert 0 < len(values) < province_counts[view], view
        # Nothing but the api schema.
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(sa.text("select 1 from core.employer limit 1"))
        conn.rollback()
        assert conn.execute(sa.text("select api.visible_cities()")).scalar() == [CITY]
        assert conn.execute(sa.text("select count(*) from api.person where full_name !~ '\\*'"
                                    " and full_name is not null")).scalar() == 0


def test_console_appends_decisions_in_scope_and_cannot_rewrite_them(province, login):
    console = login("console")
    with province.engine.connect() as conn:
        flag, flag_city = conn.execute(sa.text(
            "select flag_id, city_code from api.anomaly_flag order by flag_id limit 1")).one()
        other = next(c for c in roles.city_codes() if c != flag_city)
    with console.begin() as conn:
        conn.execute(sa.text("select set_config('quotalink.city_code', :c, true)"), {"c": flag_city})
        new_id = conn.execute(sa.text(
            "insert into review.decision (flag_id, decision, reviewer, note) "
            "values (:f, 'confirmed', '审计员甲', '已核实') returning decision_id"), {"f": flag}).scalar()
        seen_flags = conn.execute(sa.text("select count(*) from mart.anomaly_flag")).scalar()
        cities = set(conn.execute(sa.text(
            "select distinct api.city_of(e.region_code) from mart.anomaly_flag f "
            "join core.employer e using (employer_id)")).scalars())
    assert cities == {flag_city} and seen_flags > 0
    for sql in ("update review.decision set note = 'rewritten' where decision_id = :d",
                "delete from review.decision where decision_id = :d"):
        with console.begin() as conn, pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            conn.execute(sa.text(sql), {"d": new_id})
    # A city auditor cannot decide on another city's flag, nor see it.
    with console.begin() as conn:
        conn.execute(sa.text("select set_config('quotalink.city_code', :c, true)"), {"c": other})
        assert conn.execute(sa.text("select count(*) from mart.anomaly_flag where flag_id = :f"),
                            {"f": flag}).scalar() == 0
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            conn.execute(sa.text("insert into review.decision (flag_id, decision, reviewer) "
                                 "values (:f, 'dismissed', '审计员乙')"), {"f": flag})
    # Neither can the pipeline, which owns the table: the trigger refuses every role.
    pipeline = login("pipeline")
    for sql in ("update review.decision set note = 'rewritten'", "delete from review.decision"):
        with pipeline.begin() as conn, pytest.raises(sa.exc.ProgrammingError, match="append-only"):
            conn.execute(sa.text(sql))
    # The pipeline owns the tables: row-level security does not narrow what it reads.
    with pipeline.connect() as conn, province.engine.connect() as admin:
        for table in ("core.person", "mart.anomaly_flag", "review.decision"):
            count = f"select count(*) from {table}"
            assert conn.execute(sa.text(count)).scalar() == admin.execute(sa.text(count)).scalar()
    with province.engine.connect() as conn:
        assert conn.execute(sa.text("select note from review.decision where decision_id = :d"),
                            {"d": new_id}).scalar() == "已核实"
        shown = conn.execute(sa.text("select decision, reviewer from api.anomaly_flag where flag_id = :f"),
                             {"f": flag}).one()
    assert tuple(shown) == ("confirmed", "审计员甲")


def test_audit_verify_passes_then_names_a_tampered_row(province, login, capsys):
    console = login("console")
    with province.engine.connect() as conn:
        flags = conn.execute(sa.text("select flag_id from mart.anomaly_flag order by flag_id limit 3")).scalars().all()
    ids = []
    for i, flag in enumerate(flags):
        with console.begin() as conn:
            ids.append(conn.execute(sa.text(
                "insert into review.decision (flag_id, decision, reviewer, note) "
                "values (:f, 'escalated', '审计员', :n) returning decision_id"), {"f": flag, "n": f"第{i}条"}).scalar())
            conn.execute(sa.text("insert into review.access_log (username, action, flag_id) "
                                 "values ('审计员', 'view_flag', :f)"), {"f": flag})
    capsys.readouterr()
    assert main(["audit", "verify"]) == 0
    assert "review.decision: ok" in capsys.readouterr().out
    victim = ids[1]
    with province.engine.begin() as conn:  # a superuser working around the trigger
        conn.execute(sa.text("alter table review.decision disable trigger chain_refuse"))
        conn.execute(sa.text("update review.decision set note = '无问题' where decision_id = :d"), {"d": victim})
        conn.execute(sa.text("alter table review.decision enable trigger chain_refuse"))
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"review.decision decision_id={victim}: content does not match" in err


def test_each_run_checkpoints_the_chain_heads(province):
    with province.engine.connect() as conn:
        rows = _rows(conn, "select run_id, chain, length, head_hash from ops.audit_checkpoint "
                           "order by checkpoint_id")
        flag_runs = set(conn.execute(sa.text(
            "select distinct run_id from mart.anomaly_flag where active")).scalars())
    assert len(rows) == 6 and {r[1] for r in rows} == set(roles_chains())
    assert all(re.fullmatch(r"[0-9a-f]{64}", r[3]) for r in rows)
    first, second = rows[0][0], rows[-1][0]
    assert first != second and province.first_run == [first]
    assert flag_runs == {second}  # the findings name the run that last produced them


def roles_chains() -> list[str]:
    from warehouse.audit import CHAINS

    return list(CHAINS)


def test_person_as_of_a_date_between_runs_is_the_first_run(province, login, capsys):
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # what api.end_of_day counts in
    between = today - dt.timedelta(days=20)
    with province.engine.connect() as conn:
        now = _rows(conn, "select * from core.person order by person_id")
        cols = ", ".join(c.name for c in sa.Table("person", sa.MetaData(), schema="core",
                                                  autoload_with=conn).c)
    assert now != province.first_persons, "the second month changed nothing: the test proves nothing"
    with login("pii_reader").connect() as conn:
        then = _rows(conn, f"select {cols} from api.person_as_of(:d) order by person_id", d=between)
        xref = _rows(conn, "select source, source_key, person_id, match_probability "
                           "from api.person_xref_as_of(:d) order by 1, 2", d=between)
        current = _rows(conn, f"select {cols} from api.person_as_of(:d) order by person_id", d=today)
        assert conn.execute(sa.text("select count(*) from api.person_as_of(:d)"),
                            {"d": between - dt.timedelta(days=30)}).scalar() == 0
        employers = conn.execute(sa.text("select count(*) from api.employer_as_of(:d)"), {"d": between}).scalar()
    assert then == province.first_persons
    assert xref == province.first_xref
    assert current == now and employers > 0
    changed = next(p for p, n in zip(province.first_persons, now, strict=False) if p != n)
    capsys.readouterr()
    assert main(["asof", "--person", changed[0], "--date", between.isoformat()]) == 0
    out = capsys.readouterr().out
    assert f"person {changed[0]} as published on {between}" in out and "mentions (" in out


def test_id_token_joins_across_warehouses_with_the_same_key_only(province, monkeypatch):
    from quotalink.settings import get_settings
    from warehouse.history import after_publish, id_token

    with province.engine.connect() as conn:
        persons = _rows(conn, "select person_id, id_number, id_token from core.person "
                              "where id_number is not null order by person_id limit 50")
    assert all(token == id_token(number, KEY) for _pid, number, token in persons)
    server = _server_url()
    url = _create_db(server, "ql_ds_tok")
    try:
        from warehouse.db import get_engine

        monkeypatch.setenv("WAREHOUSE_URL", url)
        tokens = {}
        for key in (KEY, "another-deployment"):
            monkeypatch.setenv("QUOTALINK_ID_TOKEN_KEY", key)
            get_settings.cache_clear()
            other = get_engine(get_settings())
            with other.begin() as conn:
                conn.execute(sa.text("delete from core.person"))
                for pid, number, _token in persons:
                    conn.execute(sa.text("insert into core.person (person_id, id_number) values (:p, :n)"),
                                 {"p": f"X{pid}", "n": number})
                after_publish(conn, "person")
                tokens[key] = dict(_rows(conn, "select id_number, id_token from core.person"))
        same = {number: token for _pid, number, token in persons}
        assert tokens[KEY] == same
        assert all(tokens["another-deployment"][n] != same[n] for n in same)
    finally:
        get_settings.cache_clear()
        _drop_db(server, url)


def test_every_api_column_carries_the_registry_comment(province):
    from warehouse.api import api_columns

    with province.engine.connect() as conn:
        found = conn.execute(sa.text("""
            select c.relname, a.attname, col_description(c.oid, a.attnum),
                   format_type(a.atttypid, a.atttypmod)
            from pg_attribute a join pg_class c on c.oid = a.attrelid
            join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'api' and c.relkind = 'v' and a.attnum > 0""")).all()
        comments = {(r[0], r[1]): r[2] for r in found}
        types = {(r[0], r[1]): r[3] for r in found}
        views = {r[0]: r[1] for r in conn.execute(sa.text(
            "select c.relname, obj_description(c.oid) from pg_class c join pg_namespace n "
            "on n.oid = c.relnamespace where n.nspname = 'api' and c.relkind = 'v'"))}
        schemas = dict(_rows(conn, "select nspname, obj_description(oid) from pg_namespace "
                                   "where nspname = any(:s)", s=list(descriptions.SCHEMA_COMMENTS)))
    missing = [f"api.{v}.{c}" for (v, c), text in comments.items() if not text]
    assert missing == [], f"api columns without a comment: {missing}"
    assert set(views) == set(descriptions.API_VIEWS) and all(views.values())
    for view in views:
        described = {c.name for c in api_columns(view)}
        actual = {c for (v, c) in comments if v == view}
        assert described == actual, f"api.{view}: registry and view differ: {described ^ actual}"
        wrong = {c.name: (c.type, types[(view, c.name)]) for c in api_columns(view)
                 if types[(view, c.name)] != c.type}
        assert wrong == {}, f"api.{view}: registry types differ from the view's: {wrong}"
    assert all(schemas.values()) and set(schemas) == set(descriptions.SCHEMA_COMMENTS)
