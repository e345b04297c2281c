"""Benchmark: the two resolution stages alone on a kept warehouse, against bare Splink.

Usage:  .venv/bin/python bench/bench_resolve.py --db ql_bench_123_60000 [--rules] [--profile DIR]

The warehouse is one `bench_province.py --keep-db` left behind (staged mentions, a first
resolution). It is copied (CREATE DATABASE … TEMPLATE) so every run starts from the same
state, then in this process: resolve persons, resolve employers (the same calls the
pipeline's assets make), optionally the audit rules; per stage the seconds and the step
timings the stage reports. Then, each in a fresh process, bare Splink predict + cluster
of each kind on the very features the stage scored (same model, same blocking rules,
same threshold; bench_er.py --mode bare). Finally checksums of what was published
(golden records, xrefs, match edges, ID history, flags) so two code versions can be
compared on identical input.
"""

import argparse
import cProfile
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SERVER = os.environ.get("BENCH_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")

_DELIVERY = r"regexp_replace(delivery, '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00', 'T', 'g')"
# What the comparison reads of each published table (run stamps and clocks left out).
CHECKSUMS = {
    "core.person_xref": "source, source_key, person_id, round(match_probability::numeric, 9)",
    "core.person": "person_id, full_name, id_number, cert_number, gender, birth_date, "
                   "disability_category, disability_level, cert_status, hukou_region_code, phone",
    "core.person_match_edge": "person_id, source_l, key_l, source_r, key_r, link_kind, reason, "
                              "round(match_weight::numeric, 6), comparisons::text",
    "core.person_id_history": "retired_id, current_id, reason",
    "core.employer_xref": "source, source_key, employer_id, round(match_probability::numeric, 9)",
    "core.employer": "employer_id, name, uscc, org_code, region_code, unit_type",
    "core.employer_match_edge": "employer_id, source_l, key_l, source_r, key_r, link_kind, "
                                "reason, round(match_weight::numeric, 6), comparisons::text",
    "core.employer_id_history": "retired_id, current_id, reason",
    "mart.anomaly_flag": "flag_id, rule, year, person_id, employer_id, severity, score, "
                         "evidence::text, active",
    "core.person_city": "person_id, city_code",
    # An HR delivery is named by its pull time: normalised, so that two warehouses that
    # pulled the same rows compare (as bench/digest_tables.py does).
    "core.person_attr_source": "person_id, source, source_key, " + _DELIVERY + ", "
                               "attribute_mask, derived_mask",
    "core.employer_attr_source": "employer_id, source, source_key, " + _DELIVERY + ", "
                                 "attribute_mask, derived_mask",
    # Versions without their clocks: which rows are open, and their content.
    "core.person_version": "person_id, full_name, id_number, cert_number, gender, birth_date, "
                           "disability_category, disability_level, cert_status, "
                           "hukou_region_code, phone, id_token, valid_to is null",
    "core.person_xref_version": "source, source_key, person_id, "
                                "round(match_probability::numeric, 9), valid_to is null",
    "core.employer_version": "employer_id, name, uscc, org_code, region_code, unit_type, "
                             "valid_to is null",
    "core.employer_xref_version": "source, source_key, employer_id, "
                                  "round(match_probability::numeric, 9), valid_to is null",
    # The token, and whether a run moved a golden record's updated_at (not its clock).
    "core.person#token": "person_id, id_token, updated_at < {since}",
    "core.employer#updated": "employer_id, updated_at < {since}",
}


def checksums(engine, since: str = "now()") -> dict[str, str]:
    """md5 of every row (in a fixed order) of each published table, with its row count;
    `since` (SQL) is when the resolution began (updated_at older than it: not moved)."""
    import sqlalchemy as sa

    out = {}
    with engine.connect() as conn:
        for table, cols in CHECKSUMS.items():
            cols = cols.replace("{since}", since)
            n, digest = conn.execute(sa.text(
                f"select count(*), md5(coalesce(string_agg(r, E'\\n' order by r), '')) from "
                f"(select ({cols})::text as r from {table.split('#')[0]}) t")).one()
            out[table] = f"{n} {digest}"
    return out


def clone(template: str, name: str) -> str:
    """A fresh copy of the kept warehouse; its URL."""
    import sqlalchemy as sa

    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        conn.execute(sa.text(f'create database "{name}" template "{template}"'))
    admin.dispose()
    return sa.engine.make_url(SERVER).set(database=name).render_as_string(hide_password=False)


def bare(kind: str, features, scratch: Path, er_engine: str) -> dict:
    """Bare Splink predict + cluster of one kind's features, in a fresh process."""
    from entity_resolution import rules

    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / kind
    path.mkdir(exist_ok=True)
    features[rules.profile(kind).model_columns].to_parquet(path / "features.parquet",
                                                           index=False)
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_er.py"), "--mode", "bare",
                           "--kind", kind, "--path", str(path), "--engine", er_engine],
                          capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    """Clone, resolve, time, compare with bare Splink, checksum; print JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the kept warehouse database (template)")
    parser.add_argument("--name", default=None, help="scratch database (default: <db>_er)")
    parser.add_argument("--rules", action="store_true", help="also run the audit rules")
    parser.add_argument("--no-bare", action="store_true", help="skip bare Splink")
    parser.add_argument("--profile", type=Path, default=None,
                        help="write cProfile stats of each stage into this folder")
    parser.add_argument("--engine", default="duckdb")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--checksums-only", action="store_true",
                        help="print the checksums of --db as it is (no copy, no run); a golden "
                             "record's updated_at counts as moved when it is newer than the "
                             "last run's versions")
    args = parser.parse_args()
    if args.checksums_only:
        import sqlalchemy as sa

        url = sa.engine.make_url(SERVER).set(database=args.db)
        engine = sa.create_engine(url)
        try:
            since = "(select max(valid_from) from core.person_version)"
            print(json.dumps({"db": args.db, "checksums": checksums(engine, since)}, indent=2))
        finally:
            engine.dispose()
        return 0

    import datetime as dt

    import sqlalchemy as sa

    import entity_resolution
    from entity_resolution import pipeline, rules

    name = args.name or f"{args.db}_er"
    url = clone(args.db, name)
    engine = sa.create_engine(url)
    result: dict = {"db": args.db, "load_average": os.getloadavg()}
    from bench_rules import _cpu, track_backends  # CPU seconds of a process, from /proc

    backends = track_backends(engine)  # the PostgreSQL backends the stages use
    features: dict = {}
    original = pipeline.resolve_frame

    def keep_features(kind, mentions, model, **kw):
        # Bare Splink scores the features as prepared, before the key repairs and context
        # links write into them (employers' org_code is a model column).
        if kw.pop("prepared", False):  # the stage prepared them (and times that itself)
            features[kind.name] = mentions[rules.profile(kind.name).model_columns].copy()
            return original(kind, mentions, model, prepared=True, **kw)
        t = time.perf_counter()
        prepared = kind.prepare(mentions)
        seconds = time.perf_counter() - t
        features[kind.name] = prepared[rules.profile(kind.name).model_columns].copy()
        run = original(kind, prepared, model, prepared=True, **kw)
        run.timings["prepare_s"] = seconds
        return run

    pipeline.resolve_frame = keep_features
    began = dt.datetime.now(dt.UTC).isoformat()
    try:
        for kind in ("person", "employer"):
            fn = getattr(entity_resolution, f"resolve_{kind}s")
            prof = cProfile.Profile() if args.profile else None
            pg0 = {p: _cpu(p) for p in backends}
            t0, cpu = time.perf_counter(), time.process_time()
            if prof:
                prof.enable()
            # With a var dir, as the pipeline runs it: edge files and charts included.
            metrics = fn(engine, er_engine=args.engine, run_id="bench",
                         var_dir=Path(tempfile.gettempdir()) / f"bench_resolve_var_{os.getpid()}")
            if prof:
                prof.disable()
                args.profile.mkdir(parents=True, exist_ok=True)
                prof.dump_stats(str(args.profile / f"{kind}.prof"))
            seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu
            pg = sum(_cpu(p) - pg0.get(p, 0.0) for p in backends)
            # CPU of this process's threads (DuckDB's included, PostgreSQL's not).
            result[f"resolve {kind}s"] = {
                "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                "pg_cpu_seconds": round(pg, 2), "mentions": metrics["mentions"],
                "entities": metrics["entities"],
                "steps": {k: v for k, v in metrics.items() if k.endswith("_s")}}
        if args.rules:
            import expectations

            t0 = time.perf_counter()
            expectations.run_rules(engine, dt.datetime(2026, 11, 1, tzinfo=dt.UTC), run_id="bench")
            result["audit rules"] = {"seconds": round(time.perf_counter() - t0, 2)}
        result["checksums"] = checksums(engine, f"'{began}'::timestamptz")
    finally:
        pipeline.resolve_frame = original
        engine.dispose()
        if not args.keep:
            admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
            admin.dispose()
    if not args.no_bare:
        scratch = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench_resolve_{os.getpid()}"
        for kind in ("person", "employer"):
            b = bare(kind, features[kind], scratch, args.engine)
            result[f"bare {kind}s"] = b
            ours = result[f"resolve {kind}s"]["seconds"]
            if "seconds" in b:
                b["resolve_vs_bare"] = round(ours / b["seconds"], 2)
                b["resolve_vs_bare_cpu"] = round(result[f"resolve {kind}s"]["cpu_seconds"]
                                                 / max(b["cpu_seconds"], 0.01), 2)
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    result["load_average_after"] = os.getloadavg()
    text = json.dumps(result, ensure_ascii=False, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
