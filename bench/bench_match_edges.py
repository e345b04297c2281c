"""Benchmark: what explaining every link (core.person_match_edge) adds to person resolution.

Usage:  PYTHONPATH=. .venv/bin/python bench/bench_match_edges.py --mentions 105000 [--repeat 4]

Writes bench_er's synthetic person mentions (~3.5 per person: 105,000 ≈ 30,000 persons)
into staging of a scratch database on WAREHOUSE_URL's server, then runs resolve_persons
(read, standardise, predict, cluster, survivorship, publish) alternately without and with
the match edges, and reports each run's stages, the fastest and median of each, and their
ratios. The machine is shared: compare interleaved runs, not single ones.
"""

import argparse
import functools
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

STAGES = ("read_s", "prepare_s", "predict_s", "cluster_s", "golden_s", "explain_s", "write_s",
          "edges_write_s", "total_s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=105_000, help="person mentions")
    parser.add_argument("--repeat", type=int, default=4, help="runs of each variant")
    args = parser.parse_args()

    import sqlalchemy as sa
    from bench_er import simulate_mentions

    import entity_resolution.pipeline as pipeline
    from tests.helpers import upgrade_to
    from warehouse.db import copy_frame

    server = os.environ.get("WAREHOUSE_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    name = f"ql_bench_edges_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    engine = sa.create_engine(sa.engine.make_url(server).set(database=name))
    try:
        upgrade_to(engine, "head")
        mentions, _ = simulate_mentions(args.mentions)
        table = sa.Table("person_mention", sa.MetaData(), schema="staging", autoload_with=engine)
        frame = mentions[[c.name for c in table.c if c.name in mentions.columns]].copy()
        for col, value in (("delivery", "bench"), ("period", "202610"),
                           ("observed_on", "2026-10-31")):
            if col not in frame:
                frame[col] = value
        with engine.begin() as conn:
            copy_frame(conn, "staging.person_mention", frame)
        resolve_frame = pipeline.resolve_frame
        pipeline.resolve_persons(engine)  # the first run mints every ID
        seconds: dict[bool, list[float]] = {False: [], True: []}
        run_id = str(uuid.uuid4())
        shares: list[float] = []
        for rep in range(args.repeat):
            for explain in (False, True):
                pipeline.resolve_frame = functools.partial(resolve_frame, explain_links=explain)
                start = time.perf_counter()
                metrics = pipeline.resolve_persons(engine, run_id=run_id)
                seconds[explain].append(time.perf_counter() - start)
                stages = {k: metrics[k] for k in STAGES if metrics.get(k) is not None}
                if explain:
                    shares.append((metrics["explain_s"] + metrics["edges_write_s"])
                                  / (metrics["total_s"] - metrics["explain_s"]
                                     - metrics["edges_write_s"]))
                print(rep, "with edges" if explain else "without", round(seconds[explain][-1], 2),
                      stages, "edges:", metrics["match_edges"], flush=True)
        pipeline.resolve_frame = resolve_frame
        # Within each run (robust on a shared machine): the explanation's own share.
        print("explain_s + edges_write_s of total_s, per run with edges:",
              [round(x, 3) for x in shares], "median", round(statistics.median(shares), 3))
        for explain, values in seconds.items():
            print("with edges" if explain else "without   ", [round(v, 2) for v in values],
                  "fastest", round(min(values), 2), "median", round(statistics.median(values), 2))
        print("ratio: fastest", round(min(seconds[True]) / min(seconds[False]), 3),
              "median", round(statistics.median(seconds[True]) / statistics.median(seconds[False]), 3))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
