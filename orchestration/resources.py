"""Dagster resources: the settings, read once per run, and the warehouse they name."""

import dagster as dg
from pydantic import PrivateAttr
from sqlalchemy.engine import Engine

from orchestration import runlock
from quotalink.settings import Settings, load_settings
from warehouse.db import get_engine


class WarehouseResource(dg.ConfigurableResource):
    """The validated settings and the PostgreSQL warehouse (WAREHOUSE_URL or embedded).

    Settings are read from the environment once, when the run sets the resource up, and
    handed to the domain code as arguments: no domain module reads the environment.
    """

    _settings: Settings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = load_settings()

    def settings(self) -> Settings:
        """The validated settings of this run."""
        if self._settings is None:  # called outside a run (a sensor tick, a test)
            self._settings = load_settings()
        return self._settings

    def engine(self) -> Engine:
        """A migrated engine on the warehouse of these settings.

        Every step asks for it first: in a run executing in the process holding the warehouse
        run lock (`quotalink run`), a lost lock fails the step here, naming the cause.
        """
        runlock.check_held()
        return get_engine(self.settings())
