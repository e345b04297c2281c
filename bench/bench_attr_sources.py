"""Benchmark: what recording survivorship's sources adds to building the golden records.

Usage:  .venv/bin/python bench/bench_attr_sources.py [--persons 250000] [--repeat 3]

Person mentions as bench_er.py simulates them (~3.5 per person), prepared once and
clustered by their true person (linking is not what is measured). Then, fastest of
`--repeat`: survivorship (golden values and their winners), the core.person_attr_source
rows built from the winners (the added work), the whole golden-person step, the COPY of
those rows into a scratch PostgreSQL table (TEST_PG_URL or 127.0.0.1:5432; the database is
dropped afterwards), and what each mention's delivery adds to the bulk read of mentions.
"""

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=250_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import numpy as np
    import sqlalchemy as sa

    from bench.bench_er import simulate_mentions
    from entity_resolution.pipeline import _golden_persons
    from entity_resolution.prepare import prepare_persons
    from entity_resolution.survivorship import ATTRIBUTES, attribute_sources, golden_with_winners
    from warehouse.db import copy_frame_arrow
    from warehouse.schema import metadata

    mentions, truth = simulate_mentions(int(args.persons * 3.5))
    mentions["delivery"] = np.where(mentions["source"] == "disability_registry",
                                    "cjrxx_202610.csv", "window-1")
    features = prepare_persons(mentions)
    order = {k: i for i, k in enumerate(zip(mentions["source"], mentions["source_key"],
                                            strict=True))}
    labels = np.asarray(truth, dtype=np.int64)
    features["cluster"] = labels[[order[k] for k in zip(features["source"], features["source_key"],
                                                        strict=True)]]
    certificates = mentions.loc[mentions["source"] == "disability_registry", ["cert_number"]]
    certificates = certificates.drop_duplicates("cert_number").assign(status="valid")

    def before():
        m = features[["source", "source_key", "cluster", "full_name", "gender", "birth_date",
                      "cert_number", "disability_category", "disability_level",
                      "hukou_region_code", "phone", "observed_on"]].copy()
        m["id_number"] = features["id_key"]
        m["cert_status"] = None
        return golden_with_winners(m, "cluster", "person")

    def timed(fn):
        best, out = float("inf"), None
        for _ in range(args.repeat):
            t = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t)
        return best, out

    golden_only_s, (_, winners) = timed(before)
    sources_only_s, _ = timed(lambda: attribute_sources(features, winners, ATTRIBUTES["person"]))
    with_sources_s, (golden, sources) = timed(lambda: _golden_persons(features, certificates))
    sources.insert(0, "person_id", sources.pop("cluster").astype(str))

    server = os.environ.get("TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    name = f"ql_bench_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    engine = sa.create_engine(sa.engine.make_url(server).set(database=name))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("create schema core"))
            metadata.tables["core.person_attr_source"].create(conn)

        def write():
            with engine.begin() as conn:
                conn.execute(sa.text("truncate core.person_attr_source"))
                copy_frame_arrow(conn, "core.person_attr_source", sources)

        copy_s, _ = timed(write)
        # The resolution's read of the mentions now includes their delivery.
        from entity_resolution.pipeline import _read_bulk

        with engine.begin() as conn:
            conn.execute(sa.text("create table core.mention (source text, source_key text, "
                                 "full_name text, delivery text)"))
            copy_frame_arrow(conn, "core.mention",
                             features[["source", "source_key", "full_name", "delivery"]])

        def read(cols: str):
            with engine.connect() as conn:
                return _read_bulk(conn, f"select {cols} from core.mention")

        read_before_s, _ = timed(lambda: read("source, source_key, full_name"))
        read_after_s, _ = timed(lambda: read("source, source_key, full_name, delivery"))
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    print(json.dumps({
        "persons": int(len(golden)), "mentions": int(len(features)),
        "attr_source_rows": int(len(sources)),
        "survivorship_s": round(golden_only_s, 2),
        "golden_persons_with_sources_s": round(with_sources_s, 2),
        "attribute_sources_s": round(sources_only_s, 2),
        "copy_attr_source_s": round(copy_s, 2),
        "read_delivery_added_s": round(read_after_s - read_before_s, 2),
    }, indent=1))


if __name__ == "__main__":
    main()
