"""Helpers that turn rows of a rule query into findings (one per year, person and employer)."""

from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from expectations.rules.base import Finding, declared_evidence, declared_mentions

KEY = ["year", "person_id", "employer_id"]


def per_declared(
    rows: pd.DataFrame,
    rule: str,
    build: Callable[[pd.DataFrame], tuple[str, float, dict[str, Any], list[dict[str, str]]] | None],
    reference_tables: Iterable[str] = (),
) -> list[Finding]:
    """Group rows by (year, person, employer) and build one finding per group.

    ``build(group)`` returns (severity, score, extra evidence, extra mentions) or None to
    skip; the declared employments of the group are added to the evidence.
    """
    findings: list[Finding] = []
    if rows.empty:
        return findings
    for (year, person_id, employer_id), group in rows.groupby(KEY, sort=True, dropna=False):
        built = build(group)
        if built is None:
            continue
        severity, score, extra, mentions = built
        decl = group.drop_duplicates("employee_record_id")
        evidence = {
            "declared": [declared_evidence(r) for _, r in decl.iterrows()],
            **extra,
            "mentions": _unique([m for _, r in decl.iterrows() for m in declared_mentions(r)]
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
