"""After an upgrade: owners, grants, row-level security and comments for every table."""

import os

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def after_upgrade(conn: Connection, role_prefix: str | None = None) -> bool:
    """Re-apply access and comments once the roles revision is in; False before it."""
    if not conn.execute(sa.text("select to_regclass('ops.chain_head') is not null")).scalar():
        return False  # below the roles revision (or downgraded past it)
    from warehouse import api, roles

    prefix = os.environ.get("QUOTALINK_ROLE_PREFIX", "") if role_prefix is None else role_prefix
    roles.sync_access(conn, prefix)
    api.apply_comments(conn)
    return True
