"""Unit tests of the survivorship table and of pairwise evaluation scores."""

import pandas as pd
import pytest

from entity_resolution.evaluation import pairwise_scores
from entity_resolution.survivorship import _parse, golden_values, rules


def _mentions(rows):
    cols = ["cluster", "source", "source_key", "observed_on", "full_name", "phone",
            "cert_number", "disability_level", "cert_status"]
    return pd.DataFrame([dict(zip(cols, r, strict=True)) for r in rows])


def test_rules_file_covers_every_golden_attribute():
    person = {r.attribute for r in rules("person")}
    employer = {r.attribute for r in rules("employer")}
    assert {"full_name", "id_number", "cert_number", "gender", "birth_date",
            "disability_category", "disability_level", "cert_status", "hukou_region_code",
            "phone"} <= person
    assert {"name", "uscc", "org_code", "region_code", "unit_type"} <= employer


def test_parse_rule_with_equal_ranks():
    rule = _parse("person", "x", "source(a | b, c); recency; completeness")
    assert rule.steps[0] == ("source", {"a": 0, "b": 0, "c": 1})
    assert [s[0] for s in rule.steps] == ["source", "recency", "completeness"]
    with pytest.raises(ValueError, match="cannot read"):
        _parse("person", "x", "sauce(a)")


def test_source_priority_then_recency_then_completeness():
    df = _mentions([
        (1, "quota", "q1", "2024-05-01", "王伟", "13800000001", None, 2, None),
        (1, "disability_registry", "r1", "2020-01-01", "王玮", None, "C1", 3, "valid"),
        (1, "hr", "h1", "2024-06-01", "王伟", "13800000002", None, None, None),
        (1, "hr", "h2", "2023-06-01", "王伟", "13800000003", None, None, None),
    ])
    golden = golden_values(df, "cluster", "person",
                           ["full_name", "phone", "cert_number", "disability_level"])
    row = golden.iloc[0]
    assert row["full_name"] == "王玮"  # the register wins despite being older
    assert row["phone"] == "13800000002"  # hr over quota, the newer hr row
    assert row["cert_number"] == "C1"
    assert row["disability_level"] == 3  # the register is authoritative for certificates


def test_valid_certificate_preferred_over_a_newer_cancelled_one():
    df = _mentions([
        (7, "disability_registry", "old", "2024-01-01", "李娜", None, "C-old", 4, "cancelled"),
        (7, "disability_registry", "new", "2023-01-01", "李娜", None, "C-new", 2, "valid"),
    ])
    golden = golden_values(df, "cluster", "person", ["cert_number", "disability_level"])
    assert golden.iloc[0]["cert_number"] == "C-new"
    assert golden.iloc[0]["disability_level"] == 2


def test_attribute_missing_everywhere_stays_missing():
    df = _mentions([(3, "training", "t1", None, "赵六", None, None, None, None)])
    golden = golden_values(df, "cluster", "person", ["full_name", "phone"])
    assert golden.iloc[0]["full_name"] == "赵六"
    assert pd.isna(golden.iloc[0]["phone"])


def test_pairwise_scores():
    pred = pd.Series(["a", "a", "a", "b", "c"])
    truth = pd.Series([1, 1, 2, 3, 3])
    scores = pairwise_scores(pred, truth)
    # predicted pairs: 3 (within a); true pairs: 1 (1,1) + 1 (3,3) = 2; correct: 1
    assert scores["predicted_pairs"] == 3
    assert scores["true_pairs"] == 2
    assert scores["correct_pairs"] == 1
    assert scores["precision"] == pytest.approx(1 / 3, abs=1e-6)
    assert scores["recall"] == pytest.approx(0.5)
    assert scores["predicted_clusters"] == 3
    assert scores["true_clusters"] == 3


def test_pick_threshold_prefers_the_cautious_end_of_a_plateau():
    from entity_resolution.training import pick_threshold

    curve = [
        {"threshold": 0.2, "precision": 1.0, "f1": 0.99977},
        {"threshold": 0.9, "precision": 1.0, "f1": 0.99974},
        {"threshold": 0.99, "precision": 1.0, "f1": 0.99913},
        {"threshold": 0.1, "precision": 0.9990, "f1": 0.99990},  # below the floor
    ]
    assert pick_threshold(curve, 0.9999) == 0.9
    assert pick_threshold([{"threshold": 0.5, "precision": 0.9, "f1": 0.9}], 0.99) == 0.5


def test_error_report_masks_id_numbers_in_mention_keys():
    from entity_resolution.evaluation import _mask_key

    masked = _mask_key("disability_registry", "37010219850312452242")
    assert "198503" not in masked
    assert masked.startswith("3701")
    assert _mask_key("quota", "E2024370102000123-0003") == "E2024370102000123-0003"
    assert _mask_key("employment_service", "JY202401000000651") == "JY202401000000651"


def test_hard_case_results():
    from entity_resolution.evaluation import hard_case_results

    joined = pd.DataFrame({
        "truth": ["p1", "p1", "p2", "p3", "p4", "e1", "e1"],
        "pred": ["A", "A", "B", "B", "C", "X", "X"],
    })
    cases = pd.DataFrame({
        "kind": ["person_twin", "person_namesake", "person_twin", "employer_renamed"],
        "a": ["p1", "p2", "p9", "e1"], "b": ["p2", "p3", "p1", "e1"],
    })
    person = hard_case_results(joined, cases, "person")
    assert person == {"namesake": {"cases": 1, "merged": 1}, "twin": {"cases": 1, "merged": 0}}
    assert hard_case_results(joined, cases, "employer") == {"renamed": {"cases": 1, "joined": 1}}


def test_attribute_sources_credit_each_value_to_its_mention_and_bits_match_the_docs():
    import numpy as np

    from entity_resolution.survivorship import ATTRIBUTES, attribute_sources, golden_with_winners
    from warehouse.descriptions import _ATTRIBUTE_BITS

    df = pd.DataFrame({
        "source": ["disability_registry", "quota", "hr"], "source_key": ["C1", "Q1", "H1"],
        "cluster": [0, 0, 0], "delivery": ["cjrxx_202610.csv", "w1", "w2"],
        "observed_on": ["2026-10-31"] * 3, "full_name": ["王秀英", "王秀瑛", None],
        "phone": [None, "13805311234", "13905321111"], "id_number": [None, None, None]})
    golden, winners = golden_with_winners(df, "cluster", "person", ["full_name", "phone"])
    derived = {"gender": ("phone", np.array([True]))}  # any origin attribute: the crediting
    rows = attribute_sources(df, winners, ATTRIBUTES["person"], derived)
    bits = {a: 1 << i for i, a in enumerate(ATTRIBUTES["person"])}
    got = {r.source: (r.attribute_mask, r.derived_mask) for r in rows.itertuples()}
    # The registry's name, hr's phone (hr outranks quota for phones), gender credited to hr.
    assert golden.loc[0, "full_name"] == "王秀英" and golden.loc[0, "phone"] == "13905321111"
    assert got["disability_registry"][0] == bits["full_name"]
    assert got["hr"] == (bits["phone"] | bits["gender"], bits["gender"])
    assert "quota" not in got
    for entity, order in ATTRIBUTES.items():
        assert _ATTRIBUTE_BITS[entity] == ", ".join(f"{1 << i} {a}" for i, a in enumerate(order))
