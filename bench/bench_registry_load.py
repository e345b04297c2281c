"""Benchmark: load a disability-registry snapshot of N rows into raw and staging.

Reports rows/s per stage and the peak resident memory, so that streaming (memory flat in
file size) can be checked: run with --rows 100000 and --rows 1000000 and compare.

    .venv/bin/python bench/bench_registry_load.py --rows 100000
"""

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_snapshot(path: Path, rows: int, seed: int = 7) -> None:
    from quotalink.contracts import DISABILITY_REGISTRY
    from quotalink.standardise import check_character

    rnd = random.Random(seed)
    cats = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
    levels = ["一级", "二级", "三级", "四级"]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write(",".join(DISABILITY_REGISTRY.columns) + "\r\n")
        for i in range(rows):
            birth = f"{rnd.randint(1950, 2005)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}"
            core = f"370102{birth}{i % 1000:03d}"
            ident = core + check_character(core)
            c, lv = rnd.randint(1, 7), rnd.randint(1, 4)
            fh.write(
                f"{ident}{c}{lv}{i // 1000 % 10},王{'秀英建国伟'[i % 5]},{'男女'[i % 2]},汉族,"
                f"{birth[:4]}-{birth[4:6]}-{birth[6:]},{ident},{cats[c - 1]},{levels[lv - 1]},"
                f"2016-05-01,2026-05-01,正常,,,370102,济南市历下区某街道{i}号,138{i:08d},2024-05-03 10:00:00\r\n"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--warehouse-url", default=os.environ.get(
        "BENCH_WAREHOUSE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"))
    args = parser.parse_args()
    from connectors.disability_registry import SOURCE
    from warehouse.db import get_engine

    db = f"ql_bench_{os.getpid()}"
    admin = sa.create_engine(args.warehouse_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {db}"))
    url = sa.engine.make_url(args.warehouse_url).set(database=db).render_as_string(hide_password=False)
    os.environ["WAREHOUSE_URL"] = url
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "disability_registry"
            folder.mkdir()
            path = folder / "cjrxx_202405.csv"
            t0 = time.perf_counter()
            write_snapshot(path, args.rows)
            (folder / "cjrxx_202405.csv.ok").touch()
            t_gen = time.perf_counter() - t0
            from quotalink.settings import get_settings

            engine = get_engine(get_settings())
            rss0 = peak_rss_mb()
            t0 = time.perf_counter()
            [result] = SOURCE.load(engine, Path(tmp))
            t_raw = time.perf_counter() - t0
            rss_raw = peak_rss_mb()
            t0 = time.perf_counter()
            SOURCE.stage(engine)
            t_stage = time.perf_counter() - t0
            rss_stage = peak_rss_mb()
            size_mb = path.stat().st_size / 2**20
        assert result.rows_loaded == args.rows, result
        print(f"rows {args.rows:,} ({size_mb:.0f} MiB file, written in {t_gen:.1f}s)")
        print(f"raw:     {t_raw:7.1f}s  {args.rows / t_raw:10,.0f} rows/s  peak RSS {rss_raw:,.0f} MiB")
        print(f"staging: {t_stage:7.1f}s  {args.rows / t_stage:10,.0f} rows/s  peak RSS {rss_stage:,.0f} MiB")
        print(f"(peak RSS before loading {rss0:,.0f} MiB)")
    finally:
        from warehouse import db as wdb

        wdb._engine_for.cache_clear()
        with admin.connect() as conn:
            conn.execute(sa.text(f"drop database if exists {db} with (force)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
