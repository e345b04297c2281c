"""Training on request: fit a model on staging, pick its threshold on ground truth."""

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from entity_resolution.clustering import cluster
from entity_resolution.evaluation import pairwise_scores
from entity_resolution.linking import predict_edges
from entity_resolution.model import MODELS_DIR, Model, load_model, train_model, update_threshold
from entity_resolution.pipeline import KINDS, _read, repair_keys

log = logging.getLogger(__name__)
THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999)
# The person model must not merge two people: pick the best F1 among thresholds whose
# precision on the training province reaches this floor. Issue 4 asks for ≥ 0.998 on
# held-out provinces; the floor is stricter to leave margin (namesakes known only by
# name and county are where a lax threshold fails first).
MIN_PRECISION = {"person": 0.9999, "employer": 0.98}


def _kind(kind: str):
    try:
        spec = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; expected one of {tuple(KINDS)}") from None
    return spec, spec.prepare


def load_features(engine: Engine, kind: str) -> pd.DataFrame:
    """Prepared features of every staging mention of a kind."""
    spec, prepare = _kind(kind)
    with engine.connect() as conn:
        mentions = _read(conn, f"SELECT {', '.join(spec.columns)} FROM {spec.staging}")
    return prepare(mentions)


def truth_labels(features: pd.DataFrame, truth_dir: Path, kind: str) -> pd.Series:
    """True entity per feature row (None where the truth file does not know the mention)."""
    truth = pd.read_csv(Path(truth_dir) / f"{kind}_mentions.csv", dtype=str,
                        keep_default_na=False)
    truth = truth.rename(columns={"key": "source_key", kind: "truth"})
    joined = features[["source", "source_key"]].merge(truth, on=["source", "source_key"],
                                                      how="left")
    return joined["truth"]


def threshold_curve(model: Model, features: pd.DataFrame, labels: pd.Series, *,
                    engine: str = "duckdb",
                    thresholds: tuple[float, ...] = THRESHOLDS) -> list[dict[str, Any]]:
    """Pairwise precision / recall / F1 of the full clustering at each threshold."""
    spec, _ = _kind(model.kind)
    edges = predict_edges(model, features, engine=engine, floor=min(thresholds))
    features = features.copy()
    repair_keys(model.kind, features)  # the pipeline clusters repaired keys: so does the curve
    keys = features[spec.exact_key]
    known = labels.notna().to_numpy()
    truth = labels[known].reset_index(drop=True)
    curve = []
    for threshold in thresholds:
        result = cluster(len(features), exact_keys=keys,
                         edges_l=edges["unique_id_l"].to_numpy(),
                         edges_r=edges["unique_id_r"].to_numpy(),
                         edges_p=edges["match_probability"].to_numpy(), threshold=threshold,
                         edges_w=edges["match_weight"].to_numpy(),
                         ambiguity_margin=model.ambiguity_margin)
        scores = pairwise_scores(pd.Series(result.labels[known]), truth)
        curve.append({"threshold": threshold, **{k: scores[k] for k in (
            "precision", "recall", "f1", "predicted_clusters", "true_clusters")}})
    return curve


# Among thresholds whose F1 is within this of the best, the highest (most cautious) wins:
# a gain below 1e-4 in F1 is noise, a higher threshold is protection on unseen data.
F1_TOLERANCE = 1e-4


def pick_threshold(curve: list[dict[str, Any]], min_precision: float) -> float:
    """Highest threshold with F1 within F1_TOLERANCE of the best F1 at the precision floor.

    Without any threshold meeting the floor, the most precise one.
    """
    eligible = [p for p in curve if p["precision"] >= min_precision]
    if not eligible:
        return float(max(curve, key=lambda p: (p["precision"], p["f1"]))["threshold"])
    best_f1 = max(p["f1"] for p in eligible)
    near = [p for p in eligible if p["f1"] >= best_f1 - F1_TOLERANCE]
    return float(max(near, key=lambda p: p["threshold"])["threshold"])


def train(kind: str, engine: Engine, truth_dir: str | Path | None = None, *,
          er_engine: str = "duckdb", models_dir: Path = MODELS_DIR, seed: int = 42,
          max_pairs: float = 2e6, description: str = "") -> Model:
    """Train a new model version on staging (labels from ground truth when given).

    With ground truth, the threshold is chosen on it (best F1 at the precision floor) and
    the curve is kept in the model's meta file; without, the default threshold stays.
    """
    features = load_features(engine, kind)
    labels = truth_labels(features, Path(truth_dir), kind) if truth_dir else None
    model = train_model(kind, features, labels=labels, engine=er_engine, seed=seed,
                        max_pairs=max_pairs, models_dir=models_dir,
                        trained_on=(description + ": " if description else "")
                        + f"{len(features)} staging mentions"
                        + (" with ground-truth labels" if truth_dir else ""))
    if labels is not None:
        model = calibrate(model, features, labels, er_engine=er_engine, models_dir=models_dir)
    return model


def calibrate(model: Model, features: pd.DataFrame, labels: pd.Series, *,
              er_engine: str = "duckdb", models_dir: Path = MODELS_DIR) -> Model:
    """Choose and record the model's threshold from its curve on ground truth."""
    curve = threshold_curve(model, features, labels, engine=er_engine)
    threshold = pick_threshold(curve, MIN_PRECISION[model.kind])
    log.info("%s: threshold %.4f chosen on ground truth", model.name, threshold)
    return update_threshold(model, threshold, curve, models_dir)


def curve_markdown(curve: list[dict[str, Any]], chosen: float) -> str:
    """The curve as a Markdown table, the chosen row marked."""
    lines = ["| threshold | precision | recall | F1 | clusters (true) |",
             "|---:|---:|---:|---:|---:|"]
    for p in curve:
        mark = " **←**" if np.isclose(p["threshold"], chosen) else ""
        lines.append(f"| {p['threshold']} | {p['precision']:.5f} | {p['recall']:.5f} | "
                     f"{p['f1']:.5f}{mark} | {p['predicted_clusters']} ({p['true_clusters']}) |")
    return "\n".join(lines)


def current_model(kind: str) -> Model:
    """The latest saved model of a kind."""
    return load_model(kind)
