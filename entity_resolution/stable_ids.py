"""Stable golden IDs: inherit by majority, split keeps the larger part, merge keeps the oldest."""

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_SEQ = re.compile(r"^[A-Z]+(\d+)$")
WIDTH = 9


@dataclass
class IdAssignment:
    """Golden ID per cluster label, the IDs retired by merges, and counts."""

    ids: dict[int, str]
    retired: list[tuple[str, str]] = field(default_factory=list)  # (retired_id, current_id)
    kept: int = 0
    minted: int = 0


def id_age(golden_id: str) -> tuple[int, str]:
    """Sort key: smaller is older (IDs carry their minting sequence)."""
    match = _SEQ.match(golden_id)
    return (int(match.group(1)), golden_id) if match else (10**18, golden_id)


def next_sequence(known_ids: Iterable[str]) -> int:
    """First sequence number not used by any current or retired ID."""
    highest = 0
    for golden_id in known_ids:
        match = _SEQ.match(golden_id or "")
        if match:
            highest = max(highest, int(match.group(1)))
    return highest + 1


def assign_ids(labels: Sequence[int], previous: Sequence[str | None], *, prefix: str,
               known_ids: Iterable[str] = ()) -> IdAssignment:
    """Golden ID for every cluster label.

    `labels[i]` is the new cluster of mention i, `previous[i]` the golden ID mention i had
    in the last run (None if new). An old ID goes to the new cluster holding most of its
    mentions (a split keeps it on the larger part; ties go to the cluster with the smaller
    label). A cluster receiving several old IDs (a merge) keeps the oldest and retires the
    rest. Clusters receiving none get newly minted IDs, in label order, so a rebuild from
    scratch on the same input mints the same IDs.
    """
    # One counter of (old ID, cluster) pairs: a Counter per old ID costs more than the
    # whole assignment at a province's size.
    pairs = Counter((old, int(label)) for label, old in zip(labels, previous, strict=True)
                    if old)
    best: dict[str, tuple[int, int]] = {}  # old ID → (mentions, cluster) of its best cluster
    for (old, label), n in pairs.items():
        held = best.get(old)
        if held is None or n > held[0] or (n == held[0] and label < held[1]):
            best[old] = (n, label)
    won: dict[int, list[str]] = defaultdict(list)
    for old, (_n, label) in best.items():
        won[label].append(old)
    result = IdAssignment(ids={})
    known = set(known_ids) | set(best)
    sequence = next_sequence(known)
    for label in sorted({int(x) for x in labels}):
        candidates = won.get(label)
        if candidates:
            candidates.sort(key=id_age)
            result.ids[label] = candidates[0]
            result.kept += 1
            result.retired.extend((old, candidates[0]) for old in candidates[1:])
        else:
            result.ids[label] = f"{prefix}{sequence:0{WIDTH}d}"
            sequence += 1
            result.minted += 1
    return result
