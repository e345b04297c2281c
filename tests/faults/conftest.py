"""The fault suite's province (generated once per session) and table-by-table comparison."""

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from connectors.registry import raw_tables, staged_tables

VOLATILE = ("loaded_at", "staged_at")


@pytest.fixture(scope="session")
def province(tmp_path_factory) -> Path:
    """The deliveries of a 300-person province, generated once; tests copy what they need."""
    import synthetic

    root = tmp_path_factory.mktemp("province")
    synthetic.generate(root / "sources", root / "truth", persons=300, seed=12, progress=False)
    return root / "sources"


def copy_source(province: Path, sources_dir: Path, source: str) -> Path:
    """Copy one source's deliveries into the test's SOURCES_DIR."""
    target = sources_dir / source
    shutil.copytree(province / source, target, dirs_exist_ok=True)
    return target


def snapshot(engine: sa.Engine, source: str, ignore: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """Per raw and staging table of a source: row count and a digest of the rows' content
    (order-free; the load timestamp and `ignore` left out), to compare with a clean run."""
    tables = [f"raw.{t.table}" for t in raw_tables(source)] + list(staged_tables(source))
    out = {}
    with engine.connect() as conn:
        for name in tables:
            schema, table = name.split(".")
            cols = conn.execute(sa.text(
                "select column_name from information_schema.columns where table_schema = :s "
                "and table_name = :t"), {"s": schema, "t": table}).scalars().all()
            where = " where source = :src" if schema == "staging" and "source" in cols else ""
            drop = ", ".join(f"'{c}'" for c in (*VOLATILE, *ignore))
            n, digest = conn.execute(sa.text(
                f"select count(*), md5(coalesce(string_agg(h, ',' order by h), '')) from "
                f"(select md5((to_jsonb(t) - array[{drop}])::text) h from {schema}.\"{table}\" t{where}) x"),
                {"src": source}).one()
            out[name] = (n, digest)
    return out


def reset_source(engine: sa.Engine, source: str) -> None:
    """Forget one source entirely (its raw and staging rows, ledger and watermarks)."""
    with engine.begin() as conn:
        for t in raw_tables(source):
            conn.execute(sa.text(f'truncate raw."{t.table}"'))
        for name in staged_tables(source):
            schema, table = name.split(".")
            has_source = conn.execute(sa.text(
                "select count(*) from information_schema.columns where table_schema = :s "
                "and table_name = :t and column_name = 'source'"), {"s": schema, "t": table}).scalar()
            conn.execute(sa.text(f'delete from {schema}."{table}"' + (" where source = :s" if has_source else "")),
                         {"s": source})
        for ops in ("load_audit", "stage_audit", "quarantine", "watermark"):
            conn.execute(sa.text(f"delete from ops.{ops} where source = :s"), {"s": source})


def clean_snapshot(engine: sa.Engine, settings, source: str,
                   ignore: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """What a clean load and staging of the source gives (after forgetting what is there)."""
    from connectors.registry import SOURCE_OBJECTS

    reset_source(engine, source)
    SOURCE_OBJECTS[source].load(engine, settings)
    SOURCE_OBJECTS[source].stage(engine)
    return snapshot(engine, source, ignore)


def audit(engine: sa.Engine, source: str) -> list[dict]:
    """ops.load_audit rows of a source, oldest first."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            "select delivery, status, rows_read, rows_loaded, rows_quarantined, quality "
            "from ops.load_audit where source = :s order by load_id"), {"s": source}).mappings()]


def quarantined(engine: sa.Engine, source: str, delivery: str) -> list[dict]:
    """ops.quarantine rows of one delivery."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sa.text(
            "select row_ref, column_name, reason from ops.quarantine where source = :s and delivery = :d "
            "order by quarantine_id"), {"s": source, "d": delivery}).mappings()]
