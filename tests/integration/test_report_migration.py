"""Revision 0007_report: yearly staging keys keep existing rows and restage the yearly sources."""

import pytest
import sqlalchemy as sa

from tests.helpers import upgrade_to

pytestmark = pytest.mark.integration


def test_yearly_keys_keep_rows_and_restage(empty_db):
    upgrade_to(empty_db, "0002")
    with empty_db.begin() as conn:
        conn.execute(sa.text(
            "insert into staging.institution (uscc, name, year, delivery, period) "
            "values ('11370100MB0000003X', '济南市某局', 2025, 'jgbz_2025.csv', '2025')"))
        conn.execute(sa.text(
            "insert into staging.study (student_key, year, delivery, period) "
            "values ('10422-1', null, 'gxcjrdxs_2024.xlsx', '2024')"))
        conn.execute(sa.text(
            "insert into ops.stage_audit (source, delivery, raw_table, rows_staged) values "
            "('establishment', 'jgbz_2025.csv', 'establishment', 1), ('hr', 'ac08', 'hr_ac08', 5)"))
    upgrade_to(empty_db, "0007_report")
    with empty_db.begin() as conn:
        assert conn.execute(sa.text("select uscc, year from staging.institution")).all() == [
            ("11370100MB0000003X", 2025)]
        # A year left null is taken from the delivery's period.
        assert conn.execute(sa.text("select year from staging.study")).scalar() == 2024
        # The overwritten earlier years come back from raw: the yearly deliveries restage.
        assert conn.execute(sa.text("select raw_table from ops.stage_audit")).scalars().all() == ["hr_ac08"]
        conn.execute(sa.text(
            "insert into staging.institution (uscc, name, year, delivery, period) "
            "values ('11370100MB0000003X', '济南市某局', 2024, 'jgbz_2024.csv', '2024')"))
        assert conn.execute(sa.text("select count(*) from staging.institution")).scalar() == 2
        conn.execute(sa.text("insert into mart.dpf_organ (year, uscc, admin_level, target_share, meets_target, "
                             "computed_at) values (2024, 'x', 'city', 0.15, true, now())"))
