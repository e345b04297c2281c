"""Migrations are frozen: head equals the schema registry, and upgrades keep existing data."""

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from tests.helpers import upgrade_to
from warehouse.schema import metadata

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "warehouse" / "migrations"


def _ours(obj, name, type_, reflected, compare_to) -> bool:
    """Compare only what the registry declares (alembic's own version table is not ours)."""
    return not (type_ == "table" and name == "alembic_version")


def test_one_linear_history():
    script = ScriptDirectory(str(MIGRATIONS))
    assert len(script.get_heads()) == 1, f"more than one head: {script.get_heads()}"
    assert len(script.get_bases()) == 1


def test_upgrade_head_equals_schema_registry(empty_db):
    upgrade_to(empty_db, "head")
    with empty_db.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_schemas": True, "include_object": _ours, "compare_type": True}
        )
        diff = compare_metadata(ctx, metadata)
    assert diff == [], "warehouse/schema.py and the migrations differ; add a migration:\n" + "\n".join(
        map(str, diff)
    )


def test_upgrade_from_first_release_keeps_data(empty_db):
    upgrade_to(empty_db, "0001")
    with empty_db.begin() as conn:
        conn.execute(sa.text(
            "insert into core.person (person_id, full_name, id_number, gender) "
            "values ('P1', '张三', '370102199001011234', 'M')"))
        conn.execute(sa.text(
            "insert into core.person_xref (source, source_key, person_id) "
            "values ('disability_registry', 'K1', 'P1')"))
        conn.execute(sa.text(
            "insert into core.employer (employer_id, name, region_code) values ('E1', '某公司', '370102')"))
        conn.execute(sa.text(
            "insert into mart.anomaly_flag (flag_id, rule, year, person_id, employer_id, severity, "
            "score, evidence, first_seen_at, last_seen_at, active) values ('F1', 'MULTI_EMPLOYER', "
            "2024, 'P1', 'E1', 'high', 0.9, '{}'::jsonb, now(), now(), true)"))
        conn.execute(sa.text(
            "insert into review.decision (flag_id, decision, reviewer, note) "
            "values ('F1', 'confirmed', '审计员', '核实')"))
        conn.execute(sa.text(
            "insert into ops.load_audit (source, delivery, rows_read, rows_loaded, rows_quarantined) "
            "values ('org', 'jgry_2024.csv', 3, 2, 1)"))
    upgrade_to(empty_db, "head")
    with empty_db.connect() as conn:
        assert conn.execute(sa.text("select full_name, id_number from core.person")).all() == [
            ("张三", "370102199001011234")]
        assert conn.execute(sa.text("select person_id from core.person_xref")).scalars().all() == ["P1"]
        assert conn.execute(sa.text("select flag_id from mart.anomaly_flag")).scalars().all() == ["F1"]
        assert conn.execute(sa.text("select reviewer, note from review.decision")).all() == [
            ("审计员", "核实")]
        assert conn.execute(sa.text(
            "select rows_read, rows_loaded, rows_quarantined from ops.load_audit")).all() == [(3, 2, 1)]
        # The lookup views of later revisions see the data written before them.
        assert conn.execute(sa.text(
            "select current_id from core.person_id_lookup where person_id = 'P1'")).scalar() == "P1"
