"""Benchmark: pull the quota API (emulator in its own process) into raw and staging.

Reports items/s and the puller's peak memory for a delivery's quota/*.jsonl:

    .venv/bin/python bench/bench_quota.py --sources-dir /tmp/prov/sources
"""

import argparse
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa

TOKEN = "bench-token"


def serve(quota_dir: str, port_q) -> None:
    from connectors.quota_emulator import QuotaEmulator

    emulator = QuotaEmulator(Path(quota_dir), token=TOKEN).start()
    port_q.put(emulator.url)
    while True:
        time.sleep(3600)


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sources-dir", required=True)
    parser.add_argument("--years", default="2024,2025")
    parser.add_argument("--server-url", default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    q = mp.Queue()
    server = mp.Process(target=serve, args=(str(Path(args.sources_dir) / "quota"), q), daemon=True)
    server.start()
    url = q.get(timeout=600)
    db = f"ql_bench_quota_{os.getpid()}"
    admin = sa.create_engine(args.server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"create database {db}"))
    try:
        from connectors import quota
        from quotalink.settings import load_settings
        from warehouse.db import get_engine

        os.environ["WAREHOUSE_URL"] = sa.engine.make_url(args.server_url).set(database=db).render_as_string(False)
        engine = get_engine(load_settings())
        client = quota.QuotaClient(url, TOKEN, page_size=1000)
        years = quota.years_to_pull(args.years)
        t0 = time.perf_counter()
        results = quota.load(engine, client, years)
        t_raw = time.perf_counter() - t0
        rows = sum(r.rows_loaded for r in results)
        rss_raw = peak_rss_mb()
        t0 = time.perf_counter()
        quota.stage(engine)
        t_stage = time.perf_counter() - t0
        print(f"items {rows:,}: pull into raw {t_raw:.1f}s ({rows / t_raw:,.0f}/s), "
              f"staging {t_stage:.1f}s ({rows / t_stage:,.0f}/s); puller peak RSS "
              f"{rss_raw:,.0f} MiB after raw, {peak_rss_mb():,.0f} MiB after staging")
        engine.dispose()
    finally:
        server.kill()
        with admin.connect() as conn:
            conn.execute(sa.text(f"drop database if exists {db} with (force)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
