"""Bulk helpers: upserts of many batches in one transaction keep a bounded lock footprint."""

import sqlalchemy as sa

from warehouse.db import upsert_rows


def locks(conn) -> int:
    return conn.execute(sa.text("select count(*) from pg_locks where pid = pg_backend_pid()")).scalar()


def test_many_batches_in_one_transaction(warehouse):
    cols = ["trainee_id", "course", "delivery", "period"]
    with warehouse.begin() as conn:
        upsert_rows(conn, "staging.training", cols, [("T1", "a", "d1", "2024Q1")], ["trainee_id"], "period")
        after_one = locks(conn)
        for i in range(200):
            upsert_rows(conn, "staging.training", cols,
                        [(f"T{i % 7}", f"c{i}", "d2", "2024Q2"), ("T1", "old", "d0", "2023Q4")],
                        ["trainee_id"], "period")
        assert locks(conn) == after_one  # not growing with the number of batches
    with warehouse.connect() as conn:
        rows = dict(conn.execute(sa.text("select trainee_id, course from staging.training")).all())
    assert len(rows) == 7
    assert rows["T1"] == "c197"  # the latest batch wins; an older period never overwrites
