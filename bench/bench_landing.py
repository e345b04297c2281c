"""Benchmark: raw landing against the COPY floor per source, and staging with 1 and N workers.

The floor is PostgreSQL COPY of the same landed rows (converted to CSV beforehand, not timed)
into a copy of the raw table with its indexes. Staging runs once with QUOTALINK_STAGE_WORKERS=1
and once with --workers on a clone of the landed database; the staged tables are compared.

    quotalink generate --out /tmp/p/sources --truth /tmp/p/truth --persons 250000 --seed 5
    PYTHONPATH=$PWD .venv/bin/python bench/bench_landing.py --sources-dir /tmp/p/sources
"""

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SKIP_QUOTA = ("quota",)  # pulled over HTTP from the emulator: an API, not a delivery to COPY


def _land(source: str) -> dict:
    """Land one source into WAREHOUSE_URL; landing time and the COPY floor of its rows."""
    from connectors.registry import SOURCE_OBJECTS, raw_tables
    from quotalink.settings import get_settings
    from warehouse.db import get_engine

    settings = get_settings()
    engine = get_engine(settings)
    t0 = time.perf_counter()
    results = SOURCE_OBJECTS[source].load(engine, settings)
    t_land = time.perf_counter() - t0
    floor = 0.0
    rows = 0
    with engine.begin() as conn:
        cur = conn.connection.driver_connection.cursor()
        for spec in raw_tables(source):
            buf = io.BytesIO()
            cur.copy_expert(f'COPY raw."{spec.table}" TO STDOUT WITH (FORMAT csv)', buf)
            buf.seek(0)
            cur.execute(f'CREATE TEMP TABLE floor_copy (LIKE raw."{spec.table}" INCLUDING ALL)')
            t0 = time.perf_counter()
            cur.copy_expert("COPY floor_copy FROM STDIN WITH (FORMAT csv)", buf)
            floor += time.perf_counter() - t0
            rows += cur.rowcount
            cur.execute("DROP TABLE floor_copy")
        conn.rollback()
    return {"source": source, "rows": rows, "read": sum(r.rows_read for r in results),
            "land_s": t_land, "floor_s": floor}


def _stage(source: str) -> dict:
    """Stage one landed source; time and rows staged."""
    from connectors.registry import SOURCE_OBJECTS
    from quotalink.settings import get_settings
    from warehouse.db import get_engine

    engine = get_engine(get_settings())
    t0 = time.perf_counter()
    report = SOURCE_OBJECTS[source].stage(engine)
    t = time.perf_counter() - t0
    staged = sum(n for d in report.values() for n in d.staged.values())
    raw = 0
    with engine.connect() as conn:
        raw = conn.execute(sa.text("select coalesce(sum(rows_loaded), 0) from ops.load_audit where source = :s"),
                           {"s": source}).scalar()
    return {"source": source, "stage_s": t, "staged": staged, "raw": raw}


def _digest(url: str) -> dict[str, str]:
    """A hash of every staging table's rows in key order (what 'byte-identical' compares)."""
    from warehouse.schema import metadata

    engine = sa.create_engine(url)
    out = {}
    with engine.connect() as conn:
        for name, table in metadata.tables.items():
            if not name.startswith("staging."):
                continue
            cols = [c.name for c in table.columns if c.name not in ("staged_at", "loaded_at")]
            order = ", ".join(f'"{c}"' for c in cols)
            buf = io.BytesIO()
            cur = conn.connection.driver_connection.cursor()
            cur.copy_expert(f"COPY (select {order} from {name} order by {order}) TO STDOUT", buf)
            out[name] = hashlib.sha256(buf.getvalue()).hexdigest()
    engine.dispose()
    return out


def _run(kind: str, source: str, env: dict) -> dict:
    proc = subprocess.run([sys.executable, __file__, f"--{kind}", source], env=env, capture_output=True,
                          text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} {source}: {proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources-dir", type=Path, help="deliveries of `quotalink generate` (required)")
    parser.add_argument("--workers", type=int, default=2, help="staging workers of the parallel run")
    parser.add_argument("--warehouse-url", default=os.environ.get(
        "BENCH_WAREHOUSE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--land-only", action="store_true", help="landing and its COPY floor only, no staging")
    parser.add_argument("--land", help=argparse.SUPPRESS)
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.land:
        print(json.dumps(_land(args.land)))
        return 0
    if args.stage:
        print(json.dumps(_stage(args.stage)))
        return 0
    if args.sources_dir is None:
        parser.error("--sources-dir is required")

    from quotalink.contracts import SOURCES

    base = f"ql_bench_land_{os.getpid()}"
    dbs = [base, f"{base}_w"]
    admin = sa.create_engine(args.warehouse_url, isolation_level="AUTOCOMMIT")
    url = {db: sa.engine.make_url(args.warehouse_url).set(database=db).render_as_string(hide_password=False)
           for db in dbs}
    env = {**os.environ, "SOURCES_DIR": str(args.sources_dir), "QUOTALINK_PROGRESS": "0", "PYTHONPATH": str(ROOT)}
    env.pop("HR_DB_URL", None)
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {base}"))
    try:
        print(f"{'source':20} {'rows':>10} {'land s':>8} {'floor s':>8} {'ratio':>6}")
        tot_land = tot_floor = 0.0
        for source in SOURCES:
            m = _run("land", source, {**env, "WAREHOUSE_URL": url[base]})
            if source in SKIP_QUOTA:
                print(f"{source:20} {m['rows']:>10,} {m['land_s']:>8.2f} {'(API pull, not in the totals)':>16}")
                continue
            tot_land += m["land_s"]
            tot_floor += m["floor_s"]
            print(f"{source:20} {m['rows']:>10,} {m['land_s']:>8.2f} {m['floor_s']:>8.2f} "
                  f"{m['land_s'] / m['floor_s'] if m['floor_s'] else 0:>6.1f}")
        print(f"{'total (files + hr)':20} {'':>10} {tot_land:>8.2f} {tot_floor:>8.2f} {tot_land / tot_floor:>6.1f}")
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        if args.land_only:
            return 0
        with admin.connect() as conn:
            conn.execute(sa.text(f"create database {dbs[1]} template {base}"))
        print(f"\n{'source':20} {'staged':>10} {'1 worker s':>10} {'rows/s':>9} "
              f"{f'{args.workers} workers s':>11} {'rows/s':>9}")
        totals = [0.0, 0.0]
        for source in SOURCES:
            one = _run("stage", source, {**env, "WAREHOUSE_URL": url[dbs[0]], "QUOTALINK_STAGE_WORKERS": "1"})
            many = _run("stage", source, {**env, "WAREHOUSE_URL": url[dbs[1]],
                                          "QUOTALINK_STAGE_WORKERS": str(args.workers)})
            totals[0] += one["stage_s"]
            totals[1] += many["stage_s"]
            print(f"{source:20} {one['staged']:>10,} {one['stage_s']:>10.2f} {one['raw'] / one['stage_s']:>9,.0f} "
                  f"{many['stage_s']:>11.2f} {many['raw'] / many['stage_s']:>9,.0f}")
        print(f"{'total':20} {'':>10} {totals[0]:>10.2f} {'':>9} {totals[1]:>11.2f}")
        same = _digest(url[dbs[0]]) == _digest(url[dbs[1]])
        print(f"\nstaging tables identical with 1 and {args.workers} workers: {same}")
    finally:
        with admin.connect() as conn:
            for db in dbs:
                conn.execute(sa.text(f"drop database if exists {db} with (force)"))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
