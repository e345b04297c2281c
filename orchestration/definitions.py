"""The Dagster code location: every asset, check, job, schedule and sensor of QuotaLink."""

import os

import dagster as dg

from orchestration.assets import all_assets, all_checks
from orchestration.lockexec import locked
from orchestration.resources import WarehouseResource
from orchestration.sensors import build_schedules, build_sensors

ASSETS = all_assets()
CHECKS = all_checks(ASSETS)
# QUOTALINK_EXECUTOR selects how runs started by the daemon or the UI execute: unset, Dagster's
# default (multiprocess); multiprocess runs independent steps in parallel processes within the
# `warehouse` pool's limit (dagster.yaml); in_process runs them one after the other in one
# process. `quotalink run` always executes in process. Whichever executor, a run holds the
# warehouse run lock from before its first step to after its last (orchestration/lockexec.py).
EXECUTORS = {"multiprocess": dg.multiprocess_executor, "in_process": dg.in_process_executor}
EXECUTOR = os.environ.get("QUOTALINK_EXECUTOR") or None
if EXECUTOR is not None and EXECUTOR not in EXECUTORS:
    raise ValueError(f"QUOTALINK_EXECUTOR must be one of {sorted(EXECUTORS)}, got {EXECUTOR!r}")
pipeline_job = dg.define_asset_job(
    "pipeline", selection=dg.AssetSelection.all(),
    description="Every source, staging, entity resolution, audit",
    executor_def=locked(EXECUTORS[EXECUTOR] if EXECUTOR else dg.multi_or_in_process_executor))

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=CHECKS,
    jobs=[pipeline_job],
    schedules=build_schedules(),
    sensors=build_sensors(),
    resources={"warehouse": WarehouseResource()},
)
