"""Cost of what a publish adds (versions, ID tokens, person cities) at N golden persons."""

import argparse
import time
import uuid

import sqlalchemy as sa

from warehouse.history import after_publish


def main() -> None:
    """Publish N persons three times: all new, unchanged, 1% changed; print the seconds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--persons", type=int, default=500_000)
    args = parser.parse_args()
    from warehouse.db import ensure_schema

    name = f"ql_bench_pub_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    engine = sa.create_engine(sa.engine.make_url(args.server).set(database=name))
    try:
        ensure_schema(engine, "")
        with engine.begin() as conn:
            conn.execute(sa.text("""
                insert into core.person (person_id, full_name, id_number, phone, hukou_region_code, updated_at)
                select 'P' || i, '张三', lpad(i::text, 18, '3'), '13812345678',
                       '37' || lpad((1 + i % 16)::text, 2, '0') || '02', now()
                from generate_series(1, :n) i"""), {"n": args.persons})
            conn.execute(sa.text("""
                insert into core.person_xref (source, source_key, person_id)
                select s, 'K' || i, 'P' || i from generate_series(1, :n) i,
                       unnest(array['disability_registry', 'hr']) s"""), {"n": args.persons})
        for label, change in (("all new", None), ("unchanged", None),
                              ("1% changed", "update core.person set phone = '13900000000' "
                                             "where right(person_id, 2) = '00'")):
            with engine.begin() as conn:
                if change:
                    conn.execute(sa.text(change))
                t0 = time.perf_counter()
                out = after_publish(conn, "person", id_token_key="bench-key")
                secs = time.perf_counter() - t0
            print(f"{args.persons} persons, {label}: {secs:.1f}s  {out}")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


if __name__ == "__main__":
    main()
