"""Training on request: a new model version is written with its threshold and curve."""

import json

import pandas as pd

import entity_resolution
from entity_resolution.model import load_model
from tests.integration.test_er_resolve import PERSONS, _load


def test_train_writes_next_version_with_threshold_chosen_on_truth(warehouse, tmp_path):
    _load(warehouse)
    truth = tmp_path / "truth"
    truth.mkdir()
    owners = ["p1", "p1", "p1", "p1", "p2", "p3", "p4", "p4", "p5", "p5"]
    pd.DataFrame([(r[0], r[1], o) for r, o in zip(PERSONS, owners, strict=True)],
                 columns=["source", "key", "person"]).to_csv(truth / "person_mentions.csv",
                                                             index=False)
    models = tmp_path / "models"
    first = entity_resolution.train("person", warehouse, truth, models_dir=models,
                                    max_pairs=1e4, description="test fixture")
    second = entity_resolution.train("person", warehouse, None, models_dir=models,
                                     max_pairs=1e4)
    assert (first.version, second.version) == (1, 2)
    assert load_model("person", models_dir=models).version == 2
    meta = json.loads((models / "person_v1.meta.json").read_text(encoding="utf-8"))
    assert meta["trained_on"].startswith("test fixture: 10 staging mentions")
    assert meta["threshold"] == first.threshold
    assert {p["threshold"] for p in meta["threshold_curve"]} >= {0.5, 0.9, 0.99}
    assert "expectation maximisation" in second.meta["method"]
    saved = json.loads((models / "person_v1.json").read_text(encoding="utf-8"))
    assert [c["output_column_name"] for c in saved["comparisons"]][:3] == [
        "id", "full_name", "birth"]
    # the shipped models are untouched: training writes only where it is told
    assert load_model("person").meta["trained_on"].startswith("synthetic province")
