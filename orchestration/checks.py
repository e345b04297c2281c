"""Asset checks: each table's generated Great Expectations suite, blocking where it must be."""

import dagster as dg

from orchestration import incremental
from orchestration.lineage import table_of
from orchestration.resources import WarehouseResource

_DESCRIPTIONS = {
    "suite_blocking": "Blocking checks of the generated suite (keys, not-null keys, xref "
                      "completeness, reconciliation)",
    "suite_quality": "Warning checks of the generated suite (types, code lists, ranges, "
                     "identifiers)",
}


def _raw_sources() -> dict[str, str]:
    from connectors.registry import raw_tables
    from quotalink.contracts import SOURCES

    return {f"raw.{t.table}": s for s in SOURCES for t in raw_tables(s)}


_RAW_SOURCE = _raw_sources()


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

        engine = warehouse.engine()
        step_name = "check " + key.to_user_string()
        scope = [source] if source else [_RAW_SOURCE[table]] if table in _RAW_SOURCE else None
        fp, done = incremental.last_result(engine, step_name, sources=scope,
                                           overrides=scope is None, day=scope is None)
        if done is not None:
            # The table is what it was when this suite last ran: its outcome stands.
            results = done.get("results") or []
        else:
            outcome = expectations.validate_table(engine, table, source=source,
                                                  schema_checks=schema_checks)
            levels = split_levels(outcome, table, schema_checks)
            results = [{"name": name, "level": level, "passed": bool(levels[level].passed),
                        "metadata": levels[level].metadata}
                       for name, level in (("suite_blocking", "blocking"), ("suite_quality", "warning"))
                       if name in names]
            incremental.record(engine, step_name, fp, context.op_execution_context.run_id,
                               {"results": results})
        for r in results:
            # The whole outcome travels in the result: the run's data-docs page is written
            # from these events instead of validating every table a second time.
            meta = {k: v for k, v in r["metadata"].items()
                    if k not in ("failures", "blocking_failed")}
            meta["failures"] = dg.MetadataValue.json(r["metadata"]["failures"])
            meta["blocking_failed"] = dg.MetadataValue.json(r["metadata"]["blocking_failed"])
            if done is not None:
                meta["skipped"] = True
            yield dg.AssetCheckResult(
                asset_key=key, check_name=r["name"], passed=r["passed"], metadata=meta,
                severity=dg.AssetCheckSeverity.ERROR if r["level"] == "blocking"
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
