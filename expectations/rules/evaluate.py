"""Score the anomaly flags against the generator's ground truth (precision, recall, decoys)."""

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, text

from expectations.rules.config import rule_specs


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _majority(xref: pd.DataFrame, mentions: pd.DataFrame, golden: str, true: str) -> dict:
    """Golden id → the true entity holding the majority of its mentions."""
    joined = xref.merge(mentions.rename(columns={"key": "source_key"}),
                        on=["source", "source_key"], how="inner")
    out = {}
    for gid, group in joined.groupby(golden):
        out[gid] = Counter(group[true]).most_common(1)[0][0]
    return out


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) \
        or value == "" else value


def evaluate_flags(engine: Engine, truth_dir: str | Path) -> dict[str, Any]:
    """Precision and recall of the active flags per rule and overall, and flagged decoys.

    Truth: ``fraud_cases.csv`` (rule, person, employer, year — true entity ids),
    ``person_mentions.csv`` / ``employer_mentions.csv`` (source, key, person|employer) and
    optionally ``decoys.csv`` (kind, person, employer, year, note; a decoy is flagged when
    a flag not planted names its person — or, without a person, its employer at employer
    level — in its year, by its rule when ``kind`` is a rule code). A golden id stands for
    the true entity holding most of its mentions. A flag is a true positive when its
    (rule, true person, true employer, year) is a planted case.
    """
    truth = Path(truth_dir)
    cases = _read(truth / "fraud_cases.csv")
    pm = _read(truth / "person_mentions.csv")
    em = _read(truth / "employer_mentions.csv")
    with engine.connect() as conn:
        def q(sql: str) -> pd.DataFrame:
            r = conn.execute(text(sql))
            return pd.DataFrame(r.fetchall(), columns=list(r.keys()), dtype=object)
        pxref = q("select source, source_key, person_id from core.person_xref")
        exref = q("select source, source_key, employer_id from core.employer_xref")
        flags = q("select flag_id, rule, year, person_id, employer_id, severity"
                  " from mart.anomaly_flag where active")
    person_of = _majority(pxref, pm, "person_id", "person")
    employer_of = _majority(exref, em, "employer_id", "employer")

    def flag_key(r) -> tuple:
        entity = rule_specs().get(r["rule"])
        person = None if entity and entity.entity == "employer" else \
            person_of.get(r["person_id"], f"?{r['person_id']}")
        return (r["rule"], person, employer_of.get(r["employer_id"], f"?{r['employer_id']}"),
                int(r["year"]))

    flagged = {flag_key(r) for _, r in flags.iterrows()}
    planted = set()
    for _, r in cases.iterrows():
        entity = rule_specs().get(r["rule"])
        person = None if entity and entity.entity == "employer" else _none(r["person"])
        planted.add((r["rule"], person, _none(r["employer"]), int(r["year"])))
    rules = sorted({k[0] for k in planted} | {k[0] for k in flagged})
    per_rule = {}
    for rule in rules:
        f = {k for k in flagged if k[0] == rule}
        t = {k for k in planted if k[0] == rule}
        tp = len(f & t)
        per_rule[rule] = {
            "planted": len(t), "flagged": len(f), "true_positives": tp,
            "precision": round(tp / len(f), 4) if f else None,
            "recall": round(tp / len(t), 4) if t else None,
        }
    tp = len(flagged & planted)
    overall = {"planted": len(planted), "flagged": len(flagged), "true_positives": tp,
               "precision": round(tp / len(flagged), 4) if flagged else None,
               "recall": round(tp / len(planted), 4) if planted else None}
    decoys_flagged = []
    decoy_path = truth / "decoys.csv"
    n_decoys = 0
    if decoy_path.exists():
        decoys = _read(decoy_path)
        n_decoys = len(decoys)
        for _, d in decoys.iterrows():
            # A decoy without a person is an employer-level decoy: employer-level flags only.
            hits = [k for k in flagged
                    if (d["kind"] not in rule_specs() or k[0] == d["kind"])
                    and k[1] == _none(d["person"])
                    and (not _none(d["employer"]) or k[2] == d["employer"])
                    and (not _none(d["year"]) or k[3] == int(d["year"]))
                    and k not in planted]
            if hits:
                decoys_flagged.append({**{c: _none(d[c]) for c in decoys.columns},
                                       "flagged_by": sorted({h[0] for h in hits})})
    missed = sorted(planted - flagged, key=str)
    false_pos = sorted(flagged - planted, key=str)
    return {"per_rule": per_rule, "overall": overall, "decoys": n_decoys,
            "decoys_flagged": decoys_flagged,
            "missed_sample": [list(k) for k in missed[:20]],
            "false_positive_sample": [list(k) for k in false_pos[:20]]}
