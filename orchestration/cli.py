"""The `quotalink` command line: generate, run, evaluate, review, report."""

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from quotalink.errors import QuotaLinkError


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


def cmd_run(args: argparse.Namespace) -> int:
    """Materialise every asset in process; non-zero when anything fails."""
    from quotalink.settings import get_settings
    from warehouse.db import get_engine

    settings = get_settings()
    settings.require_sources_dir()
    from orchestration.home import ensure_dagster_home

    ensure_dagster_home(settings)
    get_engine(settings)  # fail early, naming the variable, when the warehouse is unreachable

    import dagster as dg

    from orchestration.definitions import defs

    t0 = time.perf_counter()
    job = defs.resolve_job_def("pipeline")
    with dg.DagsterInstance.get() as instance:
        # Our own step lines are the progress; Dagster's console log would repeat every event.
        quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
        result = job.execute_in_process(instance=instance, raise_on_error=False,
                                        run_config=None if args.verbose else quiet)
    failed_steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    failed_checks = []
    for e in result.all_events:
        if e.event_type_value == "ASSET_CHECK_EVALUATION":
            ev = e.event_specific_data
            if not ev.passed:
                failed_checks.append((ev.asset_check_key.asset_key.to_user_string(), ev.asset_check_key.name,
                                      getattr(ev, "severity", None)))
    from orchestration.summary import print_summary

    engine = get_engine(settings)
    docs = None
    if result.success:
        import expectations
        from expectations.quality.suites import merge_outcomes
        from orchestration.checks import OUTCOMES
        from orchestration.progress import step

        known: dict[str, list] = {}
        for (table, _level), outcome in OUTCOMES.items():
            known.setdefault(table, []).append(outcome)
        with step("data docs"):
            docs = expectations.build_data_docs(
                engine, settings.var_dir / "gx", known={t: merge_outcomes(o) for t, o in known.items()})
    print_summary(engine, settings, time.perf_counter() - t0, docs)
    blocking = []
    for asset, name, severity in failed_checks:
        level = getattr(severity, "value", severity)
        print(f"check failed: {asset} / {name} ({level})", file=sys.stderr)
        if level == "ERROR":
            blocking.append(f"{asset} / {name}")
    if blocking:
        print(f"blocking check(s) failed: {', '.join(blocking)}; downstream assets were not "
              "materialised", file=sys.stderr)
    if failed_steps or blocking or not result.success:
        for step_key in failed_steps:
            print(f"step failed: {step_key}", file=sys.stderr)
            for e in result.all_events:
                if e.step_key == step_key and e.event_type_value == "STEP_FAILURE":
                    err = e.event_specific_data.error
                    while err.cause is not None and err.cls_name == "DagsterExecutionStepExecutionError":
                        err = err.cause
                    print(f"  {err.cls_name}: {err.message.strip()}", file=sys.stderr)
        return 1
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score the warehouse against ground truth."""
    import json

    from quotalink.settings import get_settings
    from warehouse.db import get_engine

    settings = get_settings()
    truth = Path(args.truth) if args.truth else settings.truth_dir
    engine = get_engine(settings)
    report: dict = {}
    import entity_resolution

    report["entity_resolution"] = entity_resolution.evaluate(engine, truth)
    try:
        import expectations

        report["flags"] = expectations.evaluate_flags(engine, truth)
    except (ImportError, AttributeError) as exc:
        report["flags"] = {"error": f"flag evaluation unavailable: {exc}"}
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    """Serve the auditors' review console."""
    import uvicorn

    from quotalink.settings import get_settings
    from review.app import create_app
    from warehouse.db import get_engine

    app = create_app(get_engine(get_settings()))
    print(f"review console on http://{args.host}:{args.port}/")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the annual implementation report."""
    from quotalink.settings import get_settings
    from warehouse.db import get_engine
    from warehouse.report import build_report, write_report

    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".html", ".htm"):
        print(f"quotalink report: --out must end in .xlsx or .html, got {out.name}", file=sys.stderr)
        return 2
    report = build_report(get_engine(get_settings()), args.year)
    write_report(report, out, args.year)
    print(f"report for {args.year} written to {out} "
          f"({len(report['by_city'])} cities, {len(report['flags_by_rule'])} rules with flags)")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """Start the Dagster UI on the same code location."""
    from orchestration.home import ensure_dagster_home
    from quotalink.settings import get_settings, project_root

    ensure_dagster_home(get_settings())
    exe = Path(sys.executable).parent / "dagster"
    os.execv(str(exe), [str(exe), "dev", "-w", str(project_root() / "workspace.yaml"), "-p", str(args.port)])
    return 0  # pragma: no cover - execv does not return


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = argparse.ArgumentParser(prog="quotalink", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="write a synthetic province and its ground truth")
    g.add_argument("--out", required=True)
    g.add_argument("--truth", required=True)
    g.add_argument("--persons", type=int, default=3000)
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--scenario", default="default", help="default, clean, noisy or hard")
    g.add_argument("--as-of", default="202610", dest="as_of",
                   help="last delivered month: 202611 adds one more month to the same province")
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(fn=cmd_generate)
    r = sub.add_parser("run", help="pull every source and materialise every asset")
    r.set_defaults(fn=cmd_run)
    e = sub.add_parser("evaluate", help="score entity resolution and flags against ground truth")
    e.add_argument("--truth", default=None)
    e.set_defaults(fn=cmd_evaluate)
    rv = sub.add_parser("review", help="serve the auditors' review console")
    rv.add_argument("--host", default="127.0.0.1")
    rv.add_argument("--port", type=int, default=8000)
    rv.set_defaults(fn=cmd_review)
    rp = sub.add_parser("report", help="write the annual implementation report (.xlsx or .html)")
    rp.add_argument("--year", type=int, required=True)
    rp.add_argument("--out", required=True)
    rp.set_defaults(fn=cmd_report)
    u = sub.add_parser("ui", help="serve the Dagster UI (dagster dev -w workspace.yaml)")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(fn=cmd_ui)
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return args.fn(args)
    except QuotaLinkError as exc:
        print(f"quotalink {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
