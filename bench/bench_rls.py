"""Row-level security and masking cost at 100k flags: the same queries as the owner, a reader, a city, the console."""

import argparse
import statistics
import time
import uuid

import sqlalchemy as sa

from warehouse import roles


def _setup(url: str, flags: int, employers: int, persons: int) -> None:
    from warehouse.db import ensure_schema

    engine = sa.create_engine(url)
    ensure_schema(engine)
    cities = roles.city_codes()
    with engine.begin() as conn:
        conn.execute(sa.text("""
            insert into core.employer (employer_id, name, region_code)
            select 'E' || i, '单位' || i, (array[:cities])[1 + i % 16] || '02'
            from generate_series(1, :n) i""".replace(":cities", ",".join(f"'{c}'" for c in cities))),
            {"n": employers})
        conn.execute(sa.text("""
            insert into core.person (person_id, full_name, id_number, phone, hukou_region_code)
            select 'P' || i, '张三', '370102199001011234', '13812345678', '370102'
            from generate_series(1, :n) i"""), {"n": persons})
        conn.execute(sa.text("""
            insert into core.person_city (person_id, city_code)
            select p.person_id, api.city_of(e.region_code)
            from generate_series(1, :n) i
            join core.person p on p.person_id = 'P' || i
            join core.employer e on e.employer_id = 'E' || (1 + i % :e)"""), {"n": persons, "e": employers})
        conn.execute(sa.text("""
            insert into mart.anomaly_flag (flag_id, rule, year, person_id, employer_id, severity, score,
                evidence, first_seen_at, last_seen_at, active)
            select 'F' || i, 'MULTI_EMPLOYER', 2025, 'P' || (1 + i % :p), 'E' || (1 + i % :e), 'high', 0.9,
                   '{"phone": "13812345678", "facts": {"wage": 3000}}'::jsonb, now(), now(), true
            from generate_series(1, :n) i"""), {"n": flags, "p": persons, "e": employers})
        conn.execute(sa.text("""
            insert into review.decision (flag_id, decision, reviewer, note)
            select 'F' || (i * 10), 'confirmed', '审计员', '核实'
            from generate_series(1, :n) i"""), {"n": flags // 10})
        conn.execute(sa.text("analyze"))
    engine.dispose()


QUERIES = {
    "count api.anomaly_flag": "select count(*) from api.anomaly_flag",
    "page of 50 api.anomaly_flag (evidence masked for non-pii)":
        "select * from api.anomaly_flag where rule = 'MULTI_EMPLOYER' order by flag_id limit 50",
    "one flag by id": "select * from api.anomaly_flag where flag_id = 'F5000'",
    "count api.person": "select count(*) from api.person",
}
CONSOLE = {
    "console: count mart.anomaly_flag": "select count(*) from mart.anomaly_flag",
    "console: page of 50 flags + decision": """
        select f.flag_id, d.decision from mart.anomaly_flag f
        left join review.decision d on d.flag_id = f.flag_id order by f.flag_id limit 50""",
}


def _time(engine: sa.Engine, sql: str, setup: str | None, repeat: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        with engine.begin() as conn:
            if setup:
                conn.execute(sa.text(setup))
            t0 = time.perf_counter()
            rows = conn.execute(sa.text(sql)).all()
            times.append(time.perf_counter() - t0)
            n = rows[0][0] if len(rows) == 1 and isinstance(rows[0][0], int) else len(rows)
    return statistics.median(times), n


def main() -> None:
    """Build a database with N flags, then time the api queries per role."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", default="postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--flags", type=int, default=100_000)
    parser.add_argument("--employers", type=int, default=20_000)
    parser.add_argument("--persons", type=int, default=80_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database (prints its name)")
    args = parser.parse_args()
    name = f"ql_bench_rls_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.engine.make_url(args.server).set(database=name)
    users = []
    try:
        t0 = time.perf_counter()
        _setup(url.render_as_string(hide_password=False), args.flags, args.employers, args.persons)
        print(f"setup {args.flags} flags, {args.employers} employers, {args.persons} persons: "
              f"{time.perf_counter() - t0:.1f}s")
        engines = {"owner (superuser)": sa.create_engine(url)}
        db_admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        for label, group in (("reader", roles.role_name("reader")), ("pii_reader", roles.role_name("pii_reader")),
                             ("city 3701", roles.city_role("3701")), ("console", roles.role_name("console"))):
            user = f"ql_bench_{uuid.uuid4().hex[:8]}"
            with db_admin.connect() as conn:
                conn.execute(sa.text(f"create role {user} login in role {group}"))
            users.append(user)
            engines[label] = sa.create_engine(url.set(username=user))
        for label, engine in engines.items():
            if label == "console":
                continue
            for q, sql in QUERIES.items():
                secs, n = _time(engine, sql, None, args.repeat)
                print(f"{label:18} {q:58} {secs * 1000:8.1f} ms  ({n})")
        for setting in ("", "3701"):
            for q, sql in CONSOLE.items():
                secs, n = _time(engines["console"], sql,
                                f"select set_config('quotalink.city_code', '{setting}', true)", args.repeat)
                print(f"{'console ' + (setting or 'province'):18} {q:58} {secs * 1000:8.1f} ms  ({n})")
        for q, sql in CONSOLE.items():
            secs, n = _time(engines["owner (superuser)"], sql, None, args.repeat)
            print(f"{'owner (superuser)':18} {q:58} {secs * 1000:8.1f} ms  ({n})")
        for e in engines.values():
            e.dispose()
        db_admin.dispose()
    finally:
        with admin.connect() as conn:
            if args.keep:
                print(f"kept database {name}")
            else:
                conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
            for user in users:
                conn.execute(sa.text(f"drop role if exists {user}"))
        admin.dispose()


if __name__ == "__main__":
    main()
