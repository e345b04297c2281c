"""AGE_INELIGIBLE: under 16, or past the statutory retirement age, in the declared period."""

import datetime as dt

from expectations.rules._group import per_declared
from expectations.rules.base import DECL, Finding, RuleContext, iso

RULE = "AGE_INELIGIBLE"

# Only persons under the minimum age or past the lowest retirement age anywhere need the
# schedule; the others are dropped in SQL.
SQL = f"""
select d.*, p.birth_date as person_birth_date, p.gender as person_gender
from {DECL} d left join core.person p on p.person_id = d.person_id
where p.birth_date is null or p.gender is null or p.gender not in ('M', 'F')
   or d.period_start < p.birth_date + make_interval(years => :min_age)
   or d.period_end >= p.birth_date + make_interval(years => :lowest_retirement_age)
"""


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later (29 Feb → 1 Mar in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def _from_id(id_number: str | None) -> tuple[dt.date | None, str | None]:
    if not id_number or len(id_number) != 18:
        return None, None
    try:
        birth = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None, None
    return birth, ("M" if int(id_number[16]) % 2 else "F") if id_number[16].isdigit() else None


def find(ctx: RuleContext) -> list[Finding]:
    """Under 16 on the first day of the declared period: ``high``. On the last day of the
    declared period on or past the retirement date (``refdata.retirement_date``): ``high``
    for men and for women past the cadre bound, ``medium`` for women between the worker and
    the cadre bound. Birth date and sex come from the golden person, else from the declared ID.
    """
    p = ctx.params(RULE)
    min_age = p.int("min_age")
    rows = ctx.rows(SQL, min_age=min_age,
                     lowest_retirement_age=p.int("prefilter_lowest_retirement_age"))
    retire = ctx.reference.retirement_date

    def build(group):
        r = group[0]
        birth, sex = r["person_birth_date"], r["person_gender"]
        basis = "core.person"
        if birth is None or sex not in ("M", "F"):
            id_birth, id_sex = _from_id(r["id_number"])
            birth, sex, basis = birth or id_birth, sex if sex in ("M", "F") else id_sex, \
                "declared id_number"
        if birth is None:
            return None
        start = min(r["period_start"] for r in group)
        end = max(r["period_end"] for r in group)
        facts = {"birth_date": iso(birth), "sex": sex, "birth_basis": basis}
        if start < add_years(birth, min_age):
            facts.update(finding="under_age", min_age=min_age,
                         reaches_min_age_on=iso(add_years(birth, min_age)),
                         age_on_period_start=_age(birth, start))
            return p.raw("severity_under_age"), p.num("score_high"), facts, []
        if sex == "M":
            bound = retire(birth, "M", "worker")
            if end >= bound:
                facts.update(finding="past_retirement", retirement_date=iso(bound),
                             age_on_period_end=_age(birth, end))
                return p.raw("severity_past_max"), p.num("score_high"), facts, []
            return None
        if sex != "F":
            return None
        worker, cadre = retire(birth, "F", "worker"), retire(birth, "F", "cadre")
        low, high = min(worker, cadre), max(worker, cadre)
        facts.update(retirement_date_worker=iso(worker), retirement_date_cadre=iso(cadre),
                     age_on_period_end=_age(birth, end))
        if end >= high:
            facts["finding"] = "past_retirement"
            return p.raw("severity_past_max"), p.num("score_high"), facts, []
        if end >= low:
            facts["finding"] = "between_worker_and_cadre_bounds"
            return p.raw("severity_between"), p.num("score_between"), facts, []
        return None

    return per_declared(rows, RULE, build, ("ref.retirement",))


def _age(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
