"""Asset checks: each table's generated Great Expectations suite, blocking where it must be."""

import dagster as dg

from orchestration.resources import WarehouseResource

# Outcomes of the checks run in this process, by table and level: the data-docs page of a
# `quotalink run` is written from them instead of validating every table a second time.
OUTCOMES: dict[tuple[str, str], object] = {}


def _suite_check(table: str, blocking: bool) -> dg.AssetChecksDefinition:
    schema, name = table.split(".")
    check_name = "suite_blocking" if blocking else "suite_quality"

    @dg.asset_check(
        asset=dg.AssetKey([schema, name]),
        name=check_name,
        blocking=blocking,
        description=("Blocking checks of the generated suite (keys, not-null keys, xref "
                     "completeness, reconciliation)" if blocking else
                     "Warning checks of the generated suite (types, code lists, ranges, identifiers)"),
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        import expectations

        level = "blocking" if blocking else "warning"
        outcome = expectations.validate_table(warehouse.engine(), table, level=level)
        OUTCOMES[(table, level)] = outcome
        meta = {k: v for k, v in outcome.metadata.items() if k != "failures"}
        meta["failures"] = dg.MetadataValue.json(outcome.metadata.get("failures") or {})
        return dg.AssetCheckResult(
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
            metadata=meta,
        )

    return _check


def suite_checks(asset_keys: list[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """Two checks per table asset: its blocking part and its warning part."""
    from expectations.quality.suites import has_blocking_checks
    from warehouse.schema import metadata

    checks = []
    for key in asset_keys:
        table = ".".join(key.path)
        if table not in metadata.tables:
            continue
        if has_blocking_checks(table):
            checks.append(_suite_check(table, True))
        checks.append(_suite_check(table, False))
    return checks
