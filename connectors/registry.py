"""Every source the product knows, by source id: how to load it and how to stage it."""

import contextlib
import importlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Engine

from connectors.base import LoadResult
from connectors.staging import StageReport
from quotalink.contracts import RAW_TABLES, SOURCES, RawTable
from quotalink.settings import Settings

log = logging.getLogger(__name__)


class Source(Protocol):
    """What orchestration needs of a source."""

    name: str

    def load(self, engine: Engine, settings: Settings) -> list[LoadResult]: ...

    def stage(self, engine: Engine) -> StageReport: ...


@dataclass
class FileDrop:
    """A file-drop source driven by connectors.files.FileSource."""

    name: str
    module: str

    def _source(self):
        return importlib.import_module(self.module).SOURCE

    def load(self, engine: Engine, settings: Settings) -> list[LoadResult]:
        return self._source().load(engine, settings.require_sources_dir(), settings.max_field_chars)

    def stage(self, engine: Engine) -> StageReport:
        return self._source().stage(engine)


@contextlib.contextmanager
def quota_client(settings: Settings) -> Iterator:
    """A client on QUOTA_API_URL, or on the bundled emulator when it is unset."""
    from connectors.quota import QuotaClient
    from connectors.quota_emulator import DEFAULT_TOKEN, QuotaEmulator

    if settings.quota_api_url:
        client = QuotaClient(settings.quota_api_url, settings.quota_api_token)
        try:
            yield client
        finally:
            client.close()
        return
    token = settings.quota_api_token or DEFAULT_TOKEN
    with QuotaEmulator(settings.require_sources_dir() / "quota", token=token) as emulator:
        log.info("quota: QUOTA_API_URL unset, serving the offline delivery at %s", emulator.url)
        client = QuotaClient(emulator.url, token)
        try:
            yield client
        finally:
            client.close()


class QuotaSource:
    """The quota API, pulled by watermark."""

    name = "quota"

    def load(self, engine: Engine, settings: Settings) -> list[LoadResult]:
        from connectors import offline, quota
        from connectors.quota_emulator import STREAMS

        years = quota.years_to_pull(settings.quota_years)
        if settings.quota_api_url:
            with quota_client(settings) as client:
                return quota.load(engine, client, years)
        # The offline delivery: the emulator's answers are its files' (connectors/offline.py).
        quota_dir = settings.require_sources_dir() / "quota"
        digest = offline.files_digest([quota_dir / name for name, _ in STREAMS.values()])
        if offline.unchanged(engine, self.name, offline.key(engine, self.name, digest, f"years {years}")):
            log.info("quota: the offline delivery in %s is as the last pull left it: nothing new", quota_dir)
            return []
        with quota_client(settings) as client:
            results = quota.load(engine, client, years)
        offline.remember(engine, self.name, digest, results, f"years {years}")
        return results

    def stage(self, engine: Engine) -> StageReport:
        from connectors import quota

        return quota.stage(engine)


class ModuleSource:
    """A source whose module exposes load(engine, settings) and stage(engine)."""

    def __init__(self, name: str, module: str):
        self.name, self.module = name, module

    def load(self, engine: Engine, settings: Settings) -> list[LoadResult]:
        return importlib.import_module(self.module).load(engine, settings)

    def stage(self, engine: Engine) -> StageReport:
        return importlib.import_module(self.module).stage(engine)


def _make(name: str):
    if name == "quota":
        return QuotaSource()
    if name == "hr":
        return ModuleSource("hr", "connectors.hr")
    return FileDrop(name, f"connectors.{name}")


SOURCE_OBJECTS = {name: _make(name) for name in SOURCES}


def raw_tables(source: str) -> list[RawTable]:
    """The raw tables a source lands in."""
    return [t for t in RAW_TABLES if t.source == source]


def staged_tables(source: str) -> list[str]:
    """The staging tables a source's raw tables declare (``RawTable.stages``), in order."""
    return list(dict.fromkeys(t for r in raw_tables(source) for t in r.stages))


def staging_writers() -> dict[str, list[str]]:
    """Every staging table and the sources staging rows into it."""
    writers: dict[str, list[str]] = {}
    for source in SOURCES:
        for table in staged_tables(source):
            writers.setdefault(table, []).append(source)
    return writers
