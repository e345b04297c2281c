"""Shared driver for file-drop sources: discover, land each complete delivery once, stage."""

import logging
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from connectors.base import (
    MAX_FIELD_CHARS,
    Lander,
    LoadResult,
    discover,
    land_csv,
    land_xlsx,
    load_file_delivery,
)
from connectors.staging import RowFn, StageReport, stage_pending
from quotalink.contracts import RawTable

log = logging.getLogger(__name__)


def default_land(spec: RawTable) -> Callable[[Lander], None]:
    """The landing function of a file source's format."""
    return land_xlsx(spec, "sheet" if "sheet" in spec.extra_raw_columns else None) if spec.fmt == "xlsx" else land_csv(spec)


def load_files(
    engine: Engine, sources_dir: Path, spec: RawTable, land: Callable[[Lander], None] | None = None,
    max_field_chars: int = MAX_FIELD_CHARS,
) -> list[LoadResult]:
    """Load every complete, not yet loaded delivery of a file source (oldest period first)."""
    if land is None:
        land = default_land(spec)
    results = []
    for delivery in discover(sources_dir, spec):
        result = load_file_delivery(engine, spec, delivery, land, max_field_chars)
        if result.status != "skipped":
            log.info(
                "%s/%s %s: read %d, loaded %d, quarantined %d", spec.source, delivery.name,
                result.status, result.rows_read, result.rows_loaded, result.rows_quarantined,
            )
        results.append(result)
    return results


class FileSource:
    """A file-drop source: its contract and its raw → staging row function."""

    def __init__(self, spec: RawTable, row_fn: RowFn):
        self.spec, self.row_fn = spec, row_fn
        self.name = spec.source

    def load(self, engine: Engine, sources_dir: Path, max_field_chars: int = MAX_FIELD_CHARS) -> list[LoadResult]:
        """Land new deliveries into raw."""
        return load_files(engine, sources_dir, self.spec, max_field_chars=max_field_chars)

    def stage(self, engine: Engine) -> StageReport:
        """Stage landed deliveries."""
        return stage_pending(engine, self.spec, self.row_fn)
