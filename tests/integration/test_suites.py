"""Great Expectations suites against PostgreSQL: blocking failures and masked metadata."""

import json

import pytest
import sqlalchemy as sa

from expectations import CheckOutcome, build_data_docs, validate_table
from expectations.rules.testing import Fixture, reset, scratch_warehouse

pytestmark = pytest.mark.integration
ID_OK = "11010519491231002X"  # valid check character
ID_BAD = "370102198503124526"  # wrong check character (should be 9)


@pytest.fixture(scope="module")
def engine():
    with scratch_warehouse("ql_suites") as eng:
        yield eng


@pytest.fixture
def fx(engine):
    reset(engine)
    with engine.begin() as conn:
        yield Fixture(conn)


def test_clean_tables_pass(engine, fx):
    fx.person("P1", id_number=ID_OK, phone="13812345678")
    fx.insert("staging.person_mention", source="quota", source_key="E1-0001",
              full_name="王秀英", id_number=ID_OK)
    fx.xref("person", "quota", "E1-0001", "P1")
    fx.insert("ops.load_audit", source="quota", delivery="w1", rows_read=5, rows_loaded=4,
              rows_quarantined=1)
    fx.conn.commit()
    for table in ("core.person", "core.person_xref", "ops.load_audit", "mart.anomaly_flag"):
        outcome = validate_table(engine, table)
        assert isinstance(outcome, CheckOutcome)
        assert outcome.passed and not outcome.blocking, outcome.metadata["failures"]
        assert outcome.metadata["checks_failed"] == 0


def test_duplicate_key_fails_a_blocking_check(engine, fx):
    # The warehouse table has a primary key; a copy without it shows what the suite catches.
    fx.conn.execute(sa.text(
        "alter table core.person_xref drop constraint person_xref_pkey"))
    fx.xref("person", "quota", "E1-0001", "P1")
    fx.xref("person", "quota", "E1-0001", "P2")
    fx.person("P1")
    fx.person("P2")
    fx.conn.commit()
    try:
        outcome = validate_table(engine, "core.person_xref")
        assert not outcome.passed and outcome.blocking
        failure = outcome.metadata["failures"]["key_unique:source+source_key"]
        assert failure["blocking"] and failure["unexpected_count"] == 2
        warn_only = validate_table(engine, "core.person_xref", level="warning")
        assert warn_only.passed and not warn_only.blocking
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("truncate core.person_xref"))
            conn.execute(sa.text(
                "alter table core.person_xref add primary key (source, source_key)"))


def test_missing_xref_and_bad_reconciliation_block(engine, fx):
    fx.insert("staging.person_mention", source="hr", source_key="A001", full_name="李四")
    fx.xref("person", "quota", "E9", "NOPE")  # points at no golden person
    fx.insert("ops.load_audit", source="hr", delivery="w2", rows_read=10, rows_loaded=8,
              rows_quarantined=1)
    fx.conn.commit()
    xref = validate_table(engine, "core.person_xref")
    assert xref.blocking
    assert set(xref.metadata["blocking_failed"]) == {"xref_complete", "references:person_id"}
    assert xref.metadata["failures"]["xref_complete"]["unexpected_count"] == 1
    audit = validate_table(engine, "ops.load_audit", level="blocking")
    assert audit.blocking
    sample = audit.metadata["failures"]["delivery_reconciles"]["unexpected_sample"]
    assert sample == [{"source": "hr", "delivery": "w2", "rows_read": 10, "rows_loaded": 8,
                       "rows_quarantined": 1}]


def test_warnings_carry_masked_personal_values(engine, fx):
    fx.person("P1", id_number=ID_BAD, phone="1381234", name="欧阳娜娜", gender="X")
    fx.conn.commit()
    outcome = validate_table(engine, "core.person")
    assert not outcome.passed and not outcome.blocking
    failures = outcome.metadata["failures"]
    assert failures["id_check_digit:id_number"]["unexpected_sample"] == [
        {"id_number": "3701*************6"}]
    assert failures["in_set:gender"]["unexpected_sample"] == ["X"]
    text = json.dumps(outcome.metadata, ensure_ascii=False)
    assert ID_BAD not in text and "欧阳娜娜" not in text


def test_static_summary_page(engine, fx, tmp_path):
    fx.person("P1", id_number=ID_BAD)
    fx.conn.commit()
    index = build_data_docs(engine, tmp_path / "gx",
                            tables_=["core.person", "core.person_xref", "ops.load_audit"])
    page = index.read_text(encoding="utf-8")
    assert index.name == "index.html" and "core.person_xref" in page
    assert "id_check_digit:id_number" in page and ID_BAD not in page


def test_a_sources_part_of_a_shared_table_is_validated_alone(engine, fx):
    # staging.person_mention is one asset per source: quota's bad row must fail quota's part
    # only, and each part counts its own rows.
    fx.insert("staging.person_mention", source="quota", source_key="E1-0001",
              full_name="王秀英", id_number=ID_OK, gender="X")
    fx.insert("staging.person_mention", source="training", source_key="S1",
              full_name="李娜", id_number=ID_OK, gender="F")
    fx.insert("staging.person_mention", source="training", source_key="S2",
              full_name="张伟", id_number=ID_OK, gender="M")
    fx.conn.commit()
    quota = validate_table(engine, "staging.person_mention", level="warning", source="quota")
    training = validate_table(engine, "staging.person_mention", level="warning",
                              source="training")
    assert quota.metadata["rows"] == 1 and training.metadata["rows"] == 2
    assert list(quota.metadata["failures"]) == ["in_set:gender"]
    assert training.passed, training.metadata["failures"]  # its types are checked too
    assert quota.metadata["checks"] == training.metadata["checks"] > 20
    with pytest.raises(ValueError, match="not a source id"):
        validate_table(engine, "staging.person_mention", source="x' or '1'='1")


def test_early_validation_is_the_check_steps_outcome(engine, fx, monkeypatch):
    # `quotalink run` validates a table in a second thread once its step is done; the check
    # step must get exactly what validating in the step itself gives, failures included.
    import dagster as dg

    from orchestration import checks

    monkeypatch.setenv("QUOTALINK_INCREMENTAL", "0")
    fx.person("P1", id_number=ID_OK, phone="13812345678")
    fx.person("P2", id_number=ID_BAD, phone="12")
    fx.xref("person", "quota", "E1-0001", "P1")
    fx.conn.commit()
    keys = [dg.AssetKey(["core", "person"]), dg.AssetKey(["core", "person_xref"])]
    checks.suite_checks(keys)
    inline = {k: checks._outcome(engine, k, "run-a") for k in keys}
    assert any(not r["passed"] for r in inline[keys[0]][1]), "the bad ID must fail a check"
    monkeypatch.setitem(checks.EARLY, "enabled", True)
    try:
        checks.start_early(engine, keys, "run-b")
        early = {k: checks._taken(k, "run-b") for k in keys}
        assert checks._taken(keys[0], "run-b") == (False, None)  # taken once
        assert checks._taken(keys[0], "run-a") == (False, None)  # another run's is not there
    finally:
        checks.stop_early()

    def plain(outcome):
        return [{**r, "metadata": {k: v for k, v in r["metadata"].items() if k != "seconds"}}
                for r in outcome[1]]

    for k in keys:
        assert plain(early[k]) == plain(inline[k])
