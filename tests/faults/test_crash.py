"""Hard crashes and concurrent runs: `quotalink run` in real processes, killed, cut off, doubled."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from orchestration import runlock
from quotalink.settings import get_settings
from tests.faults.conftest import clean_snapshot, copy_source, snapshot

ROOT = Path(__file__).resolve().parents[2]
WINDOW = ("delivery", "row_ref")  # HR windows are named by their time of pull


def _start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QUOTALINK_PROGRESS": "1", "COLUMNS": "200",
           "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "orchestration.cli", "run", "--only", "hr", *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _until(proc: subprocess.Popen, marker: str, timeout: float = 90) -> str:
    """Read the run's output up to the line containing marker."""
    seen = []
    deadline = time.monotonic() + timeout
    for line in proc.stdout:
        seen.append(line)
        if marker in line:
            return "".join(seen)
        assert time.monotonic() < deadline, "".join(seen)
    raise AssertionError(f"run ended before {marker!r}:\n" + "".join(seen))


def _finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=timeout)
    return proc.returncode, out


def test_kill_during_load_then_a_second_run_at_once(warehouse, sources_dir, province):
    copy_source(province, sources_dir, "hr")
    crashed = _start()
    _until(crashed, "load hr")
    crashed.send_signal(signal.SIGKILL)
    crashed.wait()
    with warehouse.connect() as conn:  # a window lands whole or not at all
        for t in ("hr_ab01", "hr_ac01", "hr_ac08"):
            n = conn.execute(sa.text(f"select count(*) from raw.{t}")).scalar()
            audited = conn.execute(sa.text("select coalesce(sum(rows_loaded), 0) from ops.load_audit "
                                           "where raw_table = :t"), {"t": t}).scalar()
            assert n == audited, t
    # The same var dir: the dead run is found, failed and its slot freed, naming it.
    rerun = _start()
    out = _until(rerun, "died without finishing")
    assert "marked failed and its warehouse slot released" in out
    # A second run on the same warehouse meanwhile neither interleaves nor waits under --no-wait.
    second = _start("--no-wait")
    code, out2 = _finish(second)
    assert code == 3 and "another run is writing this warehouse: quotalink run (pid" in out2
    code, out = _finish(rerun)
    assert code == 0, out
    recovered = snapshot(warehouse, "hr", WINDOW)
    assert recovered == clean_snapshot(warehouse, get_settings(), "hr", WINDOW)


def test_sigterm_then_kill_during_staging_then_rerun(warehouse, sources_dir, province):
    copy_source(province, sources_dir, "hr")
    stopped = _start()
    _until(stopped, "load hr")
    stopped.send_signal(signal.SIGTERM)
    code, out = _finish(stopped, timeout=60)
    assert code == 130 and "stopped by a signal during raw_hr" in out, out
    crashed = _start()
    _until(crashed, "stage hr")
    crashed.send_signal(signal.SIGKILL)
    crashed.wait()
    code, out = _finish(_start())
    assert code == 0 and "died without finishing" in out, out
    recovered = snapshot(warehouse, "hr", WINDOW)
    with warehouse.connect() as conn:  # each window staged once: no double count
        assert conn.execute(sa.text("select count(*) from ops.stage_audit where source = 'hr'")).scalar() \
            == conn.execute(sa.text("select count(*) from ops.load_audit where source = 'hr' "
                                    "and status = 'loaded' and rows_loaded > 0")).scalar()
    assert recovered == clean_snapshot(warehouse, get_settings(), "hr", WINDOW)


def test_connection_terminated_mid_load_rolls_back_the_window(warehouse, sources_dir, province):
    """The warehouse session is cut while the ac08 window is being written: that window
    rolls back whole, the windows before it stay, and a plain rerun completes it."""
    from connectors.registry import SOURCE_OBJECTS

    copy_source(province, sources_dir, "hr")
    settings = get_settings()
    errors: list[BaseException] = []
    with warehouse.connect() as blocker:
        trans = blocker.begin()
        blocker.execute(sa.text("lock table raw.hr_ac08 in access exclusive mode"))

        def load():
            try:
                SOURCE_OBJECTS["hr"].load(warehouse, settings)
            except BaseException as exc:  # noqa: BLE001 - the cut is what this test causes
                errors.append(exc)

        loader = threading.Thread(target=load)
        loader.start()
        deadline = time.monotonic() + 30
        victim = None
        while victim is None and time.monotonic() < deadline:
            # Activity is read once per transaction unless the snapshot is dropped.
            blocker.execute(sa.text("select pg_stat_clear_snapshot()"))
            victim = blocker.execute(sa.text(
                "select pid from pg_stat_activity where datname = current_database() "
                "and wait_event_type = 'Lock' and pid <> pg_backend_pid()")).scalar()
            time.sleep(0.05)
        assert victim is not None
        blocker.execute(sa.text("select pg_terminate_backend(:p)"), {"p": victim})
        trans.rollback()
    loader.join(30)
    assert errors and "terminat" in str(errors[0]).lower() + type(errors[0]).__name__.lower()
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from raw.hr_ac08")).scalar() == 0
        assert conn.execute(sa.text("select count(*) from ops.load_audit where raw_table = 'hr_ac08'")).scalar() == 0
        assert conn.execute(sa.text("select count(*) from raw.hr_ab01")).scalar() > 0
    SOURCE_OBJECTS["hr"].load(warehouse, settings)
    SOURCE_OBJECTS["hr"].stage(warehouse)
    recovered = snapshot(warehouse, "hr", WINDOW)
    assert recovered == clean_snapshot(warehouse, settings, "hr", WINDOW)


def test_second_run_waits_saying_for_whom(warehouse):
    held = runlock.acquire(warehouse)
    said: list[str] = []
    got: list = []
    waiter = threading.Thread(target=lambda: got.append(runlock.acquire(warehouse, say=said.append, poll=0.05)))
    waiter.start()
    time.sleep(0.3)
    assert not got and said and said[0].startswith("waiting for another run to finish on this warehouse")
    runlock.release(held)
    waiter.join(5)
    assert got and said[-1].startswith("warehouse free after")
    runlock.release(got[0])
