"""Reference data the rules and the levy read: regions, minimum wages, average wages, retirement."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, text

import refdata

RetirementFn = Callable[[dt.date, str, str], dt.date]


@dataclass
class Reference:
    """Reference tables as frames, plus the retirement-date function.

    ``regions``: county_code, city_code, tier · ``min_wage``: effective_from, tier,
    monthly_yuan · ``social_avg_wage``: city_code, year, yuan · ``retirement_date(birth,
    sex, kind)`` with sex ``M``/``F`` and kind ``worker``/``cadre``.
    """

    regions: pd.DataFrame
    min_wage: pd.DataFrame
    social_avg_wage: pd.DataFrame
    retirement_date: RetirementFn
    names: dict[str, str] = field(default_factory=lambda: {
        "regions": "ref.region", "min_wage": "ref.min_wage",
        "social_avg_wage": "ref.social_avg_wage", "retirement": "ref.retirement",
        "thresholds": "expectations/rules/data/thresholds.csv",
    })

    def load_temp_tables(self, conn: Connection, region_table: str, min_wage_table: str) -> None:
        """Copy regions and minimum wages into temp tables of the connection."""
        conn.execute(text(f"drop table if exists {region_table}"))
        conn.execute(text(f"drop table if exists {min_wage_table}"))
        conn.execute(text(
            f"create temp table {region_table} (county_code text primary key, city_code text,"
            " tier int)"))
        conn.execute(text(
            f"create temp table {min_wage_table} (effective_from date, tier int,"
            " monthly_yuan numeric(12,2))"))
        # One statement per table (a round trip per row, twice per run, added up).
        regions = self.regions.drop_duplicates("county_code")
        if len(regions):
            conn.execute(
                text(f"insert into {region_table} select * from unnest(cast(:county_code as"
                     " text[]), cast(:city_code as text[]), cast(:tier as int[]))"),
                {"county_code": [str(r.county_code) for r in regions.itertuples()],
                 "city_code": [str(r.city_code) for r in regions.itertuples()],
                 "tier": [None if pd.isna(r.tier) else int(r.tier)
                          for r in regions.itertuples()]})
        if len(self.min_wage):
            conn.execute(
                text(f"insert into {min_wage_table} select * from unnest(cast(:effective_from"
                     " as date[]), cast(:tier as int[]), cast(:yuan as numeric[]))"),
                {"effective_from": [pd.Timestamp(r.effective_from).date()
                                    for r in self.min_wage.itertuples()],
                 "tier": [int(r.tier) for r in self.min_wage.itertuples()],
                 "yuan": [float(r.monthly_yuan) for r in self.min_wage.itertuples()]})

    def city_of(self, region_code: str | None) -> str | None:
        """Today's city code of a county code (Laiwu counties → Jinan), else its first four."""
        if not region_code:
            return None
        hit = self._city_map().get(str(region_code))
        return hit or str(region_code)[:4]

    def _city_map(self) -> dict[str, str]:
        if not hasattr(self, "_cities"):
            self._cities = dict(zip(self.regions["county_code"].astype(str),
                                    self.regions["city_code"].astype(str), strict=False))
        return self._cities

    def social_average(self, city_code: str | None, year: int) -> float | None:
        """Social average wage of a city and year (latest earlier year, then province 37)."""
        key = (city_code, int(year))
        cache = self.__dict__.setdefault("_social_cache", {})
        if key not in cache:
            cache[key] = self._social_average(city_code, int(year))
        return cache[key]

    def _social_average(self, city_code: str | None, year: int) -> float | None:
        t = self.social_avg_wage
        # The city's figure of the year or the latest earlier year, then the province's (37).
        for key in ([str(city_code)[:4]] if city_code else []) + ["37"]:
            own = t[t["city_code"].astype(str) == key]
            rows = own[own["year"] <= int(year)]
            if not rows.empty:
                return float(rows.sort_values("year").iloc[-1]["yuan"])
        return None


# Our kinds (worker / cadre) onto refdata's retirement kinds.
_KINDS = {("M", "worker"): "man", ("M", "cadre"): "man",
          ("F", "worker"): "woman_worker", ("F", "cadre"): "woman_cadre"}


def retirement_date(birth: dt.date, sex: str, kind: str) -> dt.date:
    """``refdata.retirement_date`` with kind ``worker``/``cadre``."""
    return refdata.retirement_date(birth, sex, _KINDS[(sex, kind)])


def load_reference() -> Reference:
    """Regions (current and historical county codes), minimum wages, average wages, from ``refdata``."""
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
