"""Quota declarations derived from declared spells: versions, statuses and employee records."""

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from synthetic.model import Cert, Chunk, Employer, Spell, months_between
from synthetic.scenarios import DECLARATION_YEARS


@dataclass(slots=True)
class DeclVersion:
    """One version of a declaration as the API serves it."""

    status: str
    total_staff: int
    disabled_declared: int
    avg_wage: float
    unit_name: str
    submitted_at: datetime
    updated_at: datetime


@dataclass(slots=True, eq=False)
class DeclRecord:
    """One declared employee of a declaration."""

    record_id: str
    spell: Spell
    year: int
    category: int
    level: int
    cert_typed: str | None
    wage: int
    si_months: int
    start: date
    end: date | None

    @property
    def period(self) -> tuple[date, date]:
        """Declared period inside the year."""
        return self.spell.period(self.year)


@dataclass(slots=True, eq=False)
class Declaration:
    """An employer's declaration for a year, with every version."""

    decl_id: str
    employer: Employer
    year: int
    versions: list[DeclVersion] = field(default_factory=list)
    records: list[DeclRecord] = field(default_factory=list)

    @property
    def latest(self) -> DeclVersion:
        """The version that counts."""
        return self.versions[-1]


def cert_in_period(spell: Spell, year: int) -> Cert | None:
    """The certificate valid at the end of the declared period (else the newest)."""
    per = spell.period(year)
    certs = spell.person.certs
    for cert in sorted(certs, key=lambda c: c.issued, reverse=True):
        first, last = cert.valid_interval()
        if per and first <= per[1] <= last:
            return cert
    return spell.person.main_cert()


def _stamp(rng: random.Random, day: date) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59),
                    rng.randint(0, 59))


def derive(chunk: Chunk, seed: int) -> list[Declaration]:
    """Every declaration of the chunk, deterministic for the seed."""
    rng = random.Random(f"{seed}/{chunk.index}/declarations")
    out: list[Declaration] = []
    for year in DECLARATION_YEARS:
        by_employer: dict[str, list[Spell]] = {}
        employers: dict[str, Employer] = {}
        for spell in chunk.spells:
            if spell.declared and spell.period(year):
                by_employer.setdefault(spell.employer.eid, []).append(spell)
                employers[spell.employer.eid] = spell.employer
        for eid in sorted(by_employer):
            emp = employers[eid]
            spells = sorted(by_employer[eid], key=lambda s: s.sid)
            decl = Declaration(f"D{year}{emp.region}{emp.index % 10**6:06d}", emp, year)
            for n, spell in enumerate(spells, start=1):
                cert = cert_in_period(spell, year)
                per = spell.period(year)
                typed = spell.cert_typed.get(year, cert.number if cert else None)
                decl.records.append(DeclRecord(
                    record_id=f"E{year}{emp.region}{emp.index % 10**6:06d}-{n:04d}",
                    spell=spell, year=year,
                    category=cert.category if cert else rng.randint(1, 7),
                    level=spell.level_override.get(year, cert.level if cert else 3),
                    cert_typed=typed, wage=spell.wage_in(year),
                    si_months=len(months_between(*per)), start=spell.start, end=spell.end,
                ))
            count = len(decl.records)
            staff = emp.staff.get(year, 50)
            if emp.decl_edit.get(year) != "ratio":
                if emp.welfare:
                    staff = max(count + 1, math.ceil(count / 0.4))
                elif count > 0.25 * staff:
                    staff = math.ceil(count / 0.2)
                emp.staff[year] = staff
            submitted = _stamp(rng, date(year + 1, 3, 1) + timedelta(days=rng.randint(0, 150)))
            updated = submitted + timedelta(days=rng.randint(2, 40), seconds=rng.randint(0, 9999))
            status = emp.decl_status.get(year) or rng.choices(
                ["审核通过", "待审核", "edited"], weights=[88, 7, 5])[0]
            wage = float(emp.avg_wage + rng.randint(-3000, 3000))
            name = emp.name_in(year)
            edit = emp.decl_edit.get(year)
            if status == "edited" or edit == "superseded_ratio":
                first_staff = emp.superseded_staff.get(year, staff)
                decl.versions.append(DeclVersion("待审核", first_staff, count, wage, name,
                                                 submitted, updated))
                later = updated + timedelta(days=rng.randint(10, 50), seconds=rng.randint(0, 9999))
                decl.versions.append(DeclVersion("审核通过", staff, count, wage, name, submitted,
                                                 later))
            else:
                decl.versions.append(DeclVersion(status, staff, count, wage, name, submitted,
                                                 updated))
            out.append(decl)
    return out
