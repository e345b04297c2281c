"""The closing summary of a run: this run's rows beside the totals, and where to look."""

import datetime as dt

import sqlalchemy as sa
from rich import box
from rich.console import Console
from rich.table import Table

from quotalink.settings import Settings
from warehouse.db import psql_dsn, warehouse_url


def _count(conn, sql: str, **binds) -> int | None:
    try:
        return conn.execute(sa.text(sql), binds).scalar()
    except sa.exc.ProgrammingError:
        conn.rollback()
        return None


def print_summary(engine, settings: Settings, seconds: float, started_at: dt.datetime,
                  docs=None) -> None:
    """Print what this run loaded per source (beside the totals), the layer counts and the
    next places to look. ``started_at`` is the warehouse clock when the run began."""
    console = Console()
    with engine.connect() as conn:
        loads = conn.execute(sa.text(
            "select source, count(*) filter (where loaded_at >= :t), count(*),"
            " coalesce(sum(rows_read) filter (where loaded_at >= :t), 0),"
            " coalesce(sum(rows_loaded) filter (where loaded_at >= :t), 0),"
            " coalesce(sum(rows_loaded) filter (where status <> 'superseded'), 0),"
            " coalesce(sum(rows_quarantined) filter (where loaded_at >= :t), 0),"
            " coalesce(sum(rows_quarantined), 0),"
            " count(*) filter (where status = 'rejected' and loaded_at >= :t)"
            " from ops.load_audit group by source order by source"), {"t": started_at}).all()
        t = Table(title=f"QuotaLink run finished in {seconds:.0f}s",
                  caption="this run / all runs; rows read and rejected: this run",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        t.add_column("source", no_wrap=True, min_width=max([6, *(len(r[0]) for r in loads)]))
        for col in ("deliveries", "rows read", "loaded", "quarantined", "rejected"):
            t.add_column(col, justify="right", no_wrap=True)
        for (source, n_run, n_all, read_run, loaded_run, loaded_all, q_run, q_all,
             rejected) in loads:
            t.add_row(source, f"{n_run} / {n_all}", str(read_run),
                      f"{loaded_run} / {loaded_all}", f"{q_run} / {q_all}", str(rejected))
        if not loads:
            t.add_row("(no delivery yet)", "0 / 0", "0", "0 / 0", "0 / 0", "0")
        console.print(t)
        # What loaded but not whole: said here, not only at -v.
        for source, delivery, cols in conn.execute(sa.text(
                "select source, delivery, quality->'missing_columns' from ops.load_audit "
                "where loaded_at >= :t and quality ? 'missing_columns' order by load_id"),
                {"t": started_at}).all():
            console.print(f"  warning: {source}/{delivery}: contract column(s) missing, loaded as "
                          f"empty: {', '.join(cols)}")
        figures = {
            "person mentions": "select count(*) from staging.person_mention",
            "golden persons": "select count(*) from core.person",
            "employer mentions": "select count(*) from staging.employer_mention",
            "golden employers": "select count(*) from core.employer",
            "employer-years in quota_compliance": "select count(*) from mart.quota_compliance",
        }
        for label, sql in figures.items():
            console.print(f"  {label}: {_count(conn, sql)}")
        active = _count(conn, "select count(*) from mart.anomaly_flag where active")
        new = _count(conn, "select count(*) from mart.anomaly_flag where first_seen_at >= :t",
                     t=started_at)
        console.print(f"  active flags: {active} ({new} new this run)")
    console.print(f"\nwarehouse: [bold]{psql_dsn(warehouse_url(settings))}[/]", soft_wrap=True)
    if not settings.warehouse_url:
        console.print("  (the embedded server stops with this command; `quotalink db` starts it "
                      "again and opens psql)")
    if docs:
        console.print(f"data quality: {docs}", soft_wrap=True)
    console.print("next: `make ui` (Dagster UI), `make review` (auditors' console), "
                  "`quotalink evaluate`, `quotalink report --year 2025 --out report.xlsx`, "
                  "`quotalink db`; tables core.person, mart.anomaly_flag, mart.quota_compliance, "
                  "ops.quarantine")
