"""Asset checks: each table's generated Great Expectations suite, blocking where it must be."""

import dagster as dg

from orchestration.lineage import table_of
from orchestration.resources import WarehouseResource

_DESCRIPTIONS = {
    "suite_blocking": "Blocking checks of the generated suite (keys, not-null keys, xref "
                      "completeness, reconciliation)",
    "suite_quality": "Warning checks of the generated suite (types, code lists, ranges, "
                     "identifiers)",
}


def _suite_checks(key: dg.AssetKey, blocking: bool) -> dg.AssetChecksDefinition:
    """The blocking and the warning check of one table asset, from one validation pass."""
    from connectors.registry import staging_writers

    table, source = table_of(key)
    # A table's columns and types are the same for every source's part: its first checks them.
    schema_checks = source is None or staging_writers()[table][0] == source
    rows = f" ({source}'s rows)" if source else ""
    names = (["suite_blocking"] if blocking else []) + ["suite_quality"]
    specs = [dg.AssetCheckSpec(name, asset=key, blocking=name == "suite_blocking",
                               description=_DESCRIPTIONS[name] + rows) for name in names]

    @dg.multi_asset_check(specs=specs, name="suite_" + "__".join(key.path), can_subset=False)
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        import expectations
        from expectations.quality.suites import split_levels

        outcome = expectations.validate_table(warehouse.engine(), table, source=source,
                                              schema_checks=schema_checks)
        levels = split_levels(outcome, table, schema_checks)
        for name, level in (("suite_blocking", "blocking"), ("suite_quality", "warning")):
            if name not in names:
                continue
            part = levels[level]
            # The whole outcome travels in the result: the run's data-docs page is written
            # from these events instead of validating every table a second time.
            meta = {k: v for k, v in part.metadata.items()
                    if k not in ("failures", "blocking_failed")}
            meta["failures"] = dg.MetadataValue.json(part.metadata["failures"])
            meta["blocking_failed"] = dg.MetadataValue.json(part.metadata["blocking_failed"])
            yield dg.AssetCheckResult(
                asset_key=key, check_name=name, passed=part.passed, metadata=meta,
                severity=dg.AssetCheckSeverity.ERROR if level == "blocking"
                else dg.AssetCheckSeverity.WARN)

    return _check


def suite_checks(asset_keys: list[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """Two checks per table asset (or source's part of a table): blocking and warning."""
    from expectations.quality.suites import has_blocking_checks
    from warehouse.schema import metadata

    checks = []
    for key in asset_keys:
        table, _ = table_of(key)
        if table in metadata.tables:
            checks.append(_suite_checks(key, has_blocking_checks(table)))
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
