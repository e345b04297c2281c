"""One run per warehouse: a session advisory lock held for the whole of every pipeline run."""

import os
import sys
import threading
import time
import weakref
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from quotalink.errors import QuotaLinkError

# 'QUOTALNK' as a bigint: the key of the warehouse-wide run lock (pg_advisory_lock).
RUN_LOCK_KEY = 0x51554F54414C4E4B


class WarehouseBusy(Exception):
    """Another run holds the warehouse's run lock (raised under --no-wait)."""


class LockLost(QuotaLinkError):
    """The session holding this run's lock is gone: another run could now interleave."""


# The lock sessions this thread of this process holds (a forked child inherits the list but
# not the right to use the parent's connections: hence the PID).
_local = threading.local()


def _held() -> list[Connection]:
    if getattr(_local, "pid", None) != os.getpid():
        _local.pid, _local.conns = os.getpid(), []
    return _local.conns


def held_here() -> Connection | None:
    """The run lock's session when this thread already holds the lock, else None."""
    conns = _held()
    return conns[-1] if conns else None


NOBODY = "another run"


def changed(who: str, waited: str | None) -> bool:
    """Whether a waiting run should say whom it waits for: first, and when someone else
    took the lock meanwhile (not for the instant between two holders)."""
    return waited is None or (who != waited and who != NOBODY)


def holder(conn: Connection) -> str:
    """Who holds the run lock: application name, PID and start of the holding session."""
    row = conn.execute(sa.text(
        "select a.pid, a.application_name, a.backend_start, a.client_addr from pg_locks l "
        "join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' and l.granted "
        "and l.database = (select oid from pg_database where datname = current_database()) "
        "and ((l.classid::bigint << 32) | l.objid::bigint) = :k"), {"k": RUN_LOCK_KEY}).first()
    if row is None:  # released between our try and this look
        return NOBODY
    app = row.application_name or "a session"
    return f"{app} (server pid {row.pid}, since {row.backend_start:%Y-%m-%d %H:%M:%S})"


def session(engine: Engine, label: str) -> Connection:
    """A connection of its own, named `label` in pg_stat_activity (that is what holder says)."""
    conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        conn.execute(sa.text("select set_config('application_name', :a, false)"), {"a": label[:63]})
    except BaseException:
        conn.close()
        raise
    return conn


def try_lock(conn: Connection) -> bool:
    """Take the run lock in this session if it is free; registered as held by this thread."""
    if not conn.execute(sa.text("select pg_try_advisory_lock(:k)"), {"k": RUN_LOCK_KEY}).scalar():
        return False
    _held().append(conn)
    return True


def acquire(engine: Engine, wait: bool = True, say: Callable[[str], None] | None = None,
            poll: float = 1.0, label: str | None = None) -> Connection:
    """A connection holding the warehouse's run lock until it is closed.

    Polls with pg_try_advisory_lock rather than blocking in the server, so that SIGTERM and
    Ctrl-C end a waiting run at once. Says once that it waits, and whom it waits for.
    """
    say = say or (lambda m: print(m, file=sys.stderr))
    conn = session(engine, label or f"quotalink run (pid {os.getpid()})")
    try:
        waited = None
        t0 = time.monotonic()
        while not try_lock(conn):
            who = holder(conn)
            if not wait:
                raise WarehouseBusy(f"another run is writing this warehouse: {who}; "
                                    "not started (--no-wait)")
            if changed(who, waited):
                say(f"{'still ' if waited else ''}waiting for another run to finish on this "
                    f"warehouse: {who}")
                waited = who
            time.sleep(poll)
        if waited:
            say(f"warehouse free after {time.monotonic() - t0:.0f}s; starting")
        return conn
    except BaseException:
        conn.close()
        raise


RELEASED = "the warehouse run lock was released while the run went on"


def _cut(exc: sa.exc.DBAPIError) -> str:
    lines = str(exc.orig or exc).strip().splitlines()
    return ("the warehouse run lock's database session was cut (terminated, or the server "
            f"restarted): {lines[0] if lines else type(exc.orig).__name__}")


# Why a session lost the lock, kept: once cut, the connection cannot be asked again.
_causes: "weakref.WeakKeyDictionary[Connection, str]" = weakref.WeakKeyDictionary()


def lost(conn: Connection) -> str | None:
    """Why this session no longer holds the run lock (its cause), or None while it does."""
    if conn in _causes:
        return _causes[conn]
    try:
        held = conn.execute(sa.text(
            "select exists (select from pg_locks where locktype = 'advisory' and granted "
            "and pid = pg_backend_pid() and ((classid::bigint << 32) | objid::bigint) = :k)"),
            {"k": RUN_LOCK_KEY}).scalar()
    except sa.exc.DBAPIError as exc:
        _causes[conn] = _cut(exc)
        return _causes[conn]
    if not held:
        _causes[conn] = RELEASED
    return _causes.get(conn)


def check_held() -> None:
    """Raise LockLost when a run lock this thread holds has been lost.

    Called as a step starts: in a run executing in the process that holds the lock
    (`quotalink run`, an in-process Dagster run), the next step fails naming the cause
    instead of writing unprotected. A process holding no lock (a multiprocess step) passes;
    there the executor checks (orchestration/lockexec.py).
    """
    for conn in _held():
        cause = lost(conn)
        if cause:
            raise LockLost(f"{cause}; another run could now interleave with this one, so the "
                           "run stops here; run it again")


def release(conn: Connection) -> str | None:
    """Give the run lock back (closing the session would too); the cause if it was lost."""
    conns = _held()
    if conn in conns:
        conns.remove(conn)
    try:
        if conn in _causes:
            return _causes[conn]
        unlocked = conn.execute(sa.text("select pg_advisory_unlock(:k)"), {"k": RUN_LOCK_KEY}).scalar()
        return None if unlocked else RELEASED
    except sa.exc.DBAPIError as exc:
        # The session is gone (terminated, server restarted): so is the lock it held.
        return _cut(exc)
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
