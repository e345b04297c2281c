"""Unit tests of the shared reference data (regions, wages, retirement, code lists)."""

from datetime import date
from decimal import Decimal

import pytest

import refdata


def test_all_sixteen_cities_with_counties():
    codes = [c.code for c in refdata.cities()]
    assert len(codes) == 16
    assert "3712" not in codes
    for code in codes:
        assert len(refdata.counties(code)) >= 4, code


def test_former_laiwu_is_jinan():
    assert refdata.city_of("370116") == "3701"
    assert refdata.region_name("370117") == "钢城区"
    assert refdata.city_of("371202") == "3701"
    assert refdata.current_county("371202") == "370116"


def test_historical_prefectures_map_to_cities():
    expected = {"3721": "3706", "3723": "3716", "3724": "3714", "3728": "3713", "3729": "3717"}
    for old, city in expected.items():
        assert refdata.city_of(old + "01") == city or refdata.city_of(old) == city
    assert refdata.city_of("372321") == "3716"
    assert refdata.city_of("110105") is None
    assert refdata.region_name("370102") == "历下区"


def test_min_wage_by_date_and_tier():
    assert refdata.min_wage("370102", date(2024, 5, 1)) == Decimal("2100")
    assert refdata.min_wage("370124", date(2024, 5, 1)) == Decimal("1700")
    assert refdata.min_wage("370102", date(2018, 1, 1)) == Decimal("1810")
    assert refdata.min_wage("370102", date(2021, 9, 30)) == Decimal("1910")
    assert refdata.min_wage("110105", date(2024, 1, 1)) is None
    assert refdata.min_wage_by_tier(2, date(2021, 10, 1)) == Decimal("1900")


def test_retirement_schedule():
    # men born 1965-01 retire at 60y1m, 1965-05 at 60y2m, from 1976-09 at 63
    assert refdata.retirement_date(date(1965, 1, 15), "M") == date(2025, 2, 15)
    assert refdata.retirement_date(date(1965, 5, 1), "M", "man") == date(2025, 7, 1)
    assert refdata.retirement_date(date(1976, 9, 1), "M") == date(2039, 9, 1)
    assert refdata.retirement_date(date(1964, 12, 31), "M") == date(2024, 12, 31)
    assert refdata.retirement_date(date(1975, 3, 10), "F", "woman_worker") == date(2025, 5, 10)
    assert refdata.retirement_date(date(1984, 11, 1), "F", "woman_worker") == date(2039, 11, 1)
    assert refdata.retirement_date(date(1981, 9, 1), "F", "woman_cadre") == date(2039, 9, 1)
    assert refdata.retirement_date(date(1969, 12, 1), "F", "woman_cadre") == date(2024, 12, 1)
    assert refdata.retirement_bounds(date(1972, 3, 1), "女") == (date(2022, 3, 1), date(2027, 10, 1))
    with pytest.raises(ValueError):
        refdata.retirement_date(date(1970, 1, 1), "F")
    with pytest.raises(ValueError):
        refdata.retirement_date(date(1970, 1, 1), "M", "woman_cadre")


def test_code_lists():
    assert refdata.disability_category_code("肢体") == 4
    assert refdata.disability_category_name(7) == "多重"
    assert refdata.disability_level_code("二级") == 2
    assert refdata.disability_level_name(4) == "四级"
    assert refdata.unit_type_canonical("quota", "事业单位") == "public_institution"
    assert refdata.unit_type_canonical("hr_aab019", "60") == "social_organisation"
    assert refdata.unit_type_canonical("uscc_type", "91") == "enterprise"
    assert refdata.unit_type_canonical("hr_aab019", "99") is None


def test_tables_load_with_standing():
    names = refdata.table_names()
    for name in ("region", "min_wage", "social_avg_wage", "retirement", "unit_type"):
        assert name in names
        rows = refdata.load_table(name)
        assert rows and "standing" in rows[0]
    assert refdata.social_avg_wage("3701", 2025) > Decimal("80000")
    assert refdata.social_avg_wage("3701", 2030) == refdata.social_avg_wage("3701", 2025)
    with pytest.raises(KeyError):
        refdata.load_table("nope")


def test_region_rows_and_provinces():
    from refdata import regions

    rows = regions.region_rows()
    kinds = {r["kind"] for r in rows}
    assert kinds == {"province", "city", "county"}
    assert {"code": "370100", "name": "济南市", "short": "济南", "kind": "city"} in rows
    assert refdata.region_name("110000") == "北京市"
    assert refdata.region_name("370100") == "济南市"
