"""The downstream registry: role names, every api column described, the generated dictionary current."""

import hashlib
import hmac

import pytest

from quotalink.errors import ConfigError
from warehouse import descriptions, roles
from warehouse.api import api_columns, dictionary_is_current, render_dictionary
from warehouse.history import hmac_pads, id_token


def test_role_names_follow_the_contract_and_the_prefix():
    assert roles.role_name("reader") == "quotalink_reader"
    assert roles.role_name("pii_reader", "prod_") == "prod_quotalink_pii_reader"
    assert roles.city_role("3701") == "quotalink_city_3701"
    assert roles.city_role("3717", "t_") == "t_quotalink_city_3717"
    assert len(roles.city_codes()) == 16 and "3712" not in roles.city_codes()
    with pytest.raises(ValueError, match="not a Shandong city"):
        roles.city_role("3712")
    with pytest.raises(ValueError, match="unknown role kind"):
        roles.role_name("admin")


def test_role_prefix_setting_is_validated(monkeypatch):
    from quotalink.settings import load_settings

    monkeypatch.setenv("QUOTALINK_ROLE_PREFIX", "prod_")
    assert load_settings().role_prefix == "prod_"
    monkeypatch.setenv("QUOTALINK_ROLE_PREFIX", 'x"; drop role')
    with pytest.raises(ConfigError, match="QUOTALINK_ROLE_PREFIX"):
        load_settings()


def test_every_api_column_has_a_description_and_known_masking():
    for view in descriptions.API_VIEWS:
        for col in api_columns(view):
            assert col.description.strip(), f"api.{view}.{col.name} has no description"
            assert col.pii is None or col.pii in descriptions.MASKING, (view, col)
    pii = {(v, c.name) for v in descriptions.API_VIEWS for c in api_columns(v) if c.pii}
    assert {("person", "id_number"), ("person", "full_name"), ("person", "phone"),
            ("declared_employment", "id_number"), ("anomaly_flag", "evidence")} <= pii


def test_the_data_dictionary_is_generated_and_current():
    text = render_dictionary()
    assert "### `api.person`" in text and "### `core.person`" in text
    assert "| `id_number` | text |" in text
    assert dictionary_is_current(), "docs/downstream.md is stale: run python -m warehouse.api --write"


def test_the_database_hmac_formula_is_hmac_sha256():
    inner, outer = hmac_pads("部署密钥")
    for number in ("370102199001011234", "37010219900101123X"):
        db_way = hashlib.sha256(outer + hashlib.sha256(inner + number.encode()).digest()).hexdigest()
        assert db_way == hmac.new("部署密钥".encode(), number.encode(), hashlib.sha256).hexdigest()
        assert db_way == id_token(number, "部署密钥") != id_token(number, "other")
    long_key = "k" * 100  # longer than a block: hashed first, as RFC 2104 says
    inner, outer = hmac_pads(long_key)
    assert hashlib.sha256(outer + hashlib.sha256(inner + b"1").digest()).hexdigest() == \
        hmac.new(long_key.encode(), b"1", hashlib.sha256).hexdigest()
