"""The embedded PostgreSQL (WAREHOUSE_URL unset): starts, migrates, loads, validates."""

import sqlalchemy as sa

from quotalink.settings import get_settings


def test_embedded_server_end_to_end(monkeypatch, tmp_path):
    import expectations
    from connectors.disability_registry import SOURCE
    from tests.helpers import drop
    from tests.integration.test_registry_delivery import ROWS, csv_bytes
    from warehouse.db import get_engine

    monkeypatch.delenv("WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("QUOTALINK_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SOURCES_DIR", str(tmp_path / "sources"))
    get_settings.cache_clear()
    try:
        engine = get_engine(get_settings())
        assert engine.url.query.get("host", "").startswith("/")  # a unix socket under var/
        drop(tmp_path / "sources" / "disability_registry", "cjrxx_202405.csv", csv_bytes(ROWS[:2]))
        [result] = SOURCE.load(engine, tmp_path / "sources")
        assert result.rows_loaded == 2
        outcome = expectations.validate_table(engine, "raw.disability_registry")
        assert outcome.metadata["rows"] == 2 and not outcome.blocking
        with engine.connect() as conn:
            assert conn.execute(sa.text("select count(*) from ops.load_audit")).scalar() == 1
        engine.dispose()
    finally:
        get_settings.cache_clear()
