"""Reference data the rules and the levy read: regions, minimum wages, average wages, retirement."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection, text

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
        "thresholds": "expectations/data/thresholds.csv",
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
        regions = self.regions.drop_duplicates("county_code")
        if len(regions):
            conn.execute(
                text(f"insert into {region_table} values (:county_code, :city_code, :tier)"),
                [{"county_code": str(r.county_code), "city_code": str(r.city_code),
                  "tier": None if pd.isna(r.tier) else int(r.tier)}
                 for r in regions.itertuples()])
        if len(self.min_wage):
            conn.execute(
                text(f"insert into {min_wage_table} values (:effective_from, :tier, :yuan)"),
                [{"effective_from": pd.Timestamp(r.effective_from).date(), "tier": int(r.tier),
                  "yuan": float(r.monthly_yuan)} for r in self.min_wage.itertuples()])

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


def load_reference() -> Reference:
    """Reference data from the shared ``refdata`` package."""
    from expectations import _refdata_adapter  # noqa: PLC0415 - isolates refdata's API

    return _refdata_adapter.load()
