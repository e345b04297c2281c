"""Helpers that turn rows of a rule query into findings (one per year, person and employer)."""

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from expectations.rules.base import Finding, declared_evidence, declared_mentions

KEY = ("year", "person_id", "employer_id")

Row = dict[str, Any]


def sort_key(key: tuple) -> tuple:
    """Order of group keys: ascending, a missing part last (as pandas sorted them)."""
    return tuple((True, 0) if v is None else (False, v) for v in key)


def group_by(rows: Iterable[Row], columns: Iterable[str],
             dropna: bool = False) -> list[tuple[tuple, list[Row]]]:
    """Rows grouped by the columns, groups in key order, rows of a group in query order.

    ``dropna`` leaves out the rows whose key has a missing part.
    """
    columns = tuple(columns)
    groups: dict[tuple, list[Row]] = {}
    for r in rows:
        key = tuple(r[c] for c in columns)
        if dropna and any(v is None for v in key):
            continue
        groups.setdefault(key, []).append(r)
    return sorted(groups.items(), key=lambda kv: sort_key(kv[0]))


def unique_by(rows: Iterable[Row], *columns: str) -> list[Row]:
    """The first row of each distinct value of the columns, in query order."""
    seen: set[Hashable] = set()
    out = []
    for r in rows:
        key = tuple(r[c] for c in columns)
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def per_declared(
    rows: list[Row],
    rule: str,
    build: Callable[[list[Row]], tuple[str, float, dict[str, Any], list[dict[str, str]]] | None],
    reference_tables: Iterable[str] = (),
) -> list[Finding]:
    """Group rows by (year, person, employer) and build one finding per group.

    ``build(group)`` returns (severity, score, extra evidence, extra mentions) or None to
    skip; the declared employments of the group are added to the evidence.
    """
    findings: list[Finding] = []
    for (year, person_id, employer_id), group in group_by(rows, KEY):
        built = build(group)
        if built is None:
            continue
        severity, score, extra, mentions = built
        decl = unique_by(group, "employee_record_id")
        evidence = {
            "declared": [declared_evidence(r) for r in decl],
            **extra,
            "mentions": _unique([m for r in decl for m in declared_mentions(r)]
                                + list(mentions)),
        }
        findings.append(Finding(rule, int(year), str(employer_id), str(person_id), severity,
                                float(score), evidence, tuple(reference_tables)))
    return findings


def _unique(mentions: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for m in mentions:
        key = (m["source"], m["source_key"], m.get("entity", ""))
        if key not in seen:
            seen.add(key)
            out.append(m)
    return out
