"""Scoring resolved entities against ground truth: pairwise precision, recall, F1, errors."""

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quotalink.privacy import mask_id

_LONG_DIGITS = re.compile(r"\d{17}[\dXx]")


def _pairs(sizes: pd.Series | np.ndarray) -> int:
    n = np.asarray(sizes, dtype=np.int64)
    return int((n * (n - 1) // 2).sum())


def pairwise_scores(pred: pd.Series, truth: pd.Series) -> dict[str, Any]:
    """Pairwise precision, recall and F1 of a clustering against true labels."""
    frame = pd.DataFrame({"p": pred.to_numpy(), "t": truth.to_numpy()})
    both = _pairs(frame.groupby(["p", "t"]).size())
    predicted = _pairs(frame.groupby("p").size())
    actual = _pairs(frame.groupby("t").size())
    precision = both / predicted if predicted else 1.0
    recall = both / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 6), "recall": round(recall, 6), "f1": round(f1, 6),
        "true_pairs": actual, "predicted_pairs": predicted, "correct_pairs": both,
        "predicted_clusters": int(frame["p"].nunique()),
        "true_clusters": int(frame["t"].nunique()),
    }


def _mask_key(source: str, key: str) -> str:
    """Mention keys that embed an ID number (certificate numbers) are masked."""
    key = str(key)
    return _LONG_DIGITS.sub(lambda m: mask_id(m.group(0)) or "", key)


def _worst_errors(joined: pd.DataFrame, edges: pd.DataFrame | None, limit: int) -> dict:
    """False merges first (links that joined two true entities), then false splits."""
    merges, splits = [], []
    label = dict(zip(zip(joined["source"], joined["source_key"], strict=True),
                     zip(joined["pred"], joined["truth"], strict=True), strict=True))
    if edges is not None and len(edges):
        left = [label.get(k) for k in zip(edges["source_l"], edges["key_l"], strict=True)]
        right = [label.get(k) for k in zip(edges["source_r"], edges["key_r"], strict=True)]
        ok = np.array([a is not None and b is not None for a, b in zip(left, right,
                                                                       strict=True)])
        same_pred = np.array([bool(o) and a[0] == b[0] for o, a, b in
                              zip(ok, left, right, strict=True)])
        same_true = np.array([bool(o) and a[1] == b[1] for o, a, b in
                              zip(ok, left, right, strict=True)])
        wrong_merge = edges[same_pred & ~same_true]
        missed = edges[ok & ~same_pred & same_true]
        for row in wrong_merge.sort_values("match_weight", ascending=False).head(limit) \
                .itertuples(index=False):
            merges.append(_edge_dict(row))
        for row in missed.sort_values("match_weight", ascending=False).head(limit) \
                .itertuples(index=False):
            splits.append(_edge_dict(row))
    # Merged clusters with no direct edge between the wrongly joined parts (chained links).
    per_cluster = joined.groupby("pred")["truth"].nunique()
    merged_clusters = per_cluster[per_cluster > 1]
    split_entities = joined.groupby("truth")["pred"].nunique()
    return {
        "false_merges": merges,
        "false_splits": splits,
        "clusters_with_false_merge": int(len(merged_clusters)),
        "entities_split": int((split_entities > 1).sum()),
    }


def _edge_dict(row) -> dict[str, Any]:
    return {
        "a": f"{row.source_l}/{_mask_key(row.source_l, row.key_l)}",
        "b": f"{row.source_r}/{_mask_key(row.source_r, row.key_r)}",
        "match_weight": round(float(row.match_weight), 3),
        "match_probability": round(float(row.match_probability), 6),
    }


# Hard cases whose mentions must end up in one golden record (the others must stay apart).
_JOIN_CASES = ("renamed", "code_change", "mover")


def breakdown(joined: pd.DataFrame, tags: pd.DataFrame | None = None) -> dict[str, Any]:
    """What was split and what was mixed, per source and per hard-case tag of a mention.

    A mention is *split* when it is not in its true entity's main golden record (the one
    holding most of that entity's mentions); it is *mixed* when its golden record belongs
    mostly to another true entity. Both are counted on the mention's own source, so a
    regression names where it happened.
    """
    frame = joined[["source", "source_key", "pred", "truth"]].copy()
    counts = frame.groupby(["truth", "pred"]).size().reset_index(name="n")
    counts = counts.sort_values(["truth", "n", "pred"], ascending=[True, False, True],
                                kind="stable")
    home = counts.drop_duplicates("truth").set_index("truth")["pred"]
    owners = counts.sort_values(["pred", "n", "truth"], ascending=[True, False, True],
                                kind="stable").drop_duplicates("pred").set_index("pred")["truth"]
    frame["split"] = frame["pred"].to_numpy() != frame["truth"].map(home).to_numpy()
    frame["mixed"] = frame["truth"].to_numpy() != frame["pred"].map(owners).to_numpy()

    def table(group: pd.core.groupby.DataFrameGroupBy) -> dict[str, dict[str, int]]:
        agg = group.agg(mentions=("split", "size"), split=("split", "sum"),
                        mixed=("mixed", "sum"))
        return {str(k): {c: int(v) for c, v in row.items()} for k, row in agg.iterrows()}

    out: dict[str, Any] = {"by_source": table(frame.groupby("source"))}
    if tags is not None and len(tags):
        tagged = frame.merge(tags.rename(columns={"key": "source_key"}),
                             on=["source", "source_key"])
        out["by_tag"] = table(tagged.groupby("tag"))
    return out


def hard_case_results(joined: pd.DataFrame, cases: pd.DataFrame, kind: str) -> dict[str, Any]:
    """How the generator's entity-resolution traps came out (hard_cases.csv).

    Pairs that must stay apart (namesakes, twins, branches, same trade name elsewhere)
    are counted as merged when any predicted cluster holds mentions of both; a renamed
    employer is joined when all its mentions share one predicted cluster.
    """
    clusters = joined.groupby("truth")["pred"].agg(lambda s: set(s))
    out: dict[str, Any] = {}
    for case_kind, rows in cases[cases["kind"].str.startswith(kind + "_")].groupby("kind"):
        name = case_kind.removeprefix(kind + "_")
        if name in _JOIN_CASES:
            seen = [a for a in rows["a"] if a in clusters.index]
            joined_ok = sum(1 for a in seen if len(clusters[a]) == 1)
            out[name] = {"cases": len(seen), "joined": joined_ok}
        else:
            seen = [(a, b) for a, b in zip(rows["a"], rows["b"], strict=True)
                    if a in clusters.index and b in clusters.index]
            merged = sum(1 for a, b in seen if clusters[a] & clusters[b])
            out[name] = {"cases": len(seen), "merged": merged}
    return out


def evaluate_kind(engine: Engine, truth_file: Path, xref: str, id_col: str, truth_col: str,
                  edges_file: Path | None = None, limit: int = 10) -> dict[str, Any]:
    """Scores of one entity kind (person or employer)."""
    truth = pd.read_csv(truth_file, dtype=str, keep_default_na=False)
    truth = truth.rename(columns={"key": "source_key", truth_col: "truth"})
    with engine.connect() as conn:
        result = conn.execute(sa.text(f"SELECT source, source_key, {id_col} FROM {xref}"))
        resolved = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    resolved = resolved.rename(columns={id_col: "pred"})
    joined = truth.merge(resolved, on=["source", "source_key"], how="left")
    missing = int(joined["pred"].isna().sum())
    # An unresolved mention is its own cluster: it can only cost recall.
    joined["pred"] = joined["pred"].where(joined["pred"].notna(),
                                          "unresolved:" + joined.index.astype(str))
    scores = pairwise_scores(joined["pred"], joined["truth"])
    edges = pd.read_parquet(edges_file) if edges_file and edges_file.exists() else None
    report = {
        **scores,
        "mentions": int(len(joined)),
        "mentions_not_resolved": missing,
        "resolved_not_in_truth": int(len(resolved) - (len(joined) - missing)),
        "errors": _worst_errors(joined, edges, limit),
    }
    cases_file = truth_file.parent / "hard_cases.csv"
    if cases_file.exists():
        cases = pd.read_csv(cases_file, dtype=str, keep_default_na=False)
        report["hard_cases"] = hard_case_results(joined, cases, truth_col)
    tags_file = truth_file.parent / "mention_tags.csv"
    tags = None
    if tags_file.exists():
        tags = pd.read_csv(tags_file, dtype=str, keep_default_na=False)
        tags = tags[tags["entity"] == truth_col][["source", "key", "tag"]]
    report["breakdown"] = breakdown(joined, tags)
    return report


def evaluate(engine: Engine, truth_dir: str | Path, *, var_dir: Path | None = None,
             limit: int = 10) -> dict[str, Any]:
    """Pairwise precision / recall / F1, cluster counts and worst errors for both kinds."""
    truth_dir = Path(truth_dir)
    out: dict[str, Any] = {}
    for kind, xref, id_col, truth_col in (
        ("person", "core.person_xref", "person_id", "person"),
        ("employer", "core.employer_xref", "employer_id", "employer"),
    ):
        truth_file = truth_dir / f"{kind}_mentions.csv"
        if not truth_file.exists():
            out[kind] = {"error": f"{truth_file.name} not found in the truth directory"}
            continue
        out[kind] = evaluate_kind(engine, truth_file, xref, id_col, truth_col,
                                  Path(var_dir) / "er" / f"{kind}_edges.parquet" if var_dir
                                  else None, limit)
    return out


def summary(report: dict[str, Any]) -> dict[str, float | int]:
    """Flat numeric figures of an evaluate() report, e.g. for Dagster asset metadata."""
    flat: dict[str, float | int] = {}
    for kind, scores in report.items():
        if not isinstance(scores, dict) or "f1" not in scores:
            continue
        for key in ("precision", "recall", "f1", "predicted_clusters", "true_clusters",
                    "mentions_not_resolved"):
            flat[f"{kind}_{key}"] = scores[key]
        errors = scores.get("errors", {})
        flat[f"{kind}_clusters_with_false_merge"] = errors.get("clusters_with_false_merge", 0)
        flat[f"{kind}_entities_split"] = errors.get("entities_split", 0)
        for case, result in scores.get("hard_cases", {}).items():
            for key, value in result.items():
                flat[f"{kind}_hard_{case}_{key}"] = value
    return flat
