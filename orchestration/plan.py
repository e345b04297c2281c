"""What `quotalink run` launches after the loads: the steps whose inputs changed, and all after them."""

# A step skipped inside a Dagster run still costs its events in the event log (start,
# inputs, outputs, materialisations, success): on a rerun with nothing new that was most of
# the run. Every skippable step declares its fingerprint's inputs (incremental.STEPS); they
# are the landed deliveries, the overrides, the code and the day, never what another step
# wrote, so once the loads are done every step's fingerprint is known, and a step whose
# recorded fingerprint is today's would only replay. What the plan leaves out it replays
# here instead: the recorded outcomes of the checks it does not launch feed the run's data
# docs and its report, so both read as they would after a run of every step.

from dataclasses import dataclass, field

import dagster as dg
import sqlalchemy as sa

from orchestration import incremental


@dataclass
class Plan:
    """The assets and checks to launch, and the recorded results of the checks left out."""

    assets: set[dg.AssetKey] = field(default_factory=set)
    checks: set[dg.AssetCheckKey] = field(default_factory=set)
    nodes: set[str] = field(default_factory=set)
    replayed: dict[str, list[dict]] = field(default_factory=dict)  # node → recorded results
    unchanged: int = 0  # steps and checks not launched because their inputs did not change
    blocked: set[dg.AssetKey] = field(default_factory=set)  # not launched: downstream of a failed load

    def __bool__(self) -> bool:
        return bool(self.assets or self.checks)


def roots(assets) -> list:
    """The assets that read no other asset: the loads and the reference tables, run first."""
    keys = {k for a in assets for k in a.keys}
    return [a for a in assets if not any(dep in keys for deps in a.asset_deps.values() for dep in deps)]


def recorded(engine) -> dict[str, tuple[str, dict]]:
    """Every step's recorded (fingerprint, result). Read before the loads: a table's suite
    validated ahead while they run records its outcome, and the plan must still see that
    check as changed (so that it is launched and its evaluation is the run's)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select asset, fingerprint, result from ops.stage_fingerprint")).all()
    return {asset: (fp, result or {}) for asset, fp, result in rows}


def _failing(result: dict) -> bool:
    return any(not r.get("passed") for r in result.get("results") or [])


def plan(engine, settings, assets, checks, failed: set[dg.AssetKey],
         before: dict[str, tuple[str, dict]] | None = None) -> Plan:
    """The steps after the roots to launch: every step not declared skippable, every one
    whose fingerprint is not its recorded one, every check whose recorded outcome failed
    (it fails again, blocking what it blocks, and names itself in the run's report), and
    everything downstream of an asset launched; nothing downstream of `failed` (the
    assets of the loads that failed: what reads them is not materialised, as in one run).
    `before`: the records as `recorded` read them before the loads (default: now)."""
    first = {a.node_def.name for a in roots(assets)}
    children: dict[dg.AssetKey, set[dg.AssetKey]] = {}
    node_of: dict[dg.AssetKey, str] = {}
    for a in assets:
        for key, deps in a.asset_deps.items():
            node_of[key] = a.node_def.name
            for dep in deps:
                children.setdefault(dep, set()).add(key)
    keys_of = {a.node_def.name: set(a.keys) for a in assets}

    def downstream(start: set[dg.AssetKey]) -> set[dg.AssetKey]:
        seen, todo = set(start), list(start)
        while todo:
            for child in children.get(todo.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    todo.append(child)
        return seen

    blocked = downstream(failed)
    fps: dict[str, str] = {}
    needed: set[str] = set()
    replayed: dict[str, list[dict]] = {}
    records = recorded(engine) if before is None else before
    with engine.connect() as conn:

        def changed(node: str) -> tuple[bool, dict]:
            step = incremental.STEPS.get(node)
            if step is None or not incremental.enabled():
                return True, {}
            inputs = step.inputs(settings)
            memo = repr(sorted(inputs.items()))
            if memo not in fps:
                fps[memo] = incremental.fingerprint(conn, **inputs)
            fp, result = records.get(step.name, (None, {}))
            return fp != fps[memo], result

        for a in assets:
            node = a.node_def.name
            if node not in first and changed(node)[0]:
                needed.add(node)
        # A multi-asset runs whole: its every key, and what is downstream of each, runs too.
        keys: set[dg.AssetKey] = set()
        while True:
            nodes = {node_of[k] for k in downstream(keys | {k for n in needed for k in keys_of[n]})}
            nodes = {n for n in nodes if not keys_of[n] & blocked}
            grown = {k for n in nodes for k in keys_of[n]}
            if grown == keys:
                break
            keys, needed = grown, nodes
        needed = {node_of[k] for k in keys}
        chosen = Plan(assets=keys)
        for c in checks:
            node = c.node_def.name
            on = {k.asset_key for k in c.check_keys}
            if on & (blocked | failed):
                continue  # its asset was not materialised: the check is skipped, as in one run
            moved, result = changed(node)
            if moved or on & chosen.assets or _failing(result):
                chosen.checks |= set(c.check_keys)
                chosen.nodes.add(node)
            else:
                replayed[node] = result.get("results") or []
    chosen.nodes |= needed
    chosen.replayed = replayed
    chosen.blocked = blocked - failed
    chosen.unchanged = len(replayed) + sum(
        1 for a in assets if a.node_def.name not in first | needed and not set(a.keys) & blocked)
    return chosen
