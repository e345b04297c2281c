"""Honest counts: values a standardiser replaced (not only nulled), per column and delivery.

Revision ID: 0010_faults
Revises: 0007_report
"""

from alembic import op

revision = "0010_faults"
down_revision = "0009_console"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("alter table ops.stage_audit add column if not exists rows_substituted jsonb")
    op.execute("comment on column ops.stage_audit.rows_substituted is "
               "'Values replaced by a derived one per column (JSON), e.g. an ID taken from the certificate'")


def downgrade() -> None:
    op.execute("alter table ops.stage_audit drop column if exists rows_substituted")
