"""Benchmark: load throughput (rows/s) and peak memory per source, raw and staging.

Each source is loaded in its own child process so that its peak resident memory
(ru_maxrss) is its own; --tracemalloc adds the peak of Python allocations (slower).

    # a synthetic province of N persons (synthetic.generate), every source:
    .venv/bin/python bench/bench_sources.py --persons 100000
    # deliveries already on disk (e.g. from `quotalink generate`):
    .venv/bin/python bench/bench_sources.py --sources-dir /tmp/prov/sources
    # only the HR database, with an ac08 of N contribution rows written by this script:
    .venv/bin/python bench/bench_sources.py --hr-rows 2000000 --only hr
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("hr", "employment_service", "training", "graduates", "org", "establishment", "unemployed_survey")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    VmHWM where Linux has it: ru_maxrss survives exec, so a child would report its parent's
    peak (e.g. the generator's) instead of its own.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_hr_db(path: Path, contributions: int, seed: int = 7) -> None:
    """A SQLite hr.db shaped like the contract with the given number of ac08 rows."""
    rnd = random.Random(seed)
    persons = max(1, contributions // 48)  # four insurances over twelve months
    employers = max(1, persons // 20)
    t0 = dt.datetime(2024, 1, 1)
    db = sqlite3.connect(path)
    db.executescript(
        "create table ab01 (aab001 varchar(20) primary key, aab003 varchar(20), aab004 varchar(200),"
        " aab019 varchar(2), aab301 varchar(6), aae036 timestamp);"
        "create table ac01 (aac001 varchar(20) primary key, aac002 varchar(18), aac003 varchar(50),"
        " aac004 varchar(1), aac006 integer, aae005 varchar(20), aae036 timestamp);"
        "create table ac08 (aaz223 bigint primary key, aac001 varchar(20), aab001 varchar(20),"
        " aae002 integer, aae140 varchar(3), aac040 numeric(12,2), aae078 varchar(1), aae036 timestamp);"
    )
    db.executemany("insert into ab01 values (?,?,?,?,?,?)", (
        (f"U{i:07d}", f"91370102MA{i:07d}X", f"济南测试{i}有限公司", "10", "370102", str(t0)) for i in range(employers)))
    db.executemany("insert into ac01 values (?,?,?,?,?,?,?)", (
        (f"P{i:08d}", f"370102{1960 + i % 40}0101{i % 1000:03d}1", "王秀英", "12"[i % 2], 19800101,
         f"138{i:08d}", str(t0)) for i in range(persons)))

    def rows():
        n = 0
        while n < contributions:
            p = n // 48
            month = n % 12 + 1
            kind = ("110", "210", "310", "120")[n // 12 % 4]
            yield (n + 1, f"P{p:08d}", f"U{p % employers:07d}", 202400 + month, kind,
                   f"{rnd.randint(2200, 9000)}.00", "1",
                   str(t0 + dt.timedelta(seconds=n)))
            n += 1

    db.executemany("insert into ac08 values (?,?,?,?,?,?,?,?)", rows())
    db.commit()
    db.close()


def child(source: str, use_tracemalloc: bool) -> dict:
    """Load and stage one source into WAREHOUSE_URL; measurements as a dict."""
    import importlib

    from quotalink.settings import get_settings
    from warehouse.db import get_engine

    settings = get_settings()
    engine = get_engine(settings)
    if use_tracemalloc:
        import tracemalloc

        tracemalloc.start()
    base = peak_rss_mb()
    if source == "hr":
        from connectors import hr

        t0 = time.perf_counter()
        results = hr.load(engine, settings)
        t_raw = time.perf_counter() - t0
        rss_raw = peak_rss_mb()
        t0 = time.perf_counter()
        hr.stage(engine)
        t_stage = time.perf_counter() - t0
    else:
        src = importlib.import_module(f"connectors.{source}").SOURCE
        t0 = time.perf_counter()
        results = src.load(engine, settings.require_sources_dir())
        t_raw = time.perf_counter() - t0
        rss_raw = peak_rss_mb()
        t0 = time.perf_counter()
        src.stage(engine)
        t_stage = time.perf_counter() - t0
    out = {
        "source": source,
        "deliveries": len(results),
        "rejected": sum(r.status == "rejected" for r in results),
        "rows_read": sum(r.rows_read for r in results),
        "rows_loaded": sum(r.rows_loaded for r in results),
        "raw_s": t_raw,
        "stage_s": t_stage,
        "rss_base_mb": base,
        "rss_raw_mb": rss_raw,
        "rss_peak_mb": peak_rss_mb(),
    }
    with engine.connect() as conn:
        out["rows_staged"] = conn.execute(
            sa.text("select coalesce(sum(s.rows_staged), 0) from ops.stage_audit s where s.source = :s"),
            {"s": source},
        ).scalar()
    if use_tracemalloc:
        import tracemalloc

        out["py_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, help="generate a province of this many persons")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sources-dir", type=Path, help="use the deliveries in this directory")
    parser.add_argument("--hr-rows", type=int, help="write an hr.db with this many ac08 rows")
    parser.add_argument("--only", default=",".join(SOURCES), help="comma-separated source ids")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations")
    parser.add_argument("--warehouse-url", default=os.environ.get(
        "BENCH_WAREHOUSE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(child(args.child, args.tracemalloc)))
        return 0

    only = [s for s in args.only.split(",") if s]
    db = f"ql_bench_src_{os.getpid()}"
    admin = sa.create_engine(args.warehouse_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {db}"))
    url = sa.engine.make_url(args.warehouse_url).set(database=db).render_as_string(hide_password=False)
    tmp = tempfile.TemporaryDirectory(prefix="ql_bench_")
    try:
        sources = args.sources_dir
        if sources is None:
            sources = Path(tmp.name) / "sources"
            sources.mkdir()
        if args.persons:
            import synthetic

            t0 = time.perf_counter()
            synthetic.generate(sources, Path(tmp.name) / "truth", args.persons, args.seed)
            print(f"generated {args.persons:,} persons in {time.perf_counter() - t0:.1f}s")
        if args.hr_rows:
            (sources / "hr").mkdir(exist_ok=True)
            t0 = time.perf_counter()
            write_hr_db(sources / "hr" / "hr.db", args.hr_rows)
            print(f"wrote hr.db with {args.hr_rows:,} ac08 rows in {time.perf_counter() - t0:.1f}s")
        env = {**os.environ, "WAREHOUSE_URL": url, "SOURCES_DIR": str(sources), "QUOTALINK_PROGRESS": "0",
               "PYTHONPATH": str(ROOT)}
        env.pop("HR_DB_URL", None)
        print(f"{'source':20} {'deliv':>5} {'rows':>10} {'raw s':>7} {'raw rows/s':>11} "
              f"{'stage s':>7} {'stage rows/s':>12} {'base MiB':>8} {'peak MiB':>8}"
              + (f" {'py MiB':>7}" if args.tracemalloc else ""))
        for source in only:
            cmd = [sys.executable, __file__, "--child", source] + (["--tracemalloc"] if args.tracemalloc else [])
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                print(f"{source:20} FAILED: {proc.stderr.strip().splitlines()[-1] if proc.stderr else '?'}")
                continue
            m = json.loads(proc.stdout.strip().splitlines()[-1])
            rows = m["rows_loaded"]
            print(f"{source:20} {m['deliveries']:>5} {rows:>10,} {m['raw_s']:>7.1f} "
                  f"{rows / m['raw_s'] if m['raw_s'] else 0:>11,.0f} {m['stage_s']:>7.1f} "
                  f"{m['rows_staged'] / m['stage_s'] if m['stage_s'] else 0:>12,.0f} "
                  f"{m['rss_base_mb']:>8,.0f} {m['rss_peak_mb']:>8,.0f}"
                  + (f" {m['py_peak_mb']:>7,.0f}" if args.tracemalloc else ""))
    finally:
        tmp.cleanup()
        with admin.connect() as conn:
            conn.execute(sa.text(f"drop database if exists {db} with (force)"))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
