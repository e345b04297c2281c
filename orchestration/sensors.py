"""Sensors and schedules: run when a complete file delivery appears; pull API and DB daily."""

import dagster as dg
import sqlalchemy as sa

from connectors.base import discover
from orchestration.assets import active_sources
from orchestration.resources import WarehouseResource
from quotalink.contracts import FILE_SOURCES


def pending_file_deliveries(warehouse: WarehouseResource) -> list[str]:
    """Complete file deliveries (marker present) not yet in ops.load_audit."""
    settings = warehouse.settings()
    if not settings.sources_dir.is_dir():
        return []
    engine = warehouse.engine()
    with engine.connect() as conn:
        known = {
            (s, d) for s, d in conn.execute(sa.text("select source, delivery from ops.load_audit"))
        }
    out = []
    for spec in FILE_SOURCES:
        if spec.source not in active_sources():
            continue
        for d in discover(settings.sources_dir, spec):
            if (d.source, d.name) not in known:
                out.append(f"{d.source}/{d.name}")
    return sorted(out)


def build_sensors() -> list:
    """A sensor starting the pipeline when new complete deliveries stand in SOURCES_DIR."""

    @dg.sensor(job_name="pipeline", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
    def new_file_deliveries(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
        pending = pending_file_deliveries(warehouse)
        if not pending:
            return dg.SkipReason("no new complete delivery")
        return dg.RunRequest(run_key="|".join(pending), tags={"deliveries": ",".join(pending)[:1000]})

    return [new_file_deliveries]


def build_schedules() -> list:
    """Daily pull of the quota API and the HR database (they have no markers)."""
    return [
        dg.ScheduleDefinition(
            name="daily_api_and_db_pull",
            job_name="pipeline",
            cron_schedule="0 6 * * *",
            execution_timezone="Asia/Shanghai",
            default_status=dg.DefaultScheduleStatus.STOPPED,
        )
    ]
