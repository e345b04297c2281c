"""Parallel staging writes exactly the rows in-process staging writes."""

import hashlib

import pytest
import sqlalchemy as sa

import synthetic
from connectors import staging
from connectors.registry import SOURCE_OBJECTS, staging_writers
from quotalink.settings import get_settings
from warehouse.schema import metadata

SOURCES = ("disability_registry", "hr", "employment_service", "training", "graduates", "org",
           "establishment", "unemployed_survey")


def staged_state(engine) -> dict[str, str]:
    """Every staging table's rows and the stage audit, as text in a total order."""
    out = {}
    tables = [*staging_writers(), "ops.stage_audit"]
    with engine.connect() as conn:
        for name in tables:
            cols = [c.name for c in metadata.tables[name].columns if c.name not in ("staged_at", "stage_id")]
            listed = ", ".join(f'"{c}"::text' for c in cols)
            rows = conn.execute(sa.text(f"select {listed} from {name} order by {listed}")).all()
            out[name] = hashlib.sha256(repr(rows).encode()).hexdigest() + f" ({len(rows)} rows)"
    return out


def stage_all(engine) -> None:
    for source in SOURCES:
        SOURCE_OBJECTS[source].stage(engine)


@pytest.mark.parametrize("cut", ["chunks", "pieces"])
def test_two_workers_stage_the_same_rows_as_one(warehouse, sources_dir, tmp_path, monkeypatch, cut):
    synthetic.generate(sources_dir, tmp_path / "truth", 400, 11, progress=False)
    settings = get_settings()
    for source in SOURCES:
        SOURCE_OBJECTS[source].load(warehouse, settings)
    if cut == "chunks":
        # Small chunks: every sizeable delivery is cut into many chunks spread over the workers.
        monkeypatch.setattr(staging, "CHUNK", 150)
    else:
        # Deliveries of one chunk cut in a piece per worker, by processes shared between them.
        monkeypatch.setattr(staging, "MIN_SPLIT", 20)
    monkeypatch.setenv("QUOTALINK_STAGE_WORKERS", "2")
    started = []
    executor = staging.StagePool.executor
    monkeypatch.setattr(staging.StagePool, "executor",
                        lambda self: started.append(self._pool is None) or executor(self))
    stage_all(warehouse)
    parallel = staged_state(warehouse)
    # Processes ran, and were started once per raw table, not per delivery.
    assert started.count(False) > 0 and started.count(True) <= len(SOURCES) + 4
    with warehouse.begin() as conn:
        conn.execute(sa.text(f"truncate {', '.join([*staging_writers(), 'ops.stage_audit'])}"))
    monkeypatch.setenv("QUOTALINK_STAGE_WORKERS", "1")
    stage_all(warehouse)
    assert staged_state(warehouse) == parallel
    with warehouse.connect() as conn:
        biggest = conn.execute(sa.text("select max(rows_staged) from ops.stage_audit")).scalar()
    assert biggest > 10 * 150  # the parallel path did run over many chunks or pieces
