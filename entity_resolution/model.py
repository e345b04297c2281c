"""Trained Splink models as versioned JSON files under entity_resolution/models/."""

import datetime as dt
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from entity_resolution import rules
from entity_resolution.backends import make_db_api, register, register_term_frequencies

log = logging.getLogger(__name__)
MODELS_DIR = Path(__file__).parent / "models"
KINDS = ("person", "employer")
_FILE = re.compile(r"^(person|employer)_v(\d+)\.json$")
DEFAULT_THRESHOLD = {"person": 0.9, "employer": 0.9}
# A keyless mention whose two best candidates (different IDs / org codes) are within this
# many bits of each other is left unlinked rather than given to the first of two namesakes.
AMBIGUITY_MARGIN = {"person": 2.0, "employer": 2.0}
# m probabilities are floored so that a level never seen among training matches (e.g. a
# rare typo pattern) gets a strong but finite weight instead of a ≈ −26 veto.
M_FLOOR = 1e-4
U_FLOOR = 1e-7


@dataclass(frozen=True)
class Model:
    """A trained model: Splink settings dict plus the match threshold chosen for it."""

    kind: str
    version: int
    settings: dict[str, Any]
    threshold: float
    meta: dict[str, Any]

    @property
    def ambiguity_margin(self) -> float:
        """Bits by which a keyless mention's best candidate must beat the second."""
        return float(self.meta.get("ambiguity_margin", AMBIGUITY_MARGIN[self.kind]))

    @property
    def name(self) -> str:
        """'person_v3'."""
        return f"{self.kind}_v{self.version}"


def _versions(kind: str, models_dir: Path) -> list[int]:
    found = []
    for path in models_dir.glob(f"{kind}_v*.json"):
        match = _FILE.match(path.name)
        if match:
            found.append(int(match.group(2)))
    return sorted(found)


def settings_for(kind: str):
    """Untrained settings of a model kind."""
    return rules.profile(kind).settings()


def load_model(kind: str, version: int | None = None, models_dir: Path = MODELS_DIR) -> Model:
    """The saved model of `kind` (the latest version unless one is named)."""
    versions = _versions(kind, models_dir)
    if not versions:
        raise FileNotFoundError(
            f"no saved {kind} model in {models_dir}; run entity_resolution.train({kind!r}, ...)"
        )
    version = version or versions[-1]
    path = models_dir / f"{kind}_v{version}.json"
    settings = json.loads(path.read_text(encoding="utf-8"))
    meta_path = models_dir / f"{kind}_v{version}.meta.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    threshold = float(meta.get("threshold", DEFAULT_THRESHOLD[kind]))
    return Model(kind, version, settings, threshold, meta)


def save_model(model_settings: dict[str, Any], kind: str, meta: dict[str, Any],
               models_dir: Path = MODELS_DIR) -> Model:
    """Write the next version of a model (settings + meta side file) and return it."""
    models_dir.mkdir(parents=True, exist_ok=True)
    version = (_versions(kind, models_dir) or [0])[-1] + 1
    meta = {"kind": kind, "version": version, **meta}
    (models_dir / f"{kind}_v{version}.json").write_text(
        json.dumps(model_settings, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (models_dir / f"{kind}_v{version}.meta.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    threshold = float(meta.get("threshold", DEFAULT_THRESHOLD[kind]))
    return Model(kind, version, model_settings, threshold, meta)


def update_threshold(model: Model, threshold: float, curve: list[dict[str, Any]] | None = None,
                     models_dir: Path = MODELS_DIR) -> Model:
    """Record the threshold chosen on ground truth in the model's meta file."""
    meta = {**model.meta, "threshold": threshold}
    if curve is not None:
        meta["threshold_curve"] = curve
    (models_dir / f"{model.kind}_v{model.version}.meta.json").write_text(
        json.dumps(meta, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return Model(model.kind, model.version, model.settings, threshold, meta)


def floor_m_values(settings: dict[str, Any], floor: float = M_FLOOR,
                   u_floor: float = U_FLOOR) -> dict[str, Any]:
    """Raise tiny or missing m (and u) probabilities of non-null levels, renormalised.

    A u never observed in the random sample (two different entities sharing an org code)
    is genuinely tiny but not zero: it gets `u_floor` so its weight is large and finite.
    """
    for comparison in settings.get("comparisons", []):
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for level in levels:
            u = level.get("u_probability")
            if u is None or u < u_floor:
                level["u_probability"] = u_floor
        for level in levels:
            m = level.get("m_probability")
            if m is None or m < floor:
                level["m_probability"] = floor
        total = sum(lv["m_probability"] for lv in levels)
        for level in levels:
            level["m_probability"] = level["m_probability"] / total
    return settings


def _lambda_from_labels(labels: pd.Series) -> float:
    """Share of all record pairs that are true matches."""
    sizes = labels.dropna().value_counts().to_numpy(dtype="float64")
    n = float(len(labels))
    return float((sizes * (sizes - 1) / 2).sum() / (n * (n - 1) / 2)) if n > 1 else 1e-6


def train_model(kind: str, features: pd.DataFrame, *, labels: pd.Series | None = None,
                engine: str = "duckdb", seed: int = 42, max_pairs: float = 2e6,
                threshold: float | None = None, models_dir: Path = MODELS_DIR,
                trained_on: str = "") -> Model:
    """Train a model on prepared features and save it as the next version.

    u from random sampling; λ from deterministic rules (same valid ID / org code); m from
    the ground-truth labels when given, else by expectation maximisation on blocks.
    """
    from splink import Linker

    frame = features.copy()
    profile = rules.profile(kind)
    key = profile.exact_key
    if labels is not None:
        frame["truth_label"] = labels.to_numpy()
    # u is the chance of agreeing among NON-matches; random pairs of a table where each
    # entity appears in several sources include many matches and would inflate u. Sample
    # pairs from one mention per entity (true label, else exact key) instead.
    dedupe_on = "truth_label" if labels is not None else key
    has_key = frame[dedupe_on].notna()
    # A random mention of each (not the first): every source keeps its share of the sample.
    shuffled = frame[has_key].sample(frac=1.0, random_state=seed)
    one_each = pd.concat([shuffled.drop_duplicates(dedupe_on), frame[~has_key]])
    u_linker = Linker(register(make_db_api(engine), one_each, f"{kind}_u_sample"),
                      settings_for(kind))
    u_linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    with_u = u_linker.misc.save_model_to_json(out_path=None)

    if labels is not None:
        with_u["probability_two_random_records_match"] = _lambda_from_labels(labels)
    db_api = make_db_api(engine)
    linker = Linker(register(db_api, frame, f"{kind}_training"), with_u)
    register_term_frequencies(linker, db_api, frame, key, with_u)
    if labels is not None:
        linker.training.estimate_m_from_label_column("truth_label")
        method = "u: random sampling (one mention per entity); m and λ: ground-truth labels"
    else:
        linker.training.estimate_probability_two_random_records_match(profile.deterministic,
                                                                      recall=0.9)
        for block in profile.em_blocks:
            linker.training.estimate_parameters_using_expectation_maximisation(
                block, fix_probability_two_random_records_match=True, fix_u_probabilities=True)
        method = ("u: random sampling (one mention per exact key); λ: deterministic rules; "
                  "m: expectation maximisation")
    settings = floor_m_values(linker.misc.save_model_to_json(out_path=None))
    meta = {
        "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "trained_on": trained_on,
        "records": len(features),
        "method": method,
        "seed": seed,
        "threshold": threshold if threshold is not None else DEFAULT_THRESHOLD[kind],
    }
    model = save_model(settings, kind, meta, models_dir)
    log.info("saved %s model %s (%d records)", kind, model.name, len(features))
    return model
