"""Asset checks: each table's generated Great Expectations suite, blocking where it must be."""

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import dagster as dg

from orchestration import incremental
from orchestration.lineage import table_of
from orchestration.resources import WarehouseResource

_DESCRIPTIONS = {
    "suite_blocking": "Blocking checks of the generated suite (keys, not-null keys, xref "
                      "completeness, reconciliation)",
    "suite_quality": "Warning checks of the generated suite (types, code lists, ranges, "
                     "identifiers)",
}


def _raw_sources() -> dict[str, str]:
    from connectors.registry import raw_tables
    from quotalink.contracts import SOURCES

    return {f"raw.{t.table}": s for s in SOURCES for t in raw_tables(s)}


_RAW_SOURCE = _raw_sources()
_CHECKED: set[dg.AssetKey] = set()  # the asset keys that have suite checks


def _plan(key: dg.AssetKey) -> tuple[str, str | None, bool, list[str]]:
    """(table, source's part or None, whether this part checks the schema, check names)."""
    from connectors.registry import staging_writers
    from expectations.quality.suites import has_blocking_checks

    table, source = table_of(key)
    # A table's columns and types are the same for every source's part: its first checks them.
    schema_checks = source is None or staging_writers()[table][0] == source
    names = (["suite_blocking"] if has_blocking_checks(table) else []) + ["suite_quality"]
    return table, source, schema_checks, names


def _node(key: dg.AssetKey) -> str:
    """The op name of a table's suite checks."""
    return "suite_" + "__".join(key.path)


def _declare(key: dg.AssetKey) -> incremental.Step:
    """A table's suite step: its fingerprint is its source's deliveries (a raw or staging
    table) or every input and the day (what entity resolution and the audit steps write)."""
    table, source = table_of(key)
    scope = [source] if source else [_RAW_SOURCE[table]] if table in _RAW_SOURCE else None
    return incremental.declare(_node(key), "check " + key.to_user_string(), lambda settings: {
        "sources": scope, "overrides": scope is None, "day": scope is None})


def _outcome(engine, key: dg.AssetKey, run_id: str | None) -> tuple[bool, list[dict]]:
    """(whether the last outcome on the same inputs was replayed, the checks' results)."""
    import expectations
    from expectations.quality.suites import split_levels

    table, source, schema_checks, names = _plan(key)
    step = incremental.STEPS[_node(key)]
    step_name = step.name
    fp, done = step.last_result(engine, None)
    if done is not None:
        # The table is what it was when this suite last ran: its outcome stands.
        return True, done.get("results") or []
    outcome = expectations.validate_table(engine, table, source=source, schema_checks=schema_checks)
    levels = split_levels(outcome, table, schema_checks)
    results = [{"name": name, "level": level, "passed": bool(levels[level].passed),
                "metadata": levels[level].metadata}
               for name, level in (("suite_blocking", "blocking"), ("suite_quality", "warning"))
               if name in names]
    incremental.record(engine, step_name, fp, run_id, {"results": results})
    return False, results


# Validation ahead of the check steps (`quotalink run` only, see `start_early`): a table's
# suite runs in this thread as soon as the step writing it has finished, while the run goes
# on with the next steps (most are one PostgreSQL backend or one Python thread: the second
# core is free); the check step then takes the outcome. Only the step that writes a table
# (part) writes it, so the outcome is the one the check step would compute.
_early: dict[tuple[str, str], Future] = {}
_early_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
# "session": one `quotalink run` launches up to two Dagster runs (the loads, then what
# changed): an outcome validated ahead in the first is taken by the check step of the second.
EARLY: dict = {"enabled": False, "session": None}


def _slot(run_id: str | None, key: dg.AssetKey) -> tuple[str, str]:
    return (EARLY.get("session") or run_id, key.to_user_string())


def start_early(engine, keys, run_id: str | None) -> None:
    """Begin validating the tables of just-materialised assets, when enabled for this run."""
    global _pool
    if not EARLY["enabled"]:
        return
    with _early_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(1, thread_name_prefix="suite")
        for key in keys:
            key = dg.AssetKey(key) if not isinstance(key, dg.AssetKey) else key
            if key in _CHECKED and _slot(run_id, key) not in _early:
                _early[_slot(run_id, key)] = _pool.submit(_outcome, engine, key, run_id)


def _taken(key: dg.AssetKey, run_id: str | None) -> tuple[bool, list[dict] | None]:
    """The outcome validated ahead for this run, waited for; (False, None) when there is none."""
    with _early_lock:
        future = _early.pop(_slot(run_id, key), None)
    if future is None:
        return False, None
    return future.result()


def stop_early() -> None:
    """Forget outcomes nobody took and stop the thread (after a run)."""
    global _pool
    with _early_lock:
        pool, _pool = _pool, None
        for future in _early.values():
            future.cancel()
        _early.clear()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _suite_checks(key: dg.AssetKey) -> dg.AssetChecksDefinition:
    """The blocking and the warning check of one table asset, from one validation pass."""
    _, source, _, names = _plan(key)
    _declare(key)
    rows = f" ({source}'s rows)" if source else ""
    specs = [dg.AssetCheckSpec(name, asset=key, blocking=name == "suite_blocking",
                               description=_DESCRIPTIONS[name] + rows) for name in names]

    @dg.multi_asset_check(specs=specs, name=_node(key), can_subset=False)
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource):
        engine = warehouse.engine()
        done, results = _taken(key, context.op_execution_context.run_id)
        if results is None:
            done, results = _outcome(engine, key, context.op_execution_context.run_id)
        for r in results:
            # The whole outcome travels in the result: the run's data-docs page is written
            # from these events instead of validating every table a second time.
            meta = {k: v for k, v in r["metadata"].items()
                    if k not in ("failures", "blocking_failed")}
            meta["failures"] = dg.MetadataValue.json(r["metadata"]["failures"])
            meta["blocking_failed"] = dg.MetadataValue.json(r["metadata"]["blocking_failed"])
            if done:
                meta["skipped"] = True
            yield dg.AssetCheckResult(
                asset_key=key, check_name=r["name"], passed=r["passed"], metadata=meta,
                severity=dg.AssetCheckSeverity.ERROR if r["level"] == "blocking"
                else dg.AssetCheckSeverity.WARN)

    return _check


def suite_checks(asset_keys: list[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """Two checks per table asset (or source's part of a table): blocking and warning."""
    from warehouse.schema import metadata

    checks = []
    for key in asset_keys:
        table, _ = table_of(key)
        if table in metadata.tables:
            checks.append(_suite_checks(key))
            _CHECKED.add(key)
    return checks


def _plain(value):
    """A Dagster metadata value as plain Python."""
    return getattr(value, "value", value)


def evaluations(events) -> list[tuple[bool, dict]]:
    """(passed, plain metadata) of every check evaluation among a run's events."""
    out = []
    for e in events:
        if e.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = e.event_specific_data
            out.append((bool(ev.passed), {k: _plain(v) for k, v in (ev.metadata or {}).items()}))
    return out


def recorded_evaluations(results: list[dict]) -> list[tuple[bool, dict]]:
    """(passed, plain metadata) of a check step's recorded results, as its skipped run
    would have yielded them."""
    return [(bool(r["passed"]), {**r["metadata"], "skipped": True}) for r in results]


def outcomes_by_table(evaluated) -> dict:
    """Each validated table's outcome, from the check evaluations (`evaluations`: both
    levels, and every source's part of a shared table, merged)."""
    from expectations.quality.suites import CheckOutcome, merge_outcomes, merge_sources

    parts: dict[str, dict[str | None, list]] = {}
    for passed, meta in evaluated:
        if "table" not in meta:  # not a suite check (e.g. deliveries_reconcile)
            continue
        failures = meta.get("failures") or {}
        outcome = CheckOutcome(
            passed=passed,
            blocking=any(f.get("blocking") for f in failures.values()),
            metadata={**meta, "failures": failures})
        parts.setdefault(meta["table"], {}).setdefault(meta.get("source"), []).append(outcome)
    return {table: merge_sources({s: merge_outcomes(o) for s, o in by_source.items()})
            for table, by_source in parts.items()}


# Tables no asset check validates: the ones outside the run's steps (written by the auditors'
# console and the run's own bookkeeping) are fingerprinted by their content; the rest (entity
# resolution's side tables) by the inputs and the recorded runs of the steps that write them.
_CONTENT = ("ops.", "review.", "core.link_override")
DOCS_STEP = "data docs"


def _content_fingerprint(conn, table: str) -> str:
    import sqlalchemy as sa

    schema, _, name = table.partition(".")
    where = ""
    if table == "ops.stage_fingerprint":
        # This step's own row: present from before this table is validated on, its values
        # never null; only its presence counts (its values change with every page).
        where = f" where t.asset <> '{DOCS_STEP}'"
    n, digest = conn.execute(sa.text(
        f'select (select count(*) from {schema}."{name}"), '
        f"md5(coalesce(string_agg(md5(t::text), ',' order by md5(t::text)), '')) "
        f'from {schema}."{name}" t{where}')).one()
    return f"{n} {digest}"


def _outcome_json(o) -> dict:
    return {"passed": o.passed, "blocking": o.blocking, "metadata": o.metadata}


def _shown(o) -> list:
    """What the page shows of an outcome."""
    return [o.passed, o.blocking, o.metadata.get("rows"), o.metadata.get("checks"),
            o.metadata.get("failures")]


def build_docs(engine, out_dir, evaluated, run_id: str | None, summary: dict | None = None):
    """The run's data-docs page: the asset checks' outcomes (`evaluations`) and every
    other table's, validated only when its fingerprint changed; the page is written again
    only when an outcome changed (or the page is not there as it was written)."""
    import hashlib
    import json
    from pathlib import Path

    import sqlalchemy as sa

    import expectations
    from expectations.quality.suites import (
        CheckOutcome,
        docs_tables,
        passing_outcome,
        schema_signature,
    )

    index = Path(out_dir) / "index.html"
    known = outcomes_by_table(evaluated)
    names = docs_tables()
    with engine.connect() as conn:
        base = incremental.fingerprint(conn, overrides=True, day=True, after_steps=True)
        row = conn.execute(sa.text(
            "select result from ops.stage_fingerprint where asset = :a"), {"a": DOCS_STEP}).first()
    last = (row[0] or {}) if row is not None and incremental.enabled() else {}
    last_tables = last.get("tables") or {}
    if row is None:
        # Present before ops.stage_fingerprint is validated: its row count stays the same.
        incremental.record(engine, DOCS_STEP, "", run_id, {})
    tables: dict[str, dict] = {}
    outcomes = {}
    validated: list[str] = []
    for t in [t for t in names if t not in known]:
        with engine.connect() as conn:
            fp = (_content_fingerprint(conn, t) if t.startswith(_CONTENT) else base)
        fp = hashlib.sha256(f"{incremental.code_version()}\n{t}\n{fp}".encode()).hexdigest()
        prev = last_tables.get(t)
        schema = None
        if prev is not None and prev["fp"] == fp:
            o, schema = CheckOutcome(**prev["outcome"]), prev.get("schema")
        else:
            o = None
            schema = schema_signature(engine, t)
            if (prev is not None and prev["outcome"]["passed"] and schema is not None
                    and prev.get("schema") == schema
                    and prev.get("code") == incremental.code_version()):
                # Same code, same columns and types as when every check last passed: the
                # columns and types checks pass again; the row checks are counted in SQL.
                o = passing_outcome(engine, t)
            if o is None:
                o = expectations.validate_table(engine, t)
            validated.append(t)
        outcomes[t] = o
        tables[t] = {"fp": fp, "outcome": _outcome_json(o), "schema": schema,
                     "code": incremental.code_version()}
    outcomes.update({t: known[t] for t in names if t in known})
    page = hashlib.sha256(json.dumps(
        [incremental.code_version()] + [[t, _shown(outcomes[t])] for t in names],
        sort_keys=True, default=str).encode()).hexdigest()
    written = index.is_file() and hashlib.sha256(index.read_bytes()).hexdigest()
    fresh = not (last.get("page") == page and written and written == last.get("page_sha"))
    if fresh:
        expectations.build_data_docs(engine, out_dir, names, known=outcomes)
        written = hashlib.sha256(index.read_bytes()).hexdigest()
    result = json.loads(json.dumps({"page": page, "page_sha": written, "tables": tables},
                                   default=str))
    if result != last:
        incremental.record(engine, DOCS_STEP, page, run_id, result)
    if summary is not None:
        summary["validated"] = len(validated)
        summary["page"] = "written" if fresh else "unchanged"
    return index
