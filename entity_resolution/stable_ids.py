"""Stable golden IDs: inherit by majority, split keeps the larger part, merge keeps the oldest."""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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
    labels = np.asarray(labels, dtype=np.int64)
    olds = np.asarray(previous, dtype=object)
    if len(labels) != len(olds):
        raise ValueError("labels and previous IDs differ in length")
    held = np.fromiter((bool(old) for old in olds), dtype=bool, count=len(olds))
    # Mentions per (old ID, cluster), counted by column operations; an old ID's best
    # cluster holds most of its mentions, the smaller label on a tie.
    pairs = pd.DataFrame({"old": olds[held], "label": labels[held]})
    pairs = pairs.groupby(["old", "label"], sort=False).size().reset_index(name="n")
    best = pairs.sort_values(["old", "n", "label"], ascending=[True, False, True],
                             kind="stable").drop_duplicates("old")
    result = IdAssignment(ids={})
    known = set(known_ids) | set(best["old"].tolist())
    sequence = next_sequence(known)
    clusters = np.unique(labels)
    winner = best.sort_values("label", kind="stable")
    won_labels = winner["label"].to_numpy(dtype=np.int64)
    won_ids = winner["old"].to_numpy(dtype=object)
    # A cluster that won one old ID keeps it; of several (a merge) the oldest, retiring
    # the rest (Python only for those few clusters).
    first = np.r_[True, won_labels[1:] != won_labels[:-1]] if len(won_labels) else \
        np.zeros(0, dtype=bool)
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], len(won_labels)]
    kept_label = won_labels[starts]
    kept_id = won_ids[starts].copy()
    for k in np.flatnonzero(ends - starts > 1).tolist():
        candidates = sorted(won_ids[starts[k]:ends[k]].tolist(), key=id_age)
        kept_id[k] = candidates[0]
        result.retired.extend((old, candidates[0]) for old in candidates[1:])
    fresh = clusters[~np.isin(clusters, kept_label)]
    # Clusters receiving none get new IDs in label order.
    minted = [f"{prefix}{sequence + i:0{WIDTH}d}" for i in range(len(fresh))]
    order = np.argsort(np.r_[kept_label, fresh], kind="stable")
    every_label = np.r_[kept_label, fresh][order].tolist()
    every_id = np.r_[kept_id, np.asarray(minted, dtype=object)][order].tolist()
    result.ids = dict(zip(every_label, every_id, strict=True))
    result.kept, result.minted = len(kept_label), len(fresh)
    return result
