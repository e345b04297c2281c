"""Publish the reference tables (refdata/data/*.csv) as ref.<name> for downstream queries."""

import sqlalchemy as sa
from sqlalchemy.engine import Engine

import refdata
from warehouse.db import _quote, copy_rows


def publish_reference_tables(engine: Engine) -> dict[str, int]:
    """Replace every ref.<name> table with the current reference data; rows per table."""
    counts = {}
    with engine.begin() as conn:
        conn.execute(sa.text("create schema if not exists ref"))
        for name in refdata.table_names():
            rows = refdata.load_table(name)
            columns = list(rows[0].keys()) if rows else ["value"]
            conn.execute(sa.text(f"drop table if exists ref.{_quote(name)}"))
            conn.execute(sa.text(
                f"create table ref.{_quote(name)} ({', '.join(f'{_quote(c)} text' for c in columns)})"))
            counts[name] = copy_rows(conn, f"ref.{name}", columns, ([r.get(c) for c in columns] for r in rows))
    return counts
