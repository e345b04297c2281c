"""Assets: one per warehouse table, keys mirroring schema.table; thin wrappers over domain code."""

import datetime as dt

import dagster as dg
import sqlalchemy as sa

from connectors.registry import SOURCE_OBJECTS, STAGING_FEEDS, raw_tables
from orchestration.progress import step
from orchestration.resources import WarehouseResource
from quotalink.contracts import SOURCES

STAGING_TABLES = (
    "person_mention", "employer_mention", "certificate", "declaration", "declared_employment",
    "contribution", "employment_registration", "training", "study", "civil_service",
    "institution", "survey",
)


def active_sources() -> list[str]:
    """Every source of the contracts."""
    return list(SOURCES)


def _raw_asset(source: str) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(["raw", t.table], group_name=source, kinds={"postgres"},
                     description=f"{source} deliveries as delivered, with lineage")
        for t in raw_tables(source)
    ]

    @dg.multi_asset(name=f"raw_{source}", specs=specs, pool="warehouse", can_subset=False)
    def _load(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        engine = warehouse.engine()
        with step(f"load {source}") as summary:
            results = SOURCE_OBJECTS[source].load(engine, warehouse.settings())
            done = [r for r in results if r.status != "skipped"]
            summary["deliveries"] = len(done)
            summary["rows"] = sum(r.rows_loaded for r in done)
            rejected = [r for r in done if r.status == "rejected"]
            if rejected:
                summary["rejected"] = len(rejected)
            quarantined = sum(r.rows_quarantined for r in done)
            if quarantined:
                summary["quarantined"] = quarantined
        for r in rejected:
            context.log.warning(f"{source}/{r.delivery} rejected: {r.reason}")
        for spec in specs:
            yield dg.MaterializeResult(
                asset_key=spec.key,
                metadata={
                    "deliveries_loaded": len(done),
                    "deliveries_rejected": len(rejected),
                    "rows_read": sum(r.rows_read for r in done),
                    "rows_loaded": sum(r.rows_loaded for r in done),
                    "rows_quarantined": quarantined,
                    "deliveries": ", ".join(f"{r.delivery} ({r.status})" for r in done[:20]),
                },
            )

    return _load


def _reconciliation_check(source: str) -> dg.AssetChecksDefinition:
    table = raw_tables(source)[0]

    @dg.asset_check(asset=dg.AssetKey(["raw", table.table]), name="deliveries_reconcile", blocking=True,
                    description="rows_read = rows_loaded + rows_quarantined for every delivery")
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        with warehouse.engine().connect() as conn:
            bad = conn.execute(
                sa.text(
                    "select delivery from ops.load_audit where source = :s "
                    "and rows_read <> rows_loaded + rows_quarantined"
                ),
                {"s": source},
            ).scalars().all()
            n = conn.execute(sa.text("select count(*) from ops.load_audit where source = :s"), {"s": source}).scalar()
        return dg.AssetCheckResult(passed=not bad, metadata={"deliveries": n, "unreconciled": ", ".join(bad[:10])})

    return _check


@dg.multi_asset(
    name="staging",
    specs=[
        dg.AssetSpec(["staging", t], group_name="staging", kinds={"postgres"},
                     deps=[dg.AssetKey(["raw", r.table]) for s in active_sources()
                           if t in STAGING_FEEDS[s] for r in raw_tables(s)])
        for t in STAGING_TABLES
    ],
    pool="warehouse",
    can_subset=False,
)
def staging_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Typed, canonical staging tables from every landed, not yet staged delivery."""
    engine = warehouse.engine()
    per_source = {}
    for source in active_sources():
        with step(f"stage {source}") as summary:
            out = SOURCE_OBJECTS[source].stage(engine)
            per_source[source] = out
            summary["deliveries"] = _count_deliveries(out)
    with engine.connect() as conn:
        counts = {
            t: conn.execute(sa.text(f'select count(*) from staging."{t}"')).scalar() for t in STAGING_TABLES
        }
    for t in STAGING_TABLES:
        yield dg.MaterializeResult(asset_key=["staging", t], metadata={"rows": counts[t]})


def _count_deliveries(out: dict) -> int:
    if all(isinstance(v, dict) and ("staged" in v) for v in out.values()):
        return len(out)
    return sum(_count_deliveries(v) for v in out.values() if isinstance(v, dict))


def _resolution_asset(kind: str, extra_deps: list[list[str]]) -> dg.AssetsDefinition:
    """Golden records and crosswalk of one entity kind, with the run's ER figures attached."""
    golden, xref = ["core", kind], ["core", f"{kind}_xref"]
    mentions = ["staging", f"{kind}_mention"]

    @dg.multi_asset(
        name=f"{kind}s",
        specs=[
            dg.AssetSpec(golden, group_name="entity_resolution", kinds={"postgres", "splink"},
                         deps=[mentions, *extra_deps]),
            dg.AssetSpec(xref, group_name="entity_resolution", kinds={"postgres"}, deps=[mentions]),
        ],
        pool="warehouse",
        can_subset=False,
    )
    def _resolve(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        import entity_resolution

        engine = warehouse.engine()
        resolve = getattr(entity_resolution, f"resolve_{kind}s")
        with step(f"resolve {kind}s") as summary:
            metrics = resolve(engine) or {}
            summary.update({k: v for k, v in metrics.items() if k in (f"{kind}s", "mentions")})
        meta = {k: v for k, v in metrics.items() if isinstance(v, (int, float, str))}
        meta.update(_evaluation(engine, warehouse.settings().truth_dir, kind))
        yield dg.MaterializeResult(asset_key=golden, metadata=meta)
        yield dg.MaterializeResult(asset_key=xref, metadata=meta)

    _resolve.__doc__ = f"Golden {kind}s and the crosswalk of every {kind} mention (Splink, stable IDs)."
    return _resolve


def _evaluation(engine, truth_dir, kind: str) -> dict:
    """Pairwise precision/recall/F1 against ground truth, when a synthetic truth is present."""
    if not (truth_dir / f"{kind}_mentions.csv").exists():
        return {}
    import entity_resolution

    scores = entity_resolution.evaluate(engine, truth_dir).get(kind) or {}
    return {f"eval_{k}": v for k, v in scores.items() if isinstance(v, (int, float))}


persons = _resolution_asset("person", [["staging", "certificate"]])
# The context rules read the golden persons: persons are resolved first.
employers = _resolution_asset("employer", [["staging", "institution"], ["core", "person_xref"],
                                           ["staging", "employment_registration"],
                                           ["staging", "declared_employment"],
                                           ["staging", "contribution"],
                                           ["staging", "civil_service"]])


@dg.asset(
    key=["mart", "anomaly_flag"],
    group_name="audit",
    kinds={"postgres"},
    deps=[["core", "person_xref"], ["core", "employer_xref"], ["staging", "declared_employment"],
          ["staging", "declaration"], ["staging", "contribution"], ["staging", "certificate"],
          ["staging", "study"], ["staging", "survey"], ["staging", "civil_service"],
          ["staging", "employment_registration"]],
    pool="warehouse",
)
def anomaly_flag(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Findings of fake or ineligible quota employment, with evidence (upserted, never deleted)."""
    import expectations

    engine = warehouse.engine()
    with step("audit rules") as summary:
        counts = expectations.run_rules(engine, dt.datetime.now(dt.UTC)) or {}
        summary["flags"] = sum(v for k, v in counts.items() if isinstance(v, int) and not k.startswith("_"))
    meta = {k: v for k, v in counts.items() if isinstance(v, (int, float, str))}
    truth = warehouse.settings().truth_dir
    if (truth / "fraud_cases.csv").exists():
        overall = expectations.evaluate_flags(engine, truth).get("overall") or {}
        meta.update({f"eval_{k}": v for k, v in overall.items() if isinstance(v, (int, float))})
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    key=["mart", "quota_compliance"],
    group_name="audit",
    kinds={"postgres"},
    deps=[["mart", "anomaly_flag"], ["core", "employer_xref"], ["staging", "declaration"]],
    pool="warehouse",
)
def quota_compliance(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Quota compliance and levy per employer and year, declared vs verified."""
    import expectations

    with step("quota compliance and levy") as summary:
        out = expectations.build_quota_compliance(warehouse.engine()) or {}
        summary.update({k: v for k, v in out.items() if isinstance(v, int)})
    return dg.MaterializeResult(metadata={k: v for k, v in out.items() if isinstance(v, (int, float, str))})


def _reference_asset() -> dg.AssetsDefinition:
    import refdata

    specs = [dg.AssetSpec(["ref", name], group_name="reference", kinds={"postgres"},
                          description=f"refdata/data/{name}.csv as published to the warehouse")
             for name in refdata.table_names()]

    @dg.multi_asset(name="reference_tables", specs=specs, pool="warehouse", can_subset=False)
    def _publish(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        from warehouse.reference import publish_reference_tables

        with step("publish reference tables") as summary:
            counts = publish_reference_tables(warehouse.engine())
            summary["tables"] = len(counts)
        for spec in specs:
            yield dg.MaterializeResult(asset_key=spec.key, metadata={"rows": counts.get(spec.key.path[-1], 0)})

    return _publish


def all_assets() -> list:
    """Every asset of the pipeline."""
    return [
        *[_raw_asset(s) for s in active_sources()],
        staging_tables, persons, employers, anomaly_flag, quota_compliance, _reference_asset(),
    ]


def all_checks(assets: list) -> list:
    """Asset checks: delivery reconciliation per source, and every table's GE suite."""
    from orchestration.checks import suite_checks

    keys = [k for a in assets for k in a.keys]
    return [*[_reconciliation_check(s) for s in active_sources()], *suite_checks(keys)]
