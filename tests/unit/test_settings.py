"""Settings: read once, validated, errors naming the variable."""

import pytest

from quotalink.errors import ConfigError
from quotalink.privacy import mask_id, mask_name, mask_phone, mask_text
from quotalink.settings import load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for var in ("WAREHOUSE_URL", "HR_DB_URL", "QUOTA_API_URL", "QUOTA_API_TOKEN", "SOURCES_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SOURCES_DIR", str(tmp_path))


def test_plain_postgresql_url_maps_to_psycopg2(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://u:p@db.example:5433/wh")
    assert load_settings().warehouse_url == "postgresql+psycopg2://u:p@db.example:5433/wh"


def test_explicit_driver_is_kept(monkeypatch):
    monkeypatch.setenv("WAREHOUSE_URL", "postgresql+psycopg2://u@h/wh")
    assert load_settings().warehouse_url == "postgresql+psycopg2://u@h/wh"


@pytest.mark.parametrize(
    ("var", "value", "needle"),
    [
        ("WAREHOUSE_URL", "mysql://root@localhost/x", "WAREHOUSE_URL"),
        ("WAREHOUSE_URL", "not a url", "WAREHOUSE_URL"),
        ("QUOTA_API_URL", "ftp://x", "QUOTA_API_URL"),
        ("HR_DB_URL", "::::", "HR_DB_URL"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, var, value, needle):
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=needle):
        load_settings()


def test_defaults_and_hr_sqlite_default(tmp_path):
    s = load_settings()
    assert s.sources_dir == tmp_path.resolve()
    assert s.hr_url == f"sqlite:///{tmp_path.resolve() / 'hr' / 'hr.db'}"
    assert s.warehouse_url is None


def test_mysql_hr_url_gets_pymysql(monkeypatch):
    monkeypatch.setenv("HR_DB_URL", "mysql://root@127.0.0.1:3306/hr")
    assert load_settings().hr_url.startswith("mysql+pymysql://")


def test_missing_sources_dir_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCES_DIR", str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="SOURCES_DIR"):
        load_settings().require_sources_dir()


def test_unreachable_warehouse_is_named(monkeypatch):
    from warehouse.db import get_engine

    monkeypatch.setenv("WAREHOUSE_URL", "postgresql://postgres@127.0.0.1:1/none")
    with pytest.raises(ConfigError, match="WAREHOUSE_URL: cannot reach"):
        get_engine(load_settings())


def test_masking():
    assert mask_id("370102198503124522") == "3701*************2"
    assert mask_name("王秀英") == "王**"
    assert mask_phone("13805311234") == "138******34"
    assert "198503" not in mask_text("row: 370102198503124522,王秀英")


def test_quota_years(monkeypatch):
    import datetime as dt

    from connectors.quota import years_to_pull

    assert years_to_pull(None, dt.date(2026, 11, 30)) == list(range(2020, 2027))
    assert years_to_pull("2019-2021,2024") == [2019, 2020, 2021, 2024]
    monkeypatch.setenv("QUOTA_YEARS", "twenty")
    with pytest.raises(ConfigError, match="QUOTA_YEARS"):
        load_settings()
