"""The closing summary of a run: what was loaded, resolved and flagged, and where to look."""

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from warehouse.db import warehouse_url


def _count(conn, sql: str) -> int | None:
    try:
        return conn.execute(sa.text(sql)).scalar()
    except sa.exc.ProgrammingError:
        conn.rollback()
        return None


def print_summary(engine, settings, seconds: float, docs=None) -> None:
    """Print counts per layer and the next places to look."""
    console = Console()
    with engine.connect() as conn:
        loads = conn.execute(
            sa.text(
                "select source, count(*), coalesce(sum(rows_read),0), coalesce(sum(rows_loaded),0), "
                "coalesce(sum(rows_quarantined),0), count(*) filter (where status='rejected') "
                "from ops.load_audit group by source order by source"
            )
        ).all()
        t = Table(title=f"QuotaLink run finished in {seconds:.0f}s")
        for col in ("source", "deliveries", "rows read", "loaded", "quarantined", "rejected"):
            t.add_column(col, justify="right" if col != "source" else "left")
        for row in loads:
            t.add_row(*[str(v) for v in row])
        console.print(t)
        figures = {
            "person mentions": "select count(*) from staging.person_mention",
            "golden persons": "select count(*) from core.person",
            "employer mentions": "select count(*) from staging.employer_mention",
            "golden employers": "select count(*) from core.employer",
            "active flags": "select count(*) from mart.anomaly_flag where active",
            "employer-years in quota_compliance": "select count(*) from mart.quota_compliance",
        }
        for label, sql in figures.items():
            console.print(f"  {label}: {_count(conn, sql)}")
    shown = sa.engine.make_url(warehouse_url(settings)).render_as_string(hide_password=True)
    console.print(f"\nwarehouse: {shown}")
    if docs:
        console.print(f"data quality: {docs}")
    console.print("next: `make ui` (Dagster UI), `make review` (auditors' console), "
                  "`quotalink evaluate --truth data/truth`, `quotalink report --year 2025 --out report.xlsx`; "
                  "tables core.person, mart.anomaly_flag, mart.quota_compliance, ops.quarantine")
