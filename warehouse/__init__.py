"""The PostgreSQL warehouse: schema, migrations, bulk loading and the embedded server."""
