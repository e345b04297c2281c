"""DAGSTER_HOME under var/ with the product's instance settings; dead runs found and released."""

import os
import shutil
import socket
from pathlib import Path

from quotalink.settings import Settings

# Tags `quotalink run` puts on its runs, so that the next start can tell a live run from one
# whose process died (kill -9, power loss, OOM) while holding the warehouse pool's slot.
PID_TAG = "quotalink/pid"
HOST_TAG = "quotalink/host"
START_TAG = "quotalink/process_started"


def ensure_dagster_home(settings: Settings) -> Path:
    """Point DAGSTER_HOME at var/dagster (unless set) and give it our dagster.yaml."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.var_dir / "dagster")))
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists():
        shutil.copyfile(Path(__file__).with_name("dagster.yaml"), target)
    return home


def _process_started(pid: int) -> str | None:
    import psutil

    try:
        return f"{psutil.Process(pid).create_time():.2f}"
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def run_tags() -> dict[str, str]:
    """Tags naming this process, for the run it is about to start."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname(),
            START_TAG: _process_started(os.getpid()) or ""}


def _alive(tags: dict[str, str]) -> bool:
    """Whether the process that started a run still runs (a reused PID does not count)."""
    if tags.get(HOST_TAG) != socket.gethostname():
        return True  # another machine's run: not ours to judge
    try:
        pid = int(tags[PID_TAG])
    except (KeyError, ValueError):
        return True
    started = _process_started(pid)
    return started is not None and (not tags.get(START_TAG) or started == tags[START_TAG])


UNTAGGED_SILENCE_S = 300
_LAUNCHED_TAGS = ("dagster/schedule_name", "dagster/sensor_name", "dagster/backfill")


def _untagged_and_silent(instance, run) -> bool:
    """A run from before runs named their process (or from elsewhere): dead when nothing
    launched it on a schedule or sensor and it has logged nothing for five minutes."""
    import time

    if any(t in run.tags for t in _LAUNCHED_TAGS):
        return False
    records = instance.get_records_for_run(run.run_id, limit=1, ascending=False).records
    last = records[0].timestamp if records else 0.0
    return time.time() - last > UNTAGGED_SILENCE_S


def release_dead_runs(instance) -> list[str]:
    """Mark failed every in-progress `quotalink run` whose process is gone, and free every
    concurrency slot held by a run that is no longer in progress; one message per run."""
    import dagster as dg

    messages: list[str] = []
    in_progress = instance.get_runs(filters=dg.RunsFilter(statuses=[
        dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.NOT_STARTED,
        dg.DagsterRunStatus.CANCELING]))
    for run in in_progress:
        if PID_TAG in run.tags:
            if _alive(run.tags):
                continue
            who = f"process {run.tags[PID_TAG]}"
        elif _untagged_and_silent(instance, run):
            who = "no process recorded, silent for over 5 minutes"
        else:
            continue
        msg = (f"run {run.run_id} ({who}) died without finishing; "
               "marked failed and its warehouse slot released")
        instance.report_run_failed(run, message=msg)
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        messages.append(msg)
    storage = instance.event_log_storage
    live = {r.run_id for r in instance.get_runs(filters=dg.RunsFilter(statuses=[
        dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.CANCELING]))}
    for key in storage.get_concurrency_keys():
        info = storage.get_concurrency_info(key)
        holders = {s.run_id for s in info.claimed_slots} | {s.run_id for s in info.pending_steps}
        for run_id in holders - live:
            storage.free_concurrency_slots_for_run(run_id)
            messages.append(f"concurrency pool {key}: slot of finished run {run_id} released")
    return messages
