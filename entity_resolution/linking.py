"""Scoring candidate pairs with a saved Splink model, and the model's charts."""

import copy
import logging
from pathlib import Path

import pandas as pd

from entity_resolution import rules
from entity_resolution.backends import make_db_api, register, register_term_frequencies
from entity_resolution.model import Model

log = logging.getLogger(__name__)
EDGE_COLUMNS = ["unique_id_l", "unique_id_r", "match_weight", "match_probability"]


def _linker(model: Model, features: pd.DataFrame, engine: str, *, detail: bool,
            tf_tables: dict | None = None):
    from splink import Linker

    settings = copy.deepcopy(model.settings)
    settings["retain_intermediate_calculation_columns"] = detail
    settings["retain_matching_columns"] = detail
    if not detail:
        settings["additional_columns_to_retain"] = []
        features_in = features[rules.profile(model.kind).model_columns]
    else:
        features_in = features
    db_api = make_db_api(engine)
    sdf = register(db_api, features_in, f"{model.kind}_mentions")
    linker = Linker(sdf, settings)
    key = rules.profile(model.kind).exact_key
    # An empty dict asks for the tables; a filled one is used as it is.
    tables = register_term_frequencies(linker, db_api, features, key, settings,
                                       tf_tables or None)
    if tf_tables is not None and not tf_tables:
        tf_tables.update(tables)
    return linker


def predict_edges(model: Model, features: pd.DataFrame, *, engine: str = "duckdb",
                  floor: float = 0.01, tf_tables: dict | None = None) -> pd.DataFrame:
    """Scored pairs with match probability ≥ floor (below the threshold too, for review).

    An empty dict as `tf_tables` receives the term-frequency tables the scoring used."""
    if len(features) < 2:
        return pd.DataFrame({c: pd.Series(dtype="float64" if c.startswith("match") else "int64")
                             for c in EDGE_COLUMNS})
    linker = _linker(model, features, engine, detail=False, tf_tables=tf_tables)
    predictions = linker.inference.predict(threshold_match_probability=floor)
    table = predictions.as_pyarrow_table() if hasattr(predictions, "as_pyarrow_table") else None
    edges = (table.to_pandas() if table is not None else predictions.as_pandas_dataframe())
    edges = edges[EDGE_COLUMNS].copy()
    del table, predictions
    _release(linker)
    edges["unique_id_l"] = edges["unique_id_l"].astype("int64")
    edges["unique_id_r"] = edges["unique_id_r"].astype("int64")
    # A deterministic order makes clustering independent of back-end row order.
    edges = edges.sort_values(["unique_id_l", "unique_id_r"], kind="stable")
    return edges.reset_index(drop=True)


def _release(linker) -> None:
    """Free the back-end's copy of the input and intermediate tables now, not at GC time."""
    con = getattr(linker._db_api, "_con", None)
    if con is not None and hasattr(con, "close"):
        try:
            con.close()
        except Exception as exc:  # only memory is at stake
            log.debug("closing the DuckDB connection failed: %s", exc)


def save_charts(model: Model, features: pd.DataFrame, out_dir: Path, *,
                engine: str = "duckdb", sample: int = 3000, waterfall_pairs: int = 20) -> list[Path]:
    """Match-weight and waterfall charts as self-contained HTML files (no CDN needed).

    The waterfall shows the scored pairs closest to the threshold, where decisions are
    hardest; data in it is masked (weights only).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    subset = features.head(sample)
    linker = _linker(model, subset, engine, detail=True)
    written = []
    path = out_dir / f"{model.kind}_match_weights.html"
    linker.visualisations.match_weights_chart().save(str(path), inline=True)
    written.append(path)
    predictions = linker.inference.predict(threshold_match_probability=0.001)
    frame = predictions.as_pandas_dataframe()
    if len(frame):
        frame = frame.assign(_gap=(frame["match_probability"] - model.threshold).abs())
        records = frame.nsmallest(waterfall_pairs, "_gap").drop(columns="_gap")
        chart = linker.visualisations.waterfall_chart(records.to_dict("records"),
                                                      remove_sensitive_data=True)
        path = out_dir / f"{model.kind}_waterfall.html"
        chart.save(str(path), inline=True)
        written.append(path)
    return written
