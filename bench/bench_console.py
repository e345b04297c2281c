"""The console's queue and case pages at 100,000 flags: p95 latency for 1 user and 20 concurrent users."""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from warehouse import roles

PASSWORD = "bench-password-1"
ROOT = Path(__file__).resolve().parent.parent


def setup(url: str, flags: int, employers: int, persons: int) -> None:
    """Seed a warehouse: employers over the 16 cities, persons, flags, some decisions, accounts."""
    from review.accounts import add_account
    from warehouse.db import ensure_schema

    engine = sa.create_engine(url)
    ensure_schema(engine, "")
    cities = ",".join(f"'{c}'" for c in roles.city_codes())
    with engine.begin() as conn:
        conn.execute(sa.text(f"""
            insert into core.employer (employer_id, name, uscc, region_code)
            select 'E' || i, '单位' || i, '9137' || lpad(i::text, 14, '0'), (array[{cities}])[1 + i % 16] || '02'
            from generate_series(1, :n) i"""), {"n": employers})
        conn.execute(sa.text("""
            insert into core.person (person_id, full_name, id_number, phone, birth_date)
            select 'P' || i, '张' || i, '3701021990' || lpad(i::text, 8, '0'), '138' || lpad(i::text, 8, '0'),
                   date '1980-01-01' + (i % 9000)
            from generate_series(1, :n) i"""), {"n": persons})
        conn.execute(sa.text("""
            insert into core.person_city (person_id, city_code)
            select 'P' || i, api.city_of(e.region_code) from generate_series(1, :n) i
            join core.employer e on e.employer_id = 'E' || (1 + i % :e)"""), {"n": persons, "e": employers})
        conn.execute(sa.text("""
            insert into core.person_xref (source, source_key, person_id)
            select 'disability_registry', 'K' || i, 'P' || i from generate_series(1, :n) i"""), {"n": persons})
        conn.execute(sa.text("""
            insert into mart.anomaly_flag (flag_id, rule, year, person_id, employer_id, severity, score,
                evidence, first_seen_at, last_seen_at, active)
            select 'F' || i, (array['MULTI_EMPLOYER','BELOW_MIN_WAGE','SHORT_CONTRACT','CERT_INVALID'])[1 + i % 4],
                   2023 + i % 3, 'P' || (1 + i % :p), 'E' || (1 + i % :e),
                   (array['high','medium','low'])[1 + i % 3], (i % 100) / 100.0,
                   jsonb_build_object('declared', jsonb_build_array(jsonb_build_object('monthly_wage', 1800)),
                                      'mentions', jsonb_build_array(jsonb_build_object(
                                          'source', 'disability_registry', 'source_key', 'K' || (1 + i % :p),
                                          'entity', 'person'))),
                   now(), now(), i % 20 <> 0
            from generate_series(1, :n) i"""), {"n": flags, "p": persons, "e": employers})
        conn.execute(sa.text("""
            insert into mart.quota_compliance (employer_id, year, levy_gap)
            select 'E' || i, y, (i * 37 % 100000) from generate_series(1, :e) i, generate_series(2023, 2025) y"""),
            {"e": employers})
        conn.execute(sa.text("""
            insert into review.decision (flag_id, decision, reviewer, note, reason)
            select 'F' || (i * 50), 'dismissed', 'bench', '核实', 'D01' from generate_series(1, :n) i"""),
            {"n": flags // 50})
        conn.execute(sa.text("analyze"))
    add_account(engine, "bench_city", "auditor", PASSWORD, "3701")
    add_account(engine, "bench_province", "supervisor", PASSWORD, None)
    engine.dispose()


def serve(url: str, port: int, workers: int) -> None:
    """Serve the console as `quotalink review --workers N` does (child process, so that the
    clients do not share its interpreter)."""
    import uvicorn

    os.environ["WAREHOUSE_URL"] = url
    uvicorn.run("review.app:app_from_environment", factory=True, workers=workers, host="127.0.0.1",
                port=port, log_level="warning", access_log=False)


def login(base: str, user: str) -> str:
    """A session cookie of the user (signed in through the API, as a browser would)."""
    import httpx

    r = httpx.post(base + "/api/login", json={"username": user, "password": PASSWORD}, timeout=60)
    assert r.status_code == 200, r.status_code
    return r.cookies["ql_session"]


async def _session(host: str, port: int, cookie: str, paths: list[str], n: int, seed: int,
                   out: list[float]) -> None:
    """One user: a keep-alive connection, n requests one after the other (closed loop)."""
    import asyncio

    rnd = random.Random(seed)
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(n):
            path = rnd.choice(paths)
            t0 = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nCookie: ql_session={cookie}\r\n\r\n"
                         .encode())
            status = int((await reader.readline()).split()[1])
            length = None
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            assert length is not None and status == 200, (path, status)
            await reader.readexactly(length)
            out.append((time.perf_counter() - t0) * 1000)
    finally:
        writer.close()


def measure(base: str, cookies: list[str], paths: list[str], per_user: int) -> list[float]:
    """Latencies (ms) of per_user requests by each of len(cookies) concurrent users.

    The client is one asyncio loop writing raw HTTP/1.1 on keep-alive connections: it shares
    the machine's cores with the server, and a thread per user (httpx) would take a large
    share of them (its CPU is reported apart)."""
    import asyncio

    out: list[float] = []
    host, port = base.removeprefix("http://").split(":")

    async def run() -> None:
        await asyncio.gather(*(_session(host, int(port), c, paths, per_user, i, out)
                               for i, c in enumerate(cookies)))

    asyncio.run(run())
    return out


def _cpu_of(pids: list[int]) -> float:
    """CPU seconds (user + system) of live processes."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """pid and its descendants (uvicorn's supervisor and workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(c) for t in Path(f"/proc/{p}/task").iterdir()
                     for c in (t / "children").read_text().split()]
        except FileNotFoundError:
            pass
    return out


class CpuMeter:
    """CPU seconds spent by the server processes, the database's backends and this client."""

    def __init__(self, server_pid: int, engine: sa.Engine, database: str) -> None:
        self.server_pid, self.engine, self.database = server_pid, engine, database

    def sample(self) -> tuple[float, dict[int, float], float, int]:
        """(server CPU, CPU of each live backend, client CPU, sessions opened so far)."""
        with self.engine.connect() as conn:
            backends = conn.execute(sa.text(
                "select pid from pg_stat_activity where datname = :d and pid <> pg_backend_pid()"),
                {"d": self.database}).scalars().all()
            sessions = conn.execute(sa.text(
                "select sessions from pg_stat_database where datname = :d"), {"d": self.database}).scalar()
        return (_cpu_of(_tree(self.server_pid)), {b: _cpu_of([b]) for b in backends},
                time.process_time(), sessions)

    @staticmethod
    def per_request(a: tuple, b: tuple, n: int) -> tuple[float, float, float, int]:
        """CPU ms per request of server, backends, client between samples a and b, and the
        sessions opened in between. A backend that exited in between is not counted: with
        new sessions > 0 the backends' figure is a lower bound."""
        pg = sum(cpu - a[1].get(pid, 0.0) for pid, cpu in b[1].items())
        return ((b[0] - a[0]) * 1000 / n, pg * 1000 / n, (b[2] - a[2]) * 1000 / n, b[3] - a[3])


def p95(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=20)[-1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--flags", type=int, default=100_000, help="flags to seed")
    ap.add_argument("--requests", type=int, default=100, help="requests per page kind for one user")
    ap.add_argument("--users", type=int, default=20, help="concurrent users")
    ap.add_argument("--per-user", type=int, default=15, help="requests per concurrent user and page kind")
    ap.add_argument("--workers", type=int, default=2, help="server processes (quotalink review --workers)")
    ap.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.workers)
        return 0
    server = os.environ.get("TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
    name = f"ql_bench_console_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{name}"'))
    url = sa.engine.make_url(server).set(database=name).render_as_string(hide_password=False)
    child = None
    try:
        t0 = time.perf_counter()
        setup(url, args.flags, employers=max(100, args.flags // 40), persons=max(100, args.flags // 2))
        print(f"seeded {args.flags} flags in {time.perf_counter() - t0:.1f}s")
        port = 18000 + random.randrange(1000)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        child = subprocess.Popen([sys.executable, __file__, "--workers", str(args.workers), "--serve", url, str(port)], env=env, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        import httpx

        for _ in range(200):
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            city_flags = conn.execute(sa.text(
                "select f.flag_id from mart.anomaly_flag f join core.employer e using (employer_id) "
                "where api.city_of(e.region_code) = '3701' order by random() limit 200")).scalars().all()
            all_flags = conn.execute(sa.text(
                "select flag_id from mart.anomaly_flag order by random() limit 200")).scalars().all()
        meter = CpuMeter(child.pid, engine, name)
        queue = ["/", "/?page=2", "/?rule=BELOW_MIN_WAGE", "/?severity=high&year=2024", "/?status=all"]
        print("load average before:", open("/proc/loadavg").read().split()[:3])
        print(f"{'user':16} {'page':6} {'users':>5} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} "
              f"{'server':>7} {'pg':>6} {'client':>7} {'conns':>5}")
        print("(server, pg = the database's backends, client: CPU ms per request; conns: new "
              "database sessions during the run)")
        for user, flags in (("bench_province", all_flags), ("bench_city", city_flags)):
            cases = [f"/flags/{f}" for f in flags]
            cookies = [login(base, user) for _ in range(args.users)]
            measure(base, cookies, queue + cases[:5], 2)  # warm-up: every connection of the pools
            for kind, paths in (("queue", queue), ("case", cases)):
                for users, per in ((1, args.requests), (args.users, args.per_user)):
                    before = meter.sample()
                    xs = measure(base, cookies[:users], paths, per)
                    srv, pg, cli, new = meter.per_request(before, meter.sample(), len(xs))
                    print(f"{user:16} {kind:6} {users:>5} {len(xs):>8} {statistics.median(xs):>8.1f} "
                          f"{p95(xs):>8.1f} {srv:>7.1f} {pg:>6.1f} {cli:>7.1f} {new:>5}", flush=True)
        engine.dispose()
        print("load average after:", open("/proc/loadavg").read().split()[:3])
    finally:
        if child:
            child.terminate()
            child.wait(10)
        with admin.connect() as conn:
            conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
