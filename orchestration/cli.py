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
    from warehouse.audit import checkpoint

    # Published outside the database, these heads make a rewritten decision log detectable.
    for chain, length, head, taken_at in checkpoint(engine, result.run_id):
        print(f"audit checkpoint {taken_at:%Y-%m-%dT%H:%M:%S%z}: {chain} {length} rows, head {head}")
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


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Recompute the hash chains; non-zero exit naming the first row that does not match."""
    from quotalink.settings import get_settings
    from warehouse.audit import verify
    from warehouse.db import get_engine

    reports = verify(get_engine(get_settings()))
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
    from quotalink.settings import get_settings
    from warehouse.db import get_engine

    try:
        day = dt.date.fromisoformat(args.date)
    except ValueError:
        print(f"quotalink asof: --date must be YYYY-MM-DD, got {args.date!r}", file=sys.stderr)
        return 2
    engine = get_engine(get_settings())
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
    g.add_argument("--scenario", default="default", help="default, clean or noisy")
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
    au = sub.add_parser("audit", help="the tamper-evident decision log")
    au_sub = au.add_subparsers(dest="audit_command", required=True)
    av = au_sub.add_parser("verify", help="recompute the hash chains; non-zero naming the first bad row")
    av.set_defaults(fn=cmd_audit_verify)
    ao = sub.add_parser("asof", help="a golden person as the warehouse published it on a date")
    ao.add_argument("--person", required=True, help="golden person ID")
    ao.add_argument("--date", required=True, help="YYYY-MM-DD (end of that day, China Standard Time)")
    ao.add_argument("--show-personal-data", action="store_true",
                    help="print name, ID and phone in clear (masked by default)")
    ao.set_defaults(fn=cmd_asof)
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
