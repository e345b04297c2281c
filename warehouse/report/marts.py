"""The report's mart tables (docs/report.md): target progress, graduates, priority employers,
organs and institutions, the unemployed; each rebuilt whole in one transaction."""

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

import refdata
from warehouse.db import copy_rows
from warehouse.schema import EMPLOYMENT_FORMS, metadata

# Declarations in these statuses count (已驳回 is ignored), as for the audit rules; the
# orchestration layer passes the audit configuration's list.
DEFAULT_STATUSES = ("审核通过", "待审核")
UNKNOWN_CITY = ("0000", "未知/省外")
# 就业形式 of an employment registration → the report's form column.
REGISTRATION_FORMS = {
    "按比例就业": "quota", "集中就业": "concentrated", "个体就业": "self_employed",
    "自主创业": "self_employed", "灵活就业": "flexible", "公益性岗位": "public_welfare",
    "辅助性就业": "auxiliary", "农村种养殖": "other",
}
EMPLOYED_DESTINATIONS = ("已就业", "灵活就业", "自主创业")
STUDY_DESTINATIONS = ("升学", "出国出境")
GRADUATE_STATUSES = ("employed", "further_study", "not_employed", "unknown")
EVIDENCE_LABELS = {"contribution": "社保缴费", "registration": "就业登记",
                   "declaration": "按比例就业申报", "civil_service": "机关在编"}
MART_TABLES = ("city_progress", "graduate_ledger", "priority_employer", "public_sector",
               "public_unit_without_disabled", "dpf_organ", "unemployed_profile")
# Warehouse tables each builder reads (the asset graph is derived from it); the
# establishment-register tables come from one pass, so they share one entry.
READS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("city_progress",): ("core.person", "core.person_xref", "core.employer_xref", "core.employer",
                         "staging.employment_registration", "staging.declared_employment",
                         "staging.declaration", "staging.contribution", "ref.employment_targets"),
    ("graduate_ledger",): ("core.person", "core.person_xref", "staging.study", "staging.contribution",
                           "staging.employment_registration", "staging.declared_employment",
                           "staging.declaration", "staging.civil_service"),
    ("priority_employer",): ("mart.quota_compliance", "core.employer", "ref.report_thresholds"),
    ("public_sector", "public_unit_without_disabled", "dpf_organ"): ("staging.institution",
                                                                     "ref.report_thresholds"),
    ("unemployed_profile",): ("core.person", "core.person_xref", "staging.survey", "staging.person_mention",
                              "staging.declared_employment", "staging.declaration",
                              "staging.employment_registration"),
}


def thresholds() -> dict[str, Decimal]:
    """The report's thresholds (refdata/data/report_thresholds.csv) by name."""
    return {r["name"]: Decimal(r["value"]) for r in refdata.load_table("report_thresholds")}


def targets() -> dict[tuple[str, int], int]:
    """Employment targets by (city code, year) from refdata/data/employment_targets.csv."""
    return {(r["city"], int(r["year"])): int(r["target"]) for r in refdata.load_table("employment_targets")}


def city(region_code: str | None) -> tuple[str, str]:
    """(4-digit city code, city name) of a region code; 0000 未知/省外 when none applies."""
    code = refdata.city_of(region_code) if region_code else None
    return (code, refdata.city_name(code) or code) if code else UNKNOWN_CITY


def _rows(conn: Connection, sql: str, **binds: Any) -> list[sa.RowMapping]:
    return list(conn.execute(sa.text(sql), binds).mappings())


def _replace(conn: Connection, table: str, rows: list[dict]) -> int:
    """Replace every row of a mart table (a derived table, rebuilt whole)."""
    conn.execute(sa.text(f"delete from mart.{table}"))
    columns = [c.name for c in metadata.tables[f"mart.{table}"].columns]
    return copy_rows(conn, f"mart.{table}", columns, ([r.get(c) for c in columns] for r in rows))


# ---------------------------------------------------------------- mart.city_progress
NEW_EMPLOYMENT_SQL = """
with reg as (
    select px.person_id, r.start_date as started, 1 as priority, r.form,
           null::text as employer_region
    from staging.employment_registration r
    join core.person_xref px on px.source = 'employment_service' and px.source_key = r.registration_id
    where not coalesce(r.is_withdrawn, false) and r.start_date is not null
), decl as (
    select px.person_id, e.contract_start as started, 2 as priority, '按比例就业' as form,
           coalesce(d.unit_region_code, ce.region_code) as employer_region
    from staging.declared_employment e
    join staging.declaration d on d.declaration_id = e.declaration_id
    join core.person_xref px on px.source = 'quota' and px.source_key = e.employee_record_id
    left join core.employer_xref ex on ex.source = 'quota' and ex.source_key = d.declaration_id
    left join core.employer ce on ce.employer_id = ex.employer_id
    where d.status = any(:statuses) and e.contract_start is not null
      and extract(year from e.contract_start) = d.declaration_year
), first_paid as (
    select c.person_key, c.employer_key, min(c.period) as period
    from staging.contribution c where c.is_paid group by 1, 2
), coverage as (select min(period) as first_period from staging.contribution where is_paid
), contrib as (
    -- Pairs paid from the extract's first month on may have begun earlier: not new.
    select px.person_id, make_date(f.period / 100, f.period % 100, 1) as started, 3 as priority,
           null::text as form, ce.region_code as employer_region
    from first_paid f cross join coverage cv
    join core.person_xref px on px.source = 'hr' and px.source_key = f.person_key
    left join core.employer_xref ex on ex.source = 'hr' and ex.source_key = f.employer_key
    left join core.employer ce on ce.employer_id = ex.employer_id
    where f.period > cv.first_period
), events as (
    select * from reg union all select * from decl union all select * from contrib
)
select distinct on (ev.person_id, extract(year from ev.started))
       ev.person_id, extract(year from ev.started)::int as year, ev.form, ev.priority,
       ev.started, p.hukou_region_code, ev.employer_region
from events ev
join core.person p on p.person_id = ev.person_id
where p.cert_number is not null
order by ev.person_id, extract(year from ev.started), ev.priority, ev.started
"""


def build_city_progress(conn: Connection, now: dt.datetime, statuses: Sequence[str]) -> int:
    """New employments of certified persons per city and year, by form, against the target."""
    counts: dict[tuple[str, int], Counter] = defaultdict(Counter)
    for r in _rows(conn, NEW_EMPLOYMENT_SQL, statuses=list(statuses)):
        code, _name = city(r["hukou_region_code"])
        if code == UNKNOWN_CITY[0]:
            code, _name = city(r["employer_region"])
        form = REGISTRATION_FORMS.get(r["form"] or "", "quota" if r["priority"] > 1 else "other")
        counts[(code, r["year"])][form] += 1
    goal = targets()
    plan_years = sorted({y for _c, y in goal})
    keys = set(counts) | set(goal)
    # Every city appears in every year that has data or a target, zeros included.
    years = sorted({y for _c, y in keys})
    cities = sorted({c for c, _y in keys} | {c.code for c in refdata.cities()})
    rows = []
    for code in cities:
        for year in years:
            c = counts.get((code, year), Counter())
            if code == UNKNOWN_CITY[0] and not c:
                continue
            new = sum(c.values())
            target = goal.get((code, year))
            upto = [y for y in plan_years if y <= year]
            plan_target = sum(goal.get((code, y), 0) for y in upto) if year in plan_years else None
            rows.append({
                "city_code": code, "year": year,
                "city_name": refdata.city_name(code) or UNKNOWN_CITY[1],
                "target_count": target, "new_count": new,
                **{f"new_{f}_count": c.get(f, 0) for f in EMPLOYMENT_FORMS},
                "progress_ratio": _ratio(new, target),
                "plan_target_count": plan_target,
                "plan_new_count": sum(sum(counts.get((code, y), Counter()).values()) for y in upto),
                "computed_at": now,
            })
    return _replace(conn, "city_progress", rows)


def _ratio(part: int | Decimal | None, whole: int | Decimal | None) -> Decimal | None:
    if part is None or not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP)


# ---------------------------------------------------------------- mart.graduate_ledger
GRADUATES_SQL = """
select s.*, px.person_id, p.hukou_region_code
from staging.study s
left join core.person_xref px on px.source = 'graduates' and px.source_key = s.student_key
left join core.person p on p.person_id = px.person_id
where extract(year from s.expected_graduation)::int - s.year in (0, 1)
"""
# Per ledger student: the earliest employment evidence of each source reaching past the
# graduation month (work that ended before graduating is not employment after it).
EVIDENCE_SQL = """
with persons as (select distinct person_id from tmp_ql_grad where person_id is not null),
spells as (
    select px.person_id, 'contribution' as source,
           make_date(c.period / 100, c.period % 100, 1) as started,
           (make_date(c.period / 100, c.period % 100, 1) + interval '1 month - 1 day')::date as ended
    from staging.contribution c
    join core.person_xref px on px.source = 'hr' and px.source_key = c.person_key
    where c.is_paid and px.person_id in (select person_id from persons)
    union all
    select px.person_id, 'registration', r.start_date, r.end_date
    from staging.employment_registration r
    join core.person_xref px on px.source = 'employment_service' and px.source_key = r.registration_id
    where not coalesce(r.is_withdrawn, false) and px.person_id in (select person_id from persons)
    union all
    select px.person_id, 'declaration',
           greatest(coalesce(e.contract_start, make_date(d.declaration_year, 1, 1)),
                    make_date(d.declaration_year, 1, 1)),
           least(coalesce(e.contract_end, make_date(d.declaration_year, 12, 31)),
                 make_date(d.declaration_year, 12, 31))
    from staging.declared_employment e
    join staging.declaration d on d.declaration_id = e.declaration_id
    join core.person_xref px on px.source = 'quota' and px.source_key = e.employee_record_id
    where d.status = any(:statuses) and d.declaration_year is not null
      and px.person_id in (select person_id from persons)
    union all
    -- A staff register states who is on staff at the end of its year.
    select px.person_id, 'civil_service', coalesce(cs.joined_on, make_date(cs.year, 12, 31)),
           make_date(cs.year, 12, 31)
    from staging.civil_service cs
    join core.person_xref px on px.source = 'org' and px.source_key = cs.staff_key
    where px.person_id in (select person_id from persons)
)
select distinct on (g.year, g.student_key) g.year, g.student_key, sp.source,
       greatest(coalesce(sp.started, g.graduated), g.graduated) as since
from tmp_ql_grad g
join spells sp on sp.person_id = g.person_id and (sp.ended is null or sp.ended >= g.graduated)
order by g.year, g.student_key, since, sp.source
"""


def graduate_status(destination: str | None, employed_found: bool) -> str:
    """Status category: employment found in any source (or reported by the school) wins,
    then further study; a 待就业/在读 student is not (yet) employed; anything else unknown."""
    if employed_found or destination in EMPLOYED_DESTINATIONS:
        return "employed"
    if destination in STUDY_DESTINATIONS:
        return "further_study"
    if destination in ("待就业", "在读"):
        return "not_employed"
    return "unknown"


def build_graduate_ledger(conn: Connection, now: dt.datetime, statuses: Sequence[str]) -> int:
    """Every student of a year's graduates file graduating that year or the next (一人一策)."""
    students = _rows(conn, GRADUATES_SQL)
    conn.execute(sa.text("drop table if exists tmp_ql_grad"))
    conn.execute(sa.text("create temp table tmp_ql_grad (year int, student_key text, person_id text, "
                         "graduated date) on commit drop"))
    copy_rows(conn, "tmp_ql_grad", ["year", "student_key", "person_id", "graduated"],
              ([s["year"], s["student_key"], s["person_id"], s["expected_graduation"]] for s in students))
    found = {(r["year"], r["student_key"]): (r["since"], r["source"])
             for r in _rows(conn, EVIDENCE_SQL, statuses=list(statuses))}
    rows = []
    for s in students:
        graduated = s["expected_graduation"]
        evidence = found.get((s["year"], s["student_key"]))
        rows.append({
            "year": s["year"], "student_key": s["student_key"], "person_id": s["person_id"],
            "city_code": city(s["hukou_region_code"])[0], "school_code": s["school_code"],
            "school_name": s["school_name"], "study_level": s["level"], "major": s["major"],
            "expected_graduation": graduated, "graduates_in_year": graduated.year == s["year"],
            "destination": s["destination"], "employed_found": evidence is not None,
            "employed_source": EVIDENCE_LABELS[evidence[1]] if evidence else None,
            "employed_since": evidence[0] if evidence else None,
            "help_measures": s["help_measures"],
            "status": graduate_status(s["destination"], evidence is not None), "computed_at": now,
        })
    return _replace(conn, "graduate_ledger", rows)


# ---------------------------------------------------------------- mart.priority_employer
PRIORITY_SQL = """
select q.year, q.employer_id, e.name, e.region_code, e.unit_type, q.total_staff,
       q.required_count, q.verified_count, q.levy_verified
from mart.quota_compliance q join core.employer e using (employer_id)
where q.required_count > q.verified_count
"""


def build_priority_employer(conn: Connection, now: dt.datetime) -> int:
    """Employers below quota, ranked by quota gap, staff and levy; the three 大 tests flagged."""
    t = thresholds()
    by_year: dict[int, list[dict]] = defaultdict(list)
    for r in _rows(conn, PRIORITY_SQL):
        gap = Decimal(r["required_count"]) - Decimal(r["verified_count"] or 0)
        levy = r["levy_verified"]
        row = {
            "year": r["year"], "employer_id": r["employer_id"], "name": r["name"],
            "city_code": city(r["region_code"])[0], "unit_type": r["unit_type"],
            "total_staff": r["total_staff"], "required_count": r["required_count"],
            "verified_count": r["verified_count"], "quota_gap": gap,
            "hiring_potential_count": math.ceil(gap),
            "levy_verified": levy,
            "is_large_staff": (r["total_staff"] or 0) >= t["priority_min_total_staff"],
            "is_large_gap": gap >= t["priority_min_quota_gap"],
            "is_large_potential": (levy or 0) >= t["priority_min_levy_verified"],
            "computed_at": now,
        }
        row["is_priority"] = row["is_large_staff"] and row["is_large_gap"] and row["is_large_potential"]
        by_year[r["year"]].append(row)
    rows = []
    for year_rows in by_year.values():
        year_rows.sort(key=lambda r: (-r["quota_gap"], -(r["total_staff"] or 0),
                                      -(r["levy_verified"] or 0), r["employer_id"]))
        for rank, r in enumerate(year_rows, 1):
            r["rank"] = rank
            rows.append(r)
    return _replace(conn, "priority_employer", rows)


# ---------------------------------------------------------------- mart.public_sector, dpf_organ
INSTITUTIONS_SQL = """
select year, uscc, name, kind, region_code, authorised_posts, actual_staff, disabled_staff,
       is_school, is_dpf_organ
from staging.institution
"""
KINDS = {"行政机关": "organ", "群团机关": "organ", "事业单位": "institution"}


def admin_level(region_code: str | None) -> str:
    """province / city / county from a 6-digit region code (370000, 370100, 370102)."""
    code = str(region_code or "")
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def build_public_sector(conn: Connection, now: dt.datetime) -> tuple[int, int, int]:
    """Organs and institutions per city and year (schools and kindergartens excluded), the
    units among them employing none, and each Federation organ (county level and above)
    against the 15% target."""
    t = thresholds()
    large = {"organ": t["organ_large_posts"], "institution": t["institution_large_posts"]}
    groups: dict[tuple[int, str, str], Counter] = defaultdict(Counter)
    organs, none = [], []
    for r in _rows(conn, INSTITUTIONS_SQL):
        code, _name = city(r["region_code"])
        kind = KINDS.get(r["kind"] or "", "institution" if (r["uscc"] or "").startswith("12") else "organ")
        g = groups[(r["year"], code, kind)]
        if r["is_school"]:
            g["schools_excluded"] += 1
            continue
        staff, disabled = r["actual_staff"] or 0, r["disabled_staff"] or 0
        g["unit_count"] += 1
        g["staff_count"] += staff
        g["disabled_staff_count"] += disabled
        if not disabled:
            g["units_employing_none"] += 1
            is_large = admin_level(r["region_code"]) != "county" and (r["authorised_posts"] or 0) >= large[kind]
            g["large_units_employing_none"] += is_large
            none.append({"year": r["year"], "uscc": r["uscc"], "name": r["name"], "kind": kind,
                         "region_code": r["region_code"], "city_code": code,
                         "admin_level": admin_level(r["region_code"]),
                         "authorised_posts": r["authorised_posts"], "staff_count": r["actual_staff"],
                         "is_large": is_large, "computed_at": now})
        if r["is_dpf_organ"]:
            organs.append({
                "year": r["year"], "uscc": r["uscc"], "name": r["name"],
                "region_code": r["region_code"], "city_code": code,
                "admin_level": admin_level(r["region_code"]),
                "staff_count": r["actual_staff"], "disabled_staff_count": r["disabled_staff"],
                "disabled_share": _ratio(disabled, staff), "target_share": t["dpf_target_share"],
                # Exact comparison: 3 of 20 staff is 15% and meets the target.
                "meets_target": staff > 0 and Decimal(disabled) >= t["dpf_target_share"] * staff,
                "computed_at": now,
            })
    rows = [{"year": y, "city_code": c, "kind": k, "city_name": refdata.city_name(c) or UNKNOWN_CITY[1],
             **{m: g.get(m, 0) for m in ("unit_count", "staff_count", "disabled_staff_count",
                                          "units_employing_none", "large_units_employing_none",
                                          "schools_excluded")},
             "computed_at": now} for (y, c, k), g in sorted(groups.items())]
    return (_replace(conn, "public_sector", rows), _replace(conn, "public_unit_without_disabled", none),
            _replace(conn, "dpf_organ", organs))


# ---------------------------------------------------------------- mart.unemployed_profile
SURVEY_SQL = """
select coalesce(s.survey_year, case when s.period ~ '^[0-9]{4}' then cast(left(s.period, 4) as integer) end) as year, s.questionnaire_id,
       s.interview_date, s.wants_work, s.training_wanted, p.person_id, p.birth_date, p.gender,
       coalesce(p.hukou_region_code, m.hukou_region_code) as hukou_region_code,
       coalesce(p.disability_category, m.disability_category) as disability_category,
       coalesce(p.disability_level, m.disability_level) as disability_level,
       exists (
           select 1 from staging.declared_employment e
           join staging.declaration d on d.declaration_id = e.declaration_id
           join core.person_xref ex on ex.source = 'quota' and ex.source_key = e.employee_record_id
           where ex.person_id = p.person_id and d.status = any(:statuses)
             and s.interview_date between coalesce(e.contract_start, make_date(d.declaration_year, 1, 1))
                 and coalesce(e.contract_end, make_date(d.declaration_year, 12, 31))
       ) or exists (
           select 1 from staging.employment_registration r
           join core.person_xref rx on rx.source = 'employment_service' and rx.source_key = r.registration_id
           where rx.person_id = p.person_id and not coalesce(r.is_withdrawn, false)
             and s.interview_date between r.start_date and coalesce(r.end_date, 'infinity'::date)
       ) as employed_elsewhere
from staging.survey s
left join staging.person_mention m on m.source = 'unemployed_survey' and m.source_key = s.questionnaire_id
left join core.person_xref px on px.source = 'unemployed_survey' and px.source_key = s.questionnaire_id
left join core.person p on p.person_id = px.person_id
"""


def working_age(birth: dt.date | None, sex: str | None, on: dt.date | None) -> bool:
    """16 or older and not past the latest statutory retirement date on the day; a person
    whose birth date (or the day) is unknown is kept, as the survey samples working age."""
    if birth is None or on is None:
        return True
    if (on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))) < 16:
        return False
    if sex not in ("M", "F"):
        return True
    return on < refdata.retirement_bounds(birth, sex)[1]


def training_need(text: str | None) -> str:
    """The stated training need, trimmed; 无 when none was stated."""
    value = " ".join((text or "").split())
    return value if value and value not in ("无", "没有", "否") else "无"


def build_unemployed_profile(conn: Connection, now: dt.datetime, statuses: Sequence[str]) -> int:
    """Working-age surveyed persons not found employed, by city, category, level and need."""
    groups: dict[tuple, Counter] = defaultdict(Counter)
    seen: set[tuple[int, str]] = set()
    for r in _rows(conn, SURVEY_SQL, statuses=list(statuses)):
        if r["year"] is None or r["employed_elsewhere"]:
            continue
        if not working_age(r["birth_date"], r["gender"], r["interview_date"]):
            continue
        # A person interviewed twice in a year counts once.
        who = (r["year"], r["person_id"] or r["questionnaire_id"])
        if who in seen:
            continue
        seen.add(who)
        code, name = city(r["hukou_region_code"])
        cat = refdata.disability_category_name(r["disability_category"]) if r["disability_category"] else None
        lvl = refdata.disability_level_name(r["disability_level"]) if r["disability_level"] else None
        g = groups[(r["year"], code, name, cat or "未知", lvl or "未知", training_need(r["training_wanted"]))]
        g["person_count"] += 1
        g["wants_work_count"] += r["wants_work"] == "有"
    rows = [{"year": y, "city_code": c, "city_name": n, "category": cat, "level": lvl,
             "training_need": need, "person_count": g["person_count"],
             "wants_work_count": g["wants_work_count"], "computed_at": now}
            for (y, c, n, cat, lvl, need), g in sorted(groups.items())]
    return _replace(conn, "unemployed_profile", rows)


def build_marts(engine: Engine, *, statuses: Sequence[str] = DEFAULT_STATUSES,
                now: dt.datetime | None = None, only: Iterable[str] | None = None) -> dict[str, int]:
    """Rebuild the report's mart tables (all, or the ``only`` ones); rows written per table."""
    now = now or dt.datetime.now(dt.UTC)
    wanted = set(only or MART_TABLES)
    out: dict[str, int] = {}
    with engine.begin() as conn:
        # Derived tables rebuilt whole: one writer at a time, readers never see a gap.
        conn.execute(sa.text("select pg_advisory_xact_lock(7313013)"))
        if "city_progress" in wanted:
            out["city_progress"] = build_city_progress(conn, now, statuses)
        if "graduate_ledger" in wanted:
            out["graduate_ledger"] = build_graduate_ledger(conn, now, statuses)
        if "priority_employer" in wanted:
            out["priority_employer"] = build_priority_employer(conn, now)
        if wanted & {"public_sector", "public_unit_without_disabled", "dpf_organ"}:
            (out["public_sector"], out["public_unit_without_disabled"],
             out["dpf_organ"]) = build_public_sector(conn, now)
        if "unemployed_profile" in wanted:
            out["unemployed_profile"] = build_unemployed_profile(conn, now, statuses)
    return out
