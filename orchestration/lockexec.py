"""Every pipeline run holds the warehouse run lock: an executor wrapping Dagster's own."""

# A run started from the UI, by the sensor or by the schedule executes in a run worker
# process (`dagster api execute_run`) whose executor orchestrates the steps, in process or in
# child processes. Wrapping that executor puts the lock where the whole run is orchestrated:
# taken before the first step, checked at every step boundary, given back after the last.
# `quotalink run` does not come through here: `execute_in_process` replaces the job's
# executor, and the command holds the lock itself (orchestration/cli.py).

import os
import time
from collections.abc import Iterator

import dagster as dg
from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData
from dagster._core.executor.in_process import InProcessExecutor
from dagster._utils.interrupts import check_captured_interrupt

from orchestration import runlock
from orchestration.home import run_tags

# Step boundaries: where a lost lock is looked for, so that no further step starts without it.
ENDED = frozenset({
    DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED, DagsterEventType.STEP_UP_FOR_RETRY,
})
BOUNDARIES = frozenset({
    DagsterEventType.STEP_START, DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE,
    DagsterEventType.STEP_SKIPPED, DagsterEventType.STEP_UP_FOR_RETRY,
})
STILL_WAITING_S = 60.0


class LockedExecutor(dg.Executor):
    """Runs `inner` while holding the warehouse run lock in this (the orchestrating) process."""

    def __init__(self, inner: dg.Executor, poll: float = 1.0):
        self.inner, self.poll = inner, poll

    @property
    def retries(self):
        return self.inner.retries

    @property
    def step_dependency_config(self):
        return self.inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator[DagsterEvent]:
        # Name this process on the run, so that `quotalink run` can tell a waiting run from
        # one whose worker died (orchestration/home.py).
        plan_context.instance.add_run_tags(plan_context.run_id, run_tags())
        # A thread that holds the lock already (an in-process run started while holding it)
        # keeps it: a second session of the same process would wait for itself forever.
        # Only a session of this very process counts, so no tag or setting can skip the lock.
        conn = runlock.held_here()
        own = conn is None
        if own:
            conn = yield from self._acquire(plan_context)
        else:
            yield _note(plan_context, "this process already holds the warehouse run lock")
        reported = False
        try:
            yield from self._guarded(plan_context, execution_plan, conn)
        except runlock.LockLost:
            reported = True
            # Whatever the stopped run still has claimed in the `warehouse` pool is given back:
            # the next run would otherwise wait for it forever.
            plan_context.instance.event_log_storage.free_concurrency_slots_for_run(plan_context.run_id)
            raise
        finally:
            if own:
                cause = runlock.release(conn)
                if cause and not reported:  # lost after the last step's boundary
                    plan_context.log.error(f"{cause}; another run could have interleaved with "
                                           "this one's last step")

    def _acquire(self, plan_context) -> Iterator[DagsterEvent]:
        from quotalink.settings import load_settings
        from warehouse.db import get_engine

        label = f"dagster run {plan_context.run_id[:8]} (pid {os.getpid()})"
        conn = runlock.session(get_engine(load_settings()), label)
        try:
            t0 = last = time.monotonic()
            waited = None
            while not runlock.try_lock(conn):
                now, who = time.monotonic(), runlock.holder(conn)
                # Once, again when another run got the lock first, and every minute (which
                # also keeps a long wait from looking like a silent, dead run).
                if runlock.changed(who, waited) or now - last >= STILL_WAITING_S:
                    yield _note(plan_context, f"{'still ' if waited else ''}waiting for another "
                                f"run to finish on this warehouse: {who}")
                    waited, last = who, now
                if check_captured_interrupt():
                    from dagster._core.errors import DagsterExecutionInterruptedError

                    raise DagsterExecutionInterruptedError("stopped while waiting for the warehouse run lock")
                time.sleep(self.poll)
            yield _note(plan_context, f"warehouse free after {time.monotonic() - t0:.0f}s; starting"
                        if waited else f"holding the warehouse run lock ({label})")
        except BaseException:
            conn.close()
            raise
        return conn

    def _guarded(self, plan_context, execution_plan, conn) -> Iterator[DagsterEvent]:
        """The inner executor's events; once a step boundary finds the lock lost, no step
        runs any more and the run fails with LockLost naming the cause."""
        inner = self.inner.execute(plan_context, execution_plan)
        stopping: runlock.LockLost | None = None
        running: set[str] = set()
        try:
            event = next(inner)
            while True:
                yield event
                if event.event_type in (DagsterEventType.STEP_WORKER_STARTING,
                                        DagsterEventType.STEP_START):
                    running.add(event.step_key)
                elif event.event_type in ENDED:
                    running.discard(event.step_key)
                cause = None
                if stopping is None and event.event_type in BOUNDARIES:
                    cause = runlock.lost(conn)
                if not cause:
                    event = next(inner)
                    continue
                stopping = runlock.LockLost(
                    f"{cause}; another run could now interleave with this one, so the run stops "
                    f"(noticed at {event.event_type_value} of {event.step_key}); run it again")
                yield _note(plan_context, str(stopping))
                if not running:
                    # No step under way: nothing to stop or wait for; the run ends here.
                    inner.close()
                    raise stopping
                if not isinstance(self.inner, InProcessExecutor):
                    # Steps run in child processes: Dagster's own termination forwards the stop
                    # to them and reads their last events before it ends (thrown into, the
                    # executor would leave them writing into queues no one reads).
                    _request_stop()
                # In process, the steps run in this thread, which registered the lock: each
                # one left fails as it asks for the warehouse (WarehouseResource.engine).
                event = next(inner)
        except StopIteration:
            pass
        except GeneratorExit:
            raise
        except BaseException as exc:
            # The stop we asked for ends the inner executor as an interruption: it was the
            # lost lock, and the run fails as such, not as one cancelled by hand.
            if stopping is not None and exc is not stopping:
                raise stopping from exc
            raise
        if stopping is not None:
            raise stopping


def _request_stop() -> None:
    """What Dagster's captured SIGINT does: the executor stops at its next check (1.13.27)."""
    from dagster._utils import interrupts

    interrupts._received_interrupt["received"] = True  # noqa: SLF001 - no public way to ask


def _note(plan_context, message: str) -> DagsterEvent:
    return DagsterEvent.engine_event(plan_context, message, EngineEventData())


def locked(inner: dg.ExecutorDefinition) -> dg.ExecutorDefinition:
    """`inner`, with the same configuration, holding the warehouse run lock for every run."""

    def _create(init_context) -> LockedExecutor:
        return LockedExecutor(inner.executor_creation_fn(init_context))

    return dg.ExecutorDefinition(
        name=inner.name, config_schema=inner.config_schema, requirements=inner.get_requirements,
        executor_creation_fn=_create,
        description=f"{inner.description or inner.name}, holding the warehouse run lock")
