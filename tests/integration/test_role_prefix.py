"""QUOTALINK_ROLE_PREFIX: a second deployment on the same server gets its own roles and grants."""

import uuid

import pytest
import sqlalchemy as sa

from tests.conftest import _server_url
from warehouse import roles
from warehouse.db import ensure_schema

pytestmark = pytest.mark.integration


def test_prefixed_roles_are_created_granted_and_used_by_the_policies(monkeypatch):
    server = _server_url()
    prefix = f"t{uuid.uuid4().hex[:6]}_"
    name = f"ql_prefix_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.engine.make_url(server).set(database=name)
    engine = sa.create_engine(url)
    user = f"{prefix}jinan"
    try:
        monkeypatch.setenv("QUOTALINK_ROLE_PREFIX", prefix)
        ensure_schema(engine, prefix)
        with engine.connect() as conn:
            existing = set(conn.execute(sa.text("select rolname from pg_roles where rolname like :p"),
                                        {"p": prefix + "%"}).scalars())
            owner = conn.execute(sa.text("select tableowner from pg_tables where schemaname = 'core' "
                                         "and tablename = 'person'")).scalar()
        assert existing == set(roles.all_roles(prefix)) and len(existing) == 21
        assert owner == roles.role_name("pipeline", prefix)
        with engine.begin() as conn:
            conn.execute(sa.text("insert into core.employer (employer_id, region_code) values "
                                 "('E1', '370102'), ('E2', '370202')"))
            conn.execute(sa.text(f"create role {user} login in role {roles.city_role('3701', prefix)}"))
        with sa.create_engine(url.set(username=user)).connect() as conn:
            assert conn.execute(sa.text("select employer_id from api.employer")).scalars().all() == ["E1"]
        # The unprefixed roles grant nothing here.
        with engine.connect() as conn:
            assert not conn.execute(sa.text(
                "select has_schema_privilege(rolname, 'api', 'usage') from pg_roles "
                "where rolname = 'quotalink_reader'")).scalar()
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
            for role in [user, *roles.all_roles(prefix)]:
                conn.execute(sa.text(f'drop role if exists "{role}"'))
        admin.dispose()
