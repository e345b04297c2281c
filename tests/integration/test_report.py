"""The annual report from warehouse rows: sections, city totals, both formats."""

import openpyxl
import pytest
import sqlalchemy as sa

from orchestration.cli import main
from warehouse.report import build_report, write_report


@pytest.fixture
def filled(warehouse):
    with warehouse.begin() as conn:
        conn.execute(sa.text(
            "insert into core.employer (employer_id, name, region_code, unit_type) values "
            "('E1', '济南甲公司', '370102', 'enterprise'), ('E2', '青岛乙公司', '370202', 'enterprise'), "
            "('E3', '外省丙公司', '110101', 'enterprise')"))
        conn.execute(sa.text(
            "insert into mart.quota_compliance (employer_id, year, total_staff, quota_ratio, required_count, "
            "declared_count, verified_count, levy_declared, levy_verified, levy_gap) values "
            "('E1', 2024, 300, 0.0067, 4.5, 2, 1, 157500, 283500, 126000), "
            "('E2', 2024, 100, 0.02, 1.5, 2, 2, 0, 0, 0), "
            "('E3', 2024, 50, 0, 0.75, 0, 0, 10000, 10000, 0), "
            "('E1', 2023, 300, 0.0067, 4.5, 2, 2, 1, 1, 0)"))
        conn.execute(sa.text(
            "insert into mart.anomaly_flag (flag_id, rule, year, employer_id, severity, score, evidence, "
            "first_seen_at, last_seen_at, active) values "
            "('a', 'MULTI_EMPLOYER', 2024, 'E1', 'high', 1, '{}', now(), now(), true), "
            "('b', 'SHARED_CONTACT', 2024, 'E1', 'low', .4, '{}', now(), now(), false)"))
        conn.execute(sa.text("insert into review.decision (flag_id, decision, reviewer) values ('a', 'confirmed', 'x')"))
    return warehouse


def test_report_sections_and_totals(filled):
    report = build_report(filled, 2024)
    by_city = {r["city"]: r for r in report["by_city"]}
    assert by_city["济南市"]["levy_gap"] == 126000 and by_city["济南市"]["active_flags"] == 1
    assert by_city["青岛市"]["employers"] == 1
    summary = {r["measure"]: r["value"] for r in report["summary"]}
    assert summary["employers"] == 3 and summary["levy_verified"] == 293500
    rules = {r["rule"]: r for r in report["flags_by_rule"]}
    assert rules["MULTI_EMPLOYER"]["confirmed"] == 1 and rules["MULTI_EMPLOYER"]["high"] == 1
    assert rules["SHARED_CONTACT"]["active"] == 0 and rules["SHARED_CONTACT"]["open"] == 1
    assert [r["employer_id"] for r in report["levy_gaps"]] == ["E1"]


def test_report_files(filled, tmp_path):
    assert main(["report", "--year", "2024", "--out", str(tmp_path / "r.xlsx")]) == 0
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["summary", "by_city", "flags_by_rule", "levy_gaps", "public_sector"]
    assert wb["by_city"]["A1"].value.startswith("2024年")
    path = write_report(build_report(filled, 2024), tmp_path / "r.html", 2024)
    assert "济南市" in path.read_text(encoding="utf-8")
    assert main(["report", "--year", "2024", "--out", str(tmp_path / "r.pdf")]) == 2
