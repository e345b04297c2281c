"""The `quotalink` command line: generate, run, evaluate, db, review, users, report, ui."""

import argparse
import logging
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from quotalink.contracts import SOURCES as SOURCE_IDS
from quotalink.errors import QuotaLinkError

# Third-party notices that say nothing to an operator (they stay in `-v` runs).
_QUIET_WARNINGS = (
    # pyspark (installed for the Spark ER engine) on pandas 3, even when Spark is unused
    (FutureWarning, r"PySpark does not yet fully support pandas"),
    # Great Expectations: we use the generic SQL datasource on purpose (unix sockets)
    (UserWarning, r"You are using a generic SQLDatasource"),
    # platformdirs (through the embedded server's dependencies) in a session without one
    (Warning, r"XDG_RUNTIME_DIR is not set"),
)


def _setup_logging(verbose: bool) -> None:
    from rich.logging import RichHandler

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(name)s: %(message)s",
        handlers=[RichHandler(show_path=False, show_time=False,
                              level=logging.DEBUG if verbose else logging.WARNING)],
    )
    if not verbose:
        for noisy in ("splink", "great_expectations", "alembic"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        for category, message in _QUIET_WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category)


def _exit_on_sigterm() -> None:
    # Python dies on SIGTERM without running atexit: the embedded PostgreSQL would keep
    # running with our PID in its handle list. SystemExit unwinds like Ctrl-C does.
    def _handler(signum, frame):
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _handler)


def cmd_generate(args: argparse.Namespace) -> int:
    """Write a synthetic province."""
    import synthetic

    t0 = time.perf_counter()
    summary = synthetic.generate(Path(args.out), Path(args.truth), persons=args.persons, seed=args.seed,
                                 progress=not args.quiet, scenario=args.scenario, as_of=args.as_of)
    print(f"generated {args.persons} persons (seed {args.seed}) in {time.perf_counter() - t0:.1f}s "
          f"→ deliveries in {args.out}, ground truth in {args.truth}")
    if isinstance(summary, dict):
        for k, v in summary.items():
            print(f"  {k}: {v}")
    return 0


def _report_run(result, defs, selection=None) -> tuple[list[str], list[str]]:
    """Print failed steps, failed checks and what was not materialised; return the failed
    steps and the blocking checks that failed."""
    failed_steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    blocking: list[str] = []
    for e in result.all_events:
        if e.event_type_value != "ASSET_CHECK_EVALUATION" or e.event_specific_data.passed:
            continue
        ev = e.event_specific_data
        name = f"{ev.asset_check_key.asset_key.to_user_string()} / {ev.asset_check_key.name}"
        level = getattr(ev.severity, "value", ev.severity)
        print(f"check failed: {name} ({level})", file=sys.stderr)
        if level == "ERROR":
            blocking.append(name)
    if blocking:
        print(f"blocking check(s) failed: {', '.join(blocking)}; downstream assets were not "
              "materialised", file=sys.stderr)
    for step_key in failed_steps:
        print(f"step failed: {step_key}", file=sys.stderr)
        for e in result.all_events:
            if e.step_key == step_key and e.event_type_value == "STEP_FAILURE":
                err = e.event_specific_data.error
                while err.cause is not None and err.cls_name == "DagsterExecutionStepExecutionError":
                    err = err.cause
                print(f"  {err.cls_name}: {err.message.strip()}", file=sys.stderr)
    if failed_steps or blocking:
        done = {e.asset_key for e in result.all_events
                if e.event_type_value == "ASSET_MATERIALIZATION"}
        planned = set(selection) if selection else defs.resolve_asset_graph().materializable_asset_keys
        missing = sorted(k.to_user_string() for k in planned - done)
        if missing:
            print(f"not materialised in this run ({len(missing)}, they depend on what failed): "
                  + ", ".join(missing), file=sys.stderr)
    return failed_steps, blocking


class _Runs:
    """The Dagster runs of one `quotalink run`, read as one run."""

    def __init__(self, results: list):
        self.results = results
        self.all_events = [e for r in results for e in r.all_events]
        self.success = all(r.success for r in results)
        self.run_id = results[-1].run_id


def _run_planned(job, execute, engine, settings):
    """The loads (and reference tables) first, then only the steps whose inputs changed
    and everything after them (orchestration/plan.py): (the runs, the assets launched, the
    recorded results of the checks not launched)."""
    from orchestration import plan, progress
    from orchestration.definitions import ASSETS, CHECKS

    first = {k for a in plan.roots(ASSETS) for k in a.keys}
    before = plan.recorded(engine)
    loads = execute(job.get_subset(asset_selection=first, asset_check_selection=set()))
    if any(e.event_type_value == "STEP_FAILURE" and "Interrupted" in (e.event_specific_data.error.cls_name or "")
           for e in loads.all_events):
        return _Runs([loads]), first, {}
    done = {e.asset_key for e in loads.all_events if e.event_type_value == "ASSET_MATERIALIZATION"}
    after = plan.plan(engine, settings, ASSETS, CHECKS, failed=first - done, before=before)
    runs = [loads]
    if after.unchanged and progress.ENABLED:
        progress.console.print(f"[dim]·[/] {after.unchanged} steps and checks not launched: inputs "
                               "unchanged since their last run")
    if after:
        runs.append(execute(job.get_subset(asset_selection=after.assets,
                                           asset_check_selection=after.checks)))
    # What a failed load kept from running counts as planned: the report names it.
    return _Runs(runs), first | after.assets | after.blocked, after.replayed


def cmd_run(args: argparse.Namespace) -> int:
    """Materialise every asset in process; non-zero when anything fails."""
    import sqlalchemy as sa

    from orchestration.home import ensure_dagster_home
    from quotalink.settings import load_settings
    from warehouse.db import get_engine

    settings = load_settings()
    settings.require_sources_dir()
    ensure_dagster_home(settings)
    engine = get_engine(settings)  # fail early, naming the variable, when unreachable
    with engine.connect() as conn:
        started_at = conn.execute(sa.text("select now()")).scalar()

    import dagster as dg

    from orchestration import checks, incremental, runlock
    from orchestration.definitions import defs
    from orchestration.home import release_dead_runs, run_tags

    t0 = time.perf_counter()
    job = defs.resolve_job_def("pipeline")
    replayed: dict[str, list[dict]] = {}
    # One run per warehouse: a second `quotalink run` (another var dir, another machine)
    # waits here, or leaves under --no-wait, instead of interleaving its writes.
    try:
        lock = runlock.acquire(engine, wait=not args.no_wait)
    except runlock.WarehouseBusy as exc:
        print(f"quotalink run: {exc}", file=sys.stderr)
        return 3
    try:
        with dg.DagsterInstance.get() as instance:
            for message in release_dead_runs(instance):
                print(f"quotalink run: {message}", file=sys.stderr)
            tags = run_tags()

            def _stopped() -> None:
                for run in instance.get_runs(filters=dg.RunsFilter(tags={"quotalink/pid": tags["quotalink/pid"]},
                                                                   statuses=[dg.DagsterRunStatus.STARTED])):
                    instance.report_run_failed(run, message="stopped by a signal")
                    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)

            # Our own step lines are the progress; Dagster's console log would repeat every event.
            quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
            selection = None
            if args.only:
                from connectors.registry import raw_tables
                from orchestration.lineage import staging_specs

                selection = [dg.AssetKey(["raw", t.table]) for s in args.only for t in raw_tables(s)]
                selection += [spec.key for s in args.only for spec in staging_specs(s)]
            # In process, a table's suite can run beside the steps after the one writing it.
            checks.EARLY["enabled"] = os.environ.get("QUOTALINK_EARLY_CHECKS", "1") != "0"
            checks.EARLY["session"] = f"quotalink run {os.getpid()} {time.time_ns()}"

            def execute(subset, asset_selection=None):
                return subset.execute_in_process(instance=instance, raise_on_error=False, tags=tags,
                                                 asset_selection=asset_selection,
                                                 run_config=None if args.verbose else quiet)

            try:
                with runlock.StopWatchdog(_stopped):
                    if selection is None and incremental.enabled():
                        result, selection, replayed = _run_planned(job, execute, engine, settings)
                    else:
                        result = execute(job, selection)
            finally:
                checks.stop_early()
                checks.EARLY.update(enabled=False, session=None)
    finally:
        # A lost lock fails the next step (WarehouseResource.engine); lost during the last
        # step, it is only seen here, and the run does not count as a clean one either.
        lock_lost = runlock.release(lock)
        if lock_lost:
            print(f"quotalink run: {lock_lost}; another run could have interleaved with this one: "
                  "run it again", file=sys.stderr)
    interrupted = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"
                   and "Interrupted" in (e.event_specific_data.error.cls_name or "")]
    if interrupted:
        failed_steps, _ = _report_run(result, defs, selection)
        print(f"quotalink run: stopped by a signal during {', '.join(interrupted)}; what that step "
              "was writing was rolled back (each delivery is one transaction); run again to "
              "continue", file=sys.stderr)
        return 130
    from orchestration.summary import print_summary

    docs = None
    if result.success and not args.only:
        from orchestration.checks import build_docs
        from orchestration.progress import step

        with step("data docs") as summary:
            evaluated = checks.evaluations(result.all_events)
            evaluated += [e for results in replayed.values() for e in checks.recorded_evaluations(results)]
            docs = build_docs(engine, settings.var_dir / "gx", evaluated, result.run_id, summary)
    print_summary(engine, settings, time.perf_counter() - t0, started_at, docs)
    from warehouse.audit import checkpoint

    # Published outside the database, these heads make a rewritten decision log detectable.
    for chain, length, head, taken_at in checkpoint(engine, result.run_id):
        print(f"audit checkpoint {taken_at:%Y-%m-%dT%H:%M:%S%z}: {chain} {length} rows, head {head}")
    failed_steps, blocking = _report_run(result, defs, selection)
    return 1 if failed_steps or blocking or lock_lost or not result.success else 0


def _evaluation_tables(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    er = report.get("entity_resolution") or {}
    t = Table(title="Entity resolution against the ground truth (pairwise)")
    for col in ("kind", "precision", "recall", "F1", "mentions", "clusters (true)",
                "false merges", "false splits"):
        t.add_column(col, justify="left" if col == "kind" else "right")
    for kind, s in er.items():
        if "error" in s:
            t.add_row(kind, s["error"], "", "", "", "", "", "")
            continue
        errors = s.get("errors") or {}
        t.add_row(kind, f"{s['precision']:.4f}", f"{s['recall']:.4f}", f"{s['f1']:.4f}",
                  str(s["mentions"]), f"{s['predicted_clusters']} ({s['true_clusters']})",
                  str(errors.get("clusters_with_false_merge", "")),
                  str(errors.get("entities_split", "")))
    console.print(t)
    hard = [(kind, case, c) for kind, s in er.items()
            for case, c in (s.get("hard_cases") or {}).items()]
    if hard:
        h = Table(title="Hard cases (merged: must stay apart; joined: must be one)")
        for col in ("kind", "case", "cases", "merged", "joined"):
            h.add_column(col, justify="left" if col in ("kind", "case") else "right")
        for kind, case, c in hard:
            h.add_row(kind, case, str(c.get("cases", "")), str(c.get("merged", "")),
                      str(c.get("joined", "")))
        console.print(h)
    # Where the errors are: mentions split off their entity or mixed into another's.
    b = Table(title="Split and mixed mentions per source and per hard-case tag")
    for col in ("kind", "by", "mentions", "split", "mixed"):
        b.add_column(col, justify="left" if col in ("kind", "by") else "right")
    for kind, s in er.items():
        for part in ("by_source", "by_tag"):
            for name, c in ((s.get("breakdown") or {}).get(part) or {}).items():
                b.add_row(kind, f"{part.removeprefix('by_')} {name}", str(c["mentions"]),
                          str(c["split"]), str(c["mixed"]))
    if b.row_count:
        console.print(b)
    flags = report.get("flags") or {}
    if "error" in flags or not flags.get("per_rule"):
        console.print(f"flags: {flags.get('error', 'no planted cases in the ground truth')}")
        return
    f = Table(title="Audit flags against the planted cases")
    for col in ("rule", "planted", "flagged", "true positives", "precision", "recall"):
        f.add_column(col, justify="left" if col == "rule" else "right")
    rows = [*flags["per_rule"].items(), ("overall", flags["overall"])]
    for rule, s in rows:
        f.add_row(rule, *(str(s.get(k, "")) for k in ("planted", "flagged", "true_positives")),
                  *(f"{s[k]:.3f}" if isinstance(s.get(k), float) else str(s.get(k, ""))
                    for k in ("precision", "recall")),
                  style="bold" if rule == "overall" else None)
    console.print(f)
    decoys = flags.get("decoys")
    console.print(f"decoys (look like a case, are none): {decoys}, "
                  f"flagged by mistake: {len(flags.get('decoys_flagged') or [])}")


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score the warehouse against ground truth."""
    import json

    from quotalink.settings import load_settings
    from warehouse.db import get_engine

    settings = load_settings()
    truth = Path(args.truth) if args.truth else settings.truth_dir
    engine = get_engine(settings)
    report: dict = {}
    import entity_resolution

    report["entity_resolution"] = entity_resolution.evaluate(engine, truth,
                                                             var_dir=settings.var_dir)
    import expectations

    report["flags"] = expectations.evaluate_flags(engine, truth)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        _evaluation_tables(report)
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    """Print the warehouse's psql-ready URI, or open psql on it (starting the embedded server)."""
    import shutil
    import subprocess

    from quotalink.settings import load_settings
    from warehouse.db import psql_dsn, warehouse_url

    settings = load_settings()
    dsn = psql_dsn(warehouse_url(settings))  # starts the embedded server when needed
    if args.print_only:
        print(dsn)
        return 0
    psql = shutil.which("psql")
    if psql is None:
        print(f"quotalink db: psql not found (apt-get install postgresql-client); connect to {dsn}",
              file=sys.stderr)
        return 2
    if not settings.warehouse_url:
        print(f"embedded warehouse: {dsn} (it stops when psql exits)", file=sys.stderr)
    # A child, not exec: this process holds the embedded server and stops it afterwards.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to psql
    try:
        return subprocess.call([psql, dsn, *args.psql_args])
    finally:
        signal.signal(signal.SIGINT, previous)


def cmd_review(args: argparse.Namespace) -> int:
    """Serve the auditors' review console."""
    import uvicorn

    from quotalink.settings import load_settings
    from review.app import create_app
    from warehouse.db import get_engine

    settings = load_settings()
    get_engine(settings)  # migrate once, before any worker starts
    print(f"review console on http://{args.host}:{args.port}/ (create accounts with quotalink users add)")
    # No access log: request lines are not needed and must never carry personal data.
    opts = {"host": args.host, "port": args.port, "log_level": "warning", "access_log": False,
            "proxy_headers": args.behind_proxy,
            "forwarded_allow_ips": "127.0.0.1" if args.behind_proxy else None}
    if args.workers > 1:
        uvicorn.run("review.app:app_from_environment", factory=True, workers=args.workers, **opts)
    else:
        uvicorn.run(create_app(get_engine(settings), role_prefix=settings.role_prefix), **opts)
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    """Create, list or disable console accounts."""
    from quotalink.settings import load_settings
    from review import accounts
    from warehouse.db import get_engine

    engine = get_engine(load_settings())
    if args.users_command == "list":
        for a in accounts.list_accounts(engine):
            print(f"{a.username}\t{a.role}\t{a.city_code or '全省'}\t{'active' if a.active else 'disabled'}")
        return 0
    if args.users_command == "disable":
        if not accounts.disable_account(engine, args.username):
            print(f"quotalink users: no account {args.username!r}", file=sys.stderr)
            return 1
        print(f"disabled {args.username} (its sessions ended)")
        return 0
    if not args.password_stdin:
        print("quotalink users add: give the password on standard input with --password-stdin",
              file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        a = accounts.add_account(engine, args.username, args.role, password, args.city,
                                 args.display_name)
    except ValueError as exc:
        print(f"quotalink users add: {exc}", file=sys.stderr)
        return 2
    print(f"created {a.username} ({a.role}, {a.city_code or 'whole province'})")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the annual implementation report (.xlsx, .html or .pdf)."""
    from quotalink.settings import load_settings
    from warehouse.db import get_engine
    from warehouse.report import FORMATS, build_report, write_report

    out = Path(args.out)
    if out.suffix.lower() not in FORMATS:
        print(f"quotalink report: --out 须以 .xlsx、.html 或 .pdf 结尾 / must end in .xlsx, .html or .pdf, "
              f"got {out.name}", file=sys.stderr)
        return 2
    report = build_report(get_engine(load_settings()), args.year, unit=args.unit)
    write_report(report, out)
    print(f"{args.year}年度报告已写入 {out} / report for {args.year} written to {out} "
          f"({len(report.sections)} sections)")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Recompute the hash chains; non-zero exit naming the first row that does not match."""
    from quotalink.settings import load_settings
    from warehouse.audit import verify
    from warehouse.db import get_engine

    reports = verify(get_engine(load_settings()))
    for r in reports:
        state = "ok" if r.ok else "FAILED"
        print(f"{r.chain}: {state}, {r.rows} rows, head {r.head_hash}")
    bad = [r for r in reports if not r.ok]
    for r in bad:
        print(f"quotalink audit verify: {r.problem}", file=sys.stderr)
    return 1 if bad else 0


def cmd_asof(args: argparse.Namespace) -> int:
    """Print a golden person as the warehouse published it at the end of a date."""
    import datetime as dt

    import sqlalchemy as sa

    from quotalink.privacy import mask_name, mask_phone
    from quotalink.settings import load_settings
    from warehouse.db import get_engine

    try:
        day = dt.date.fromisoformat(args.date)
    except ValueError:
        print(f"quotalink asof: --date must be YYYY-MM-DD, got {args.date!r}", file=sys.stderr)
        return 2
    engine = get_engine(load_settings())
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "select v.* from core.person_version v where v.person_id = :p "
            "and v.valid_from < api.end_of_day(:d) "
            "and (v.valid_to is null or v.valid_to >= api.end_of_day(:d))"),
            {"p": args.person, "d": day}).mappings().first()
        if row is None:
            print(f"quotalink asof: person {args.person} was not published on {day}", file=sys.stderr)
            return 1
        mentions = conn.execute(sa.text(
            "select source, source_key, match_probability from core.person_xref_version "
            "where person_id = :p and valid_from < api.end_of_day(:d) "
            "and (valid_to is null or valid_to >= api.end_of_day(:d)) order by source, source_key"),
            {"p": args.person, "d": day}).all()
        masked = {"id_number", "cert_number"}
        mask_sql = {c: conn.execute(sa.text("select api.mask_id_number(:v)"), {"v": row[c]}).scalar()
                    for c in masked}
    print(f"person {args.person} as published on {day} (version of {row['valid_from']:%Y-%m-%d %H:%M:%S%z}"
          + (f" until {row['valid_to']:%Y-%m-%d %H:%M:%S%z})" if row["valid_to"] else ", still current)"))
    for col, value in row.items():
        if col in ("valid_from", "valid_to"):
            continue
        if not args.show_personal_data:
            value = mask_sql[col] if col in masked else {
                "full_name": mask_name, "phone": mask_phone}.get(col, lambda v: v)(value)
            if col == "birth_date" and value is not None:
                value = f"{value.year}-**-**"
        print(f"  {col}: {'' if value is None else value}")
    print(f"  mentions ({len(mentions)}):")
    for source, key, prob in mentions:
        shown = key if args.show_personal_data or not key[:15].isdigit() else key[:6] + "…" + key[-4:]
        print(f"    {source} {shown}" + (f" (p={prob:.3f})" if prob is not None else ""))
    return 0


def cmd_deliveries_list(args: argparse.Namespace) -> int:
    """List every delivery with its state in the ledger and on disk."""
    from connectors.deliveries import ledger
    from quotalink.settings import load_settings
    from warehouse.db import get_engine

    settings = load_settings()
    rows = ledger(get_engine(settings), settings.sources_dir, args.source)
    print(f"{'source':<20} {'delivery':<44} {'status':<10} {'read':>8} {'loaded':>8} "
          f"{'quarant.':>8} {'ver.':>4}  on disk")
    for r in rows:
        print(f"{r.source:<20} {r.delivery:<44} {r.status:<10} {r.rows_read:>8} {r.rows_loaded:>8} "
              f"{r.rows_quarantined:>8} {r.versions:>4}  {r.on_disk}")
    changed = [r for r in rows if r.on_disk == "changed" and r.status != "rejected"]
    for r in changed:
        print(f"{r.source}/{r.delivery}: the file differs from the loaded version; to load it: "
              f"quotalink deliveries replace {r.source} {r.delivery} --reason TEXT", file=sys.stderr)
    return 0


def cmd_deliveries_replace(args: argparse.Namespace) -> int:
    """Replace a loaded file delivery by the file now under its name (audited)."""
    from connectors.deliveries import replace
    from orchestration import runlock
    from quotalink.settings import load_settings
    from warehouse.db import get_engine

    settings = load_settings()
    engine = get_engine(settings)
    lock = runlock.acquire(engine, wait=True)  # never in the middle of a run's writes
    try:
        result = replace(engine, settings.require_sources_dir(), args.source, args.file, args.reason,
                         settings.max_field_chars)
    finally:
        runlock.release(lock)
    print(f"{args.source}/{args.file} replaced: read {result.rows_read}, loaded {result.rows_loaded}, "
          f"quarantined {result.rows_quarantined}; the earlier version is kept in ops.load_audit as "
          "superseded; `quotalink run` restages the source")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """Start the Dagster UI on the same code location."""
    from orchestration.home import ensure_dagster_home
    from quotalink.settings import load_settings, project_root

    ensure_dagster_home(load_settings())
    exe = Path(sys.executable).parent / "dagster"
    os.execv(str(exe), [str(exe), "dev", "-w", str(project_root() / "workspace.yaml"), "-p", str(args.port)])
    return 0  # pragma: no cover - execv does not return


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: every command and option with its help text."""
    parser = argparse.ArgumentParser(
        prog="quotalink", description=__doc__,
        epilog="Configuration comes from the environment (WAREHOUSE_URL, SOURCES_DIR, "
               "TRUTH_DIR, QUOTA_API_URL, HR_DB_URL, QUOTALINK_VAR_DIR, ...; see README).")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="debug logging, Dagster's own event log and third-party warnings")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    g = sub.add_parser("generate", help="write a synthetic province and its ground truth",
                       description="Write the nine sources' deliveries of a synthetic province "
                                   "and the ground truth that scores the pipeline.")
    g.add_argument("--out", required=True, metavar="DIR",
                   help="directory for the deliveries (becomes SOURCES_DIR)")
    g.add_argument("--truth", required=True, metavar="DIR",
                   help="directory for the ground truth (becomes TRUTH_DIR)")
    g.add_argument("--persons", type=int, default=3000, help="certificate holders (default 3000)")
    g.add_argument("--seed", type=int, default=42, help="random seed: same seed, same province")
    g.add_argument("--scenario", default="default", help="default, clean, noisy, hard or harsh")
    g.add_argument("--as-of", default="202610", dest="as_of", metavar="YYYYMM",
                   help="last delivered month: 202611 adds one more month to the same province")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(fn=cmd_generate)
    r = sub.add_parser("run", help="pull every source and materialise every asset",
                       description="Load new deliveries, stage, resolve, run the checks and the "
                                   "audit rules in process. Exits 1 when a step or a blocking "
                                   "check fails (what depended on it is not materialised), "
                                   "2 on a configuration error.")
    r.add_argument("--only", action="append", metavar="SOURCE", choices=list(SOURCE_IDS),
                   help="load and stage only this source (repeatable); resolution and rules "
                        "wait for a full run")
    r.add_argument("--no-wait", action="store_true", dest="no_wait",
                   help="exit 3 at once when another run is writing the same warehouse "
                        "(default: wait for it, saying so)")
    r.set_defaults(fn=cmd_run)
    e = sub.add_parser("evaluate", help="score entity resolution and flags against ground truth",
                       description="Pairwise precision, recall and F1 of the golden records and "
                                   "the flags' precision and recall per rule, against the "
                                   "generator's ground truth.")
    e.add_argument("--truth", default=None, metavar="DIR",
                   help="ground-truth directory (default: TRUTH_DIR)")
    e.add_argument("--json", action="store_true",
                   help="print the full report as JSON (with error samples) instead of tables")
    e.set_defaults(fn=cmd_evaluate)
    d = sub.add_parser("db", help="open psql on the warehouse (starting the embedded server)",
                       description="Open psql on the warehouse. With the embedded warehouse "
                                   "(WAREHOUSE_URL unset) the server is started for the "
                                   "session and stopped when psql exits. Any further "
                                   "arguments go to psql, e.g. quotalink db -c 'select "
                                   "count(*) from core.person'.")
    d.add_argument("--print", action="store_true", dest="print_only",
                   help="only print the psql-ready connection URI (no password in it)")
    d.set_defaults(fn=cmd_db)
    rv = sub.add_parser("review", help="serve the auditors' review console",
                        description="Serve the auditors' review console (FastAPI).")
    rv.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    rv.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    rv.add_argument("--workers", type=int, default=1,
                    help="server processes (default 1; 2 on a 2-core machine for many users)")
    rv.add_argument("--behind-proxy", action="store_true",
                    help="trust X-Forwarded-For/-Proto from a reverse proxy on 127.0.0.1 (https there)")
    rv.set_defaults(fn=cmd_review)
    us = sub.add_parser("users", help="console accounts: add, list, disable",
                        description="Manage the review console's accounts (review.account).")
    us_sub = us.add_subparsers(dest="users_command", required=True, metavar="SUBCOMMAND")
    ua = us_sub.add_parser("add", help="create an account",
                           description="Create a console account; the password is read from "
                                       "standard input (one line, at least 10 characters).")
    ua.add_argument("username", help="sign-in name (any Unicode, e.g. 张审计)")
    ua.add_argument("--role", required=True, choices=("viewer", "auditor", "supervisor", "admin"),
                    help="viewer (masked), auditor, supervisor (four-eyes sign-off) or admin (accounts only)")
    ua.add_argument("--city", default=None, metavar="CODE",
                    help="4-digit Shandong city code the account is limited to; none = whole province")
    ua.add_argument("--display-name", default=None, dest="display_name",
                    help="name shown in the console (default: the username)")
    ua.add_argument("--password-stdin", action="store_true", dest="password_stdin",
                    help="read the password from standard input (required: never on the command line)")
    ua.set_defaults(fn=cmd_users)
    ul = us_sub.add_parser("list", help="list the accounts", description="List every console account.")
    ul.set_defaults(fn=cmd_users)
    ud = us_sub.add_parser("disable", help="disable an account and end its sessions",
                           description="Disable a console account; its open sessions end at once.")
    ud.add_argument("username", help="the account to disable")
    ud.set_defaults(fn=cmd_users)
    rp = sub.add_parser("report", help="write the annual implementation report (.xlsx, .html or .pdf)",
                        description="Write the annual implementation report of a year (docs/report.md); "
                                    "a year without data exits 2.")
    rp.add_argument("--year", type=int, required=True, help="report year, e.g. 2024")
    rp.add_argument("--out", required=True, metavar="FILE",
                    help="output file; its suffix (.xlsx, .html or .pdf) picks the format")
    rp.add_argument("--unit", default="山东省残疾人联合会", help="reporting unit on the cover")
    rp.set_defaults(fn=cmd_report)
    au = sub.add_parser("audit", help="the tamper-evident decision log",
                        description="Recompute the hash chains of review.decision, "
                                    "core.link_override and review.access_log.")
    au_sub = au.add_subparsers(dest="audit_command", required=True, metavar="SUBCOMMAND")
    av = au_sub.add_parser("verify", help="recompute the hash chains; exit 1 naming the first bad row",
                           description="Recompute every hash chain; exit 1 naming the first row "
                                       "whose hash does not match.")
    av.set_defaults(fn=cmd_audit_verify)
    ao = sub.add_parser("asof", help="a golden person as the warehouse published it on a date",
                        description="Print a golden person and its mentions as published at the "
                                    "end of a day (China Standard Time); personal data masked "
                                    "unless --show-personal-data.")
    ao.add_argument("--person", required=True, metavar="ID", help="golden person ID")
    ao.add_argument("--date", required=True, metavar="YYYY-MM-DD", help="the day")
    ao.add_argument("--show-personal-data", action="store_true",
                    help="print name, ID, phone and birth date in clear")
    ao.set_defaults(fn=cmd_asof)
    dl = sub.add_parser("deliveries", help="the delivery ledger: list deliveries, replace one",
                        description="What was delivered and what became of it (ops.load_audit), "
                                    "and the operator's explicit, audited replacement of a "
                                    "delivery by a corrected file under the same name.")
    dl_sub = dl.add_subparsers(dest="deliveries_command", required=True, metavar="SUBCOMMAND")
    dls = dl_sub.add_parser("list", help="every delivery: status, rows, versions, file on disk",
                            description="Every delivery's latest state in ops.load_audit, how many "
                                        "versions it had, and whether the file on disk changed.")
    dls.add_argument("--source", default=None, help="only this source id")
    dls.set_defaults(fn=cmd_deliveries_list)
    dlr = dl_sub.add_parser("replace", help="replace a loaded delivery by the file now under its name",
                            description="Supersede a loaded delivery's rows in raw and staging by "
                                        "the file now under its name, in one transaction; both "
                                        "versions stay in ops.load_audit with the reason.")
    dlr.add_argument("source", help="source id, e.g. org")
    dlr.add_argument("file", help="delivery file name, e.g. jgry_2024.csv")
    dlr.add_argument("--reason", required=True, help="why the delivery is replaced (kept in the audit)")
    dlr.set_defaults(fn=cmd_deliveries_replace)
    u = sub.add_parser("ui", help="serve the Dagster UI (dagster dev -w workspace.yaml)",
                       description="Serve the Dagster UI on the same assets, checks, schedules "
                                   "and sensors.")
    u.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    u.set_defaults(fn=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "db":
        args.psql_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    _setup_logging(args.verbose)
    _exit_on_sigterm()
    try:
        return args.fn(args)
    except QuotaLinkError as exc:
        print(f"quotalink {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
