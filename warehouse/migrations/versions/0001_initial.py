"""Initial warehouse: every schema and table of warehouse/schema.py at release 0.1.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from warehouse.schema import SCHEMAS, metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for schema in SCHEMAS:
        bind.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    # Release 0.1 is the first schema; later changes come as their own revisions.
    metadata.create_all(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for schema in SCHEMAS:
        if schema != "ops":
            bind.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
