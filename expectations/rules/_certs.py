"""Certificates of declared persons and the days each was valid (shared by two rules)."""

import datetime as dt
from typing import Any

from expectations.rules.base import DECL, RuleContext, iso

# Ordered: the evidence lists a person's certificates in this order, whatever the plan.
CERT_SQL = f"""
select d.employee_record_id, c.cert_number, c.disability_category, c.disability_level,
       c.issued_on, c.valid_until, c.status, c.cancelled_on, c.cancel_reason
from (select distinct employee_record_id, person_id from {DECL}
      where employee_record_id = any(:ids)) d
join core.person_xref px on px.person_id = d.person_id and px.source = 'disability_registry'
join staging.certificate c on c.cert_number = px.source_key
order by d.employee_record_id, c.cert_number
"""

INVALID_STATUSES = ("cancelled", "moved_out")

# SQL twin of ``valid_interval``: first and last valid day of a certificate ``c``.
VALID_FROM_SQL = "coalesce(c.issued_on, '-infinity'::date)"
VALID_TO_SQL = ("least(coalesce(c.valid_until, 'infinity'::date), case when c.status in "
                "('cancelled', 'moved_out') then coalesce(c.cancelled_on - 1, "
                "'-infinity'::date) else 'infinity'::date end)")


def certificates(ctx: RuleContext, record_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Certificates of the declared employees' golden persons, keyed by employee_record_id
    (each person's certificates once, by cert_number)."""
    out: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, str]] = set()
    for r in ctx.rows(CERT_SQL, ids=list(record_ids)) if record_ids else []:
        key = (r["employee_record_id"], r["cert_number"])
        if key not in seen:
            seen.add(key)
            out.setdefault(r["employee_record_id"], []).append(r)
    return out


def valid_interval(cert: Any) -> tuple[dt.date, dt.date] | None:
    """First and last day a certificate was valid (inclusive), None if never.

    Valid from ``issued_on`` through ``valid_until`` (长期 = open); a cancelled or moved-out
    certificate ends the day before ``cancelled_on`` (never valid when that date is missing).
    """
    start = cert["issued_on"] or dt.date.min
    end = cert["valid_until"] or dt.date.max
    if cert["status"] in INVALID_STATUSES:
        if cert["cancelled_on"] is None:
            return None
        end = min(end, cert["cancelled_on"] - dt.timedelta(days=1))
    return (start, end) if start <= end else None


def covered_days(intervals: list[tuple[dt.date, dt.date]], start: dt.date, end: dt.date) -> int:
    """Days of [start, end] covered by the union of the intervals."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals
                     if a <= end and b >= start)
    days, cursor = 0, None
    for a, b in clipped:
        if cursor is not None and a <= cursor:
            a = cursor + dt.timedelta(days=1)
        if a <= b:
            days += (b - a).days + 1
            cursor = b if cursor is None else max(cursor, b)
    return days


def cert_evidence(cert: Any) -> dict:
    """The facts of a certificate an auditor needs."""
    interval = valid_interval(cert)
    return {
        "cert_number": cert["cert_number"], "status": cert["status"],
        "level": iso(cert["disability_level"]), "category": iso(cert["disability_category"]),
        "issued_on": iso(cert["issued_on"]), "valid_until": iso(cert["valid_until"]),
        "cancelled_on": iso(cert["cancelled_on"]), "cancel_reason": cert["cancel_reason"],
        "valid_days": None if interval is None else [iso(interval[0]), iso(interval[1])],
    }
