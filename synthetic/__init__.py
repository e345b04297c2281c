"""Synthetic province generator: every source's delivery plus ground truth, by seed."""

import math
from collections import Counter
from pathlib import Path

from synthetic import oracle
from synthetic.declarations import Declaration, derive
from synthetic.model import Chunk
from synthetic.planting import Planter
from synthetic.render import RENDERERS
from synthetic.render.base import TruthSink
from synthetic.scenarios import (
    AS_OF_CHOICES,
    CHUNK_PERSONS,
    DEFAULT_AS_OF,
    SCENARIOS,
    Scenario,
    get_scenario,
    register_scenario,
    with_overrides,
)
from synthetic.world import SEQ_SLOTS, WorldBuilder

# Resident-ID sequence numbers are partitioned into SEQ_SLOTS chunk slots (unique IDs).
MAX_PERSONS = SEQ_SLOTS * CHUNK_PERSONS

__all__ = ["MAX_PERSONS", "SCENARIOS", "Scenario", "build_chunk", "check_chunk", "generate",
           "get_scenario", "register_scenario", "with_overrides"]


def build_chunk(scenario: Scenario, seed: int, index: int, n_persons: int
                ) -> tuple[Chunk, list[Declaration], set[oracle.Finding]]:
    """Build one chunk of the province: world, declarations and the true findings."""
    builder = WorldBuilder(scenario, seed, index, n_persons)
    builder.build_base()
    chunk = builder.chunk
    planter = Planter(builder)
    if scenario.plant_fraud:
        declared = len({s.person.pid for s in chunk.spells if s.declared})
        planter.plant_all(max(scenario.min_cases_per_rule, round(scenario.fraud_rate * declared)))
    if scenario.plant_decoys:
        planter.plant_decoys()
    builder.build_rest()
    for person in chunk.persons:
        person.frozen_id = person.id18
    decls = derive(chunk, seed)
    return chunk, decls, oracle.evaluate(chunk, decls)


def check_chunk(chunk: Chunk, findings: set[oracle.Finding]) -> dict[str, int]:
    """Planted cases the oracle does not find, and decoys it does (both should be 0)."""
    missed = sum(
        1 for c in chunk.planted
        if (c.kind, c.person.pid if c.person else "", c.employer.eid, c.year) not in findings
    )
    flagged_keys = {(p, e, y) for _r, p, e, y in findings}
    decoys_flagged = sum(
        1 for d in chunk.decoys
        if (d.person.pid if d.person else "", d.employer.eid, d.year) in flagged_keys
    )
    return {"planted_not_found": missed, "decoys_flagged": decoys_flagged}


def generate(out_dir: Path, truth_dir: Path, persons: int = 3000, seed: int = 42,
             progress: bool = True, scenario: str | Scenario = "default",
             as_of: str = DEFAULT_AS_OF) -> dict:
    """Write a synthetic province: every source's delivery under out_dir, truth under truth_dir.

    The world is built and rendered in chunks of CHUNK_PERSONS persons so memory stays
    bounded at province scale; the same seed gives byte-identical files. Returns a summary
    of row counts per delivery, mentions, planted cases and decoys.

    `as_of` is the last delivered month: "202610" (default) or "202611", which adds one
    more registry snapshot and employment-service increment to the same province.
    """
    scn = get_scenario(scenario) if isinstance(scenario, str) else scenario
    if not 1 <= persons <= MAX_PERSONS:
        raise ValueError(f"persons must be between 1 and {MAX_PERSONS:,}, got {persons}")
    if as_of not in AS_OF_CHOICES:
        raise ValueError(f"as_of must be one of {', '.join(AS_OF_CHOICES)}, got {as_of!r}")
    out_dir, truth_dir = Path(out_dir), Path(truth_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    renderers = [cls(out_dir, seed, scn, as_of) for cls in RENDERERS]
    truth = TruthSink(truth_dir)
    n_chunks = max(1, math.ceil(persons / CHUNK_PERSONS))
    stats: Counter = Counter()
    rules: Counter = Counter()
    bar = _progress(progress)
    task = bar.add_task("generating", total=persons) if bar else None
    try:
        for index in range(n_chunks):
            n = min(CHUNK_PERSONS, persons - index * CHUNK_PERSONS)
            if bar:
                bar.update(task, description=f"chunk {index + 1}/{n_chunks} · world")
            chunk, decls, findings = build_chunk(scn, seed, index, n)
            done = 0.3 * n
            if bar:
                bar.update(task, advance=done)
            for renderer in renderers:
                if bar:
                    bar.update(task, description=f"chunk {index + 1}/{n_chunks} · {renderer.source}")
                renderer.write(chunk, decls, truth)
                if bar:
                    bar.update(task, advance=0.7 * n / len(renderers))
                    done += 0.7 * n / len(renderers)
            for rule, pid, eid, year in sorted(findings):
                truth.fraud.write({"rule": rule, "person": pid, "employer": eid, "year": year})
                rules[rule] += 1
            for d in chunk.decoys:
                truth.decoys.write({"kind": d.kind, "person": d.person.pid if d.person else "",
                                    "employer": d.employer.eid, "year": d.year, "note": d.note})
            for kind, a, b, note in chunk.hard_cases:
                truth.hard_cases.write({"kind": kind, "a": a, "b": b, "note": note})
            truth.end_chunk()
            stats.update(check_chunk(chunk, findings))
            stats["persons"] += len(chunk.persons)
            stats["employers"] += len(chunk.employers)
            stats["declarations"] += len(decls)
            stats["planted"] += len(chunk.planted)
            stats["decoys"] += len(chunk.decoys)
            if bar:
                bar.update(task, advance=n - done)
    finally:
        if bar:
            bar.stop()
    deliveries = {}
    for renderer in renderers:
        deliveries[renderer.source] = renderer.close()
    stats["person_mentions"] = truth.persons.rows
    stats["employer_mentions"] = truth.employers.rows
    stats["fraud_cases"] = truth.fraud.rows
    truth.close()
    return {
        "seed": seed,
        "scenario": scn.name,
        "as_of": as_of,
        "persons_requested": persons,
        **dict(stats),
        "fraud_cases_by_rule": dict(sorted(rules.items())),
        "deliveries": deliveries,
    }


def _progress(enabled: bool):
    if not enabled:
        return None
    from rich.progress import (  # noqa: PLC0415 - rich only when a bar is wanted
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("[bold]{task.description:<36}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("persons"), TimeElapsedColumn(), TimeRemainingColumn())
    bar.start()
    return bar
