"""The same saved models give identical clusters on Splink's DuckDB and Spark back-ends."""

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
