"""Shared fixtures: a real PostgreSQL warehouse per test worker, settings pointed at tmp dirs."""

import os
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SERVER_URL = os.environ.get("TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _server_url() -> str:
    """The PostgreSQL server tests use: 127.0.0.1:5432, else (not in CI) the embedded one."""
    engine = sa.create_engine(SERVER_URL)
    try:
        with engine.connect():
            return SERVER_URL
    except sa.exc.OperationalError as exc:
        if CI:
            pytest.fail(f"CI=true and PostgreSQL at {SERVER_URL} is unreachable: {exc.orig}", pytrace=False)
        from warehouse.db import embedded_url

        return embedded_url(Path(__file__).resolve().parent.parent / "var" / "pgdata-test").rsplit("/", 1)[0] + "/postgres"
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_database(worker_id="master"):
    """A fresh database for this test session (and xdist worker), dropped afterwards."""
    server = _server_url()
    name = f"ql_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    yield url
    from warehouse import db

    db._engine_for.cache_clear()
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


TRUNCATE_SCHEMAS = ("raw", "staging", "core", "mart", "review", "ops", "ref")


@pytest.fixture
def warehouse(pg_database, monkeypatch, tmp_path):
    """An empty, migrated warehouse; settings point at it and at tmp source folders."""
    from quotalink.settings import get_settings
    from warehouse.db import get_engine

    sources = tmp_path / "sources"
    sources.mkdir()
    monkeypatch.setenv("WAREHOUSE_URL", pg_database)
    monkeypatch.setenv("SOURCES_DIR", str(sources))
    monkeypatch.setenv("QUOTALINK_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("QUOTALINK_PROGRESS", "0")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    monkeypatch.delenv("QUOTA_API_URL", raising=False)
    monkeypatch.delenv("HR_DB_URL", raising=False)
    get_settings.cache_clear()
    engine = get_engine(get_settings())
    with engine.begin() as conn:
        tables = conn.execute(
            sa.text(
                "select schemaname || '.' || quote_ident(tablename) from pg_tables "
                "where schemaname = any(:s) and tablename <> 'alembic_version'"
            ),
            {"s": list(TRUNCATE_SCHEMAS)},
        ).scalars().all()
        if tables:
            conn.execute(sa.text(f"truncate {', '.join(tables)} restart identity cascade"))
    yield engine
    get_settings.cache_clear()


@pytest.fixture
def sources_dir(warehouse) -> Path:
    """The SOURCES_DIR the warehouse fixture configured."""
    from quotalink.settings import get_settings

    return get_settings().sources_dir


@pytest.fixture
def empty_db():
    """A database of its own, with nothing in it, dropped afterwards."""
    server = _server_url()
    name = f"ql_mig_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    engine = sa.create_engine(sa.engine.make_url(server).set(database=name))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()
