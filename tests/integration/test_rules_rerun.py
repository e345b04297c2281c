"""Flags are findings: stable ids across runs, vanished ones deactivated, decisions untouched."""

import datetime as dt

import pytest
import sqlalchemy as sa

from expectations import run_rules
from expectations.rules.reference import retirement_date
from expectations.rules.testing import Fixture, flags, scratch_warehouse, small_reference

pytestmark = pytest.mark.integration
REF = small_reference(retirement=retirement_date)
T1 = dt.datetime(2025, 5, 1, 8, 0, tzinfo=dt.UTC)
T2 = dt.datetime(2025, 6, 1, 8, 0, tzinfo=dt.UTC)
T3 = dt.datetime(2025, 7, 1, 8, 0, tzinfo=dt.UTC)


def _decisions(engine):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(
            "select decision_id, flag_id, decision, reviewer, note, decided_at"
            " from review.decision order by decision_id"))]


def test_second_run_keeps_ids_first_seen_and_decisions():
    with scratch_warehouse("ql_rules_rerun") as engine:
        with engine.begin() as conn:
            f = Fixture(conn)
            for pid in ("P1", "P2"):
                f.person(pid)
            f.employer("E1")
            f.employer("E2")
            d1, d2 = f.declaration("E1"), f.declaration("E2")
            f.employee(d1, "P1", wage=1500)
            f.employee(d2, "P1", wage=1500)
            gone = f.employee(d2, "P2", start=dt.date(2024, 11, 1))
        first = run_rules(engine, now=T1, reference=REF)
        before = flags(engine).set_index("flag_id")
        assert first.findings["MULTI_EMPLOYER"] == 2 and first.findings["SHORT_CONTRACT"] == 1
        assert (before["first_seen_at"] == T1).all() and before["active"].all()

        # Auditors decide between the runs.
        picked = list(before.index[:3])
        with engine.begin() as conn:
            for fid, decision in zip(picked, ("confirmed", "dismissed", "escalated"),
                                     strict=True):
                conn.execute(sa.text(
                    "insert into review.decision (flag_id, decision, reviewer, note)"
                    " values (:f, :d, 'auditor1', '核实')"), {"f": fid, "d": decision})
        decisions = _decisions(engine)

        second = run_rules(engine, now=T2, reference=REF)
        after = flags(engine).set_index("flag_id")
        assert second == first
        assert list(after.index) == list(before.index)
        assert (after["first_seen_at"] == T1).all()
        assert (after["last_seen_at"] == T2).all()
        assert after["evidence"].tolist() == before["evidence"].tolist()
        assert _decisions(engine) == decisions

        # Later data no longer support P2's short contract: deactivated, never deleted.
        with engine.begin() as conn:
            conn.execute(sa.text("update staging.declared_employment set contract_start ="
                                 " '2024-01-01' where employee_record_id = :r"), {"r": gone})
        third = run_rules(engine, now=T3, reference=REF)
        final = flags(engine).set_index("flag_id")
        assert third.deactivated == 1
        assert list(final.index) == list(before.index)
        active = final["active"].astype(bool)
        vanished = final[~active]
        assert list(vanished["person_id"]) == ["P2"]
        assert list(vanished["rule"]) == ["SHORT_CONTRACT"]
        assert (vanished["last_seen_at"] == T2).all()
        assert (final[active]["last_seen_at"] == T3).all()
        assert _decisions(engine) == decisions


def test_merged_person_points_at_the_flag_of_the_retired_id():
    with scratch_warehouse("ql_rules_merge") as engine:
        with engine.begin() as conn:
            f = Fixture(conn)
            f.person("OLD")
            f.employer("E1")
            d1 = f.declaration("E1")
            rec = f.employee(d1, "OLD", start=dt.date(2024, 11, 1))
        run_rules(engine, now=T1, reference=REF, rules=["SHORT_CONTRACT"])
        old_id = flags(engine)["flag_id"].item()
        with engine.begin() as conn:
            conn.execute(sa.text("insert into review.decision (flag_id, decision, reviewer)"
                                 " values (:f, 'confirmed', 'auditor1')"), {"f": old_id})
            # Entity resolution merges OLD into NEW.
            f = Fixture(conn)
            f.person("NEW")
            conn.execute(sa.text("update core.person_xref set person_id = 'NEW'"
                                 " where source_key = :r"), {"r": rec})
            conn.execute(sa.text("insert into core.person_id_history (retired_id, current_id,"
                                 " reason) values ('OLD', 'NEW', 'merge')"))
        run_rules(engine, now=T2, reference=REF, rules=["SHORT_CONTRACT"])
        got = flags(engine).set_index("person_id")
        assert bool(got.loc["OLD", "active"]) is False
        assert got.loc["NEW", "evidence"]["previous_flag_ids"] == [old_id]
        assert _decisions(engine)[0][1] == old_id


def _two_lane_province(conn):
    f = Fixture(conn)
    for pid in ("P1", "P2", "P3"):
        f.person(pid)
    f.employer("E1")
    f.employer("E2")
    d1, d2 = f.declaration("E1"), f.declaration("E2")
    f.employee(d1, "P1", wage=1500)  # below the minimum wage, no contributions
    f.employee(d2, "P1", wage=1500)  # and declared twice
    f.employee(d2, "P2", start=dt.date(2024, 11, 1))  # a short contract
    f.employee(d1, "P3")
    f.full_contributions("P3", "E1", months=range(1, 7))  # six months short


def test_both_lanes_write_what_each_finds_alone_in_contract_order():
    from expectations.rules import RULES
    from expectations.rules.runner import lanes

    with scratch_warehouse("ql_rules_lanes") as engine:
        with engine.begin() as conn:
            _two_lane_province(conn)
        alone = {}
        for lane in lanes(list(RULES)):
            run = run_rules(engine, now=T1, reference=REF, rules=lane)
            alone.update(run.findings)
        one_by_one = flags(engine)
        with engine.begin() as conn:
            conn.execute(sa.text("truncate mart.anomaly_flag"))
        both = run_rules(engine, now=T1, reference=REF)
        assert both.findings == {code: alone[code] for code in RULES}
        assert both.findings["NO_SOCIAL_INSURANCE"] and both.findings["MULTI_EMPLOYER"]
        together = flags(engine)
        assert together.drop(columns="run_id").equals(one_by_one.drop(columns="run_id"))
        with engine.connect() as conn:
            stored = [r for (r,) in conn.execute(sa.text("select rule from mart.anomaly_flag"))]
        # Written in one statement in contract order, whichever lane found them first.
        assert stored == sorted(stored, key=list(RULES).index)
        assert engine.pool.checkedout() == 0


def test_a_failing_rule_in_the_second_lane_writes_no_flag_of_either_lane(monkeypatch):
    from expectations.rules import RULES

    with scratch_warehouse("ql_rules_lane_fail") as engine:
        with engine.begin() as conn:
            _two_lane_province(conn)
        run_rules(engine, now=T1, reference=REF)
        before = flags(engine)

        def boom(ctx):
            raise RuntimeError("rule failed")

        # The second lane fails, the first (with the run's transaction) has its findings.
        monkeypatch.setitem(RULES, "DISTANT_RESIDENCE", boom)
        with engine.begin() as conn:
            conn.execute(sa.text("delete from staging.declared_employment"
                                 " where declaration_id in (select declaration_id"
                                 " from staging.declaration where unit_name = '单位E2')"))
        with pytest.raises(RuntimeError, match="rule failed"):
            run_rules(engine, now=T2, reference=REF)
        after = flags(engine)
        assert after.equals(before)  # nothing upserted, nothing deactivated
        assert engine.pool.checkedout() == 0
