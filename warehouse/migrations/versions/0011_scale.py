"""ops.stage_fingerprint: input fingerprints of pipeline steps, so reruns skip unchanged steps.

Revision ID: 0011_scale
Revises: 0007_report
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0011_scale"
down_revision = "0010_faults"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stage_fingerprint",
        sa.Column("asset", sa.Text, primary_key=True),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("run_id", sa.Text),
        sa.Column("result", JSONB),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema="ops",
    )


def downgrade() -> None:
    op.drop_table("stage_fingerprint", schema="ops")
