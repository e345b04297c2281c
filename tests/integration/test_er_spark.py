"""The same saved models give identical clusters on Splink's DuckDB and Spark back-ends."""

import json

import numpy as np

from entity_resolution.model import load_model
from entity_resolution.pipeline import EMPLOYER, PERSON, resolve_frame
from tests.integration.test_er_resolve import (
    EMPLOYERS,
    PERSONS,
    _employer_frame,
    _person_frame,
)


def _partition(run, id_col: str) -> set[frozenset]:
    groups = run.xref.groupby(id_col)[["source", "source_key"]]
    return {frozenset(zip(g["source"], g["source_key"], strict=True)) for _, g in groups}


def test_duckdb_and_spark_give_identical_clusters_and_scores():
    # One test for both kinds: the Spark session (JVM start-up) is the expensive part.
    for kind, frame in ((PERSON, _person_frame(PERSONS)), (EMPLOYER, _employer_frame(EMPLOYERS))):
        model = load_model(kind.name)
        duck = resolve_frame(kind, frame, model, er_engine="duckdb")
        spark = resolve_frame(kind, frame, model, er_engine="spark")
        assert _partition(duck, kind.id_col) == _partition(spark, kind.id_col)
        assert duck.xref[kind.id_col].tolist() == spark.xref[kind.id_col].tolist()
        pairs = duck.edges.merge(spark.edges, on=["unique_id_l", "unique_id_r"],
                                 suffixes=("_duckdb", "_spark"))
        assert len(pairs) == len(duck.edges) == len(spark.edges) > 0
        assert np.allclose(pairs["match_probability_duckdb"], pairs["match_probability_spark"])
        # The explanations too: the same pairs, kinds and per-comparison weights.
        cols = ["source_l", "key_l", "source_r", "key_r", "link_kind"]
        a, b = (r.match_edges.sort_values(cols).reset_index(drop=True) for r in (duck, spark))
        assert a[cols].equals(b[cols]) and len(a) > 0
        for x, y in zip(a["comparisons"], b["comparisons"], strict=True):
            if x is not None:
                wx, wy = (json.loads(v) for v in (x, y))
                assert [c["label"] for c in wx] == [c["label"] for c in wy]
                assert np.allclose([c["weight"] for c in wx], [c["weight"] for c in wy])
