"""Pure parts of the audit rules: registry, thresholds, intervals, stable flag ids."""

import datetime as dt

import pandas as pd

from expectations.rules import RULES
from expectations.rules._certs import covered_days, valid_interval
from expectations.rules.age_ineligible import add_years
from expectations.rules.config import Params, rule_specs
from expectations.rules.runner import flag_id

CONTRACT_CODES = {
    "MULTI_EMPLOYER", "NO_SOCIAL_INSURANCE", "BELOW_MIN_WAGE", "AGE_INELIGIBLE",
    "CERT_INVALID", "LEVEL_MISMATCH", "CONCURRENT_STUDENT", "CONCURRENT_UNEMPLOYED",
    "CIVIL_SERVANT_CONFLICT", "SHORT_CONTRACT", "DISTANT_RESIDENCE", "IMPLAUSIBLE_RATIO",
    "SHARED_CONTACT",
}


def test_every_contract_rule_has_a_unit_and_a_version():
    assert set(RULES) == CONTRACT_CODES
    assert set(rule_specs()) == CONTRACT_CODES
    assert all(spec.version for spec in rule_specs().values())
    assert rule_specs()["IMPLAUSIBLE_RATIO"].entity == "employer"


def test_thresholds_are_data():
    assert Params("SHARED_CONTACT").int("min_employers") == 3
    assert Params("DISTANT_RESIDENCE").num("wage_multiple") == 1.2
    assert Params("IMPLAUSIBLE_RATIO").num("max_ratio") == 0.30
    assert Params("NO_SOCIAL_INSURANCE").int("months_short") == 3
    assert Params("MULTI_EMPLOYER").list("statuses") == ["审核通过", "待审核"]


def test_flag_id_is_stable_and_distinguishes_findings():
    a = flag_id("MULTI_EMPLOYER", 2024, "P1", "E1")
    assert a == flag_id("MULTI_EMPLOYER", 2024, "P1", "E1")
    assert len({a, flag_id("MULTI_EMPLOYER", 2024, "P1", "E2"),
                flag_id("MULTI_EMPLOYER", 2023, "P1", "E1"),
                flag_id("SHORT_CONTRACT", 2024, "P1", "E1"),
                flag_id("IMPLAUSIBLE_RATIO", 2024, None, "E1")}) == 5


def _cert(**kw):
    base = {"issued_on": dt.date(2015, 1, 1), "valid_until": None, "status": "valid",
            "cancelled_on": None}
    return pd.Series({**base, **kw})


def test_certificate_validity():
    assert valid_interval(_cert()) == (dt.date(2015, 1, 1), dt.date.max)
    assert valid_interval(_cert(status="cancelled", cancelled_on=dt.date(2024, 7, 1))) == (
        dt.date(2015, 1, 1), dt.date(2024, 6, 30))
    # Cancelled without a date: never counted as valid.
    assert valid_interval(_cert(status="moved_out")) is None
    assert valid_interval(_cert(valid_until=dt.date(2024, 12, 31)))[1] == dt.date(2024, 12, 31)


def test_covered_days_merges_overlaps():
    year = (dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    old = (dt.date(2015, 1, 1), dt.date(2024, 4, 30))
    new = (dt.date(2024, 5, 1), dt.date.max)
    assert covered_days([old, new], *year) == 366
    assert covered_days([old, (dt.date(2024, 3, 1), dt.date(2024, 4, 30))], *year) == 121
    assert covered_days([], *year) == 0


def test_add_years_on_leap_day():
    assert add_years(dt.date(2008, 2, 29), 16) == dt.date(2024, 2, 29)
    assert add_years(dt.date(2007, 2, 28), 16) == dt.date(2023, 2, 28)
    assert add_years(dt.date(2008, 2, 29), 15) == dt.date(2023, 3, 1)


def test_contribution_rules_run_in_a_lane_of_their_own():
    from expectations.rules.runner import lanes

    others, contrib = lanes(list(RULES))
    assert set(contrib) == {c for c, s in rule_specs().items()
                            if "staging.contribution" in s.reads}
    assert {"NO_SOCIAL_INSURANCE", "BELOW_MIN_WAGE", "DISTANT_RESIDENCE"} <= set(contrib)
    assert not set(others) & set(contrib) and set(others) | set(contrib) == set(RULES)
    # Contract order within a lane; a selection within one lane is one lane.
    assert others == [c for c in RULES if c in others]
    assert lanes(["SHORT_CONTRACT"]) == [["SHORT_CONTRACT"]]
    assert lanes(["BELOW_MIN_WAGE", "NO_SOCIAL_INSURANCE"]) == [
        ["BELOW_MIN_WAGE", "NO_SOCIAL_INSURANCE"]]
