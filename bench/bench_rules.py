"""Benchmark: the audit rules and quota compliance alone on a copy of a kept warehouse.

Usage:  .venv/bin/python bench/bench_rules.py --db ql_bench_123_60000 [--fresh] [--repeat N]

The warehouse is one `bench_province.py --keep-db` left behind. Each run copies it (CREATE
DATABASE … TEMPLATE), optionally empties ``mart.anomaly_flag`` and ``mart.quota_compliance``
(--fresh: every finding is new, as on a first run), then runs ``expectations.run_rules`` and
``expectations.build_quota_compliance`` with a fixed ``now`` and run id, as the pipeline's
assets call them. Per step: wall seconds, CPU seconds of this process and of the PostgreSQL
backends it used, per-rule seconds (from the runner's log), and md5 digests of both tables
in a total order (every column), so two code versions can be compared on identical input.
"""

import argparse
import datetime as dt
import json
import logging
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_resolve import SERVER, clone  # noqa: E402 - the kept-warehouse copy the resolve bench makes

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
RULE_RE = re.compile(r"rule (?P<rule>\S+): (?P<n>\d+) findings in (?P<s>[0-9.]+) s")

DIGESTS = {
    "mart.anomaly_flag": "select * from mart.anomaly_flag order by flag_id",
    "mart.anomaly_flag (physical order)": "select * from mart.anomaly_flag",
    "mart.quota_compliance": "select * from mart.quota_compliance order by employer_id, year",
    "mart.quota_compliance (physical order)": "select * from mart.quota_compliance",
}


def drop(name: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a process (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def track_backends(engine) -> set[int]:
    """The PIDs of the PostgreSQL backends `engine` connects (pooled: they live until the
    end), filled as connections open."""
    import sqlalchemy as sa

    backends: set[int] = set()

    @sa.event.listens_for(engine, "connect")
    def _pid(dbapi_conn, _record):
        with dbapi_conn.cursor() as cur:
            cur.execute("select pg_backend_pid()")
            backends.add(cur.fetchone()[0])

    return backends


def digests(engine) -> dict:
    import sqlalchemy as sa

    out = {}
    with engine.connect() as conn:
        for name, sql in DIGESTS.items():
            rows, md5 = conn.execute(sa.text(
                f"select count(*), md5(coalesce(string_agg(s::text, E'\\n'), '')) from ({sql}) s"
            )).one()
            out[name] = f"{rows} {md5}"
    return out


class _RuleLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.rules: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        m = RULE_RE.search(record.getMessage())
        if m:
            self.rules[m["rule"]] = float(m["s"])


def one(args: argparse.Namespace, name: str) -> dict:
    import sqlalchemy as sa

    import expectations

    url = clone(args.db, name)
    engine = sa.create_engine(url)
    backends = track_backends(engine)

    result: dict = {"load_average_before": [round(v, 2) for v in os.getloadavg()]}
    handler = _RuleLog()
    logging.getLogger("expectations").addHandler(handler)
    logging.getLogger("expectations").setLevel(logging.INFO)
    try:
        if args.fresh:
            with engine.begin() as conn:
                conn.execute(sa.text("truncate mart.anomaly_flag, mart.quota_compliance"))
        for step, call in (
                ("audit rules", lambda: expectations.run_rules(engine, NOW, run_id="bench")),
                ("quota compliance", lambda: expectations.build_quota_compliance(engine, now=NOW))):
            pg0 = {p: _cpu(p) for p in backends}
            t0, cpu0 = time.perf_counter(), time.process_time()
            call()
            seconds, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            pg = sum(_cpu(p) - pg0.get(p, 0.0) for p in backends)
            result[step] = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                            "pg_cpu_seconds": round(pg, 2)}
        result["audit rules"]["rules"] = dict(sorted(handler.rules.items(),
                                                     key=lambda kv: -kv[1]))
        result["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
        result["digests"] = digests(engine)
    finally:
        logging.getLogger("expectations").removeHandler(handler)
        engine.dispose()
        if not args.keep:
            drop(name)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the kept warehouse database (template)")
    parser.add_argument("--name", default=None, help="scratch database (default: <db>_rules)")
    parser.add_argument("--fresh", action="store_true",
                        help="empty the flag and compliance tables first")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    name = args.name or f"{args.db}_rules"
    runs = [one(args, name) for _ in range(args.repeat)]
    print(json.dumps(runs if len(runs) > 1 else runs[0], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
