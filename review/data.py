"""The console's SQL: the queue, a case, decisions and exports, always under the user's scope."""

import csv
import re
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from entity_resolution.survivorship import ATTRIBUTES, mask_names

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000
DECISIONS = ("confirmed", "dismissed", "escalated")
STATUSES = ("open", "proposed", "confirmed", "dismissed", "escalated")
SEVERITY_RANK = "case f.severity when 'high' then 0 when 'medium' then 1 else 2 end"
ID_NUMBER = re.compile(r"^\d{17}[\dXx]$")


@dataclass(frozen=True)
class Reason:
    """One reason code of a decision."""

    code: str
    decision: str
    label_zh: str
    label_en: str


@cache
def reasons() -> tuple[Reason, ...]:
    """The reason code list (review/reasons.csv)."""
    with open(Path(__file__).with_name("reasons.csv"), encoding="utf-8") as f:
        return tuple(Reason(**r) for r in csv.DictReader(f))


def reason_codes(decision: str) -> set[str]:
    """Codes valid for a decision."""
    return {r.code for r in reasons() if r.decision == decision}


@dataclass
class Filters:
    """What the queue is filtered by (all optional)."""

    rule: str | None = None
    year: int | None = None
    severity: str | None = None
    status: str | None = None
    city: str | None = None
    assignee: str | None = None
    active: bool | None = True
    q: str | None = None
    person: str | None = None
    scope_city: str | None = None  # the user's city (not a filter the user chooses)

    def params(self) -> dict[str, str]:
        """The filters as query parameters (for links: never an ID number)."""
        out = {"rule": self.rule, "year": self.year, "severity": self.severity,
               "status": self.status or "all", "city": self.city, "assignee": self.assignee,
               "active": {True: "true", False: "false", None: "all"}[self.active],
               "q": self.q, "person": self.person}
        return {k: str(v) for k, v in out.items() if v not in (None, "")}


def _masked(clear: bool, col: str, fn: str) -> str:
    """A personal column, masked in SQL unless the user may see it in clear."""
    return col if clear else f"api.{fn}({col})"


STATUS = "case when d.decision is null then 'open' when d.stage = 'proposed' then 'proposed' else d.decision end"


# Per flag of a page: its latest decision and assignment, by index (ix_decision_flag,
# ix_assignment_flag); the queue walks review.flag_queue in rank order and stops at a page.
DECISION_LATERAL = """
    left join lateral (select r.decision, r.stage, r.reviewer, r.decided_at from review.decision r
                       where r.flag_id = f.flag_id order by r.decision_id desc limit 1) d on true"""
ASSIGNEE_LATERAL = """
    left join lateral (select x.assignee from review.assignment x
                       where x.flag_id = f.flag_id order by x.assignment_id desc limit 1) a on true"""


def _where(f: Filters, with_status: bool = True) -> tuple[str, dict[str, Any]]:
    conds, p = ["true"], {}
    for name in ("rule", "severity"):
        if getattr(f, name):
            conds.append(f"f.{name} = :{name}")
            p[name] = getattr(f, name)
    if f.year is not None:
        conds.append("f.year = :year")
        p["year"] = f.year
    if f.active is not None:
        conds.append("f.active = :active")
        p["active"] = f.active
    if f.city:
        conds.append("f.city_code = :city")
        p["city"] = f.city
    if f.scope_city:  # stated again (RLS holds it too) so that the city index serves
        conds.append("f.city_code = :scope_city")
        p["scope_city"] = f.scope_city
    if f.assignee:
        if f.assignee == "-":
            conds.append("a.assignee is null")
        else:
            conds.append("a.assignee = :assignee")
            p["assignee"] = f.assignee
    if f.person:
        conds.append("f.person_id = :person")
        p["person"] = f.person
    if f.q:
        conds.append("(f.employer_name like :like or f.uscc = :qexact or f.flag_id = :qexact "
                     "or f.person_id = :qexact or f.employer_id = :qexact or f.person_id in "
                     "(select person_id from core.person where full_name = :qexact))")
        p["like"] = "%" + f.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        p["qexact"] = f.q
    if with_status and f.status:
        conds.append("f.status = :status")
        p["status"] = f.status
    return " and ".join(conds), p


def refresh_queue(conn: Connection) -> bool:
    """Rebuild review.flag_queue if the flags changed since it was built (True when rebuilt)."""
    return bool(conn.execute(sa.text("select review.refresh_flag_queue()")).scalar())


class CountCache:
    """Counts per status of a search, an assignee or a person, kept a few seconds: paging
    through its results need not count them on every page. Cleared by every decision."""

    def __init__(self, seconds: float = 5.0) -> None:
        self.seconds = seconds
        self._data: dict[tuple, tuple[float, dict[str, int]]] = {}

    def get(self, key: tuple) -> dict[str, int] | None:
        hit = self._data.get(key)
        return dict(hit[1]) if hit and time.monotonic() - hit[0] < self.seconds else None

    def put(self, key: tuple, counts: dict[str, int]) -> None:
        if len(self._data) > 1000:
            self._data.clear()
        self._data[key] = (time.monotonic(), dict(counts))

    def clear(self) -> None:
        self._data.clear()


def queue(conn: Connection, f: Filters, page: int, clear: bool, limit: int = PAGE_SIZE,
          cache: CountCache | None = None) -> tuple[list[dict], dict[str, int]]:
    """One page of the queue and the counts per status (of the filters but the status)."""
    counts = queue_counts(conn, f, cache)
    page = max(1, page)
    total = counts.get(f.status, 0) if f.status else sum(counts.values())
    if total <= (page - 1) * limit:
        return [], counts  # past the end (or nothing matches): no walk through the whole queue
    where, p = _where(f)
    rows = conn.execute(sa.text(f"""
        select f.flag_id, f.rule, f.year, f.severity, f.score, f.active, f.person_id, f.employer_id,
               f.employer_name, f.uscc, f.city_code, f.levy_gap, f.status, a.assignee,
               d.reviewer, d.decided_at
        from review.flag_queue f {DECISION_LATERAL} {ASSIGNEE_LATERAL}
        where {where}
        order by f.active desc, f.rank
        limit :limit offset :offset"""), {**p, "limit": limit, "offset": (page - 1) * limit}).mappings()
    rows = [dict(r) for r in rows]
    # Names of the page's persons by key (a join would read every person of the scope).
    names = dict(conn.execute(sa.text(
        f"select person_id, {_masked(clear, 'full_name', 'mask_name')} from core.person "
        "where person_id = any(:ids)"), {"ids": [r["person_id"] for r in rows if r["person_id"]]}).all())
    for r in rows:
        r["person_name"] = names.get(r["person_id"])
    return rows, counts


def queue_counts(conn: Connection, f: Filters, cache: CountCache | None = None) -> dict[str, int]:
    """Flags of the filters (all but the status) per status, exact.

    Filters of the group columns sum review.flag_queue_count (kept by every decision); a
    search, an assignee or a person counts the queue's rows, kept a few seconds in `cache`.
    """
    where_all, p_all = _where(f, with_status=False)
    if not (f.assignee or f.q or f.person):
        found = dict(conn.execute(sa.text(
            f"select f.status, sum(f.flags)::bigint from review.flag_queue_count f where {where_all} "
            "group by 1"), p_all).all())
        return {s: found.get(s, 0) for s in STATUSES}
    key = (where_all, tuple(sorted(p_all.items())))
    cached = cache.get(key) if cache else None
    if cached is not None:
        return cached
    assignee = ASSIGNEE_LATERAL if "a.assignee" in where_all else ""
    found = dict(conn.execute(sa.text(
        f"select f.status, count(*) from review.flag_queue f {assignee} where {where_all} group by 1"),
        p_all).all())
    counts = {s: found.get(s, 0) for s in STATUSES}
    if cache:
        cache.put(key, counts)
    return counts


def facets(conn: Connection) -> dict[str, list]:
    """Rule codes and the years of the queue (for the filter lists)."""
    import datetime as dt

    from review.i18n import RULES

    this_year = dt.date.today().year
    return {"rules": sorted(RULES), "years": list(range(this_year, this_year - 6, -1))}


def persons_with_id(conn: Connection, id_number: str) -> list[str]:
    """Golden persons holding an exact ID number (the search never shows it back)."""
    return conn.execute(sa.text("select person_id from core.person where id_number = :i"),
                        {"i": id_number.upper()}).scalars().all()


def flag(conn: Connection, flag_id: str, clear: bool) -> dict | None:
    """A flag in scope with its latest decision state, or None (outside the scope too)."""
    row = conn.execute(sa.text(f"""
        select f.flag_id, f.rule, f.year, f.person_id, f.employer_id, f.severity, f.score,
               {'f.evidence' if clear else 'api.mask_jsonb(f.evidence)'} as evidence,
               f.rule_version, f.first_seen_at, f.last_seen_at, f.active,
               api.city_of(e.region_code) as city_code, {STATUS} as status, a.assignee,
               d.reviewer as last_reviewer
        from mart.anomaly_flag f join core.employer e on e.employer_id = f.employer_id
        {DECISION_LATERAL} {ASSIGNEE_LATERAL}
        where f.flag_id = :f"""), {"f": flag_id}).mappings().first()
    return dict(row) if row else None


PERSON_FIELDS = ("full_name", "id_number", "cert_number", "gender", "birth_date", "disability_category",
                 "disability_level", "cert_status", "hukou_region_code", "phone")
EMPLOYER_FIELDS = ("name", "uscc", "org_code", "region_code", "unit_type")


def person(conn: Connection, person_id: str | None, clear: bool) -> dict | None:
    """The golden person, masked in SQL unless clear."""
    if not person_id:
        return None
    row = conn.execute(sa.text(f"""
        select person_id, {_masked(clear, 'full_name', 'mask_name')} as full_name,
               {_masked(clear, 'id_number', 'mask_id_number')} as id_number,
               {_masked(clear, 'cert_number', 'mask_id_number')} as cert_number, gender,
               {'birth_date::text' if clear else 'extract(year from birth_date)::text'} as birth_date,
               disability_category, disability_level, cert_status, hukou_region_code,
               {_masked(clear, 'phone', 'mask_phone')} as phone
        from core.person where person_id = :p"""), {"p": person_id}).mappings().first()
    return dict(row) if row else None


def employer(conn: Connection, employer_id: str) -> dict | None:
    """The golden employer."""
    row = conn.execute(sa.text(
        "select employer_id, name, uscc, org_code, region_code, unit_type, "
        "api.city_of(region_code) as city_code from core.employer where employer_id = :e"),
        {"e": employer_id}).mappings().first()
    return dict(row) if row else None


def person_mentions(conn: Connection, person_id: str | None, extra: list[tuple[str, str]],
                    clear: bool) -> list[dict]:
    """The person's mentions as delivered (its crosswalk plus those the evidence names)."""
    srcs = [s for s, _ in extra] or [""]
    keys = [k for _, k in extra] or [""]
    rows = conn.execute(sa.text(f"""
        with wanted as (
            select source, source_key from core.person_xref where person_id = :p
            union select * from unnest(cast(:s as text[]), cast(:k as text[])))
        select m.source, {_masked(clear, 'm.source_key', 'mask_text')} as source_key,
               m.source_key as raw_key, m.delivery, m.period,
               {_masked(clear, 'm.row_ref', 'mask_text')} as row_ref,
               {_masked(clear, 'm.name_raw', 'mask_name')} as name_raw,
               {_masked(clear, 'm.full_name', 'mask_name')} as full_name,
               {_masked(clear, 'm.id_number_raw', 'mask_text')} as id_number_raw,
               {_masked(clear, 'm.id_number', 'mask_id_number')} as id_number,
               {_masked(clear, 'm.cert_number', 'mask_id_number')} as cert_number, m.gender,
               {'m.birth_date::text' if clear else 'extract(year from m.birth_date)::text'} as birth_date,
               {_masked(clear, 'm.phone', 'mask_phone')} as phone, m.hukou_region_code,
               m.disability_category, m.disability_level, m.observed_on, x.person_id,
               x.match_probability
        from wanted w join staging.person_mention m on m.source = w.source and m.source_key = w.source_key
        left join core.person_xref x on x.source = m.source and x.source_key = m.source_key
        order by m.source, m.source_key limit 40"""), {"p": person_id or "", "s": srcs, "k": keys})
    return [dict(r) for r in rows.mappings()]


def employer_mentions(conn: Connection, employer_id: str) -> list[dict]:
    """The employer's mentions as delivered."""
    rows = conn.execute(sa.text("""
        select m.source, m.source_key, m.delivery, m.period, m.row_ref, m.name_raw, m.name, m.uscc, m.org_code,
               m.region_code, m.unit_type, x.match_probability
        from core.employer_xref x join staging.employer_mention m
          on m.source = x.source and m.source_key = x.source_key
        where x.employer_id = :e order by m.source, m.source_key limit 40"""), {"e": employer_id})
    return [dict(r) for r in rows.mappings()]


def attr_sources(conn: Connection, person_id: str | None, employer_id: str | None,
                 clear: bool) -> dict[str, dict[str, dict]]:
    """What survivorship chose: per entity and golden attribute the mention that supplied it
    (core.person_attr_source / core.employer_attr_source, by primary key)."""
    rows = conn.execute(sa.text(f"""
        select 'person' as entity, a.source, {_masked(clear, 'a.source_key', 'mask_text')} as source_key,
               a.source_key as raw_key, a.delivery, a.attribute_mask, a.derived_mask
        from core.person_attr_source a where a.person_id = :p
        union all
        select 'employer', a.source, a.source_key, a.source_key, a.delivery, a.attribute_mask,
               a.derived_mask
        from core.employer_attr_source a where a.employer_id = :e"""),
        {"p": person_id or "", "e": employer_id or ""}).mappings()
    out: dict[str, dict[str, dict]] = {"person": {}, "employer": {}}
    for r in rows:
        order = ATTRIBUTES[r["entity"]]
        derived = set(mask_names(r["derived_mask"], order))
        for attribute in mask_names(r["attribute_mask"], order):
            out[r["entity"]][attribute] = {
                **{k: r[k] for k in ("source", "source_key", "raw_key", "delivery")},
                "derived": attribute in derived}
    return out


def flag_mention_keys(conn: Connection, f: dict, source: str) -> list[tuple[str, str]]:
    """(entity, source_key) of the flag's mentions of a source: its person's and employer's
    crosswalk and the mentions its evidence names (the raw rows the case page links to)."""
    named = [m.get("source_key") for m in (f["evidence"] or {}).get("mentions", [])
             if m.get("entity", "person") == "person" and m.get("source") == source]
    rows = conn.execute(sa.text("""
        select 'person', source_key from core.person_xref where person_id = :p and source = :s
        union all
        select 'employer', source_key from core.employer_xref where employer_id = :e and source = :s
        """), {"p": f["person_id"] or "", "e": f["employer_id"] or "", "s": source}).all()
    return [tuple(r) for r in rows] + [("person", k) for k in named if isinstance(k, str)]


def raw_row(conn: Connection, flag_id: str, entity: str, source: str, source_key: str,
            clear: bool) -> dict | None:
    """The raw row behind a mention of a flag in scope, as delivered (masked unless clear):
    review.mention_raw_row() checks the scope itself; the console has no grant on raw."""
    row = conn.execute(sa.text(
        "select raw_table, delivery, row_ref, loaded_at, content "
        "from review.mention_raw_row(:f, :e, :s, :k, :c)"),
        {"f": flag_id, "e": entity, "s": source, "k": source_key, "c": clear}).mappings().first()
    return dict(row) if row else None


def other_flags(conn: Connection, f: dict) -> list[dict]:
    """Flags of the same person or employer (in scope), from the queue (with their status)."""
    rows = conn.execute(sa.text(f"""
        select f.flag_id, f.rule, f.year, f.severity, f.active, f.status
        from review.flag_queue f
        where (f.person_id = :p or f.employer_id = :e) and f.flag_id <> :f
        order by f.year desc, {SEVERITY_RANK}, f.flag_id limit 50"""),
        {"p": f["person_id"] or "", "e": f["employer_id"], "f": f["flag_id"]})
    return [dict(r) for r in rows.mappings()]


def decisions(conn: Connection, f: dict, clear: bool) -> list[dict]:
    """The decisions on the flag and on the flags it was before an ID merge."""
    earlier = (f["evidence"] or {}).get("previous_flag_ids") or []
    rows = conn.execute(sa.text(f"""
        select decision_id, flag_id, decision, reason, stage, reviewer,
               {'note' if clear else 'api.mask_text(note)'} as note, decided_at
        from review.decision where flag_id = any(:ids) order by decision_id"""),
        {"ids": [f["flag_id"], *earlier]})
    return [dict(r) for r in rows.mappings()]


def record_decision(conn: Connection, flag_id: str, decision: str, reason: str, note: str | None,
                    reviewer: str, stage: str | None) -> int:
    """Append a decision (RLS refuses one on a flag outside the scope)."""
    return conn.execute(sa.text(
        "insert into review.decision (flag_id, decision, reviewer, note, reason, stage) "
        "values (:f, :d, :r, :n, :reason, :stage) returning decision_id"),
        {"f": flag_id, "d": decision, "r": reviewer, "n": note, "reason": reason, "stage": stage}).scalar()


def assign(conn: Connection, flag_id: str, assignee: str | None, by: str) -> None:
    """Append an assignment (None releases the flag)."""
    conn.execute(sa.text(
        "insert into review.assignment (flag_id, assignee, assigned_by) values (:f, :a, :b)"),
        {"f": flag_id, "a": assignee, "b": by})


def log_access(conn: Connection, username: str, addr: str | None, action: str,
               flag_id: str | None = None, person_id: str | None = None,
               employer_id: str | None = None, detail: str | None = None) -> None:
    """One row of the record of processing of personal data (hash-chained)."""
    conn.execute(sa.text(
        "insert into review.access_log (username, client_addr, action, flag_id, person_id, "
        "employer_id, detail) values (:u, :a, :act, :f, :p, :e, cast(:d as jsonb))"),
        {"u": username, "a": addr, "act": action, "f": flag_id, "p": person_id, "e": employer_id,
         "d": None if detail is None else detail})


def next_flag(conn: Connection, after: str, scope_city: str | None = None) -> str | None:
    """The first open active flag of the queue other than `after`."""
    city = "and f.city_code = :city" if scope_city else ""
    return conn.execute(sa.text(f"""
        select f.flag_id from review.flag_queue f
        where f.active and f.flag_id <> :after {city} and f.status = 'open'
        order by f.active desc, f.rank limit 1"""), {"after": after, "city": scope_city}).scalar()


def decisions_export(conn: Connection, clear: bool) -> list[dict]:
    """Every decision in scope, newest first."""
    rows = conn.execute(sa.text(f"""
        select r.decision_id, r.flag_id, f.rule, f.year, r.decision, r.reason, r.stage, r.reviewer,
               {'r.note' if clear else 'api.mask_text(r.note)'} as note, r.decided_at
        from review.decision r join mart.anomaly_flag f on f.flag_id = r.flag_id
        order by r.decision_id desc limit :n"""), {"n": EXPORT_LIMIT})
    return [dict(r) for r in rows.mappings()]
