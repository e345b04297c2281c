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
    context.run_migrations()
