"""The delivery sensor asks for a run when a complete new file appears, and not again after."""

import dagster as dg

from connectors.disability_registry import SOURCE
from orchestration.definitions import defs
from orchestration.resources import WarehouseResource
from tests.helpers import drop
from tests.integration.test_registry_delivery import ROWS, csv_bytes


def evaluate():
    sensor = next(s for s in defs.sensors if s.name == "new_file_deliveries")
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance,
                                          resources={"warehouse": WarehouseResource()})
        return sensor.evaluate_tick(context)


def test_sensor_waits_for_marker_then_requests_once(warehouse, sources_dir):
    folder = sources_dir / "disability_registry"
    drop(folder, "cjrxx_202405.csv", csv_bytes(ROWS[:2]), marker=False)
    assert evaluate().run_requests == []
    (folder / "cjrxx_202405.csv.ok").touch()
    [request] = evaluate().run_requests
    assert request.run_key == "disability_registry/cjrxx_202405.csv"
    SOURCE.load(warehouse, sources_dir)
    assert evaluate().run_requests == []


def test_schedule_targets_the_pipeline():
    schedule = next(s for s in defs.schedules if s.name == "daily_api_and_db_pull")
    assert schedule.cron_schedule == "0 6 * * *" and schedule.job_name == "pipeline"
