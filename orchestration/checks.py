"""Asset checks: each table's generated Great Expectations suite, blocking where it must be."""

import dagster as dg

from orchestration.lineage import table_of
from orchestration.resources import WarehouseResource


def _suite_check(key: dg.AssetKey, blocking: bool) -> dg.AssetChecksDefinition:
    table, source = table_of(key)
    check_name = "suite_blocking" if blocking else "suite_quality"
    rows = f" ({source}'s rows)" if source else ""

    @dg.asset_check(
        asset=key,
        name=check_name,
        blocking=blocking,
        description=("Blocking checks of the generated suite (keys, not-null keys, xref "
                     f"completeness, reconciliation){rows}" if blocking else
                     f"Warning checks of the generated suite (types, code lists, ranges, identifiers){rows}"),
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        import expectations

        level = "blocking" if blocking else "warning"
        outcome = expectations.validate_table(warehouse.engine(), table, level=level, source=source)
        # The whole outcome travels in the result: the run's data-docs page is written from
        # these events instead of validating every table a second time.
        meta = {k: v for k, v in outcome.metadata.items() if k != "failures"}
        meta["failures"] = dg.MetadataValue.json(outcome.metadata.get("failures") or {})
        meta["blocking_failed"] = dg.MetadataValue.json(outcome.metadata.get("blocking_failed") or [])
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
            metadata=meta,
        )

    return _check


def suite_checks(asset_keys: list[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """Two checks per table asset (or source's part of a table): blocking and warning."""
    from expectations.quality.suites import has_blocking_checks
    from warehouse.schema import metadata

    checks = []
    for key in asset_keys:
        table, _ = table_of(key)
        if table not in metadata.tables:
            continue
        if has_blocking_checks(table):
            checks.append(_suite_check(key, True))
        checks.append(_suite_check(key, False))
    return checks


def _plain(value):
    """A Dagster metadata value as plain Python."""
    return getattr(value, "value", value)


def outcomes_by_table(events) -> dict:
    """Each validated table's outcome, from the run's check evaluations (both levels, and
    every source's part of a shared table, merged)."""
    from expectations.quality.suites import CheckOutcome, merge_outcomes, merge_sources

    parts: dict[str, dict[str | None, list]] = {}
    for e in events:
        if e.event_type_value != "ASSET_CHECK_EVALUATION":
            continue
        ev = e.event_specific_data
        meta = {k: _plain(v) for k, v in (ev.metadata or {}).items()}
        if "table" not in meta:  # not a suite check (e.g. deliveries_reconcile)
            continue
        failures = meta.get("failures") or {}
        outcome = CheckOutcome(
            passed=bool(ev.passed),
            blocking=any(f.get("blocking") for f in failures.values()),
            metadata={**meta, "failures": failures})
        parts.setdefault(meta["table"], {}).setdefault(meta.get("source"), []).append(outcome)
    return {table: merge_sources({s: merge_outcomes(o) for s, o in by_source.items()})
            for table, by_source in parts.items()}
