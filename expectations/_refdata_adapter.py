"""Adapter from the shared ``refdata`` package to the rules' ``Reference``."""

import datetime as dt

import pandas as pd

import refdata
from expectations.reference import Reference

# Our kinds (worker / cadre) onto refdata's retirement kinds.
_KINDS = {("M", "worker"): "man", ("M", "cadre"): "man",
          ("F", "worker"): "woman_worker", ("F", "cadre"): "woman_cadre"}


def retirement_date(birth: dt.date, sex: str, kind: str) -> dt.date:
    """``refdata.retirement_date`` with kind ``worker``/``cadre``."""
    return refdata.retirement_date(birth, sex, _KINDS[(sex, kind)])


def load() -> Reference:
    """Regions (current and historical county codes), minimum wages, average wages."""
    regions = pd.DataFrame(refdata.load_table("region"))[["county_code", "city_code",
                                                          "wage_tier"]]
    regions = regions.rename(columns={"wage_tier": "tier"})
    hist = []
    for row in refdata.load_table("region_historical"):
        current = row["current_county_code"]
        reg = refdata.region(current) if current else None
        if reg is not None:
            hist.append({"county_code": row["old_code"], "city_code": reg.city_code,
                         "tier": reg.wage_tier})
    regions = pd.concat([regions, pd.DataFrame(hist, columns=regions.columns)],
                        ignore_index=True)
    regions["tier"] = regions["tier"].astype(int)
    min_wage = pd.DataFrame(refdata.load_table("min_wage"))[
        ["effective_from", "tier", "monthly_yuan"]]
    min_wage["effective_from"] = pd.to_datetime(min_wage["effective_from"]).dt.date
    min_wage["tier"] = min_wage["tier"].astype(int)
    min_wage["monthly_yuan"] = min_wage["monthly_yuan"].astype(float)
    social = pd.DataFrame(refdata.load_table("social_avg_wage"))[["city_code", "year", "yuan"]]
    social["year"] = social["year"].astype(int)
    social["yuan"] = social["yuan"].astype(float)
    return Reference(regions=regions, min_wage=min_wage, social_avg_wage=social,
                     retirement_date=retirement_date)
