"""Planted fraud cases for the 13 rule codes, and decoys at each rule's boundary."""

import math
import random
from collections.abc import Callable
from datetime import date, timedelta

import refdata
from synthetic import tables
from synthetic.idcodes import cert_number, special_mobile
from synthetic.model import Employer, Planted, Spell, add_years
from synthetic.scenarios import DECLARATION_YEARS
from synthetic.world import WorldBuilder, rand_date

Y1, Y2 = DECLARATION_YEARS


class Planter:
    """Turns clean declared employees of a chunk into planted cases and decoys."""

    def __init__(self, builder: WorldBuilder) -> None:
        self.b = builder
        self.chunk = builder.chunk
        self.rng = random.Random(f"{builder.rng.random()}/planting")
        self.n_phone = 0

    # ------------------------------------------------------------ selection
    def clean_spells(self, pred: Callable[[Spell], bool] | None = None) -> list[Spell]:
        """Declared spells still clean and unused, at Shandong enterprises, covering both years."""
        out = []
        for s in self.chunk.spells:
            e = s.employer
            if (s.declared and not s.used and not s.person.used and s.person.role == "holder"
                    and e.kind == "enterprise" and not e.welfare and not e.outside
                    and not e.used and s.covers_years(DECLARATION_YEARS)
                    and (pred is None or pred(s))):
                out.append(s)
        return out

    def take(self, pred: Callable[[Spell], bool] | None = None) -> Spell | None:
        """Reserve one clean spell (and its person) for a case."""
        pool = self.clean_spells(pred)
        if not pool:
            return None
        spell = self.rng.choice(pool)
        self.reserve(spell)
        return spell

    def reserve(self, spell: Spell) -> None:
        """Mark a spell, its person and the person's other spells as used."""
        spell.used = True
        spell.person.used = True
        for other in self.chunk.spells:
            if other.person is spell.person:
                other.used = True

    def other_employer(self, not_this: Employer, outside: bool = False) -> Employer:
        """Another enterprise to declare the same person."""
        pool = [e for e in self.chunk.employers if e is not not_this and e.kind == "enterprise"
                and not e.welfare and not e.used and e.outside == outside]
        return self.rng.choice(pool)

    def plant(self, rule: str, spell: Spell, year: int, note: str = "") -> None:
        """Record an intended finding."""
        self.chunk.planted.append(Planted(rule, spell.person, spell.employer, year, note))

    def decoy(self, kind: str, spell: Spell | None, year: int, note: str,
              employer: Employer | None = None) -> None:
        """Record a decoy that must not be flagged."""
        self.chunk.decoys.append(Planted(kind, spell.person if spell else None,
                                         employer or spell.employer, year, note))

    def year(self, i: int) -> int:
        """Alternate the declaration years between cases."""
        return DECLARATION_YEARS[i % len(DECLARATION_YEARS)]

    def minimum(self, employer: Employer) -> int:
        """Monthly minimum wage of the employer's county in the declaration years."""
        return int(refdata.min_wage(employer.region, date(Y1, 1, 1)))

    # ------------------------------------------------------------ rules
    def plant_all(self, n_cases: int) -> None:
        """Plant about n_cases findings of every rule.

        A MULTI_EMPLOYER case yields two findings (one per employer) and a SHARED_CONTACT
        case three (one per person), so those rules get proportionally fewer cases.
        """
        per_case = {"MULTI_EMPLOYER": 2, "SHARED_CONTACT": 3}
        for rule in ("MULTI_EMPLOYER", "NO_SOCIAL_INSURANCE", "BELOW_MIN_WAGE",
                     "AGE_INELIGIBLE", "CERT_INVALID", "LEVEL_MISMATCH", "CONCURRENT_STUDENT",
                     "CONCURRENT_UNEMPLOYED", "CIVIL_SERVANT_CONFLICT", "SHORT_CONTRACT",
                     "DISTANT_RESIDENCE", "IMPLAUSIBLE_RATIO", "SHARED_CONTACT"):
            fn = getattr(self, "rule_" + rule.lower())
            for i in range(math.ceil(n_cases / per_case.get(rule, 1))):
                fn(i)

    def rule_multi_employer(self, i: int) -> None:
        """Plant one MULTI_EMPLOYER case (the variant depends on i)."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        other = self.other_employer(s.employer, outside=i % 3 == 2)
        s2 = self.b.new_spell(s.person, other, date(y, self.rng.randint(2, 6), 1), None,
                              declared=True)
        s2.used = True
        self.plant("MULTI_EMPLOYER", s, y)
        self.plant("MULTI_EMPLOYER", s2, y)

    def rule_no_social_insurance(self, i: int) -> None:
        """Plant one NO_SOCIAL_INSURANCE case (the variant depends on i)."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        if i % 2 == 0:
            s.si_none_years.add(y)
            self.plant("NO_SOCIAL_INSURANCE", s, y, "no pension paid in the year")
        else:
            s.si_skip[y] = self.rng.choice([3, 4, 6])
            self.plant("NO_SOCIAL_INSURANCE", s, y, f"{s.si_skip[y]} months short")

    def rule_below_min_wage(self, i: int) -> None:
        """Plant one BELOW_MIN_WAGE case (the variant depends on i)."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        minimum = self.minimum(s.employer)
        if i % 2 == 0:
            s.wage[y] = int(minimum * self.rng.uniform(0.7, 0.95) / 10) * 10
            self.plant("BELOW_MIN_WAGE", s, y, "declared wage below the minimum")
        else:
            s.base_override[y] = minimum - self.rng.randint(1, 40) * 10
            self.plant("BELOW_MIN_WAGE", s, y, "contribution base below the minimum")

    def rule_age_ineligible(self, i: int) -> None:
        """Plant one AGE_INELIGIBLE case (the variant depends on i)."""
        variant = i % 4
        sex = "F" if variant in (2, 3) else None
        s = self.take(lambda sp: sex is None or sp.person.sex == sex)
        if not s:
            return
        y = self.year(i)
        p = s.person
        if variant == 0:
            self.b.set_birth(p, date(y - 15, self.rng.randint(3, 10), self.rng.randint(1, 28)))
            s.start, s.end = date(y, 1, 1), None
            note = "under 16"
        elif variant == 1:
            p.sex = "M"
            self.b.set_birth(p, rand_date(self.rng, date(1956, 1, 1), date(1962, 12, 31)))
            note = "man past retirement"
        elif variant == 2:
            self.b.set_birth(p, rand_date(self.rng, date(1962, 1, 1), date(1966, 12, 31)))
            note = "woman past the cadre bound"
        else:
            self.b.set_birth(p, rand_date(self.rng, date(1971, 1, 1), date(1972, 6, 30)))
            note = "woman between worker and cadre bounds (medium)"
        self.plant("AGE_INELIGIBLE", s, y, note)

    def rule_cert_invalid(self, i: int) -> None:
        """Plant one CERT_INVALID case (the variant depends on i)."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        p = s.person
        cert = p.main_cert()
        variant = i % 5
        if variant == 0:
            p.in_registry = False
            forged = cert_number(p.id18, cert.category, cert.level) if cert else None
            for yy in DECLARATION_YEARS:
                s.cert_typed[yy] = forged
            note = "never registered"
        elif variant == 1:
            cert.status, cert.reason = "注销", self.rng.choice(["死亡", "其他"])
            cert.ended_on = rand_date(self.rng, date(y - 2, 1, 1), date(y - 1, 11, 30))
            cert.issued = min(cert.issued, cert.ended_on - timedelta(days=500))
            note = "cancelled before the year"
        elif variant == 2:
            cert.status, cert.reason = "迁出", "迁出"
            cert.ended_on = rand_date(self.rng, date(y - 2, 1, 1), date(y - 1, 11, 30))
            cert.issued = min(cert.issued, cert.ended_on - timedelta(days=500))
            note = "moved out before the year"
        elif variant == 3:
            cert.issued = rand_date(self.rng, date(y - 12, 1, 1), date(y - 11, 6, 30))
            cert.valid_until = add_years(cert.issued, 10) - timedelta(days=1)
            note = "expired before the year"
        else:
            cert.valid_until = date(y, self.rng.randint(4, 9), 30)
            cert.issued = add_years(cert.valid_until + timedelta(days=1), -10)
            note = "valid for part of the period (medium)"
        if cert and cert.issued <= p.birth:
            cert.issued = p.birth + timedelta(days=400)
        self.plant("CERT_INVALID", s, y, note)

    def rule_level_mismatch(self, i: int) -> None:
        """Plant one LEVEL_MISMATCH case (the variant depends on i)."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        cert = s.person.main_cert()
        if cert.level in (1, 2):
            cert.level = self.rng.choice([3, 4])
        declared = self.rng.choice([1, 2])
        s.level_override[y] = declared
        if i % 2:
            s.cert_typed[y] = cert_number(s.person.id18, cert.category, declared)
        self.plant("LEVEL_MISMATCH", s, y, f"declared {declared}, register {cert.level}")

    def rule_concurrent_student(self, i: int) -> None:
        """Plant one CONCURRENT_STUDENT case (the variant depends on i)."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        p = s.person
        self.b.set_birth(p, rand_date(self.rng, date(y - 21, 1, 1), date(y - 20, 12, 31)))
        s.start, s.end, s.emp_type = date(y, 1, 1), None, "全日制"
        uni = self.rng.choice(tables.rows("universities"))
        self.b.add_student(p, uni, "本科", y - 2, y + 2, destination="待就业")
        self.plant("CONCURRENT_STUDENT", s, y)

    def rule_concurrent_unemployed(self, i: int) -> None:
        """Plant one CONCURRENT_UNEMPLOYED case (the variant depends on i)."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        self.b.add_interview(s.person, y, rand_date(self.rng, date(y, 3, 1), date(y, 11, 30)))
        self.plant("CONCURRENT_UNEMPLOYED", s, y)

    def rule_civil_servant_conflict(self, i: int) -> None:
        """Plant one CIVIL_SERVANT_CONFLICT case (the variant depends on i)."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        organs = [e for e in self.chunk.employers if e.kind == "organ"]
        joined = date(y, self.rng.randint(1, 6), 1) if y == Y2 else date(
            self.rng.randint(2012, 2022), self.rng.randint(1, 12), 1)
        self.b.add_post(s.person, self.rng.choice(organs), joined, has_cert=True)
        self.plant("CIVIL_SERVANT_CONFLICT", s, y)

    def rule_short_contract(self, i: int) -> None:
        """Plant one SHORT_CONTRACT case (the variant depends on i)."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        if i % 2 == 0:
            s.start = date(y, self.rng.randint(2, 6), 1)
            s.end = date(y, 12, 31)
            note = "contract under one year"
        else:
            s.start = date(y, self.rng.randint(10, 12), 1)
            s.end = None
            note = "contract begun in October-December"
        self.plant("SHORT_CONTRACT", s, y, note)

    def rule_distant_residence(self, i: int) -> None:
        """Plant one DISTANT_RESIDENCE case (the variant depends on i)."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        p = s.person
        city = s.employer.region[:4]
        others = [c for c in refdata.cities() if c.code != city]
        p.hukou = self.b.county(self.rng.choice(others).code).code
        p.address = self.b.address(p.hukou)
        minimum = self.minimum(s.employer)
        s.wage[y] = math.ceil(minimum * self.rng.uniform(1.0, 1.15) / 10) * 10
        s.si_none_years.add(y)
        self.plant("DISTANT_RESIDENCE", s, y, "also NO_SOCIAL_INSURANCE by definition")

    def rule_implausible_ratio(self, i: int) -> None:
        """Plant one IMPLAUSIBLE_RATIO case (the variant depends on i)."""
        y = self.year(i)
        counts: dict[str, int] = {}
        for s in self.chunk.spells:
            if s.declared and s.period(y):
                counts[s.employer.eid] = counts.get(s.employer.eid, 0) + 1
        pool = [e for e in self.chunk.employers if e.kind == "enterprise" and not e.outside
                and not e.welfare and not e.used and counts.get(e.eid)]
        if not pool:
            return
        emp = self.rng.choice(pool)
        emp.used = True
        count = counts[emp.eid]
        if i % 2 == 0:
            emp.staff[y] = max(1, math.floor(count / self.rng.uniform(0.35, 0.8)))
            note = "over 30% of staff"
        else:
            emp.staff[y] = max(1, count - 1) if count > 1 else 1
            note = "more than total staff" if count > 1 else "100% of staff"
        emp.decl_edit[y] = "ratio"
        self.chunk.planted.append(Planted("IMPLAUSIBLE_RATIO", None, emp, y, note))

    def rule_shared_contact(self, i: int) -> None:
        """Plant one SHARED_CONTACT case (the variant depends on i)."""
        picked: list[Spell] = []
        for _ in range(3):
            used = {s.employer.eid for s in picked}
            s = self.take(lambda sp, used=used: sp.employer.eid not in used)
            if s:
                picked.append(s)
        if len(picked) < 3:
            return
        self.n_phone += 1
        phone = special_mobile("170", self.chunk.index * 1000 + self.n_phone)
        y = self.year(i)
        for s in picked:
            s.person.phone = phone
            s.person.phone_old = None
            s.person.wrong_registry_phone = False
            self.plant("SHARED_CONTACT", s, y, "broker phone")

    # ------------------------------------------------------------ decoys
    # The decoys issue 3 names come first, so that they exist even in a small province.
    FIRST_DECOYS = ("decoy_sequential_employers", "decoy_wage_at_minimum",
                    "decoy_twelve_month_contract", "decoy_graduate_after_graduation",
                    "decoy_survey_before_contract", "decoy_rejected_declaration",
                    "decoy_superseded_ratio")

    def plant_decoys(self, n_each: int = 1) -> None:
        """Boundary cases of every rule that must not be flagged."""
        others = sorted(n for n in dir(self) if n.startswith("decoy_")
                        and n not in self.FIRST_DECOYS)
        for name in (*self.FIRST_DECOYS, *others):
            for i in range(n_each):
                getattr(self, name)(i)

    def decoy_sequential_employers(self, i: int) -> None:
        """Decoy `sequential_employers`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        s.start, s.end = date(y - 1, 7, 1), date(y, 6, 30)
        other = self.other_employer(s.employer)
        s2 = self.b.new_spell(s.person, other, date(y, 7, 1), None, declared=True)
        s2.used = True
        self.decoy("sequential_employers", s, y, "ends 30 June; next employer from 1 July")
        self.decoy("sequential_employers", s2, y, "starts 1 July after the previous contract")

    def decoy_wage_at_minimum(self, i: int) -> None:
        """Decoy `wage_at_minimum`: at the rule boundary, must not be flagged."""
        s = self.take(lambda sp: refdata.city_of(sp.person.hukou) == sp.employer.region[:4])
        if not s:
            return
        minimum = self.minimum(s.employer)
        for yy in DECLARATION_YEARS:
            s.wage[yy] = minimum if i % 2 == 0 else minimum + 10
        self.decoy("wage_at_minimum", s, Y1, f"wage {s.wage[Y1]} vs minimum {minimum}")
        self.decoy("wage_at_minimum", s, Y2, f"wage {s.wage[Y2]} vs minimum {minimum}")

    def decoy_twelve_month_contract(self, i: int) -> None:
        """Decoy `twelve_month_contract`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        s.start, s.end = date(y, 1, 1), date(y, 12, 31)
        self.decoy("twelve_month_contract", s, y, "1 January - 31 December")

    def decoy_graduate_after_graduation(self, i: int) -> None:
        """Decoy `graduate_after_graduation`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        p = s.person
        self.b.set_birth(p, rand_date(self.rng, date(y - 23, 1, 1), date(y - 22, 8, 31)))
        s.start, s.end, s.emp_type = date(y, 7, 1), None, "全日制"
        uni = self.rng.choice(tables.rows("universities"))
        self.b.add_student(p, uni, "本科", y - 4, y, destination="已就业", employer=s.employer)
        self.decoy("graduate_after_graduation", s, y, "graduated June, contract from July")

    def decoy_student_part_time(self, i: int) -> None:
        """Decoy `student_part_time`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        p = s.person
        self.b.set_birth(p, rand_date(self.rng, date(Y1 - 21, 1, 1), date(Y1 - 20, 12, 31)))
        s.start, s.end, s.emp_type = date(Y1, 1, 1), None, "非全日制"
        uni = self.rng.choice(tables.rows("universities"))
        self.b.add_student(p, uni, "本科", Y1 - 2, Y2 + 2, destination="待就业")
        self.decoy("student_part_time", s, y, "student declared 非全日制")

    def decoy_survey_before_contract(self, i: int) -> None:
        """Decoy `survey_before_contract`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        s.start, s.end = date(y, 5, 1), None
        self.b.add_interview(s.person, y, date(y, 3, self.rng.randint(1, 28)))
        self.decoy("survey_before_contract", s, y, "interviewed in March, contract from May")

    def decoy_survey_after_contract(self, i: int) -> None:
        """Decoy `survey_after_contract`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        s.start, s.end = date(Y1 - 1, 1, 1), date(Y1, 6, 30)
        self.b.add_interview(s.person, Y1, date(Y1, 9, self.rng.randint(1, 28)))
        self.decoy("survey_after_contract", s, Y1, "contract ended June, interviewed September")

    def decoy_part_year_paid(self, i: int) -> None:
        """Decoy `part_year_paid`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        s.start, s.end = date(y, 3, 1), None
        self.decoy("part_year_paid", s, y, "contract from March, ten months all paid")

    def decoy_family_shared_phone(self, i: int) -> None:
        """Decoy `family_shared_phone`: at the rule boundary, must not be flagged."""
        a = self.take()
        if not a:
            return
        pool = self.clean_spells(lambda sp: sp.employer is a.employer)
        if not pool:
            b_person = self.b.new_person(hukou=a.person.hukou)
            b_person.certs[0].issued = date(2020, 5, 1)
            b_person.certs[0].valid_until = date(2030, 4, 30)
            b_person.certs[0].status, b_person.certs[0].ended_on = "正常", None
            self.b.set_birth(b_person, rand_date(self.rng, date(1980, 1, 1), date(1995, 12, 31)))
            b = self.b.new_spell(b_person, a.employer, a.start, a.end, declared=True)
        else:
            b = self.rng.choice(pool)
        self.reserve(b)
        b.person.name = a.person.name[0] + b.person.name[1:]
        phone = a.person.phone or special_mobile("170", self.chunk.index * 1000 + 900 + i)
        a.person.phone = b.person.phone = phone
        a.person.phone_old = b.person.phone_old = None
        a.person.wrong_registry_phone = b.person.wrong_registry_phone = False
        for s in (a, b):
            self.decoy("family_shared_phone", s, Y1, "two family members at one employer")

    def decoy_organ_own_staff(self, i: int) -> None:
        """Decoy `organ_own_staff`: at the rule boundary, must not be flagged."""
        posts = [p for p in self.chunk.posts if p.has_cert and not p.person.used]
        for post in posts:
            spells = [s for s in self.chunk.spells if s.person is post.person]
            if len(spells) == 1 and spells[0].employer is post.organ:
                self.reserve(spells[0])
                self.decoy("organ_own_staff", spells[0], self.year(i), "organ declares its staff")
                return

    def decoy_reassessed_before_period(self, i: int) -> None:
        """Decoy `reassessed_before_period`: at the rule boundary, must not be flagged."""
        s = self.take(lambda sp: len(sp.person.certs) == 1)
        if not s:
            return
        y = self.year(i)
        cert = s.person.certs[0]
        cert.level = self.rng.choice([3, 4])
        new = self.b.reassess(s.person, date(Y1 - 1, self.rng.randint(2, 11), 1),
                              new_level=self.rng.choice([1, 2]))
        self.decoy("reassessed_before_period", s, y, f"level {cert.level} -> {new.level} before")

    def decoy_reassessed_within_period(self, i: int) -> None:
        """Decoy `reassessed_within_period`: at the rule boundary, must not be flagged."""
        s = self.take(lambda sp: len(sp.person.certs) == 1)
        if not s:
            return
        y = self.year(i)
        cert = s.person.certs[0]
        cert.level = 4 if cert.level in (3, 4) else cert.level
        new_level = 3 if cert.level == 4 else (2 if cert.level == 1 else 1)
        self.b.reassess(s.person, date(y, self.rng.randint(3, 9), 1), new_level=new_level,
                        reissue=True)
        self.decoy("reassessed_within_period", s, y, "old certificate replaced by a new one")

    def decoy_cert_cancelled_after_year(self, i: int) -> None:
        """Decoy `cert_cancelled_after_year`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        cert = s.person.main_cert()
        s.end = date(Y2, 12, 31) if s.start < date(Y2 - 1, 1, 1) else s.end
        cert.status, cert.reason = "注销", "其他"
        cert.ended_on = date(Y2 + 1, self.rng.randint(2, 7), self.rng.randint(1, 28))
        self.decoy("cert_cancelled_after_year", s, Y2, "cancelled in the following year")

    def decoy_age_16_17(self, i: int) -> None:
        """Decoy `age_16_17`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        self.b.set_birth(s.person, date(Y1 - 17, self.rng.randint(2, 11), self.rng.randint(1, 28)))
        if s.person.age_on(date(Y1, 1, 1)) < 16:
            self.b.set_birth(s.person, date(Y1 - 17, 1, 1))
        s.start, s.end = date(Y1, 1, 1), None
        self.decoy("age_16_17", s, Y1, "16 years old on 1 January")
        self.decoy("age_16_17", s, Y2, "17 years old")

    def decoy_just_below_retirement(self, i: int) -> None:
        """Decoy `just_below_retirement`: at the rule boundary, must not be flagged."""
        male = i % 2 == 0
        s = self.take(lambda sp: sp.person.sex == ("M" if male else "F"))
        if not s:
            return
        if male:
            self.b.set_birth(s.person, date(1965, 9, 15))
        else:
            self.b.set_birth(s.person, date(1975, 7, 15))
        retire = refdata.retirement_bounds(s.person.birth, s.person.sex)[0]
        s.end = retire - timedelta(days=self.rng.randint(20, 60))
        if s.end < s.start + timedelta(days=400):
            s.start = date(Y1 - 2, 1, 1)
        self.decoy("just_below_retirement", s, Y2, f"contract ends before retirement {retire}")

    def decoy_cross_region_ordinary_wage(self, i: int) -> None:
        """Decoy `cross_region_ordinary_wage`: at the rule boundary, must not be flagged."""
        s = self.take(lambda sp: refdata.city_of(sp.person.hukou) != sp.employer.region[:4])
        if not s:
            s = self.take()
            if not s:
                return
            others = [c for c in refdata.cities() if c.code != s.employer.region[:4]]
            s.person.hukou = self.b.county(self.rng.choice(others).code).code
            s.person.address = self.b.address(s.person.hukou)
        self.decoy("cross_region_ordinary_wage", s, self.year(i), "lives elsewhere, paid well")

    def decoy_sheltered_workshop(self, i: int) -> None:
        """Decoy `sheltered_workshop`: at the rule boundary, must not be flagged."""
        for emp in self.chunk.employers:
            if emp.welfare and not emp.used:
                emp.used = True
                for y in DECLARATION_YEARS:
                    self.decoy("sheltered_workshop", None, y, "福利 enterprise, 集中就业",
                               employer=emp)
                return

    def decoy_superseded_ratio(self, i: int) -> None:
        """Decoy `superseded_ratio`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        emp = s.employer
        emp.used = True
        y = self.year(i)
        count = sum(1 for sp in self.chunk.spells
                    if sp.declared and sp.employer is emp and sp.period(y))
        emp.superseded_staff[y] = max(1, math.floor(count / 0.5))
        emp.decl_edit[y] = "superseded_ratio"
        self.decoy("superseded_ratio", None, y, "first version's ratio only", employer=emp)

    def decoy_rejected_declaration(self, i: int) -> None:
        """Decoy `rejected_declaration`: at the rule boundary, must not be flagged."""
        s = self.take()
        if not s:
            return
        y = self.year(i)
        rejected = self.b.new_employer("enterprise", s.employer.region)
        rejected.used = True
        rejected.decl_status[y] = "已驳回"
        rejected.decl_edit[y] = "ratio"
        rejected.staff[y] = 1
        r = self.b.new_spell(s.person, rejected, date(y, 2, 1), date(y, 12, 31), declared=True,
                             wage={y: 900})
        r.insured = False
        r.used = True
        self.decoy("rejected_declaration", r, y, "only in a rejected declaration")
        self.decoy("rejected_declaration", None, y, "rejected declaration's ratio",
                   employer=rejected)

    def decoy_outside_shandong_no_si(self, i: int) -> None:
        """Decoy `outside_shandong_no_si`: at the rule boundary, must not be flagged."""
        pool = [sp for sp in self.chunk.spells if sp.declared and not sp.used
                and not sp.person.used and sp.employer.outside
                and sp.covers_years(DECLARATION_YEARS) and sp.person.role == "holder"]
        if pool:
            s = self.rng.choice(pool)
            self.reserve(s)
            self.decoy("outside_shandong_no_si", s, self.year(i), "employer outside Shandong")
