"""One run per warehouse: a session advisory lock held for the whole of `quotalink run`."""

import os
import sys
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

# 'QUOTALNK' as a bigint: the key of the warehouse-wide run lock (pg_advisory_lock).
RUN_LOCK_KEY = 0x51554F54414C4E4B


class WarehouseBusy(Exception):
    """Another run holds the warehouse's run lock (raised under --no-wait)."""


def holder(conn: Connection) -> str:
    """Who holds the run lock: application name, PID and start of the holding session."""
    row = conn.execute(sa.text(
        "select a.pid, a.application_name, a.backend_start, a.client_addr from pg_locks l "
        "join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' and l.granted "
        "and l.database = (select oid from pg_database where datname = current_database()) "
        "and ((l.classid::bigint << 32) | l.objid::bigint) = :k"), {"k": RUN_LOCK_KEY}).first()
    if row is None:
        return "another run"
    app = row.application_name or "a session"
    return f"{app} (server pid {row.pid}, since {row.backend_start:%Y-%m-%d %H:%M:%S})"


def acquire(engine: Engine, wait: bool = True, say: Callable[[str], None] | None = None,
            poll: float = 1.0) -> Connection:
    """A connection holding the warehouse's run lock until it is closed.

    Polls with pg_try_advisory_lock rather than blocking in the server, so that SIGTERM and
    Ctrl-C end a waiting run at once. Says once that it waits, and whom it waits for.
    """
    say = say or (lambda m: print(m, file=sys.stderr))
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        conn.execute(sa.text("select set_config('application_name', :a, false)"),
                     {"a": f"quotalink run (pid {os.getpid()})"})
        waited = False
        t0 = time.monotonic()
        while not conn.execute(sa.text("select pg_try_advisory_lock(:k)"), {"k": RUN_LOCK_KEY}).scalar():
            who = holder(conn)
            if not wait:
                raise WarehouseBusy(f"another run is writing this warehouse: {who}; "
                                    "not started (--no-wait)")
            if not waited:
                say(f"waiting for another run to finish on this warehouse: {who}")
                waited = True
            time.sleep(poll)
        if waited:
            say(f"warehouse free after {time.monotonic() - t0:.0f}s; starting")
        return conn
    except BaseException:
        conn.close()
        raise


def release(conn: Connection) -> None:
    """Give the run lock back (closing the session would too)."""
    try:
        conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": RUN_LOCK_KEY})
    except sa.exc.DBAPIError:
        # The session is gone (terminated, server restarted): so is the lock it held.
        print("quotalink run: the run lock's database session was cut during the run",
              file=sys.stderr)
    finally:
        conn.close()


class StopWatchdog:
    """Ends the process when a signal asked a run to stop and Dagster does not let it.

    Dagster captures SIGINT/SIGTERM during execution and acts on them only between steps;
    a step waiting on something outside Python would keep the process alive. After `grace`
    seconds, `on_stop` records the run as failed and the process exits with 128+signal.
    """

    def __init__(self, on_stop: Callable[[], None], grace: float = 15.0):
        self.on_stop, self.grace = on_stop, grace
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stop-watchdog", daemon=True)

    def __enter__(self) -> "StopWatchdog":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()

    def _watch(self) -> None:
        from dagster._utils.interrupts import check_captured_interrupt

        while not self._done.wait(0.2):
            if check_captured_interrupt():
                if self._done.wait(self.grace):
                    return
                print(f"quotalink run: stop requested, still running after {self.grace:.0f}s: "
                      "run marked failed, exiting", file=sys.stderr)
                try:
                    self.on_stop()
                finally:
                    os._exit(130)
