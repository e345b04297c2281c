"""Alembic environment: migrations run on the connection the product hands over."""

from alembic import context

from warehouse.schema import metadata

target_metadata = metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through warehouse.db.ensure_schema(engine)")
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    include_schemas=True,
    version_table_schema="ops",
)
with context.begin_transaction():
    before = set(context.get_context().get_current_heads())
    context.run_migrations()
    after = set(context.get_context().get_current_heads())
    if after != before:
        # Owners, grants, row-level security and comments of every table, those of later
        # revisions included, once anything was applied (warehouse/migrations/README.md).
        from warehouse.access import after_upgrade

        after_upgrade(connection, context.config.attributes.get("role_prefix"))
