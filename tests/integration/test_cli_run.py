"""`quotalink run` exits non-zero and names the check when a blocking check fails."""

import sqlalchemy as sa

from orchestration.cli import main


def test_blocking_check_failure_fails_the_run(warehouse, capsys):
    with warehouse.begin() as conn:  # a delivery whose books do not balance
        conn.execute(sa.text(
            "insert into ops.load_audit (source, delivery, raw_table, rows_read, rows_loaded, "
            "rows_quarantined) values ('org', 'jgry_2024.csv', 'org', 10, 8, 1)"))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "raw/org / deliveries_reconcile" in err
    assert "blocking check(s) failed" in err


def test_empty_delivery_folder_runs_clean(warehouse, capsys):
    assert main(["run"]) == 0
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from core.person")).scalar() == 0
