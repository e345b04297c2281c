"""Test support: scratch warehouses and builders of minimal hand-made rule fixtures."""

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from expectations.rules.reference import Reference
from warehouse.schema import metadata

SERVER_URL = os.environ.get("QL_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_warehouse(prefix: str = "ql_rules") -> Iterator[Engine]:
    """A fresh database on the test server with the warehouse schema, dropped afterwards."""
    from warehouse.db import ensure_schema  # noqa: PLC0415 - lead's package

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    engine = sa.create_engine(sa.engine.make_url(SERVER_URL).set(database=name))
    try:
        ensure_schema(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def retirement_before_2025(birth: dt.date, sex: str, kind: str) -> dt.date:
    """Pre-2025 statutory retirement (men 60, women cadres 55, workers 50): test stand-in."""
    years = 60 if sex == "M" else (55 if kind == "cadre" else 50)
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return dt.date(birth.year + years, 3, 1)


def small_reference(retirement=retirement_before_2025) -> Reference:
    """Hand-made reference tables: two Jinan counties (tier 1, 2), one Qingdao (tier 1)."""
    return Reference(
        regions=pd.DataFrame({
            "county_code": ["370102", "370124", "370202", "370116", "371202"],
            "city_code": ["3701", "3701", "3702", "3701", "3701"],
            "tier": [1, 2, 1, 2, 2]}),
        min_wage=pd.DataFrame({
            "effective_from": [dt.date(2018, 6, 1), dt.date(2018, 6, 1), dt.date(2021, 10, 1),
                               dt.date(2021, 10, 1)],
            "tier": [1, 2, 1, 2], "monthly_yuan": [1910, 1730, 2100, 1900]}),
        social_avg_wage=pd.DataFrame({
            "city_code": ["3701", "3702"], "year": [2024, 2024], "yuan": [100000, 110000]}),
        retirement_date=retirement,
    )


class Fixture:
    """Builds staging and core rows for rule tests with sensible defaults.

    One declared employment = a declaration (employer) + an employee row + xrefs to golden
    ids; facts of other sources are added with their own xrefs.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def insert(self, table: str, **values: Any) -> None:
        """Insert one row into ``schema.table`` (staging bookkeeping columns filled in)."""
        if table.startswith("staging."):
            values.setdefault("delivery", "t")
            if metadata.tables[table].info.get("delivery_period"):
                values.setdefault("period", "t")
        cols = ", ".join(f'"{c}"' for c in values)
        binds = ", ".join(f":{c}" for c in values)
        self.conn.execute(sa.text(f"insert into {table} ({cols}) values ({binds})"), values)

    def person(self, person_id: str, birth: dt.date = dt.date(1985, 3, 12),
               gender: str = "F", hukou: str | None = "370102", phone: str | None = None,
               **extra: Any) -> str:
        """A golden person."""
        self.insert("core.person", person_id=person_id, birth_date=birth, gender=gender,
                    hukou_region_code=hukou, phone=phone, full_name=extra.pop("name", "王秀英"),
                    **extra)
        return person_id

    def employer(self, employer_id: str, region: str = "370102", unit_type: str = "enterprise",
                 name: str | None = None) -> str:
        """A golden employer."""
        self.insert("core.employer", employer_id=employer_id, region_code=region,
                    unit_type=unit_type, name=name or f"单位{employer_id}")
        return employer_id

    def declaration(self, employer_id: str, year: int = 2024, status: str = "审核通过",
                    total_staff: int = 200, region: str = "370102",
                    unit_type: str = "enterprise", disabled: int | None = None,
                    avg_wage: float = 90000, name: str | None = None,
                    declaration_id: str | None = None) -> str:
        """A declaration of the employer, linked through employer_xref(quota)."""
        did = declaration_id or f"D{year}{region}{self._next():06d}"
        self.insert("staging.declaration", declaration_id=did, declaration_year=year,
                    unit_name=name or f"单位{employer_id}", unit_region_code=region,
                    unit_type=unit_type, total_staff=total_staff, avg_annual_wage=avg_wage,
                    disabled_declared=disabled, status=status,
                    updated_at=dt.datetime(year + 1, 4, 1, tzinfo=dt.UTC))
        self.xref("employer", "quota", did, employer_id)
        return did

    def employee(self, declaration_id: str, person_id: str, year: int = 2024,
                 start: dt.date | None = None, end: dt.date | None = None,
                 wage: float = 3000, si_months: int | None = 12, level: int = 3,
                 employment_type: str = "全日制", cert_number: str | None = None,
                 id_number: str | None = None) -> str:
        """A declared employee of the declaration, linked through person_xref(quota)."""
        rid = f"E{declaration_id[1:]}-{self._next():04d}"
        self.insert("staging.declared_employment", employee_record_id=rid,
                    declaration_id=declaration_id, declaration_year=year, full_name="王秀英",
                    id_number=id_number, cert_number=cert_number, disability_category=4,
                    disability_level=level,
                    contract_start=start or dt.date(year, 1, 1),
                    contract_end=end if end is not None else dt.date(year + 2, 12, 31),
                    monthly_wage=wage, si_months=si_months, position="质检员",
                    employment_type=employment_type)
        self.xref("person", "quota", rid, person_id)
        return rid

    def xref(self, entity: str, source: str, key: str, golden: str) -> None:
        """An xref row: mention → golden id."""
        self.insert(f"core.{entity}_xref", source=source, source_key=key,
                    **{f"{entity}_id": golden})

    def certificate(self, person_id: str, level: int = 3, issued: dt.date = dt.date(2015, 1, 1),
                    valid_until: dt.date | None = None, status: str = "valid",
                    cancelled_on: dt.date | None = None, phone: str | None = None,
                    hukou: str | None = "370102", cert_number: str | None = None) -> str:
        """A registry certificate of the person."""
        cn = cert_number or f"37010219850312{self._next():04d}4{level}"
        self.insert("staging.certificate", cert_number=cn, disability_category=4,
                    disability_level=level, issued_on=issued, valid_until=valid_until,
                    status=status, cancelled_on=cancelled_on, phone=phone,
                    hukou_region_code=hukou, period="202412")
        self.xref("person", "disability_registry", cn, person_id)
        return cn

    def contributions(self, person_id: str, employer_id: str, periods: list[int],
                      insurance: str = "110", base: float = 3000, paid: bool = True) -> None:
        """Monthly contribution rows of a person at an employer (hr keys derived from ids)."""
        pk, ek = f"P{person_id}", f"U{employer_id}"
        if not self.conn.execute(sa.text("select 1 from core.person_xref where source='hr' "
                                         "and source_key=:k"), {"k": pk}).first():
            self.xref("person", "hr", pk, person_id)
        if not self.conn.execute(sa.text("select 1 from core.employer_xref where source='hr' "
                                          "and source_key=:k"), {"k": ek}).first():
            self.xref("employer", "hr", ek, employer_id)
        for period in periods:
            self.insert("staging.contribution", contribution_id=self._next() + 10_000 * period,
                        person_key=pk, employer_key=ek, period=period, insurance=insurance,
                        base_yuan=base, is_paid=paid)

    def full_contributions(self, person_id: str, employer_id: str, year: int = 2024,
                           months: range = range(1, 13), base: float = 3000) -> None:
        """Paid pension contributions for the months of a year."""
        self.contributions(person_id, employer_id, [year * 100 + m for m in months], base=base)


RESET_TABLES = (
    "staging.declaration", "staging.declared_employment", "staging.certificate",
    "staging.contribution", "staging.study", "staging.survey", "staging.civil_service",
    "staging.employment_registration", "staging.person_mention", "staging.employer_mention",
    "core.person", "core.person_xref", "core.employer", "core.employer_xref",
    "mart.anomaly_flag", "mart.quota_compliance", "review.decision", "ops.load_audit",
)


def reset(engine: Engine) -> None:
    """Empty every table the rule tests write (between tests sharing a scratch database)."""
    with engine.begin() as conn:
        conn.execute(sa.text("truncate " + ", ".join(RESET_TABLES)))


def flags(engine: Engine) -> pd.DataFrame:
    """The anomaly flags, ordered."""
    with engine.connect() as conn:
        result = conn.execute(sa.text(
            "select * from mart.anomaly_flag order by rule, year, person_id, employer_id"))
        return pd.DataFrame(result.fetchall(), columns=list(result.keys()), dtype=object)
