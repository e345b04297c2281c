"""The world model: true persons, certificates, employers, spells and the facts around them."""

from dataclasses import dataclass, field
from datetime import date, timedelta

from synthetic.idcodes import cert_number, make_id18

YEAR_START = {y: date(y, 1, 1) for y in range(2000, 2031)}
YEAR_END = {y: date(y, 12, 31) for y in range(2000, 2031)}


def add_months(day: date, months: int) -> date:
    """The same day-of-month `months` later (clamped to the month's last day)."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    for dd in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, dd)
        except ValueError:
            continue
    raise ValueError(day)


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February → 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def months_between(start: date, end: date) -> list[str]:
    """Every YYYYMM month touched by [start, end]."""
    out = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        out.append(f"{y}{m:02d}")
        m += 1
        if m == 13:
            y, m = y + 1, 1
    return out


@dataclass(slots=True, eq=False)
class Cert:
    """One disability certificate (one row of the registry)."""

    holder: "Person"
    category: int
    level: int
    issued: date
    valid_until: date | None  # None = 长期
    status: str = "正常"  # 正常 / 注销 / 迁出
    ended_on: date | None = None
    reason: str | None = None
    suffix: str = ""

    @property
    def number(self) -> str:
        """The certificate number (ID + category + level + re-issue suffix)."""
        return cert_number(self.holder.id18, self.category, self.level, self.suffix)

    def valid_interval(self) -> tuple[date, date]:
        """First and last day of validity (ended certificates end the day before)."""
        last = self.valid_until or date(2099, 12, 31)
        if self.ended_on is not None:
            last = min(last, self.ended_on - timedelta(days=1))
        return self.issued, last

    def status_on(self, day: date) -> tuple[str, date | None, str | None]:
        """Status, end date and reason as a snapshot taken on `day` shows them."""
        if self.ended_on is not None and self.ended_on <= day:
            return self.status, self.ended_on, self.reason
        return "正常", None, None


@dataclass(slots=True, eq=False)
class Person:
    """A true person of the simulated province."""

    pid: str
    index: int
    name: str
    sex: str  # M / F
    birth: date
    id_region: str
    seq: int
    hukou: str
    address: str
    ethnicity: str
    phone: str | None
    phone_old: str | None = None
    certs: list[Cert] = field(default_factory=list)
    in_registry: bool = True
    legacy15: bool = False
    role: str = "holder"
    wrong_registry_phone: bool = False  # the registry holds a mistyped number
    used: bool = False  # taken by a planted case or decoy
    frozen_id: str | None = None  # set once the chunk is built (IDs no longer change)
    hukou_before: str | None = None  # a mover: household registration before moving
    address_before: str | None = None
    moved_on: date | None = None

    def hukou_on(self, day: date) -> str:
        """The household registration on a day (movers registered elsewhere before)."""
        if self.hukou_before and self.moved_on and day < self.moved_on:
            return self.hukou_before
        return self.hukou

    @property
    def id18(self) -> str:
        """The person's true 18-character resident ID."""
        return self.frozen_id or make_id18(self.id_region, self.birth, self.seq)

    @property
    def gender_zh(self) -> str:
        """男 / 女."""
        return "男" if self.sex == "M" else "女"

    def age_on(self, day: date) -> int:
        """Age in completed years on a day."""
        return day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))

    def main_cert(self) -> Cert | None:
        """The newest certificate (the one other systems copy)."""
        return max(self.certs, key=lambda c: c.issued) if self.certs else None


@dataclass(slots=True, eq=False)
class Employer:
    """A true employer."""

    eid: str
    index: int
    kind: str  # enterprise / organ / public_institution / social_organisation / individual_business
    name: str
    trade: str
    industry: str
    region: str
    org_code: str
    uscc: str
    city_short: str
    old_name: str | None = None
    rename_year: int | None = None  # declarations of years before this carry old_name
    legacy: bool = False  # old registration: no USCC in quota, old org code in hr
    code_change_year: int | None = None  # before this year only the old organisation code
    outside: bool = False
    welfare: bool = False
    head: "Employer | None" = None
    staff: dict[int, int] = field(default_factory=dict)
    avg_wage: int = 60000
    est_kind: str | None = None  # 行政机关 / 事业单位 / 群团机关
    supervisor: str | None = None
    is_school: bool = False
    is_dpf: bool = False
    canzhao: bool = False  # 参公 institution
    authorised: int = 0
    decl_status: dict[int, str] = field(default_factory=dict)  # forced status per year
    decl_edit: dict[int, str] = field(default_factory=dict)  # 'review' / 'superseded_ratio'
    superseded_staff: dict[int, int] = field(default_factory=dict)
    tag: str = ""  # hard ER case: head / branch / renamed / same_trade
    used: bool = False

    def name_in(self, year: int) -> str:
        """The name the employer carried in a year (renamed companies)."""
        if self.old_name and self.rename_year and year < self.rename_year:
            return self.old_name
        return self.name

    @property
    def quota_unit_type(self) -> str:
        """企业 / 机关 / 事业单位 / 社会组织 / 个体工商户."""
        return {
            "enterprise": "企业",
            "organ": "机关",
            "public_institution": "事业单位",
            "social_organisation": "社会组织",
            "individual_business": "个体工商户",
        }[self.kind]

    @property
    def pension_code(self) -> str:
        """110 for enterprise pension, 120 for organs and institutions."""
        return "120" if self.kind in ("organ", "public_institution") else "110"


@dataclass(slots=True, eq=False)
class Spell:
    """An employment contract of a person with an employer."""

    sid: int
    person: Person
    employer: Employer
    start: date
    end: date | None
    wage: dict[int, int]
    emp_type: str = "全日制"
    position: str = "职员"
    declared: bool = False
    insured: bool = True
    base_override: dict[int, int] = field(default_factory=dict)
    si_none_years: set[int] = field(default_factory=set)
    si_skip: dict[int, int] = field(default_factory=dict)
    unpaid_last: bool = False
    level_override: dict[int, int] = field(default_factory=dict)
    cert_typed: dict[int, str | None] = field(default_factory=dict)
    jyxx_form: str | None = None
    used: bool = False

    def period(self, year: int) -> tuple[date, date] | None:
        """The declared period of the contract inside a year, or None."""
        first = max(self.start, YEAR_START[year])
        last = min(self.end or YEAR_END[year], YEAR_END[year])
        return (first, last) if first <= last else None

    def covers_years(self, years: tuple[int, ...]) -> bool:
        """True when the contract covers every day of the given years."""
        return self.start <= YEAR_START[years[0]] and (
            self.end is None or self.end >= YEAR_END[years[-1]]
        )

    def wage_in(self, year: int) -> int:
        """Declared monthly wage in a year."""
        return self.wage.get(year) or self.wage[max(self.wage)]

    def base_in(self, year: int) -> int:
        """Contribution base in a year."""
        return self.base_override.get(year, self.wage_in(year))

    def paid_months(self, year: int) -> list[str]:
        """Months of the year with contributions by this employer, after planted gaps."""
        if not self.insured or self.employer.outside or year in self.si_none_years:
            return []
        per = self.period(year)
        if per is None:
            return []
        months = months_between(*per)
        skip = self.si_skip.get(year, 0)
        return months[: len(months) - skip] if skip else months


@dataclass(slots=True, eq=False)
class Student:
    """A university student with a disability."""

    person: Person
    school_code: str
    school_name: str
    student_no: str
    level: str
    major: str
    enrol_year: int
    grad_year: int
    grad_month: int
    destination: str  # final destination in the graduation year
    employer: Employer | None = None

    @property
    def key(self) -> str:
        """Mention key 学校代码-学号."""
        return f"{self.school_code}-{self.student_no}"


@dataclass(slots=True, eq=False)
class OrgPost:
    """A place on an organ's staff register (org source)."""

    person: Person
    organ: Employer
    staff_id: str
    post: str
    joined: date
    has_cert: bool
    staffing_type: str


@dataclass(slots=True, eq=False)
class Interview:
    """An unemployment survey interview."""

    person: Person
    year: int
    qid: str
    day: date
    reason: str
    wants: str
    training: str
    interviewer: str


@dataclass(slots=True, eq=False)
class Training:
    """A place in a vocational training course."""

    person: Person
    quarter: str
    trainee_id: str
    course: str
    kind: str
    provider: str
    start: date
    end: date | None
    result: str
    certified: str
    city: str


@dataclass(slots=True, eq=False)
class Registration:
    """An employment registration in the employment-service system, with its events."""

    person: Person
    reg_id: str
    form: str
    employer: Employer | None
    start: date
    end: date | None
    income: int | None
    office: str
    events: list[tuple[str, str, date | None]] = field(default_factory=list)  # month, op, end


@dataclass(slots=True)
class Planted:
    """One intended finding (rule, person, employer, year) or decoy with its kind."""

    kind: str
    person: Person | None
    employer: Employer
    year: int
    note: str = ""


@dataclass(slots=True, eq=False)
class Chunk:
    """Everything about one chunk of the province; chunks share nothing."""

    index: int
    persons: list[Person] = field(default_factory=list)
    employers: list[Employer] = field(default_factory=list)
    spells: list[Spell] = field(default_factory=list)
    students: list[Student] = field(default_factory=list)
    posts: list[OrgPost] = field(default_factory=list)
    interviews: list[Interview] = field(default_factory=list)
    trainings: list[Training] = field(default_factory=list)
    registrations: list[Registration] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)
    decoys: list[Planted] = field(default_factory=list)
    hard_cases: list[tuple[str, str, str, str]] = field(default_factory=list)  # kind, a, b, note
