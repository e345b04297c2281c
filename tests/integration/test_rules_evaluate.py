"""evaluate_flags: golden ids mapped to true entities by majority, precision/recall, decoys."""

import csv
import datetime as dt

import pytest

from expectations import evaluate_flags, run_rules
from expectations.rules.reference import retirement_date
from expectations.rules.testing import Fixture, scratch_warehouse, small_reference

pytestmark = pytest.mark.integration


def _write(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def test_precision_recall_and_flagged_decoys(tmp_path):
    with scratch_warehouse("ql_rules_eval") as engine:
        with engine.begin() as conn:
            f = Fixture(conn)
            for pid in ("G1", "G2", "G3"):
                f.person(pid)
                f.certificate(pid)
            for eid in ("GE1", "GE2"):
                f.employer(eid)
            d1, d2 = f.declaration("GE1"), f.declaration("GE2")
            # G1 declared by both employers: MULTI_EMPLOYER on both (planted).
            r1 = f.employee(d1, "G1")
            r2 = f.employee(d2, "G1")
            # G2: short contract (planted), G3: short contract (a decoy, wrongly flagged).
            r3 = f.employee(d1, "G2", start=dt.date(2024, 3, 1), end=dt.date(2024, 12, 31))
            r4 = f.employee(d2, "G3", start=dt.date(2024, 3, 1), end=dt.date(2024, 12, 31))
            for pid in ("G1", "G2", "G3"):
                f.full_contributions(pid, "GE1" if pid == "G2" else "GE2")
            f.full_contributions("G1", "GE1")
        run_rules(engine, reference=small_reference(retirement=retirement_date),
                  rules=["MULTI_EMPLOYER", "SHORT_CONTRACT"])
        # Truth: golden G1 holds two mentions of true T1 and one of T9 → T1 by majority.
        _write(tmp_path / "person_mentions.csv", ["source", "key", "person"], [
            ["quota", r1, "T1"], ["quota", r2, "T1"], ["hr", "PG1", "T9"],
            ["quota", r3, "T2"], ["quota", r4, "T3"]])
        _write(tmp_path / "employer_mentions.csv", ["source", "key", "employer"], [
            ["quota", d1, "U1"], ["quota", d2, "U2"]])
        _write(tmp_path / "fraud_cases.csv", ["rule", "person", "employer", "year"], [
            ["MULTI_EMPLOYER", "T1", "U1", "2024"], ["MULTI_EMPLOYER", "T1", "U2", "2024"],
            ["SHORT_CONTRACT", "T2", "U1", "2024"], ["CERT_INVALID", "T5", "U1", "2024"]])
        _write(tmp_path / "decoys.csv", ["kind", "person", "employer", "year", "note"], [
            ["SHORT_CONTRACT", "T3", "U2", "2024", "nine months"],
            ["MULTI_EMPLOYER", "T2", "", "2024", "not flagged"],
            ["sheltered_workshop", "", "U2", "2024", "person flags do not count"]])
        result = evaluate_flags(engine, tmp_path)
    assert result["per_rule"]["MULTI_EMPLOYER"] == {
        "planted": 2, "flagged": 2, "true_positives": 2, "precision": 1.0, "recall": 1.0}
    assert result["per_rule"]["SHORT_CONTRACT"]["precision"] == 0.5
    assert result["per_rule"]["SHORT_CONTRACT"]["recall"] == 1.0
    assert result["per_rule"]["CERT_INVALID"]["recall"] == 0.0
    assert result["overall"] == {"planted": 4, "flagged": 4, "true_positives": 3,
                                 "precision": 0.75, "recall": 0.75}
    assert [d["person"] for d in result["decoys_flagged"]] == ["T3"]
    assert result["decoys_flagged"][0]["flagged_by"] == ["SHORT_CONTRACT"]
