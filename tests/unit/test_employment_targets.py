"""The 2022–2024 employment targets: 100,000 split by year and city, reproducible from the basis."""

import refdata
from refdata.targets import PLAN_TOTAL, PLAN_YEARS, largest_remainder, split_targets


def test_targets_file_sums_to_the_plan_per_year_and_city():
    rows = refdata.load_table("employment_targets")
    assert sum(int(r["target"]) for r in rows) == PLAN_TOTAL == 100_000
    assert {int(r["year"]) for r in rows} == set(PLAN_YEARS)
    assert {r["city"] for r in rows} == {c.code for c in refdata.cities()}
    per_year = {y: sum(int(r["target"]) for r in rows if int(r["year"]) == y) for y in PLAN_YEARS}
    assert per_year == {2022: 33_334, 2023: 33_333, 2024: 33_333}


def test_file_is_the_documented_default_split():
    expected = [{"city": r["city"], "year": int(r["year"]), "target": int(r["target"])}
                for r in refdata.load_table("employment_targets")]
    assert split_targets() == expected


def test_largest_remainder_is_exact_and_proportional():
    parts = largest_remainder(10, {"a": 1, "b": 1, "c": 1})
    assert parts == {"a": 4, "b": 3, "c": 3}
    assert largest_remainder(100, {"x": 3, "y": 1}) == {"x": 75, "y": 25}
    custom = split_targets(900, (2030,), {"3701": 2, "3702": 1})
    assert custom == [{"city": "3701", "year": 2030, "target": 600}, {"city": "3702", "year": 2030, "target": 300}]
