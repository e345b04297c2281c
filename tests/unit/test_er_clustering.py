"""Unit tests of constrained clustering and stable golden IDs."""

import numpy as np

from entity_resolution.clustering import cluster
from entity_resolution.stable_ids import assign_ids, id_age, next_sequence


def _run(n, keys=None, edges=(), threshold=0.9, must=(), cannot=()):
    edges = list(edges)
    return cluster(
        n,
        exact_keys=keys or [None] * n,
        edges_l=np.array([e[0] for e in edges], dtype=np.int64),
        edges_r=np.array([e[1] for e in edges], dtype=np.int64),
        edges_p=np.array([e[2] for e in edges], dtype=float),
        threshold=threshold,
        must_link=must,
        cannot_link=cannot,
    )


def test_exact_keys_link_and_label_is_smallest_member():
    result = _run(4, keys=["A", None, "A", None])
    assert result.labels.tolist() == [0, 1, 0, 3]
    assert result.exact.tolist() == [True, False, True, False]


def test_edges_below_threshold_do_not_link():
    result = _run(3, edges=[(0, 1, 0.95), (1, 2, 0.5)])
    assert result.labels.tolist() == [0, 0, 2]
    assert result.probability[1] == 0.95
    assert np.isnan(result.probability[2])


def test_different_exact_keys_are_never_merged_by_the_model():
    # 1 has no key and is close to both 0 and 2; it joins the better one, not both.
    result = _run(3, keys=["A", None, "B"], edges=[(0, 1, 0.97), (1, 2, 0.99)])
    assert result.labels.tolist() == [0, 1, 1]
    assert [r[2] for r in result.refused] == ["different_keys"]


def test_cannot_link_beats_exact_key_and_model():
    result = _run(3, keys=["A", "A", None], edges=[(1, 2, 0.99), (0, 2, 0.999)],
                  cannot=[(0, 1)])
    assert result.labels[0] != result.labels[1]
    # 2 goes to 0 (higher probability); then 1–2 would join 0 and 1: refused.
    assert result.labels[2] == result.labels[0]
    reasons = sorted(r[2] for r in result.refused)
    assert reasons == ["cannot_link", "cannot_link"]


def test_cannot_link_through_a_chain_is_refused():
    result = _run(3, edges=[(0, 1, 0.99), (1, 2, 0.98)], cannot=[(0, 2)])
    assert result.labels[0] == result.labels[1]
    assert result.labels[2] != result.labels[0]


def test_must_link_joins_records_without_any_edge():
    result = _run(3, must=[(0, 2)])
    assert result.labels.tolist() == [0, 1, 0]
    assert result.exact[2]


def test_without_constraints_equals_connected_components():
    rng = np.random.default_rng(7)
    n = 200
    edges = [(int(a), int(b), float(p)) for a, b, p in
             zip(rng.integers(0, n, 300), rng.integers(0, n, 300), rng.random(300), strict=True)
             if a != b]
    result = _run(n, edges=edges, threshold=0.6)
    parent = list(range(n))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for a, b, p in edges:
        if p >= 0.6:
            parent[find(a)] = find(b)
    expected = {}
    for i in range(n):
        expected.setdefault(find(i), []).append(i)
    got = {}
    for i, label in enumerate(result.labels.tolist()):
        got.setdefault(label, []).append(i)
    assert sorted(map(tuple, expected.values())) == sorted(map(tuple, got.values()))


def test_first_run_mints_ids_in_label_order():
    result = assign_ids([0, 0, 2, 3], [None] * 4, prefix="P")
    assert result.ids == {0: "P000000001", 2: "P000000002", 3: "P000000003"}
    assert (result.kept, result.minted, result.retired) == (0, 3, [])


def test_rerun_keeps_every_id():
    previous = ["P000000007", "P000000007", "P000000003"]
    result = assign_ids([0, 0, 2], previous, prefix="P")
    assert result.ids == {0: "P000000007", 2: "P000000003"}
    assert result.minted == 0


def test_split_keeps_id_on_larger_part_and_mints_for_the_rest():
    previous = ["P000000005"] * 5
    result = assign_ids([0, 0, 0, 3, 3], previous, prefix="P",
                        known_ids=["P000000005", "P000000009"])
    assert result.ids[0] == "P000000005"
    assert result.ids[3] == "P000000010"  # past every ID ever used, retired ones included


def test_merge_keeps_oldest_and_retires_the_other():
    previous = ["P000000008", "P000000008", "P000000008", "P000000002"]
    result = assign_ids([0, 0, 0, 0], previous, prefix="P")
    assert result.ids == {0: "P000000002"}
    assert result.retired == [("P000000008", "P000000002")]


def test_new_mentions_inherit_by_majority():
    previous = ["E000000004", "E000000004", None, None]
    result = assign_ids([0, 0, 0, 3], previous, prefix="E")
    assert result.ids[0] == "E000000004"
    assert result.ids[3] == "E000000005"


def test_id_age_and_sequence():
    assert id_age("P000000002") < id_age("P000000010")
    assert next_sequence(["P000000002", "junk", "P000000010"]) == 11
    assert next_sequence([]) == 1


def test_keyless_record_tied_between_two_keyed_people_links_to_neither():
    # record 1 has no ID; 0 and 2 are two namesakes with different IDs and it fits both
    result = cluster(
        3, exact_keys=["A", None, "B"],
        edges_l=np.array([0, 1]), edges_r=np.array([1, 2]),
        edges_p=np.array([0.974, 0.973]), edges_w=np.array([5.26, 5.18]),
        threshold=0.9, ambiguity_margin=2.0)
    assert result.labels.tolist() == [0, 1, 2]
    assert sorted(r[2] for r in result.refused) == ["ambiguous", "ambiguous"]


def test_clear_winner_is_not_ambiguous():
    result = cluster(
        3, exact_keys=["A", None, "B"],
        edges_l=np.array([0, 1]), edges_r=np.array([1, 2]),
        edges_p=np.array([0.9999, 0.95]), edges_w=np.array([14.0, 4.2]),
        threshold=0.9, ambiguity_margin=2.0)
    assert result.labels.tolist() == [0, 0, 2]
