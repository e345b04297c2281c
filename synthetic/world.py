"""Builds one chunk of the simulated province: clean baseline facts and the hard ER cases."""

import random
from datetime import date, timedelta

import refdata
from synthetic import tables
from synthetic.idcodes import landline, make_org_code, make_uscc, mobile, special_mobile
from synthetic.model import (
    YEAR_END,
    YEAR_START,
    Cert,
    Chunk,
    Employer,
    Interview,
    OrgPost,
    Person,
    Registration,
    Spell,
    Student,
    Training,
    add_months,
    add_years,
)
from synthetic.scenarios import (
    ALL_JYXX_MONTHS,
    CHUNK_PERSONS,
    DECLARATION_YEARS,
    GRADUATE_YEARS,
    SURVEY_YEARS,
    TRAINING_QUARTERS,
    Scenario,
)

EMPLOYERS_PER_CHUNK_MAX = 3000
SEQ_SLOTS = 250
_TYPE_PREFIX = {
    "enterprise": "91",
    "organ": "11",
    "public_institution": "12",
    "social_organisation": "52",
    "individual_business": "92",
}
_QUARTER_START = {"Q1": (1, 3), "Q2": (4, 6), "Q3": (7, 9), "Q4": (10, 12)}


def rand_date(rng: random.Random, first: date, last: date) -> date:
    """A uniformly random day in [first, last]."""
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def weighted(rng: random.Random, items: list, weights: list[float]):
    """One item by weight."""
    return rng.choices(items, weights=weights, k=1)[0]


class WorldBuilder:
    """Builds the clean baseline of one chunk; planting mutates it afterwards."""

    def __init__(self, scenario: Scenario, seed: int, chunk_index: int, n_persons: int) -> None:
        self.scn = scenario
        self.rng = random.Random(f"{seed}/{chunk_index}/world")
        self.chunk = Chunk(chunk_index)
        self.n = n_persons
        self.person_base = chunk_index * CHUNK_PERSONS * 2
        self.employer_base = chunk_index * EMPLOYERS_PER_CHUNK_MAX
        self.next_person = 0
        self.next_employer = 0
        self.next_spell = 0
        self.seq_slot = chunk_index % SEQ_SLOTS
        self.used_ids: set[tuple[str, date, int]] = set()
        self.city_names: set[tuple[str, str, str]] = set()  # hard: (city, trade, industry)
        self.counties = refdata.counties()
        self.county_weights = [
            {"district": 3.0, "county_city": 2.0, "county": 1.5}[c.kind] for c in self.counties
        ]
        self.hist_by_county: dict[str, list[str]] = {}
        for row in refdata.load_table("region_historical"):
            if row["level"] == "county" and row["current_county_code"]:
                self.hist_by_county.setdefault(row["current_county_code"], []).append(
                    row["old_code"]
                )
        self.area = {c.code: c.area_code for c in refdata.cities()}

    # ---------------------------------------------------------------- helpers
    def county(self, city: str | None = None) -> refdata.Region:
        """A random county, optionally within one city."""
        if city is None:
            return weighted(self.rng, self.counties, self.county_weights)
        return self.rng.choice(refdata.counties(city))

    def address(self, county_code: str) -> str:
        """A street address in a county."""
        reg = refdata.region(county_code)
        road = self.rng.choice(tables.lines("trade_names"))
        return f"山东省{reg.city_name}{reg.name}{road}路{self.rng.randint(1, 300)}号"

    def name(self, sex: str, surname: str | None = None) -> str:
        """A Chinese name for a sex."""
        names, weights = tables.surnames()
        sur = surname or weighted(self.rng, list(names), list(weights))
        chars = tables.given_chars(sex)
        given = self.rng.choice(chars)
        if self.rng.random() < 0.6:
            given += self.rng.choice(chars)
        return sur + given

    def assign_seq(self, person: Person, prefer_second: bool = False) -> None:
        """Give a person a sequence number that keeps every ID of the province unique.

        Each chunk owns two sequence numbers per sex, so IDs of different chunks never
        collide; within the chunk a clash moves the birth date by a day.
        """
        while True:
            # The block depends on region and birth date too, which spreads sequence numbers
            # over 000-999 while keeping, for a fixed region and date, one block per chunk.
            block = (self.seq_slot + int(person.id_region) * 7919
                     + person.birth.toordinal() * 31) % SEQ_SLOTS
            base = 4 * block + (1 if person.sex == "M" else 0)
            options = [base + 2, base] if prefer_second else [base, base + 2]
            for seq in options:
                key = (person.id_region, person.birth, seq)
                if key not in self.used_ids:
                    self.used_ids.add(key)
                    person.seq = seq
                    return
            person.birth += timedelta(days=1)

    def relocate_id(self, person: Person, *, birth: date | None = None,
                    id_region: str | None = None, prefer_second: bool = False) -> None:
        """Change the parts of a person's ID (birth date, region), keeping IDs unique."""
        self.used_ids.discard((person.id_region, person.birth, person.seq))
        if birth is not None:
            person.birth = birth
        if id_region is not None:
            person.id_region = id_region
        self.assign_seq(person, prefer_second=prefer_second)
        for cert in person.certs:
            if cert.issued <= person.birth:
                cert.issued = person.birth + timedelta(days=400)

    def set_birth(self, person: Person, birth: date) -> None:
        """Change a person's birth date (and so the ID), keeping IDs unique."""
        self.relocate_id(person, birth=birth)

    def phone_for(self, index: int, county: str) -> str | None:
        """Mobile (mostly), landline or nothing."""
        r = self.rng.random()
        if r < 0.85:
            return mobile(index)
        if r < 0.95:
            return landline(self.area[county[:4]], index)
        return None

    def new_person(self, sex: str | None = None, birth: date | None = None,
                   role: str = "holder", hukou: str | None = None) -> Person:
        """A new person with a unique ID and (for holders) one certificate."""
        idx = self.person_base + self.next_person
        self.next_person += 1
        rng = self.rng
        sex = sex or ("M" if rng.random() < 0.56 else "F")
        if birth is None:
            band = weighted(rng, [(1935, 1955), (1956, 1966), (1967, 1990), (1991, 2005),
                                  (2006, 2012)], [15, 15, 40, 25, 5])
            birth = rand_date(rng, date(band[0], 1, 1), date(band[1], 12, 31))
        county = hukou or self.county().code
        id_region = county
        if birth.year < 1985 and county in self.hist_by_county and rng.random() < 0.25:
            id_region = rng.choice(self.hist_by_county[county])
        elif rng.random() < 0.08:
            id_region = self.county(county[:4]).code
        eth_rows = tables.rows("ethnicities")
        person = Person(
            pid=f"P{idx:08d}", index=idx, name=self.name(sex), sex=sex, birth=birth,
            id_region=id_region, seq=0, hukou=county, address=self.address(county),
            ethnicity=weighted(rng, [r["name"] for r in eth_rows],
                               [int(r["weight"]) for r in eth_rows]),
            phone=self.phone_for(idx, county), role=role,
        )
        self.assign_seq(person)
        if role == "holder":
            person.certs.append(self.new_cert(person))
            person.legacy15 = birth.year < 1960 and rng.random() < self.scn.noise.registry_legacy_15
            if rng.random() < 0.02 and person.phone:
                person.phone_old = special_mobile("171", idx)
            person.wrong_registry_phone = rng.random() < 0.01
        else:
            person.in_registry = False
        self.chunk.persons.append(person)
        return person

    def new_cert(self, person: Person, issued: date | None = None) -> Cert:
        """A currently valid certificate (issued since late 2016, or 长期)."""
        rng = self.rng
        category = weighted(rng, [1, 2, 3, 4, 5, 6, 7], [12, 15, 2, 50, 8, 8, 5])
        level = weighted(rng, [1, 2, 3, 4], [8, 20, 35, 37])
        if issued is None:
            first = max(date(2016, 10, 1), person.birth + timedelta(days=200))
            issued = rand_date(rng, first, date(2026, 11, 30))
        valid = None if (person.birth.year < 1955 and rng.random() < 0.5) else (
            add_years(issued, 10) - timedelta(days=1))
        return Cert(person, category, level, issued, valid)

    def new_employer(self, kind: str, region: str | None = None, *, outside: bool = False,
                     trade: str | None = None, industry: str | None = None,
                     name: str | None = None) -> Employer:
        """A new employer with valid organisation code and USCC."""
        idx = self.employer_base + self.next_employer
        self.next_employer += 1
        rng = self.rng
        if outside:
            row = rng.choice(tables.rows("outside_regions"))
            region, city_short = row["code"], row["city"].removesuffix("市")
        else:
            region = region or self.county().code
            city_short = refdata.region(region).city_name.removesuffix("市")
        ind_rows = tables.rows("industries")
        if self.scn.hard and trade is None and name is None and not outside:
            # Registration keeps names unique within a city: a wider stock of two-character
            # trade names, drawn again when the city already has that trade and industry.
            industry = industry or rng.choice(ind_rows)["industry"]
            chars = tables.lines("trade_chars")
            while True:
                trade = rng.choice(chars) + rng.choice(chars)
                if trade[0] != trade[1] and (region[:4], trade, industry) not in self.city_names:
                    break
        trade = trade or rng.choice(tables.lines("trade_names"))
        industry = industry or rng.choice(ind_rows)["industry"]
        if self.scn.hard:
            self.city_names.add((region[:4], trade, industry))
        org_code = make_org_code(idx)
        uscc = make_uscc(_TYPE_PREFIX[kind], region, org_code)
        if name is None:
            form = weighted(rng, ["有限公司", "有限责任公司", "股份有限公司"], [70, 22, 8])
            name = f"{city_short}{trade}{industry}{form}"
        staff = {
            "enterprise": lambda: int(min(3000, max(12, rng.lognormvariate(4.3, 1.0)))),
            "organ": lambda: rng.randint(30, 300),
            "public_institution": lambda: rng.randint(20, 800),
            "social_organisation": lambda: rng.randint(6, 60),
            "individual_business": lambda: rng.randint(3, 15),
        }[kind]()
        emp = Employer(
            eid=f"E{idx:07d}", index=idx, kind=kind, name=name, trade=trade, industry=industry,
            region=region, org_code=org_code, uscc=uscc, city_short=city_short, outside=outside,
            avg_wage=rng.randint(45, 140) * 1000,
        )
        emp.staff = {2024: staff, 2025: max(3, int(staff * rng.uniform(0.92, 1.1)))}
        self.chunk.employers.append(emp)
        return emp

    def wage_for(self, employer: Employer, factor_low: float = 1.25,
                 factor_high: float = 2.6) -> dict[int, int]:
        """Declared monthly wage per year, comfortably above the local minimum."""
        if employer.outside:
            base = self.rng.randint(400, 900) * 10
        else:
            minimum = float(refdata.min_wage(employer.region, date(2024, 1, 1)))
            base = int(minimum * self.rng.uniform(factor_low, factor_high) / 10 + 1) * 10
        return {2024: base, 2025: int(base * 1.03 / 10 + 1) * 10}

    def new_spell(self, person: Person, employer: Employer, start: date, end: date | None,
                  declared: bool, wage: dict[int, int] | None = None) -> Spell:
        """A contract; declared spells get clean wages and full contributions."""
        self.next_spell += 1
        positions = next(r["positions"] for r in tables.rows("industries")
                         if r["industry"] == employer.industry).split("|")
        if employer.kind in ("organ", "public_institution"):
            positions = ["科员", "办事员", "专业技术人员"]
        spell = Spell(
            sid=self.chunk.index * 10**7 + self.next_spell, person=person, employer=employer,
            start=start, end=end, wage=wage or self.wage_for(employer), declared=declared,
            position=self.rng.choice(positions),
        )
        self.chunk.spells.append(spell)
        return spell

    def contract_dates(self) -> tuple[date, date | None]:
        """Clean contract dates: start 2015-2025 (never Oct-Dec of a declaration year),
        at least one year long, overlapping the declaration years."""
        rng = self.rng
        while True:
            last = date(2025, 9, 1) if rng.random() < 0.2 else date(2023, 12, 31)
            start = rand_date(rng, date(2015, 1, 1), last)
            if start.year in DECLARATION_YEARS and start.month >= 10:
                continue
            if rng.random() < 0.7:
                start = start.replace(day=1)
            start = start.replace(day=min(start.day, 28))
            if rng.random() < 0.45:
                return start, None
            years = rng.choice([1, 2, 3, 5])
            end = add_years(start, years) - timedelta(days=1)
            while end < date(2024, 3, 1):
                years += 2
                end = add_years(start, years) - timedelta(days=1)
            return start, end

    def working_age(self, person: Person) -> bool:
        """Clean for declaration: adult in 2024 and well below any retirement bound in 2025."""
        if person.birth > date(2005, 12, 31):
            return False
        floor = date(1967, 1, 1) if person.sex == "M" else date(1977, 1, 1)
        return person.birth >= floor

    # ---------------------------------------------------------------- build
    def build_base(self) -> Chunk:
        """The clean baseline of persons, employers and employment (planting comes next)."""
        self.build_employers()
        for _ in range(self.n):
            self.new_person()
        self.build_hard_person_cases()
        self.build_certificate_histories()
        self.build_org_staff()
        self.build_students()
        self.build_declared_employment()
        self.build_other_employment()
        self.build_hr_namesakes()
        return self.chunk

    def build_rest(self) -> Chunk:
        """Facts that follow employment: survey interviews, trainings, registrations."""
        self.build_interviews()
        self.build_trainings()
        self.build_registrations()
        return self.chunk

    def build_employers(self) -> None:
        """Employers of every kind, plus the hard employer cases."""
        rng = self.rng
        n_emp = max(40, self.n // 20)
        kinds = (["organ"] * max(4, n_emp * 6 // 100)
                 + ["public_institution"] * max(4, n_emp * 6 // 100)
                 + ["social_organisation"] * max(2, n_emp * 3 // 100)
                 + ["individual_business"] * max(2, n_emp * 4 // 100))
        kinds += ["enterprise"] * (n_emp - len(kinds))
        organ_rows = tables.rows("organ_departments")
        inst_rows = tables.rows("institution_kinds")
        for kind in kinds:
            if kind == "organ":
                reg = self.county()
                row = rng.choice(organ_rows)
                emp = self.new_employer(kind, reg.code, name=f"{reg.city_name}{reg.name}{row['name']}")
                emp.est_kind, emp.supervisor = row["kind"], f"{reg.name}{row['supervisor']}"
                emp.is_dpf = row["dpf"] == "是"
                emp.authorised = emp.staff[2024] + rng.randint(0, 20)
            elif kind == "public_institution":
                reg = self.county()
                row = rng.choice(inst_rows)
                emp = self.new_employer(kind, reg.code, name=f"{reg.city_name}{reg.name}{row['name']}")
                emp.est_kind, emp.supervisor = "事业单位", f"{reg.name}{row['supervisor']}"
                emp.is_school = row["school"] == "是"
                emp.canzhao = row["canzhao"] == "是"
                emp.authorised = emp.staff[2024] + rng.randint(0, 30)
            elif kind == "social_organisation":
                reg = self.county()
                trade = rng.choice(tables.lines("trade_names"))
                self.new_employer(kind, reg.code,
                                  name=f"{reg.city_name}{trade}社会工作服务中心")
            elif kind == "individual_business":
                reg = self.county()
                trade = rng.choice(tables.lines("trade_names"))
                self.new_employer(kind, reg.code,
                                  name=f"{reg.city_name}{reg.name}{trade}便利店")
            else:
                emp = self.new_employer(kind)
                emp.legacy = rng.random() < 0.05
        for _ in range(max(3, n_emp // 20)):
            self.new_employer("enterprise", outside=True)
        enterprises = [e for e in self.chunk.employers if e.kind == "enterprise" and not e.outside]
        # A branch is a different employer from its head office (own USCC).
        n_branches = (max(1, len(enterprises) // 40) if not self.scn.hard
                      else max(1, round(len(enterprises) * self.scn.branch_share)))
        for head in rng.sample(enterprises, n_branches):
            reg = self.county(head.region[:4])
            branch = self.new_employer(
                "enterprise", reg.code, trade=head.trade, industry=head.industry,
                name=f"{head.name}{reg.name.removesuffix('区').removesuffix('县')}分公司")
            branch.head = head
            head.tag, branch.tag = "head", "branch"
            self.chunk.hard_cases.append(("employer_branch", head.eid, branch.eid,
                                          "branch with its own USCC: a different employer"))
        # A company renamed between the declaration years keeps its USCC.
        for emp in rng.sample(enterprises, max(1, len(enterprises) // 50)):
            emp.old_name = emp.name
            emp.name = f"山东{emp.trade}{rng.choice(['智能装备', '实业', '新材料'])}有限公司"
            emp.rename_year = 2025
            emp.tag = emp.tag or "renamed"
            self.chunk.hard_cases.append(("employer_renamed", emp.eid, emp.eid,
                                          f"{emp.old_name} -> {emp.name}, same USCC"))
        # The same trade name in two different cities: two different employers.
        first = rng.choice(enterprises)
        other_city = rng.choice([c for c in refdata.cities() if c.code != first.region[:4]])
        twin = self.new_employer("enterprise", self.county(other_city.code).code,
                                 trade=first.trade, industry=first.industry)
        first.tag, twin.tag = first.tag or "same_trade", "same_trade"
        self.chunk.hard_cases.append(("employer_same_trade", first.eid, twin.eid,
                                      "same trade name in two cities: different employers"))
        if self.scn.hard:
            self.build_hard_employer_cases(enterprises)
        # A welfare enterprise (集中安排残疾人就业单位).
        reg = self.county()
        welfare = self.new_employer("enterprise", reg.code,
                                    name=f"{reg.city_name.removesuffix('市')}"
                                         f"{rng.choice(tables.lines('trade_names'))}福利厂")
        welfare.welfare = True

    def build_hard_employer_cases(self, enterprises: list[Employer]) -> None:
        """Hard scenario: one trade name in 2-3 cities, org code → credit code changes."""
        rng = self.rng
        n_groups = max(2, round(self.n * self.scn.same_trade_groups_per_1000 / 1000))
        plain = [e for e in enterprises if not e.tag]
        for first in rng.sample(plain, min(n_groups, len(plain))):
            cities = [c for c in refdata.cities() if c.code != first.region[:4]]
            for city in rng.sample(cities, rng.choice([1, 2])):
                other = self.new_employer("enterprise", self.county(city.code).code,
                                          trade=first.trade, industry=first.industry)
                other.tag = "same_trade"
                self.chunk.hard_cases.append(("employer_same_trade", first.eid, other.eid,
                                              "same trade name in several cities"))
            first.tag = "same_trade"
        for emp in enterprises:
            if not emp.legacy and not emp.old_name and rng.random() < self.scn.code_change_share:
                emp.code_change_year = 2025
                emp.tag = emp.tag or "code_change"
                self.chunk.hard_cases.append(("employer_code_change", emp.eid, emp.eid,
                                              "organisation code in 2024, credit code from 2025"))

    def build_movers(self) -> None:
        """Hard scenario: persons whose household registration moved city in 2025."""
        rng = self.rng
        holders = [p for p in self.chunk.persons if p.role == "holder" and not p.used]
        for p in rng.sample(holders, round(len(holders) * self.scn.mover_share)):
            other = rng.choice([c for c in refdata.cities() if c.code != p.hukou[:4]])
            p.hukou_before, p.address_before = p.hukou, p.address
            p.hukou = self.county(other.code).code
            p.address = self.address(p.hukou)
            p.moved_on = rand_date(rng, date(2025, 1, 1), date(2025, 12, 31))
            if rng.random() < 0.5:
                p.phone = mobile(p.index + 7_000_000)
            self.chunk.hard_cases.append(("person_mover", p.pid, p.pid,
                                          f"hukou {p.hukou_before} -> {p.hukou} in 2025"))

    def build_hard_person_cases(self) -> None:
        """True namesakes (same name and birth date, different persons) and twins."""
        rng = self.rng
        persons = [p for p in self.chunk.persons if p.role == "holder"]
        common = ["王伟", "张伟", "李娜", "王秀英", "张敏", "李静", "刘洋", "王磊"]
        n_pairs = max(2, round(self.n * self.scn.namesake_pairs_per_1000 / 1000))
        for _ in range(n_pairs):
            a, b = rng.sample(persons, 2)
            name = rng.choice(common)
            sex = "F" if name in ("李娜", "王秀英", "张敏", "李静") else "M"
            for p in (a, b):
                self.used_ids.discard((p.id_region, p.birth, p.seq))
                p.sex = sex
                p.name = name
                self.assign_seq(p)
            same_county = self.scn.hard and rng.random() < self.scn.namesake_same_county
            if same_county:
                # Born on one day in one county: the IDs differ in sequence and check only.
                b.hukou = a.hukou
                b.address = self.address(b.hukou)
                self.relocate_id(b, birth=a.birth, id_region=a.id_region, prefer_second=True)
            else:
                if b.hukou == a.hukou:
                    b.hukou = self.county().code
                    b.address = self.address(b.hukou)
                self.relocate_id(b, birth=a.birth, id_region=b.hukou)
            a.used = b.used = True  # planting must not move their birth dates apart
            self.chunk.hard_cases.append((
                "person_namesake_same_county" if same_county else "person_namesake", a.pid,
                b.pid, "same name and birth date, different persons"))
        n_twins = max(1, round(self.n * self.scn.twins_per_1000 / 1000))
        for _ in range(n_twins):
            a = rng.choice(persons)
            b = self.new_person(sex=a.sex, birth=a.birth, hukou=a.hukou)
            self.relocate_id(b, birth=a.birth, id_region=a.id_region, prefer_second=True)
            b.name = a.name[0] + self.name(a.sex)[1:]
            if b.name == a.name:
                b.name = a.name[0] + ("亮" if a.sex == "M" else "丽")
            b.address = a.address
            b.phone = a.phone
            a.used = b.used = True
            self.chunk.hard_cases.append(("person_twin", a.pid, b.pid,
                                          "same birth date, region, address and phone"))
        if self.scn.hard:
            self.build_movers()

    def build_certificate_histories(self) -> None:
        """Cancelled, moved-out, expired, re-assessed and re-issued certificates."""
        rng = self.rng
        for p in self.chunk.persons:
            if p.role != "holder" or not p.certs:
                continue
            cert = p.certs[0]
            r = rng.random()
            if r < 0.015 and p.birth.year < 1960:
                cert.status, cert.reason = "注销", "死亡"
                cert.ended_on = rand_date(rng, max(cert.issued, date(2018, 1, 1)), date(2026, 11, 20))
            elif r < 0.025:
                cert.status, cert.reason = "迁出", "迁出"
                cert.ended_on = rand_date(rng, max(cert.issued, date(2018, 1, 1)), date(2026, 11, 20))
            elif r < 0.045:
                self.reassess(p, rand_date(rng, date(2017, 1, 1), date(2023, 6, 30)))
            elif r < 0.06:
                # An old certificate that ran out and was never renewed.
                cert.issued = rand_date(rng, date(2008, 1, 1), date(2015, 12, 31))
                if cert.issued <= p.birth:
                    cert.issued = p.birth + timedelta(days=400)
                cert.valid_until = add_years(cert.issued, 10) - timedelta(days=1)

    def reassess(self, person: Person, day: date, new_level: int | None = None,
                 reissue: bool = False) -> Cert:
        """Replace the current certificate by a new one from `day` (重新评定)."""
        old = person.main_cert()
        if old.issued >= day:
            old.issued = day - timedelta(days=self.rng.randint(400, 2000))
            old.valid_until = add_years(old.issued, 10) - timedelta(days=1)
        old.status, old.reason, old.ended_on = "注销", "重新评定", day
        level = new_level or self.rng.choice([lv for lv in (1, 2, 3, 4) if lv != old.level])
        new = Cert(person, old.category, level, day, add_years(day, 10) - timedelta(days=1))
        if reissue or self.rng.random() < 0.15:
            new.suffix = "1"  # re-issued certificates may carry 21 characters
        person.certs.append(new)
        return new

    def build_org_staff(self) -> None:
        """Staff with a disability on the registers of organs and 参公 institutions."""
        rng = self.rng
        units = [e for e in self.chunk.employers
                 if e.kind == "organ" or (e.kind == "public_institution" and e.canzhao)]
        candidates = [p for p in self.chunk.persons
                      if p.role == "holder" and self.working_age(p) and self.cert_clean(p)
                      and p.birth <= date(1998, 12, 31)]
        rng.shuffle(candidates)
        n_staff = max(len(units), round(self.n * self.scn.organ_staff_share))
        for i in range(min(n_staff, len(candidates))):
            unit = units[i % len(units)]
            p = candidates[i]
            p.role = "holder"
            joined = rand_date(rng, date(2008, 1, 1), date(2023, 6, 30)).replace(day=1)
            self.add_post(p, unit, joined, has_cert=True)
            spell = self.new_spell(p, unit, joined, None, declared=True,
                                   wage={2024: rng.randint(450, 800) * 10,
                                         2025: rng.randint(460, 820) * 10})
            spell.jyxx_form = None
        # Staff who declare a disability without holding a certificate: not in the registry.
        for unit in rng.sample(units, max(1, len(units) // 4)):
            p = self.new_person(role="org_only", birth=rand_date(rng, date(1970, 1, 1),
                                                                date(1995, 12, 31)))
            self.add_post(p, unit, rand_date(rng, date(2010, 1, 1), date(2023, 6, 30)),
                          has_cert=False)

    def add_post(self, person: Person, organ: Employer, joined: date, has_cert: bool) -> OrgPost:
        """Put a person on an organ's staff register."""
        post = OrgPost(
            person=person, organ=organ, staff_id=f"ZZ{person.index:09d}",
            post=self.rng.choice(["一级科员", "二级科员", "四级主任科员", "办事员", "三级调研员"]),
            joined=joined.replace(day=1), has_cert=has_cert,
            staffing_type="行政编制" if organ.kind == "organ" else "参照公务员法管理事业编制",
        )
        self.chunk.posts.append(post)
        return post

    def cert_clean(self, person: Person) -> bool:
        """True when a valid certificate covers both declaration years."""
        first, last = YEAR_START[DECLARATION_YEARS[0]], YEAR_END[DECLARATION_YEARS[-1]]
        for cert in person.certs:
            start, end = cert.valid_interval()
            if start <= first and end >= last:
                return True
        return False

    def free_adults(self) -> list[Person]:
        """Certificate holders of working age not yet given a role."""
        busy = {s.person.pid for s in self.chunk.spells} | {st.person.pid for st in self.chunk.students}
        busy |= {p.person.pid for p in self.chunk.posts}
        return [p for p in self.chunk.persons if p.role == "holder" and p.pid not in busy
                and self.working_age(p) and self.cert_clean(p)]

    def build_students(self) -> None:
        """University students; the ones graduating in a file year get a destination."""
        rng = self.rng
        n = max(4, round(self.n * self.scn.student_share))
        pool = [p for p in self.chunk.persons if p.role == "holder" and not p.certs[0].ended_on
                and p.pid not in {s.person.pid for s in self.chunk.spells}]
        unis = tables.rows("universities")
        for p in rng.sample(pool, min(n, len(pool))):
            level = weighted(rng, ["本科", "专科", "硕士研究生", "博士研究生"], [60, 28, 10, 2])
            duration = {"本科": 4, "专科": 3, "硕士研究生": 3, "博士研究生": 4}[level]
            grad = rng.randint(GRADUATE_YEARS[0], GRADUATE_YEARS[-1] + 3)
            enrol = grad - duration
            age_at_enrol = {"本科": 18, "专科": 18, "硕士研究生": 22, "博士研究生": 25}[level]
            self.set_birth(p, rand_date(rng, date(enrol - age_at_enrol - 1, 9, 1),
                                        date(enrol - age_at_enrol, 8, 31)))
            self.add_student(p, rng.choice(unis), level, enrol, grad)

    def add_student(self, person: Person, uni: dict[str, str], level: str, enrol: int,
                    grad: int, destination: str | None = None,
                    employer: Employer | None = None):
        """Enrol a person at a university."""
        rng = self.rng
        if destination is None:
            destination = weighted(rng, ["已就业", "待就业", "升学", "灵活就业", "自主创业",
                                         "出国出境"], [40, 20, 15, 12, 6, 7])
        if destination == "已就业" and employer is None:
            employer = rng.choice([e for e in self.chunk.employers
                                   if e.kind == "enterprise" and not e.welfare])
        student = Student(
            person=person, school_code=uni["code"], school_name=uni["name"],
            student_no=f"{enrol}{person.index:07d}", level=level,
            major=rng.choice(tables.lines("majors")), enrol_year=enrol, grad_year=grad,
            grad_month=6 if level != "博士研究生" else 7, destination=destination,
            employer=employer,
        )
        self.chunk.students.append(student)
        return student

    def build_declared_employment(self) -> None:
        """Clean declared employees: eligible in every way the rules check."""
        rng = self.rng
        pool = self.free_adults()
        rng.shuffle(pool)
        # Small provinces still need enough declared employees for every planted rule.
        n = max(round(self.n * self.scn.declared_share), min(round(0.35 * self.n), 150))
        employers = [e for e in self.chunk.employers if not e.outside and e.kind in (
            "enterprise", "public_institution", "social_organisation") and not e.canzhao]
        outside = [e for e in self.chunk.employers if e.outside]
        welfare = [e for e in employers if e.welfare]
        by_city: dict[str, list[Employer]] = {}
        for e in employers:
            if not e.welfare:
                by_city.setdefault(e.region[:4], []).append(e)
        # Sheltered workshop: its employees are registered as 集中就业.
        for w in welfare:
            for _ in range(4):
                if pool:
                    p = pool.pop()
                    start, end = self.contract_dates()
                    s = self.new_spell(p, w, start, end, declared=True)
                    s.jyxx_form = "集中就业"
        special = [e for e in employers if e.tag]
        for p, emp in zip(pool[n:], special, strict=False):
            # Every hard employer case gets a declared employee, so it has quota mentions.
            start, end = self.contract_dates()
            self.new_spell(p, emp, start, end, declared=True)
        for p in pool[:n]:
            r = rng.random()
            if r < 0.06:
                emp = rng.choice(outside)
            elif r < 0.16 or p.hukou[:4] not in by_city:
                emp = rng.choice([e for e in employers if not e.welfare])
            else:
                emp = rng.choice(by_city[p.hukou[:4]])
            start, end = self.contract_dates()
            spell = self.new_spell(p, emp, start, end, declared=True)
            spell.emp_type = weighted(rng, ["全日制", "非全日制", "劳务派遣"], [90, 4, 6])
            if rng.random() < 0.7:
                spell.jyxx_form = "按比例就业"
            if not emp.outside and rng.random() < 0.04:
                spell.unpaid_last = True

    def build_other_employment(self) -> None:
        """Employment that nobody declared (hr and employment-service mentions)."""
        rng = self.rng
        pool = self.free_adults()
        rng.shuffle(pool)
        n = round(self.n * self.scn.other_employed_share)
        employers = [e for e in self.chunk.employers if not e.outside and not e.welfare
                     and e.kind in ("enterprise", "individual_business", "social_organisation")]
        for p in pool[:n]:
            emp = rng.choice(employers)
            start = rand_date(rng, date(2016, 1, 1), date(2026, 6, 1))
            end = None if rng.random() < 0.6 else rand_date(rng, start + timedelta(days=60),
                                                            date(2026, 10, 31))
            spell = self.new_spell(p, emp, start, end, declared=False)
            spell.insured = rng.random() < 0.8
            if rng.random() < 0.6:
                spell.jyxx_form = weighted(rng, ["按比例就业", "公益性岗位", "辅助性就业"],
                                           [80, 12, 8])

    def build_hr_namesakes(self) -> None:
        """Insured persons without a certificate who share a name with a declared employee."""
        rng = self.rng
        declared = [s for s in self.chunk.spells if s.declared and not s.employer.outside]
        employers = [e for e in self.chunk.employers if e.kind == "enterprise" and not e.outside
                     and not e.welfare]
        for s in rng.sample(declared, round(len(declared) * self.scn.hr_namesake_share)):
            twin_birth = s.person.birth + timedelta(days=rng.choice([0, 0, 1, 31, 365, -365]))
            other = self.new_person(sex=s.person.sex, birth=twin_birth, role="hr_namesake")
            other.name = s.person.name
            self.chunk.hard_cases.append(("person_hr_namesake", s.person.pid, other.pid,
                                          "insured namesake without a certificate"))
            start = rand_date(rng, date(2016, 1, 1), date(2023, 12, 1))
            self.new_spell(other, rng.choice(employers), start, None, declared=False)

    def build_interviews(self) -> None:
        """Survey interviews of persons without work in the year."""
        rng = self.rng
        for year in SURVEY_YEARS:
            working = {s.person.pid for s in self.chunk.spells if s.period(year)}
            students = {st.person.pid for st in self.chunk.students}
            pool = [p for p in self.chunk.persons if p.role == "holder" and p.pid not in working
                    and p.pid not in students and 16 <= p.age_on(date(year, 6, 30)) <= 59]
            for p in rng.sample(pool, min(len(pool), round(self.n * self.scn.survey_share))):
                self.add_interview(p, year, rand_date(rng, date(year, 3, 1), date(year, 11, 30)))

    def add_interview(self, person: Person, year: int, day: date) -> Interview:
        """Record a survey interview."""
        rng = self.rng
        iv = Interview(
            person=person, year=year, qid=f"WJ{year}{person.index:09d}",
            day=day, reason=weighted(rng, ["缺乏岗位", "缺乏技能", "身体原因", "家庭原因", "其他"],
                                     [35, 25, 25, 10, 5]),
            wants=weighted(rng, ["有", "无", "不确定"], [60, 25, 15]),
            training=rng.choice(["电商直播", "盲人按摩", "手工编织", "计算机操作", "无"]),
            interviewer=self.name("M" if rng.random() < 0.5 else "F"),
        )
        self.chunk.interviews.append(iv)
        return iv

    def build_trainings(self) -> None:
        """Trainees per quarter (age only, no birth date, is kept by the source)."""
        rng = self.rng
        courses = tables.rows("courses")
        adults = [p for p in self.chunk.persons if p.role == "holder"
                  and 16 <= p.age_on(date(2026, 6, 30)) <= 60]
        for quarter in TRAINING_QUARTERS:
            year, q = int(quarter[:4]), quarter[4:]
            m1, m2 = _QUARTER_START[q]
            for p in rng.sample(adults, min(len(adults), round(self.n * self.scn.trainee_share))):
                course = rng.choice(courses)
                start = rand_date(rng, date(year, m1, 1), date(year, m2, 20))
                end = None if rng.random() < 0.1 else start + timedelta(days=rng.randint(5, 40))
                result = "未结业" if end is None else weighted(rng, ["合格", "不合格"], [88, 12])
                city = refdata.city_name(p.hukou[:4])
                self.chunk.trainings.append(Training(
                    person=p, quarter=quarter, trainee_id=f"PX{quarter}{p.index:09d}",
                    course=course["course"], kind=course["kind"],
                    provider=f"{city}{rng.choice(['残疾人职业培训基地', '职业技能培训学校', '盲人按摩指导中心'])}",
                    start=start, end=end, result=result,
                    certified="是" if result == "合格" and rng.random() < 0.7 else "否", city=city,
                ))

    def build_registrations(self) -> None:
        """Employment-service registrations of spells, and self-employment forms."""
        rng = self.rng
        first_month = ALL_JYXX_MONTHS[0]
        for s in self.chunk.spells:
            if not s.jyxx_form:
                continue
            self.add_registration(s.person, s.jyxx_form, s.employer, s.start, s.end,
                                  s.wage_in(2024), first_month,
                                  withdrawable=s.jyxx_form != "集中就业" and not s.declared)
        pool = self.free_adults()
        for p in rng.sample(pool, min(len(pool), round(self.n * self.scn.individual_form_share))):
            start = rand_date(rng, date(2020, 1, 1), date(2026, 8, 31))
            form = rng.choice(["个体就业", "灵活就业", "自主创业", "农村种养殖"])
            self.add_registration(p, form, None, start, None, rng.choice([None, 1500, 2200, 3000]),
                                  first_month, withdrawable=True)

    def add_registration(self, person: Person, form: str, employer: Employer | None,
                         start: date, end: date | None, income: int | None, first_month: str,
                         withdrawable: bool) -> Registration:
        """A registration with its 新增 / 变更 / 注销 events in the delivery months."""
        rng = self.rng
        month0 = max(f"{start:%Y%m}", first_month)
        idx0 = ALL_JYXX_MONTHS.index(month0) if month0 in ALL_JYXX_MONTHS else len(ALL_JYXX_MONTHS) - 1
        idx0 = min(len(ALL_JYXX_MONTHS) - 1, idx0 + rng.randint(0, 2))
        city = refdata.region(person.hukou_on(start))
        if (self.scn.hard and employer is not None and not employer.outside
                and rng.random() < self.scn.office_at_employer):
            # The employer's district office registered the job, not the person's own.
            city = refdata.region(employer.region)
        reg = Registration(
            person=person, reg_id=f"JY{ALL_JYXX_MONTHS[idx0]}{person.index:09d}", form=form,
            employer=employer, start=start, end=None, income=income,
            office=f"{city.city_name}{city.name}残疾人联合会",
        )
        if self.scn.hard:
            reg.office = weighted(rng, [reg.office, f"{city.city_name}{city.name}残疾人就业服务中心",
                                        f"{city.name}残联"], [50, 30, 20])
        reg.events.append((ALL_JYXX_MONTHS[idx0], "新增", None))
        if end is not None and f"{end:%Y%m}" <= ALL_JYXX_MONTHS[-1]:
            month = max(f"{end:%Y%m}", ALL_JYXX_MONTHS[idx0])
            if month != ALL_JYXX_MONTHS[idx0]:
                reg.events.append((month, "变更", end))
        if withdrawable and rng.random() < 0.03 and idx0 + 1 < len(ALL_JYXX_MONTHS):
            month = ALL_JYXX_MONTHS[rng.randint(idx0 + 1, len(ALL_JYXX_MONTHS) - 1)]
            if month > reg.events[-1][0]:
                reg.events.append((month, "注销", end))
        self.chunk.registrations.append(reg)
        return reg


def month_of(day: date) -> str:
    """YYYYMM of a day."""
    return f"{day:%Y%m}"


__all__ = ["WorldBuilder", "add_months", "month_of", "rand_date"]
