"""Entity resolution: standardise mentions, link them with Splink, publish golden records.

Public entry points (called by the Dagster assets and the CLI):
`resolve_persons(engine)`, `resolve_employers(engine)`, `evaluate(engine, truth_dir)`,
`train(kind, engine, truth_dir=None)`, `evaluation_summary(report)`.
"""

from typing import Any

# The warehouse tables each resolution reads and writes, by entity kind: the asset graph is
# derived from these (tests/unit/test_lineage.py holds them to the SQL of pipeline.py).
READS: dict[str, tuple[str, ...]] = {
    # ID-less persons: the employers of each mention (quota, hr, registrations).
    "person": ("staging.person_mention", "staging.certificate", "core.link_override",
               "staging.employer_mention", "staging.declared_employment",
               "staging.contribution"),
    # Context rules: golden persons and their employment in the same months, offices.
    "employer": ("staging.employer_mention", "core.link_override", "core.person_xref",
                 "staging.person_mention", "staging.employment_registration",
                 "staging.declared_employment", "staging.contribution",
                 "staging.civil_service"),
}
WRITES: dict[str, tuple[str, ...]] = {
    "person": ("core.person", "core.person_xref", "core.person_id_history",
               "core.person_match_edge", "core.link_override_applied",
               "core.person_attr_source"),
    "employer": ("core.employer", "core.employer_xref", "core.employer_id_history",
                 "core.employer_match_edge", "core.link_override_applied",
                 "core.employer_attr_source"),
}


def resolve_persons(engine, **kwargs: Any) -> dict[str, Any]:
    """Link staging person mentions; write core.person and core.person_xref; metrics."""
    from entity_resolution.pipeline import resolve_persons as run

    return run(engine, **kwargs)


def resolve_employers(engine, **kwargs: Any) -> dict[str, Any]:
    """Link staging employer mentions; write core.employer and core.employer_xref; metrics."""
    from entity_resolution.pipeline import resolve_employers as run

    return run(engine, **kwargs)


def evaluate(engine, truth_dir, **kwargs: Any) -> dict[str, Any]:
    """Pairwise precision / recall / F1, cluster counts and worst errors per entity kind."""
    from entity_resolution.evaluation import evaluate as run

    return run(engine, truth_dir, **kwargs)


def evaluation_summary(report: dict[str, Any]) -> dict[str, float | int]:
    """Flat numeric figures of an evaluate() report (for Dagster metadata)."""
    from entity_resolution.evaluation import summary

    return summary(report)


def train(kind: str, engine, truth_dir=None, **kwargs: Any):
    """Train and save a new version of the person or employer model (on request only)."""
    from entity_resolution.training import train as run

    return run(kind, engine, truth_dir, **kwargs)


__all__ = ["READS", "WRITES", "evaluate", "evaluation_summary", "resolve_employers", "resolve_persons", "train"]
