"""Views resolving any golden ID, current or retired, to the current one.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

VIEW = """
create or replace view core.{entity}_id_lookup as
with recursive chain(any_id, current_id, depth) as (
    select {entity}_id, {entity}_id, 0 from core.{entity}
    union all
    select h.retired_id, c.current_id, c.depth + 1
    from core.{entity}_id_history h join chain c on h.current_id = c.any_id
    where c.depth < 50
)
select any_id as {entity}_id, current_id from chain
"""


def upgrade() -> None:
    for entity in ("person", "employer"):
        op.get_bind().execute(sa.text(VIEW.format(entity=entity)))
        op.get_bind().execute(sa.text(
            f"comment on view core.{entity}_id_lookup is "
            f"'Every {entity}_id ever published (current or retired by a merge) and the current one'"))


def downgrade() -> None:
    for entity in ("person", "employer"):
        op.get_bind().execute(sa.text(f"drop view if exists core.{entity}_id_lookup"))
