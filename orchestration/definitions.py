"""The Dagster code location: every asset, check, job, schedule and sensor of QuotaLink."""

import dagster as dg

from orchestration.assets import all_assets, all_checks
from orchestration.resources import WarehouseResource
from orchestration.sensors import build_schedules, build_sensors

ASSETS = all_assets()
CHECKS = all_checks(ASSETS)
pipeline_job = dg.define_asset_job("pipeline", selection=dg.AssetSelection.all(),
                                   description="Every source, staging, entity resolution, audit")

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[pipeline_job],
    schedules=build_schedules(),
    sensors=build_sensors(),
    resources={"warehouse": WarehouseResource()},
)
