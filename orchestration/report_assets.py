"""Assets of the annual report's mart tables (warehouse.report.marts), deps from its READS."""

import dagster as dg

from orchestration import incremental
from orchestration.checks import start_early
from orchestration.lineage import keys_read
from orchestration.progress import replay, step
from orchestration.resources import WarehouseResource

GROUP = "report"
DESCRIPTIONS = {
    "city_progress": "New employments of certified persons per city and year, by form, against the target",
    "graduate_ledger": "一人一策 ledger: students graduating in the year or the next, employment found after graduation",
    "priority_employer": "Employers below quota ranked by gap, staff and levy; priority = all three thresholds met",
    "public_sector": "Organs and public institutions per city (schools and kindergartens excluded)",
    "public_unit_without_disabled": "Organs and institutions (no schools) employing no disabled person",
    "dpf_organ": "Federation organs at county level and above against the 15% target",
    "unemployed_profile": "Working-age surveyed persons not employed, by city, category, level and training need",
}


def _statuses() -> list[str]:
    """Declaration statuses that count, from the audit rules' thresholds (one home)."""
    from expectations.rules.config import Params

    return Params("*").list("statuses")


def _report_asset(tables: tuple[str, ...], deps: list[dg.AssetKey]) -> dg.AssetsDefinition:
    specs = [dg.AssetSpec(["mart", t], group_name=GROUP, kinds={"postgres"}, deps=deps,
                          description=DESCRIPTIONS[t]) for t in tables]
    # Built from what the steps before write: their inputs are all in this fingerprint
    # (every delivery, the overrides, the code, entity resolution's engine, the day the
    # audit steps judge against; the marts' computed_at is the day's too).
    inputs = incremental.declare(f"report_{tables[0]}", f"report {' + '.join(tables)}",
                                 lambda settings: {"day": True, "extra": f"er {settings.er_engine}"})

    @dg.multi_asset(name=f"report_{tables[0]}", specs=specs, pool="warehouse", can_subset=False)
    def _build(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        from warehouse.report import build_marts

        engine, name = warehouse.engine(), inputs.name
        fp, done = inputs.last_result(engine, warehouse.settings())
        if done is not None:
            start_early(engine, [spec.key for spec in specs], context.run_id)
            yield from replay(context, specs, done, name)
            return
        with step(name) as summary:
            counts = build_marts(engine, statuses=_statuses(), only=tables)
            summary["rows"] = sum(counts.values())
        meta = {dg.AssetKey(["mart", t]).to_user_string(): {"rows": counts.get(t, 0)} for t in tables}
        incremental.record(engine, name, fp, context.run_id, meta)
        start_early(engine, [spec.key for spec in specs], context.run_id)
        for t in tables:
            yield dg.MaterializeResult(asset_key=["mart", t], metadata={"rows": counts.get(t, 0)})

    return _build


def report_assets(produced: set[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    """Every asset of the report's mart tables, depending on the assets of what they read."""
    from warehouse.report.marts import READS

    return [_report_asset(tables, keys_read(reads, produced)) for tables, reads in READS.items()]
