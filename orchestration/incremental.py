"""Input fingerprints of pipeline steps: a rerun skips a step whose inputs did not change."""

# A step's inputs are the deliveries landed (ops.load_audit: the only way data enters raw and
# staging), the auditors' link overrides, the code, schema and reference data of this
# checkout and, for steps that judge against today, the day. A step records its
# fingerprint only after it succeeded, so a failed or interrupted step runs again.

import datetime as dt
import functools
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from connectors.deliveries import ledger_digest

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("connectors", "entity_resolution", "expectations", "orchestration", "quotalink",
             "refdata", "warehouse")
CODE_SUFFIXES = (".py", ".csv", ".json", ".yaml", ".yml", ".sql", ".txt")


def enabled() -> bool:
    """False when QUOTALINK_INCREMENTAL=0 forces every step to run."""
    return os.environ.get("QUOTALINK_INCREMENTAL", "1") != "0"


@functools.cache
def code_version() -> str:
    """Hash of the product's code, models, rules and reference data in this checkout."""
    h = hashlib.sha256()
    for d in CODE_DIRS:
        for f in sorted((ROOT / d).rglob("*")):
            if f.is_file() and f.suffix in CODE_SUFFIXES and "__pycache__" not in f.parts:
                h.update(str(f.relative_to(ROOT)).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def steps(conn) -> str:
    """Digest of the recorded successes of the pipeline's steps (not of the asset checks, not
    of the data docs): it changes whenever one of them ran again, whatever its inputs."""
    rows = conn.execute(sa.text(
        "select asset, fingerprint, run_id from ops.stage_fingerprint "
        "where asset not like 'check %' and asset <> 'data docs' order by asset")).all()
    return hashlib.sha256("\n".join("|".join(map(str, r)) for r in rows).encode()).hexdigest()


def fingerprint(conn, *, sources: list[str] | None = None, overrides: bool = True,
                day: bool = False, extra: str = "", after_steps: bool = False) -> str:
    """Fingerprint of a step's inputs: deliveries of `sources` (None: all), overrides, code;
    with `after_steps` (for what runs after every step), the steps' recorded runs too."""
    loads = ledger_digest(conn, sources)
    # The schema revision is part of the code (warehouse/migrations).
    parts = [code_version(), f"loads {loads[0]} {loads[1]}", extra]
    if overrides:
        o = conn.execute(sa.text("select count(*), max(override_id), max(decided_at) "
                                 "from core.link_override")).one()
        parts.append(f"overrides {o[0]} {o[1]} {o[2]}")
    if day:
        parts.append(dt.date.today().isoformat())
    if after_steps:
        parts.append("steps " + steps(conn))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def previous(conn, asset: str, fp: str) -> dict | None:
    """The recorded result of `asset` when it last ran on exactly these inputs, else None."""
    if not enabled():
        return None
    row = conn.execute(sa.text("select result from ops.stage_fingerprint "
                               "where asset = :a and fingerprint = :f"), {"a": asset, "f": fp}).first()
    return None if row is None else (row[0] or {})


def last_result(engine, asset: str, **inputs) -> tuple[str, dict | None]:
    """(fingerprint of a step's inputs, see `fingerprint`; its result on exactly these inputs or None)."""
    with engine.connect() as conn:
        fp = fingerprint(conn, **inputs)
        return fp, previous(conn, asset, fp)


def record(engine, asset: str, fp: str, run_id: str | None, result: dict | None = None) -> None:
    """Remember that `asset` succeeded on inputs `fp` (with what it reported)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "insert into ops.stage_fingerprint (asset, fingerprint, run_id, result, computed_at) "
            "values (:a, :f, :r, cast(:j as jsonb), now()) on conflict (asset) do update set "
            "fingerprint = excluded.fingerprint, run_id = excluded.run_id, "
            "result = excluded.result, computed_at = excluded.computed_at"),
            {"a": asset, "f": fp, "r": run_id, "j": json.dumps(result or {}, default=str)})


@dataclass(frozen=True)
class Step:
    """A skippable step: its row in ops.stage_fingerprint and what its fingerprint is made of."""

    node: str  # the Dagster op (step) that runs it
    name: str  # its row in ops.stage_fingerprint
    inputs: Callable[..., dict] = field(default=lambda settings: {})  # settings -> fingerprint()'s keywords

    def last_result(self, engine, settings) -> tuple[str, dict | None]:
        """(fingerprint of its inputs now, its recorded result on exactly these or None)."""
        return last_result(engine, self.name, **self.inputs(settings))


# Every skippable step by its op name: the same declaration gives the step its fingerprint
# and `quotalink run` its plan of which steps to launch at all (orchestration/plan.py).
STEPS: dict[str, Step] = {}


def declare(node: str, name: str, inputs: Callable[..., dict] | None = None) -> Step:
    """Declare the skippable step run by op `node` (fingerprint keywords from `inputs(settings)`)."""
    step = Step(node, name, inputs or (lambda settings: {}))
    STEPS[node] = step
    return step
