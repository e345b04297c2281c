"""Match edges: why each golden person and employer is one; which run applied each override.

Revision ID: 0008_match_edges
Revises: 0007_report
"""

from alembic import op

revision = "0008_match_edges"
down_revision = "0007_report"
branch_labels = None
depends_on = None

EDGE = """
create table if not exists core.{entity}_match_edge (
    {entity}_id text not null, source_l text not null, key_l text not null,
    source_r text not null, key_r text not null, link_kind text not null,
    reason text not null, match_weight float8, match_probability float8,
    comparisons jsonb, run_id text,
    primary key ({entity}_id, source_l, key_l, source_r, key_r))"""


def upgrade() -> None:
    for entity in ("person", "employer"):
        op.execute(EDGE.format(entity=entity))
    op.execute("""
        create table if not exists core.link_override_applied (
            override_id bigint primary key, entity text not null, outcome text not null,
            run_id text, applied_at timestamptz not null default now())""")


def downgrade() -> None:
    op.execute("drop table if exists core.link_override_applied")
    for entity in ("person", "employer"):
        op.execute(f"drop table if exists core.{entity}_match_edge")
