"""mart.quota_compliance: declared and verified weighted counts and the levy per employer-year."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from expectations import build_quota_compliance, run_rules
from expectations.rules.reference import retirement_date
from expectations.rules.testing import Fixture, scratch_warehouse, small_reference

pytestmark = pytest.mark.integration
REF = small_reference(retirement=retirement_date)


def test_quota_compliance_counts_levies_and_gap():
    with scratch_warehouse("ql_compliance") as engine:
        with engine.begin() as conn:
            f = Fixture(conn)
            for eid, kind in (("E1", "enterprise"), ("E2", "organ"), ("E3", "enterprise"),
                              ("E4", "enterprise")):
                f.employer(eid, unit_type=kind)
            d1 = f.declaration("E1", total_staff=300, avg_wage=90000)
            for pid, level, has_cert in (("P1", 3, True), ("P2", 2, False)):
                f.person(pid)
                f.employee(d1, pid, level=level)
                f.full_contributions(pid, "E1")
                if has_cert:
                    f.certificate(pid, level=level)
            f.declaration("E2", total_staff=20, avg_wage=80000, unit_type="organ")
            d3 = f.declaration("E3", total_staff=100, avg_wage=250000)
            f.person("P3")
            f.employee(d3, "P3", level=2)
            f.full_contributions("P3", "E3")
            f.certificate("P3", level=3)  # LEVEL_MISMATCH: verified weight 1
            d4 = f.declaration("E4", total_staff=100, status="已驳回")
            f.person("P4")
            f.employee(d4, "P4", level=3)
        run_rules(engine, reference=REF)
        summary = build_quota_compliance(engine, reference=REF)
        with engine.connect() as conn:
            rows = {r.employer_id: r for r in conn.execute(sa.text(
                "select * from mart.quota_compliance where year = 2024"))}
    assert summary["rows"] == 4
    e1 = rows["E1"]
    assert (e1.total_staff, e1.quota_ratio, e1.required_count) == (
        300, Decimal("0.015000"), Decimal("4.500"))
    # P2 (level 2, counted double) has no certificate: a high CERT_INVALID flag removes it.
    assert (e1.declared_count, e1.verified_count) == (Decimal(3), Decimal(1))
    assert e1.levy_declared == Decimal("67500.00")  # ratio 1 %: (4.5 − 3) × 90,000 × 50 %
    assert e1.levy_verified == Decimal("283500.00")  # (4.5 − 1) × 90,000 × 90 %
    assert e1.levy_gap == Decimal("216000.00")
    e2 = rows["E2"]  # organ with 20 staff: not exempt
    assert (e2.declared_count, e2.levy_declared) == (Decimal(0), Decimal("21600.00"))
    e3 = rows["E3"]  # wage capped at 2 × 100,000; level 2 verified as 1
    assert (e3.declared_count, e3.verified_count) == (Decimal(2), Decimal(1))
    assert e3.levy_declared == Decimal("0.00")  # 2/100 = 2 % ≥ 1.5 %
    assert e3.levy_verified == Decimal("50000.00")  # (1.5 − 1) × 200,000 × 50 %
    e4 = rows["E4"]  # only a rejected declaration: counts nobody
    assert (e4.declared_count, e4.verified_count) == (Decimal(0), Decimal(0))
    assert e4.levy_declared == Decimal("121500.00")  # 1.5 × 90,000 × 90 %
    assert summary["levy_gap"] == float(sum(r.levy_gap for r in rows.values()))
