"""The levy formula: domain.md's worked example and the edge cases of the relief years."""

from decimal import Decimal

import pytest

from expectations import levy
from expectations.rules.levy import capped_wage, employee_weight


def test_worked_example_of_domain_md():
    # 300 staff, avg wage 90,000, one level-3 employee: (4.5 − 1) × 90,000 × 90 %.
    assert levy(300, 1, 90000, "enterprise", 2024, 88000) == Decimal("283500.00")


@pytest.mark.parametrize(
    ("staff", "counted", "wage", "unit_type", "year", "social", "expected", "why"),
    [
        (30, 0, 90000, "enterprise", 2024, 100000, "0.00", "enterprise of exactly 30: exempt"),
        (31, 0, 90000, "enterprise", 2024, 100000, "37665.00",
         "31 staff: (0.465 − 0) × 90,000 × 90 %"),
        (200, 2, 90000, "enterprise", 2024, 100000, "45000.00",
         "ratio exactly 1 %: (3 − 2) × 90,000 × 50 %"),
        (201, 2, 90000, "enterprise", 2024, 100000, "82215.00",
         "ratio just under 1 % (2/201): (3.015 − 2) × 90,000 × 90 %"),
        (300, 1, 250000, "enterprise", 2024, 100000, "630000.00",
         "avg wage above the cap: (4.5 − 1) × 200,000 × 90 %"),
        (20, 0, 80000, "organ", 2024, 100000, "21600.00",
         "organ with 20 staff is not exempt: 0.3 × 80,000 × 90 %"),
        (20, 0, 80000, "public_institution", 2024, 100000, "21600.00",
         "public institution with 20 staff is not exempt"),
        (300, 5, 90000, "enterprise", 2024, 100000, "0.00", "quota met: no levy"),
        (300, 1, 90000, "enterprise", 2022, 100000, "315000.00",
         "before the relief years: full (4.5 − 1) × 90,000"),
        (30, 0, 90000, "enterprise", 2028, 100000, "40500.00",
         "after the relief years the small-enterprise exemption ends"),
        (0, 0, 90000, "enterprise", 2024, 100000, "0.00", "no staff"),
        (300, 1, 90000, "enterprise", 2024, None, "283500.00", "no social wage known: no cap"),
    ],
)
def test_levy_edge_cases(staff, counted, wage, unit_type, year, social, expected, why):
    assert levy(staff, counted, wage, unit_type, year, social) == Decimal(expected), why


def test_cap_and_weights():
    assert capped_wage(250000, 100000) == Decimal(200000)
    assert capped_wage(150000, 100000) == Decimal(150000)
    assert [employee_weight(level) for level in (1, 2, 3, 4, None)] == [2, 2, 1, 1, 1]


def test_levy_counts_severe_levels_double_through_the_weighted_count():
    # 300 staff with two level-1 employees (weight 4) meet the 4.5 quota only partly:
    # ratio 4/300 = 1.33 % ≥ 1 % → 50 % of (4.5 − 4) × 90,000.
    weighted = sum(employee_weight(level) for level in (1, 1))
    assert levy(300, weighted, 90000, "enterprise", 2024, 100000) == Decimal("22500.00")
