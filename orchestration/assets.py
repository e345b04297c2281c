"""Assets: one per warehouse table (per source where several stage it), deps derived."""

# Each raw table's contract declares the staging tables it feeds (RawTable.stages), each audit
# rule the tables it reads (rules.csv), entity resolution its reads (entity_resolution.READS):
# the dependencies below come from those declarations, never from a list kept here.

import datetime as dt
from typing import Any

import dagster as dg
import sqlalchemy as sa

from connectors.registry import SOURCE_OBJECTS, raw_tables
from orchestration import incremental
from orchestration.checks import start_early
from orchestration.lineage import keys_read, staging_specs, table_of
from orchestration.progress import replay, skipped, step
from orchestration.resources import WarehouseResource
from quotalink.contracts import SOURCES


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
        start_early(engine, [spec.key for spec in specs], context.run_id)
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

    _load.__doc__ = f"Land new {source} deliveries in raw (delivery ledger, quarantine)."
    return _load


def _recorded(check: dg.AssetChecksDefinition, source: str, level: str):
    """Declare a ledger check as a step whose inputs are its source's deliveries; the
    returned function records its outcome (always computed: it is one query), so that
    `quotalink run` need not launch it again before the ledger changes."""
    (key,) = check.check_keys
    step = incremental.declare(check.node_def.name, f"check {key.asset_key.to_user_string()} {key.name}",
                               lambda settings: {"sources": [source], "overrides": False})

    def record(engine, fp: str, run_id: str, result: dg.AssetCheckResult) -> dg.AssetCheckResult:
        meta = {k: getattr(v, "value", v) for k, v in result.metadata.items()}
        incremental.record(engine, step.name, fp, run_id, {"results": [
            {"name": key.name, "level": level, "passed": result.passed, "metadata": meta}]})
        return result

    return step, record


def _reconciliation_check(source: str) -> dg.AssetChecksDefinition:
    table = raw_tables(source)[0]

    @dg.asset_check(asset=dg.AssetKey(["raw", table.table]), name="deliveries_reconcile", blocking=True,
                    description="rows_read = rows_loaded + rows_quarantined for every delivery")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        engine = warehouse.engine()
        fp, _ = step.last_result(engine, None)
        with engine.connect() as conn:
            bad = conn.execute(
                sa.text(
                    "select delivery from ops.load_audit where source = :s "
                    "and rows_read <> rows_loaded + rows_quarantined"
                ),
                {"s": source},
            ).scalars().all()
            n = conn.execute(sa.text("select count(*) from ops.load_audit where source = :s"), {"s": source}).scalar()
        return record(engine, fp, context.op_execution_context.run_id, dg.AssetCheckResult(
            passed=not bad, metadata={"deliveries": n, "unreconciled": ", ".join(bad[:10])}))

    step, record = _recorded(_check, source, "blocking")
    return _check


def _contract_columns_check(spec) -> dg.AssetChecksDefinition:
    """Warns when a delivery lacked an optional contract column (loaded as empty)."""

    @dg.asset_check(asset=dg.AssetKey(["raw", spec.table]), name="contract_columns", blocking=False,
                    description="every delivery carried every contract column (a missing optional "
                                "column loads as empty: a warning, not a rejection)")
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        engine = warehouse.engine()
        fp, _ = step.last_result(engine, None)
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "select delivery, quality->'missing_columns' from ops.load_audit where raw_table = :t "
                "and status = 'loaded' and quality ? 'missing_columns' order by load_id"),
                {"t": spec.table}).all()
        missing = "; ".join(f"{d}: {', '.join(cols)}" for d, cols in rows[:10])
        return record(engine, fp, context.op_execution_context.run_id, dg.AssetCheckResult(
            passed=not rows, severity=dg.AssetCheckSeverity.WARN,
            metadata={"deliveries_missing_columns": len(rows), "missing": missing}))

    step, record = _recorded(_check, spec.source, "warning")
    return _check


def _staging_asset(source: str) -> dg.AssetsDefinition:
    """One staging asset per source: a failed source blocks only what reads its tables."""
    specs = staging_specs(source)
    inputs = incremental.declare(f"stage_{source}", f"stage {source}",
                                 lambda settings: {"sources": [source], "overrides": False})

    @dg.multi_asset(name=f"stage_{source}", specs=specs, pool="warehouse", can_subset=False)
    def _stage(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        engine = warehouse.engine()
        fp, done = inputs.last_result(engine, warehouse.settings())
        if done is not None:
            start_early(engine, [spec.key for spec in specs], context.run_id)
            yield from replay(context, specs, done, f"stage {source}")
            return
        staged: dict[str, int] = {}
        with step(f"stage {source}") as summary:
            report = SOURCE_OBJECTS[source].stage(engine)
            summary["deliveries"] = len(report)
            for delivery in report.values():
                for table, n in delivery.staged.items():
                    staged[table] = staged.get(table, 0) + n
        meta: dict[str, dict] = {}
        with engine.connect() as conn:
            for spec in specs:
                table, part = table_of(spec.key)
                sql = f"select count(*) from {table}" + (" where source = :s" if part else "")
                rows = conn.execute(sa.text(sql), {"s": source}).scalar()
                meta[spec.key.to_user_string()] = {"rows": rows, "rows_staged_this_run": staged.get(table, 0)}
        incremental.record(engine, f"stage {source}", fp, context.run_id, meta)
        start_early(engine, [spec.key for spec in specs], context.run_id)
        for spec in specs:
            yield dg.MaterializeResult(asset_key=spec.key, metadata=meta[spec.key.to_user_string()])

    _stage.__doc__ = f"Typed, canonical staging rows from every landed, not yet staged {source} delivery."
    return _stage


def _resolution_asset(kind: str, produced: set[dg.AssetKey]) -> dg.AssetsDefinition:
    """Golden records and crosswalk of one entity kind, with the run's ER figures attached."""
    import entity_resolution

    golden, xref = ["core", kind], ["core", f"{kind}_xref"]
    deps = keys_read(entity_resolution.READS[kind], produced)
    inputs = incremental.declare(f"{kind}s", f"resolve {kind}s",
                                 lambda settings: {"extra": f"er {settings.er_engine}"})

    @dg.multi_asset(
        name=f"{kind}s",
        specs=[
            dg.AssetSpec(golden, group_name="entity_resolution", kinds={"postgres", "splink"},
                         deps=deps),
            dg.AssetSpec(xref, group_name="entity_resolution", kinds={"postgres"}, deps=deps),
        ],
        pool="warehouse",
        can_subset=False,
    )
    def _resolve(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        import entity_resolution

        engine, settings = warehouse.engine(), warehouse.settings()
        fp, done = inputs.last_result(engine, settings)
        if done is not None:
            start_early(engine, [golden, xref], context.run_id)
            yield from replay(context, [dg.AssetSpec(golden), dg.AssetSpec(xref)], done, f"resolve {kind}s")
            return
        resolve = getattr(entity_resolution, f"resolve_{kind}s")
        with step(f"resolve {kind}s") as summary:
            metrics = resolve(engine, er_engine=settings.er_engine, var_dir=settings.var_dir,
                              run_id=context.run_id) or {}
            summary.update({k: v for k, v in metrics.items() if k in (f"{kind}s", "mentions")})
        meta = {k: v for k, v in metrics.items() if isinstance(v, (int, float, str))}
        meta.update(_evaluation(engine, settings, kind))
        keys = [dg.AssetKey(golden).to_user_string(), dg.AssetKey(xref).to_user_string()]
        incremental.record(engine, f"resolve {kind}s", fp, context.run_id, dict.fromkeys(keys, meta))
        start_early(engine, [golden, xref], context.run_id)
        yield dg.MaterializeResult(asset_key=golden, metadata=meta)
        yield dg.MaterializeResult(asset_key=xref, metadata=meta)

    _resolve.__doc__ = f"Golden {kind}s and the crosswalk of every {kind} mention (Splink, stable IDs)."
    return _resolve


def _evaluation(engine, settings, kind: str) -> dict:
    """Pairwise precision/recall/F1 against ground truth, when a synthetic truth is present."""
    if not (settings.truth_dir / f"{kind}_mentions.csv").exists():
        return {}
    import entity_resolution

    scores = entity_resolution.evaluate(engine, settings.truth_dir,
                                        var_dir=settings.var_dir).get(kind) or {}
    return {f"eval_{k}": v for k, v in scores.items() if isinstance(v, (int, float))}


def _anomaly_flag_asset(produced: set[dg.AssetKey]) -> dg.AssetsDefinition:
    from expectations.rules.config import rules_read

    inputs = incremental.declare("mart__anomaly_flag", "audit rules", lambda settings: {"day": True})

    @dg.asset(key=["mart", "anomaly_flag"], group_name="audit", kinds={"postgres"},
              deps=keys_read(rules_read(), produced), pool="warehouse")
    def anomaly_flag(context: dg.AssetExecutionContext,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
        """Findings of fake or ineligible quota employment, with evidence (upserted, never deleted)."""
        import expectations

        engine, settings = warehouse.engine(), warehouse.settings()
        fp, done = inputs.last_result(engine, settings)
        if done is not None:
            skipped(context, "audit rules")
            start_early(engine, [["mart", "anomaly_flag"]], context.run_id)
            return dg.MaterializeResult(metadata={**done.get("mart/anomaly_flag", {}), "skipped": True})
        with step("audit rules") as summary:
            run = expectations.run_rules(engine, dt.datetime.now(dt.UTC), run_id=context.run_id)
            summary["flags"] = run.total
        meta: dict[str, Any] = {**run.findings, "deactivated": run.deactivated}
        if (settings.truth_dir / "fraud_cases.csv").exists():
            overall = expectations.evaluate_flags(engine, settings.truth_dir).get("overall") or {}
            meta.update({f"eval_{k}": v for k, v in overall.items() if isinstance(v, (int, float))})
        incremental.record(engine, "audit rules", fp, context.run_id, {"mart/anomaly_flag": meta})
        start_early(engine, [["mart", "anomaly_flag"]], context.run_id)
        return dg.MaterializeResult(metadata=meta)

    return anomaly_flag


def _quota_compliance_asset(produced: set[dg.AssetKey]) -> dg.AssetsDefinition:
    from expectations.rules.config import COMPLIANCE_READS

    inputs = incremental.declare("mart__quota_compliance", "quota compliance",
                                 lambda settings: {"day": True})

    @dg.asset(key=["mart", "quota_compliance"], group_name="audit", kinds={"postgres"},
              deps=keys_read(COMPLIANCE_READS, produced), pool="warehouse")
    def quota_compliance(context: dg.AssetExecutionContext,
                         warehouse: WarehouseResource) -> dg.MaterializeResult:
        """Quota compliance and levy per employer and year, declared vs verified."""
        import expectations

        engine = warehouse.engine()
        fp, done = inputs.last_result(engine, warehouse.settings())
        if done is not None:
            skipped(context, "quota compliance and levy")
            start_early(engine, [["mart", "quota_compliance"]], context.run_id)
            return dg.MaterializeResult(metadata={**done.get("mart/quota_compliance", {}), "skipped": True})
        with step("quota compliance and levy") as summary:
            out = expectations.build_quota_compliance(engine) or {}
            summary.update({k: v for k, v in out.items() if isinstance(v, int)})
        meta = {k: v for k, v in out.items() if isinstance(v, (int, float, str))}
        incremental.record(engine, "quota compliance", fp, context.run_id, {"mart/quota_compliance": meta})
        start_early(engine, [["mart", "quota_compliance"]], context.run_id)
        return dg.MaterializeResult(metadata=meta)

    return quota_compliance


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
    """Every asset of the pipeline, each step's dependencies derived from what it reads."""
    from orchestration.report_assets import report_assets

    assets: list = [*[_raw_asset(s) for s in active_sources()],
                    *[_staging_asset(s) for s in active_sources()], _reference_asset()]

    def produced() -> set[dg.AssetKey]:
        return {k for a in assets for k in a.keys}

    # One after the other: employer resolution reads the golden persons (context rules).
    assets.append(_resolution_asset("person", produced()))
    assets.append(_resolution_asset("employer", produced()))
    assets.append(_anomaly_flag_asset(produced()))
    assets.append(_quota_compliance_asset(produced()))
    assets += report_assets(produced())
    return assets


def all_checks(assets: list) -> list:
    """Asset checks: delivery reconciliation per source, and every table's GE suite."""
    from orchestration.checks import suite_checks

    keys = [k for a in assets for k in a.keys]
    from quotalink.contracts import FILE_SOURCES

    return [*[_reconciliation_check(s) for s in active_sources()],
            *[_contract_columns_check(t) for t in FILE_SOURCES if t.source in active_sources()],
            *suite_checks(keys)]
