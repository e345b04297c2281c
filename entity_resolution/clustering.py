"""Constrained clustering: exact keys, must-link / cannot-link overrides, scored edges.

Connected components over accepted links, built greedily: must-links first, then exact
links, then model edges from the most to the least probable. A merge is refused when a
cannot-link pair would end up in one cluster, or when the two sides hold different
conflict keys (two different valid resident IDs are two people). Without constraints the
result equals plain connected components at the threshold.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class ClusterResult:
    """Cluster label per record (the smallest record index in it) and link provenance."""

    labels: np.ndarray
    exact: np.ndarray  # True where the record joined its cluster by an exact link
    probability: np.ndarray  # best accepted model probability per record (nan if none)
    refused: list[tuple[int, int, str]] = field(default_factory=list)


def find_root(parent: list[int], i: int) -> int:
    """Root of i in a union-find parent list, compressing the path walked."""
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


class _UnionFind:
    def __init__(self, parent: np.ndarray, codes: np.ndarray) -> None:
        # Plain lists: element access is several times faster than on numpy arrays.
        self.parent = parent.tolist()
        self.size = np.bincount(parent, minlength=len(parent)).tolist()
        # Conflict key (code, -1 for none) held by each root; a root holding several keys
        # (only possible through a must-link) keeps them all in `multi`.
        self.code = codes.tolist()
        self.multi: dict[int, set[int]] = {}
        self.cannot: dict[int, set[int]] = {}

    def find(self, i: int) -> int:
        return find_root(self.parent, i)

    def conflict(self, ra: int, rb: int, check_keys: bool) -> str | None:
        if ra == rb:
            return None
        ca, cb = self.cannot.get(ra), self.cannot.get(rb)
        if ca and any(self.find(x) == rb for x in ca):
            return "cannot_link"
        if cb and any(self.find(x) == ra for x in cb):
            return "cannot_link"
        if check_keys:
            if ra in self.multi or rb in self.multi:
                ka = self.multi.get(ra) or ({self.code[ra]} - {-1})
                kb = self.multi.get(rb) or ({self.code[rb]} - {-1})
                if ka and kb and not (ka & kb):
                    return "different_keys"
            else:
                ka, kb = self.code[ra], self.code[rb]
                if ka >= 0 and kb >= 0 and ka != kb:
                    return "different_keys"
        return None

    def union(self, ra: int, rb: int) -> int:
        if self.size[ra] < self.size[rb] or (self.size[ra] == self.size[rb] and rb < ra):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        ka, kb = self.code[ra], self.code[rb]
        if ra in self.multi or rb in self.multi or (ka >= 0 and kb >= 0 and ka != kb):
            merged = (self.multi.pop(ra, None) or ({ka} - {-1})) | (
                self.multi.pop(rb, None) or ({kb} - {-1}))
            self.multi[ra] = merged
        elif ka < 0:
            self.code[ra] = kb
        cb = self.cannot.pop(rb, None)
        if cb:
            self.cannot.setdefault(ra, set()).update(cb)
        return ra


def cluster(
    n: int,
    *,
    exact_keys: Sequence[object | None] | pd.Series,
    edges_l: np.ndarray,
    edges_r: np.ndarray,
    edges_p: np.ndarray,
    threshold: float,
    must_link: Iterable[tuple[int, int]] = (),
    cannot_link: Iterable[tuple[int, int]] = (),
    edges_w: np.ndarray | None = None,
    ambiguity_margin: float = 0.0,
) -> ClusterResult:
    """Cluster n records; records with the same non-null exact key are linked exactly.

    With `edges_w` (match weights) and a positive `ambiguity_margin`, a record without a
    key whose two best candidates above the threshold hold different keys, and score
    within the margin (in bits) of each other, is linked to neither: a coin toss between
    two namesakes is not evidence.
    """
    refused: list[tuple[int, int, str]] = []
    must_link, cannot_link = list(must_link), list(cannot_link)
    probability = np.full(n, np.nan)
    keys = exact_keys if isinstance(exact_keys, pd.Series) else pd.Series(list(exact_keys),
                                                                          dtype="object")
    codes = pd.factorize(keys, use_na_sentinel=True)[0]
    exact = codes >= 0
    involved = np.zeros(n, dtype=bool)
    for a, b in (*must_link, *cannot_link):
        involved[[a, b]] = True

    # Records outside any override join their exact-key group directly (vectorised):
    # nothing can forbid those links.
    parent = np.arange(n)
    plain = exact & ~involved
    idx = np.flatnonzero(plain)
    first_of_code = np.full(int(codes.max()) + 1 if n and codes.max() >= 0 else 0, -1)
    if len(idx):
        group_codes = codes[idx]
        _, first = np.unique(group_codes, return_index=True)
        first_of_code[group_codes[first]] = idx[first]
        parent[idx] = first_of_code[group_codes]
    uf = _UnionFind(parent, codes)
    for a, b in cannot_link:
        if a == b:
            continue
        uf.cannot.setdefault(a, set()).add(b)
        uf.cannot.setdefault(b, set()).add(a)

    for a, b in must_link:
        ra, rb = uf.find(a), uf.find(b)
        reason = uf.conflict(ra, rb, check_keys=False)
        if reason:
            refused.append((a, b, reason))
        elif ra != rb:
            uf.union(ra, rb)
        exact[[a, b]] = True

    for i in np.flatnonzero(exact & involved & (codes >= 0)).tolist():
        j = int(first_of_code[codes[i]])
        if j < 0:
            first_of_code[codes[i]] = i
            continue
        ri, rj = uf.find(i), uf.find(j)
        reason = uf.conflict(ri, rj, check_keys=False)
        if reason:
            refused.append((j, i, reason))
        elif ri != rj:
            uf.union(ri, rj)

    edges_p = np.asarray(edges_p, dtype=float)
    if edges_w is not None and ambiguity_margin > 0 and len(edges_p):
        keep = ~_ambiguous_edges(codes, np.asarray(edges_l), np.asarray(edges_r), edges_p,
                                 np.asarray(edges_w, dtype=float), threshold, ambiguity_margin)
        for a, b in zip(np.asarray(edges_l)[~keep].tolist(), np.asarray(edges_r)[~keep].tolist(),
                        strict=True):
            refused.append((a, b, "ambiguous"))
        edges_l, edges_r, edges_p = (np.asarray(edges_l)[keep], np.asarray(edges_r)[keep],
                                     edges_p[keep])
    edges_l, edges_r = np.asarray(edges_l, dtype=np.int64), np.asarray(edges_r, dtype=np.int64)
    above = edges_p >= threshold
    # Edges inside one exact-key group change nothing (unless overrides touch them).
    same_group = (codes[edges_l] >= 0) & (codes[edges_l] == codes[edges_r]) \
        & ~involved[edges_l] & ~involved[edges_r]
    todo = np.flatnonzero(above & ~same_group)
    order = todo[np.argsort(-edges_p[todo], kind="stable")]
    for a, b in zip(edges_l[order].tolist(), edges_r[order].tolist(), strict=True):
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb:
            continue
        reason = uf.conflict(ra, rb, check_keys=True)
        if reason:
            refused.append((a, b, reason))
            continue
        uf.union(ra, rb)

    # Pointer jumping: every record straight to its root, vectorised.
    roots = np.asarray(uf.parent, dtype=np.int64)
    while True:
        jumped = roots[roots]
        if np.array_equal(jumped, roots):
            break
        roots = jumped
    if n == 0:
        return ClusterResult(roots, exact, probability, refused)
    # Label = smallest member index, so labels do not depend on merge order.
    smallest = np.full(n, n, dtype=np.int64)
    np.minimum.at(smallest, roots, np.arange(n))
    labels = smallest[roots]
    # Each record's best accepted edge: above the threshold and inside its final cluster.
    accepted = above & (labels[edges_l] == labels[edges_r])
    for side in (edges_l, edges_r):
        np.fmax.at(probability, side[accepted], edges_p[accepted])
    return ClusterResult(labels, exact, probability, refused)


def _ambiguous_edges(codes: np.ndarray, left: np.ndarray, right: np.ndarray, p: np.ndarray,
                     w: np.ndarray, threshold: float, margin: float) -> np.ndarray:
    """Mask of edges from a keyless record to keyed records when its best two keys tie."""
    above = p >= threshold
    kl, kr = codes[left], codes[right]
    # (keyless record, key of the other side, weight) for both orientations
    sides = []
    for free, other_key in ((left, kr), (right, kl)):
        mask = above & (codes[free] < 0) & (other_key >= 0)
        sides.append(pd.DataFrame({"r": free[mask], "k": other_key[mask], "w": w[mask]}))
    cand = pd.concat(sides, ignore_index=True)
    if cand.empty:
        return np.zeros(len(p), dtype=bool)
    best = cand.groupby(["r", "k"], sort=False)["w"].max().reset_index()
    best = best.sort_values(["r", "w"], ascending=[True, False], kind="stable")
    best["rank"] = best.groupby("r").cumcount()
    top = best[best["rank"] == 0].set_index("r")["w"]
    second = best[best["rank"] == 1].set_index("r")["w"]
    gap = top.loc[second.index] - second
    ambiguous = np.zeros(len(codes), dtype=bool)
    ambiguous[gap[gap < margin].index.to_numpy(dtype=np.int64)] = True
    return above & ((ambiguous[left] & (kr >= 0)) | (ambiguous[right] & (kl >= 0)))
