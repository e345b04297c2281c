"""Dagster resources wrapping the settings and the warehouse."""

import dagster as dg
from sqlalchemy.engine import Engine

from quotalink.settings import Settings, get_settings
from warehouse.db import get_engine


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse (WAREHOUSE_URL, or the embedded server)."""

    def settings(self) -> Settings:
        """The validated settings."""
        return get_settings()

    def engine(self) -> Engine:
        """A migrated engine."""
        return get_engine(get_settings())
