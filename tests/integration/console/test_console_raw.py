"""Survivorship's sources and raw-row lineage end to end: a generated province loaded from
files, the quota API and the HR database, resolved, and read through the console over HTTP."""

import html
import re
import uuid

import pytest
import sqlalchemy as sa

from entity_resolution.survivorship import ATTRIBUTES, rules
from quotalink.contracts import HR_AC01, QUOTA_EMPLOYEES, RAW_TABLES, TRAINING
from quotalink.privacy import mask_name
from review.accounts import add_account
from review.security import mention_token
from tests.conftest import _server_url
from tests.integration.console.conftest import PASSWORD, api, start_console
from warehouse.roles import city_codes

pytestmark = pytest.mark.integration
PERSONS = 80
# A file source of each format, the quota API and the HR database: enough for flags, and
# fewer sources keep the module's setup short.
SOURCES = ("disability_registry", "training", "quota", "hr")
# Staged columns that hold a delivered name, by raw table (as-delivered comparison).
NAME_COLUMN = {"disability_registry": "姓名", QUOTA_EMPLOYEES.table: "name", HR_AC01.table: "aac003",
               TRAINING.table: "姓名"}


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    """A province in a database of its own: four sources loaded, staged, resolved, flagged."""
    import entity_resolution
    import synthetic
    from connectors.registry import SOURCE_OBJECTS
    from expectations import run_rules
    from quotalink.settings import get_settings
    from warehouse.db import ensure_schema

    tmp = tmp_path_factory.mktemp("raw")
    server = _server_url()
    name = f"ql_raw_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.engine.make_url(server).set(database=name)
    engine = sa.create_engine(url, pool_size=5)
    with pytest.MonkeyPatch.context() as mp:
        synthetic.generate(tmp / "p", tmp / "truth", persons=PERSONS, seed=11, progress=False,
                           scenario="hard")
        mp.setenv("SOURCES_DIR", str(tmp / "p"))
        mp.setenv("QUOTALINK_VAR_DIR", str(tmp / "var"))
        mp.setenv("QUOTALINK_PROGRESS", "0")
        mp.setenv("WAREHOUSE_URL", url.render_as_string(hide_password=False))
        mp.delenv("QUOTA_API_URL", raising=False)
        mp.delenv("HR_DB_URL", raising=False)
        get_settings.cache_clear()
        ensure_schema(engine, "")
        settings = get_settings()
        for source in (SOURCE_OBJECTS[s] for s in SOURCES):
            source.load(engine, settings)
            source.stage(engine)
        entity_resolution.resolve_persons(engine, run_id="r1")
        entity_resolution.resolve_employers(engine, run_id="r1")
        run_rules(engine, run_id="r1")
        get_settings.cache_clear()
    base, stop = start_console(engine, queue_check_seconds=0)
    yield engine, base
    stop()
    engine.dispose()
    from warehouse import db

    db._migrated.discard(url.render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


@pytest.mark.parametrize("spec", [t for t in RAW_TABLES if t.table in NAME_COLUMN],
                         ids=lambda t: f"{t.fmt}:{t.table}")
def test_staged_mentions_point_to_their_raw_rows(province, spec):
    """File (CSV, XLSX), API and HR database: every staged mention names its raw row, and
    that row holds the name as the mention says it was delivered."""
    engine, _ = province
    key = ("r.delivery = m.delivery and r.row_ref = m.row_ref" if spec.fmt in ("csv", "xlsx")
           else f'r."{spec.key}" = m.row_ref')
    with engine.connect() as conn:
        staged, linked, same_name = conn.execute(sa.text(f"""
            select count(*), count(r.row_ref),
                   count(*) filter (where btrim(r."{NAME_COLUMN[spec.table]}") = m.name_raw)
            from staging.person_mention m
            left join raw."{spec.table}" r on {key}
            where m.source = :s""").bindparams(s=spec.source)).one()
        tables = conn.execute(sa.text(
            "select array_agg(distinct raw_table) from staging.person_mention where source = :s"),
            {"s": spec.source}).scalar()
    assert staged > 0
    assert tables == [spec.table]
    assert linked == staged, f"{spec.table}: {staged - linked} staged mention(s) without raw row"
    assert same_name == staged


def _rank(attribute: str) -> dict[str, int]:
    rule = next(r for r in rules("person") if r.attribute == attribute)
    return next(arg for kind, arg in rule.steps if kind == "source")


def _contested(conn) -> tuple[str, str, str, str, str]:
    """A flagged person whose mentions disagree on an attribute, where one mention
    of the best-ranked source (survivorship.csv) holds a value: (flag, person, attribute,
    winning source, winning key), derived from the rule, not from what resolution wrote."""
    for attribute in ("full_name", "phone", "hukou_region_code", "disability_level", "birth_date"):
        rank = _rank(attribute)
        rows = conn.execute(sa.text(f"""
            select f.flag_id, x.person_id, m.source, m.source_key, m.{attribute}
            from mart.anomaly_flag f
            join core.person_xref x on x.person_id = f.person_id
            join staging.person_mention m on m.source = x.source and m.source_key = x.source_key
            where m.{attribute} is not null and f.active
            order by f.flag_id, m.source, m.source_key""")).all()
        by_person: dict[str, list] = {}
        flags: dict[str, str] = {}
        for flag, person, source, key, value in rows:
            flags.setdefault(person, flag)
            if (source, key) not in {(s, k) for s, k, _ in by_person.get(person, [])}:
                by_person.setdefault(person, []).append((source, key, value))
        for person, mentions in sorted(by_person.items()):
            if len({v for _, _, v in mentions}) < 2:
                continue
            best = min(rank.get(s, len(rank) + 1) for s, _, _ in mentions)
            top = [(s, k) for s, k, _ in mentions if rank.get(s, len(rank) + 1) == best]
            if len(top) == 1:
                return flags[person], person, attribute, *top[0]
    pytest.fail("the generated province has no flagged person whose sources disagree")


def _accounts(engine, city: str) -> dict[str, str]:
    other = next(c for c in city_codes() if c != city)
    names = {"auditor": f"raw_aud_{city}", "other": f"raw_aud_{other}", "viewer": f"raw_view_{city}"}
    add_account(engine, names["auditor"], "auditor", PASSWORD, city)
    add_account(engine, names["other"], "auditor", PASSWORD, other)
    add_account(engine, names["viewer"], "viewer", PASSWORD, city)
    return names


def test_case_shows_survivorship_source_and_links_to_the_row_as_delivered(province):
    engine, base = province
    with engine.connect() as conn:
        flag, person, attribute, source, key = _contested(conn)
        stored = conn.execute(sa.text(
            "select source, source_key from core.person_attr_source "
            "where person_id = :p and attribute_mask & :bit <> 0"),
            {"p": person, "bit": 1 << ATTRIBUTES["person"].index(attribute)}).all()
        city = conn.execute(sa.text(
            "select api.city_of(e.region_code) from mart.anomaly_flag f "
            "join core.employer e on e.employer_id = f.employer_id where f.flag_id = :f"),
            {"f": flag}).scalar()
        raw_table, delivery, row_ref = conn.execute(sa.text(
            "select raw_table, delivery, row_ref from staging.person_mention "
            "where source = :s and source_key = :k"), {"s": source, "k": key}).one()
        spec = next(t for t in RAW_TABLES if t.table == raw_table)
        name_col = next(c for c in spec.columns if c in ("姓名", "name", "aac003"))
        where = ("delivery = :d and row_ref = :r" if spec.fmt in ("csv", "xlsx")
                 else f'"{spec.key}" = :r')
        raw_name = conn.execute(sa.text(f'select "{name_col}" from raw."{raw_table}" where {where}'),
                                {"d": delivery, "r": row_ref}).scalar()
    # Stored: the mention the rule ranks first supplied the attribute.
    assert stored == [(source, key)]
    names = _accounts(engine, city)

    auditor, csrf = api(base, names["auditor"])
    page = auditor.get(f"/flags/{flag}")
    assert page.status_code == 200
    link = re.search(rf'<a href="([^"]+)" class="supplied-by" data-attribute="{attribute}">'
                     rf'{re.escape(source)}</a>', page.text)
    assert link, f"the case page does not show {source} as the source of {attribute}"
    href = html.unescape(link.group(1))
    assert href == f"/flags/{flag}/raw/{source}/{mention_token(csrf, 'person', source, key)}"
    assert key not in href  # a registry key is a certificate number: never in a URL
    with engine.connect() as conn:
        logged = conn.execute(sa.text("select count(*) from review.access_log "
                                      "where action = 'view_raw'")).scalar()
    raw = auditor.get(href)
    assert raw.status_code == 200
    assert html.escape(delivery) in raw.text and html.escape(row_ref) in raw.text
    assert raw_name and html.escape(raw_name) in raw.text  # the name exactly as delivered
    with engine.connect() as conn:
        entry = conn.execute(sa.text(
            "select username, flag_id, detail ->> 'raw_table' from review.access_log "
            "where action = 'view_raw' order by access_id desc limit 1")).one()
        after = conn.execute(sa.text("select count(*) from review.access_log "
                                     "where action = 'view_raw'")).scalar()
    assert after == logged + 1 and tuple(entry) == (names["auditor"], flag, raw_table)

    # Another city's auditor, even with a link valid for its own session: 404.
    other, other_csrf = api(base, names["other"])
    assert other.get(f"/flags/{flag}/raw/{source}/"
                     f"{mention_token(other_csrf, 'person', source, key)}").status_code == 404
    assert other.get(href).status_code == 404
    # The viewer of the city follows its own link and sees the row masked; no log line.
    viewer, _ = api(base, names["viewer"])
    vpage = viewer.get(f"/flags/{flag}")
    vlink = re.search(rf'<a href="([^"]+)" class="supplied-by" data-attribute="{attribute}">',
                      vpage.text)
    masked = viewer.get(html.unescape(vlink.group(1)))
    assert masked.status_code == 200
    assert html.escape(raw_name) not in masked.text
    assert html.escape(mask_name(raw_name.strip())) in masked.text
    assert html.escape(delivery) in masked.text
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from review.access_log "
                                    "where action = 'view_raw'")).scalar() == after


def test_raw_row_function_enforces_scope_in_the_database(province):
    """The console role cannot read raw; the function returns a row only in scope."""
    engine, _ = province
    from warehouse.roles import CITY_SETTING, role_name

    with engine.connect() as conn:
        flag, person, _attribute, source, key = _contested(conn)
        city = conn.execute(sa.text(
            "select api.city_of(e.region_code) from mart.anomaly_flag f "
            "join core.employer e on e.employer_id = f.employer_id where f.flag_id = :f"),
            {"f": flag}).scalar()
    other = next(c for c in city_codes() if c != city)
    call = sa.text("select count(*) from review.mention_raw_row(:f, 'person', :s, :k, true)")
    args = {"f": flag, "s": source, "k": key}
    for setting, expected in ((city, 1), (other, 0), ("", 1)):
        with engine.begin() as conn:
            conn.execute(sa.text(f'set local role "{role_name("console")}"'))
            conn.execute(sa.text("select set_config(:k, :v, true)"), {"k": CITY_SETTING, "v": setting})
            assert conn.execute(call, args).scalar() == expected, setting
    with engine.begin() as conn:
        conn.execute(sa.text(f'set local role "{role_name("console")}"'))
        # A mention of another person is not the flag's, whatever the scope.
        assert conn.execute(call, {**args, "k": key + "x"}).scalar() == 0
        with pytest.raises(sa.exc.ProgrammingError):
            conn.execute(sa.text("select 1 from raw.disability_registry limit 1"))
