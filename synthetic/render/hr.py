"""hr: the social-insurance extract as the SQLite file `hr/hr.db` (ab01, ac01, ac08)."""

import sqlite3
from datetime import date

from synthetic.render.base import Renderer
from synthetic.scenarios import DECLARATION_YEARS

SCHEMA = (
    """CREATE TABLE ab01 (
        aab001 varchar(20) PRIMARY KEY, aab003 varchar(20), aab004 varchar(200),
        aab019 varchar(2), aab301 varchar(6), aae036 timestamp)""",
    """CREATE TABLE ac01 (
        aac001 varchar(20) PRIMARY KEY, aac002 varchar(18), aac003 varchar(50),
        aac004 varchar(1), aac006 integer, aae005 varchar(20), aae036 timestamp)""",
    """CREATE TABLE ac08 (
        aaz223 bigint PRIMARY KEY, aac001 varchar(20), aab001 varchar(20), aae002 integer,
        aae140 varchar(3), aac040 numeric(12,2), aae078 varchar(1), aae036 timestamp)""",
)
AAB019 = {"enterprise": "10", "organ": "30", "public_institution": "50",
          "social_organisation": "60", "individual_business": "70"}


def employer_key(emp) -> str:
    """aab001 of an employer."""
    return f"37{emp.index:010d}"


def person_key(person) -> str:
    """aac001 of a person."""
    return f"3700{person.index:010d}"


def _stamp(day: date, rng) -> str:
    bits = rng.getrandbits(24)
    return (f"{day.year}-{day.month:02d}-{day.day:02d} {9 + bits % 8:02d}:"
            f"{(bits >> 4) % 60:02d}:{(bits >> 10) % 60:02d}")


class HrRenderer(Renderer):
    """Employers of Shandong, insured persons and their monthly contributions."""

    source = "hr"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        path = self.dir / "hr.db"
        if path.exists():
            path.unlink()
        self.db = sqlite3.connect(path)
        for ddl in SCHEMA:
            self.db.execute(ddl)
        self.counts = {"ab01": 0, "ac01": 0, "ac08": 0}
        self.next_id = 1

    def write(self, chunk, decls, truth) -> None:
        rng = self.rng(chunk)
        ab01 = []
        for emp in chunk.employers:
            if emp.outside:
                continue
            code = f"{emp.org_code[:8]}-{emp.org_code[8]}" if emp.legacy else emp.uscc
            ab01.append((employer_key(emp), code, emp.name, AAB019[emp.kind], emp.region,
                         _stamp(date(2015 + rng.randint(0, 10), rng.randint(1, 12),
                                     rng.randint(1, 28)), rng)))
            truth.employer(self.source, employer_key(emp), emp.eid)
        self.db.executemany("INSERT INTO ab01 VALUES (?,?,?,?,?,?)", ab01)
        self.counts["ab01"] += len(ab01)

        insured: dict[str, object] = {}
        ac08 = []
        for spell in chunk.spells:
            emp = spell.employer
            if emp.outside:
                continue
            for year in DECLARATION_YEARS:
                months = spell.paid_months(year)
                if not months:
                    continue
                insured[spell.person.pid] = spell.person
                pkey, ekey = person_key(spell.person), employer_key(emp)
                base = float(spell.base_in(year))
                unpaid = spell.unpaid_last and year == DECLARATION_YEARS[-1] and len(months) >= 4
                for month in months:
                    y, m = int(month[:4]), int(month[4:])
                    due = date(y + (m == 12), m % 12 + 1, 15)
                    flag = "0" if unpaid and month == months[-1] and month.endswith("12") else "1"
                    stamp = _stamp(due, rng)  # one transaction books the three insurances
                    for code in (emp.pension_code, "210", "310"):
                        ac08.append((self.next_id, pkey, ekey, int(month), code, base, flag,
                                     stamp))
                        self.next_id += 1
                if len(ac08) >= 50_000:
                    self._flush(ac08)
                    ac08 = []
        self._flush(ac08)
        ac01 = []
        for person in sorted(insured.values(), key=lambda p: p.index):
            phone = person.phone if person.phone and rng.random() < 0.8 else None
            ac01.append((person_key(person), person.id18, person.name,
                         "1" if person.sex == "M" else "2", int(f"{person.birth:%Y%m%d}"), phone,
                         _stamp(date(2016 + rng.randint(0, 9), rng.randint(1, 12),
                                     rng.randint(1, 28)), rng)))
            truth.person(self.source, person_key(person), person.pid)
        self.db.executemany("INSERT INTO ac01 VALUES (?,?,?,?,?,?,?)", ac01)
        self.counts["ac01"] += len(ac01)
        self.db.commit()

    def _flush(self, rows: list) -> None:
        if rows:
            self.db.executemany("INSERT INTO ac08 VALUES (?,?,?,?,?,?,?,?)", rows)
            self.counts["ac08"] += len(rows)

    def close(self) -> dict[str, int]:
        self.db.commit()
        self.db.close()
        return {f"hr.db:{k}": v for k, v in self.counts.items()}
