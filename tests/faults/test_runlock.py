"""The warehouse run lock holds every run: Dagster-launched and `quotalink run`, waiting, cut."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from orchestration import runlock
from orchestration.home import ensure_dagster_home
from quotalink.settings import get_settings
from tests.faults.conftest import audit, copy_source

ROOT = Path(__file__).resolve().parents[2]
DAGSTER = str(Path(sys.executable).with_name("dagster"))
WAITING = "waiting for another run to finish on this warehouse: "


class Proc:
    """A real process whose output is read as it comes (stdout and stderr together)."""

    def __init__(self, args: list[str], **env: str):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200", "PYTHONUNBUFFERED": "1", **env}
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, cwd=ROOT)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self._reader.start()

    @property
    def out(self) -> str:
        return "".join(self.lines)

    def wait_for(self, marker: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while marker not in self.out:
            assert self.proc.poll() is None or self._reader.is_alive(), \
                f"ended before {marker!r}:\n{self.out}"
            assert time.monotonic() < deadline, f"no {marker!r} after {timeout}s:\n{self.out}"
            time.sleep(0.1)
        return self.out

    def finish(self, timeout: float = 180) -> int:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self._reader.join(10)
            raise AssertionError(f"still running after {timeout}s:\n{self.out}") from None
        self._reader.join(10)
        return code


def dagster_run(executor: str) -> Proc:
    """The pipeline's hr steps run as the UI's run worker runs them: the job's own executor."""
    return Proc([DAGSTER, "job", "execute", "-m", "orchestration.definitions", "-a", "defs",
                 "-j", "pipeline", "-o", "raw_hr,stage_hr"], QUOTALINK_EXECUTOR=executor)


def cli_run() -> Proc:
    return Proc([sys.executable, "-m", "orchestration.cli", "run", "--only", "hr"], QUOTALINK_PROGRESS="1")


def steps(instance) -> dict[str, list]:
    """Per run: its step events (type, step, time), oldest first."""
    out = {}
    for run in instance.get_runs():
        out[run.run_id] = [(e.dagster_event.event_type_value, e.dagster_event.step_key, e.timestamp)
                           for e in instance.all_logs(run.run_id)
                           if e.dagster_event and e.dagster_event.step_key
                           and e.dagster_event.event_type_value.startswith("STEP_")]
    return out


@pytest.fixture
def hr(warehouse, sources_dir, province):
    """The hr source of the fault province, and a Dagster home the processes share."""
    copy_source(province, sources_dir, "hr")
    ensure_dagster_home(get_settings())
    return warehouse


def test_dagster_run_and_cli_run_wait_for_the_lock_then_never_interleave(hr):
    """A Dagster-launched run (in-process executor) and `quotalink run` wait while another
    session holds the lock, naming it, and once it is free run one after the other."""
    held = runlock.acquire(hr, label="fault-suite holder")
    try:
        dagster = dagster_run("in_process")
        cli = cli_run()
        dagster.wait_for(WAITING + "fault-suite holder (server pid")
        cli.wait_for(WAITING + "fault-suite holder (server pid")
        time.sleep(1)
        assert "STEP_START" not in dagster.out and audit(hr, "hr") == []
    finally:
        runlock.release(held)
    assert dagster.finish() == 0, dagster.out
    assert cli.finish() == 0, cli.out
    assert "warehouse free after" in dagster.out and "warehouse free after" in cli.out
    # Whichever started second said whom it then waited for: the first.
    assert "still waiting for another run to finish on this warehouse: dagster run" in cli.out \
        or "still waiting for another run to finish on this warehouse: quotalink run (pid" in dagster.out
    with dg.DagsterInstance.get() as instance:
        runs = steps(instance)
    assert len(runs) == 2 and all(runs.values())
    spans = sorted((min(t for *_, t in ev), max(t for *_, t in ev)) for ev in runs.values())
    assert spans[0][1] <= spans[1][0], spans  # the second run's first step after the first's last
    for ev in runs.values():  # both loaded and staged (the second finding nothing new)
        assert {("STEP_SUCCESS", "raw_hr"), ("STEP_SUCCESS", "stage_hr")} <= {(k, s) for k, s, _ in ev}
    rows = audit(hr, "hr")  # each window loaded once, staged once: nothing doubled
    assert len(rows) == 3 and all(r["status"] == "loaded" for r in rows)
    assert len({r["delivery"] for r in rows}) == 3
    with hr.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ops.stage_audit where source = 'hr'")).scalar() == 3


def _block_load(conn) -> None:
    """Wait until a session of the run is stuck on the table `conn` holds locked."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        conn.execute(sa.text("select pg_stat_clear_snapshot()"))
        if conn.execute(sa.text(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and wait_event_type = 'Lock' and pid <> pg_backend_pid()")).scalar():
            return
        time.sleep(0.1)
    raise AssertionError("the run never reached the locked table")


@pytest.mark.parametrize("launch", ["cli", "multiprocess"])
def test_lock_session_cut_mid_run_fails_the_run_at_the_next_step(hr, launch):
    """The lock's session is terminated while raw_hr writes: raw_hr completes (its windows
    are whole), and the run fails before stage_hr, naming the cause."""
    with hr.connect() as blocker:
        trans = blocker.begin()
        blocker.execute(sa.text("lock table raw.hr_ac08 in access exclusive mode"))
        run = cli_run() if launch == "cli" else dagster_run(launch)
        _block_load(blocker)
        [victim] = blocker.execute(sa.text(
            "select pid from pg_locks where locktype = 'advisory' and granted and database = "
            "(select oid from pg_database where datname = current_database()) "
            "and ((classid::bigint << 32) | objid::bigint) = :k"), {"k": runlock.RUN_LOCK_KEY}).scalars()
        blocker.execute(sa.text("select pg_terminate_backend(:p)"), {"p": victim})
        trans.rollback()
    code = run.finish(90)
    assert code != 0, run.out
    assert "the warehouse run lock's database session was cut (terminated, or the server " \
           "restarted)" in run.out, run.out
    rows = audit(hr, "hr")  # each window whole or absent
    assert all(r["status"] == "loaded" for r in rows)
    with hr.connect() as conn:  # and nothing was staged after the lock was gone
        assert conn.execute(sa.text("select count(*) from ops.stage_audit where source = 'hr'")).scalar() == 0
    with dg.DagsterInstance.get() as instance:
        [dagster_run_] = instance.get_runs()
        events = steps(instance)[dagster_run_.run_id]
        assert dagster_run_.status == dg.DagsterRunStatus.FAILURE
    done = {(k, s) for k, s, _ in events}
    assert ("STEP_SUCCESS", "stage_hr") not in done
    if launch == "cli":  # raw_hr ended whole; the next step failed as it asked for the warehouse
        assert len(rows) == 3 and ("STEP_SUCCESS", "raw_hr") in done
        assert "LockLost" in run.out and "so the run stops here; run it again" in run.out
    else:  # the executor started no other step (raw_hr, if still running, was stopped)
        assert ("STEP_START", "stage_hr") not in done
        assert "another run could now interleave with this one, so the run stops (noticed at " \
               "STEP_" in run.out, run.out
        # Noticed while raw_hr ran, its child is stopped; noticed once it ended, none is left.
        assert ("Multiprocess executor: interrupted all active child" in run.out
                or ("STEP_SUCCESS", "raw_hr") in done), run.out


def test_only_the_holding_thread_counts_and_a_cut_session_is_named(warehouse):
    """The lock a thread holds is its own (another thread does not reuse it); cut,
    the next check says so, and giving it back reports the cause."""
    assert runlock.held_here() is None
    held = runlock.acquire(warehouse, label="fault-suite holder")
    try:
        assert runlock.held_here() is held
        elsewhere: list = []
        thread = threading.Thread(target=lambda: elsewhere.append(runlock.held_here()))
        thread.start()
        thread.join()
        assert elsewhere == [None]
        runlock.check_held()  # held: passes
        with warehouse.connect() as admin:
            pid = held.execute(sa.text("select pg_backend_pid()")).scalar()
            admin.execute(sa.text("select pg_terminate_backend(:p)"), {"p": pid})
        with pytest.raises(runlock.LockLost, match=r"database session was cut .*run it again"):
            runlock.check_held()
    finally:
        cause = runlock.release(held)
    assert cause and cause.startswith("the warehouse run lock's database session was cut")
    assert runlock.held_here() is None
    runlock.check_held()  # nothing held any more: nothing to lose
