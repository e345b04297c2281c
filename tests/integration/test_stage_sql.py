"""HR contributions staged in the server (SqlStage) are the rows stage_contribution writes."""

import pytest
import sqlalchemy as sa

from connectors import hr
from connectors.base import write_audit
from tests.integration.test_stage_parallel import staged_state

# Values of every column, plain and not: padded, full-width, separators, other timestamp
# forms, days that do not exist, blanks, NULLs; each in a row otherwise plain.
VALUES = {
    "aaz223": [" 16", "１７", "1,8", "19.0", "0", "000020"],
    "aac001": ["P001", " P002 ", "", None, "P\u3000003", "P-4", "p5", "P\u00a06"],
    "aab001": ["U001", " U002", None, "U-3", ""],
    "aae002": ["202401", "202413", "189912", "２０２４０１", "202401.0", "", None, "abc", "209912",
               "210001", "190001", " 202402", "202400"],
    "aae140": ["110", "210", "", " 310", None],
    "aac040": ["4500", "4500.00", "4500.5", "4500.555", "-10", "1,000", "4500元", "", None, "1e3",
               "NaN", "0012", " 12", "12.", ".5", "１２"],
    "aae078": ["1", "0", "2", " 1", "", None, "１"],
    "aae036": ["2024-05-01 10:00:00", "2024-02-29 10:00:00", "2023-02-29 10:00:00",
               "2024/05/01 10:00:00", "2024-05-01T10:00:00", "2024-05-01", "2024-05-01 10:00:00.5",
               "2024-04-31 00:00:00", "2024-04-30 00:00:00", "2024-12-31 23:59:59", "garbage", "",
               None, "0999-01-01 00:00:00", " 2024-05-01 10:00:00", "2024-06-30 24:00:00",
               "2024-06-30 23:60:00", "2100-02-29 00:00:00", "2000-02-29 00:00:00"],
}
PLAIN = {"aac001": "P001", "aab001": "U001", "aae002": "202401", "aae140": "110", "aac040": "4500.00",
         "aae078": "1", "aae036": "2024-05-01 10:00:00"}


def _rows(first: int, keys: list[str] = ()) -> list[dict]:
    """A plain row per key, then one per unusual value; row_ref is the key, as HR lands it."""
    out = [{**PLAIN, "aaz223": k} for k in keys]
    n = first
    for column, values in VALUES.items():
        for value in values:
            key = value if column == "aaz223" else str(n)
            n += 1
            out.append({**PLAIN, "aaz223": key, column: value})
    for r in out:
        r["row_ref"] = r["aaz223"]
    return out


def _put(conn, delivery: str, rows: list[dict]) -> None:
    for r in rows:
        conn.execute(sa.text(
            "insert into raw.hr_ac08 (delivery, row_ref, aaz223, aac001, aab001, aae002, aae140, aac040, "
            "aae078, aae036) values (:d, :row_ref, :aaz223, :aac001, :aab001, :aae002, :aae140, :aac040, "
            ":aae078, :aae036) on conflict (aaz223) do update set delivery = excluded.delivery, "
            "aac001 = excluded.aac001, aae002 = excluded.aae002, aae036 = excluded.aae036"),
            {"d": delivery, **r})  # a later window re-delivers a row: it moves to that window
    write_audit(conn, "hr", delivery, "hr_ac08", None, len(rows), len(rows), 0, "loaded")


def _stage(warehouse, monkeypatch, sql: str, deliveries) -> dict:
    """Land and stage the deliveries one after the other; the staged state."""
    monkeypatch.setenv("QUOTALINK_STAGE_SQL", sql)
    with warehouse.begin() as conn:
        conn.execute(sa.text("truncate staging.contribution, ops.stage_audit, raw.hr_ac08, ops.load_audit"))
    for delivery, rows in deliveries:
        with warehouse.begin() as conn:
            _put(conn, delivery, rows)
        hr.stage(warehouse)
    return staged_state(warehouse)


@pytest.mark.parametrize("stamp", ["same", "later", "earlier", "null"])
def test_sql_path_stages_what_the_row_function_stages(warehouse, monkeypatch, stamp):
    # "12" and "0012" meet in one contribution_id at the same instant (the later row in raw
    # order wins); "012" of the next delivery: the same, a later, an earlier instant or none;
    # "013" later, "014" earlier.
    one = _rows(100, ["12", "0012", "13", "14"])
    two = [{**PLAIN, "aaz223": k, "row_ref": k} for k in ("012", "013", "014")] + _rows(1000)[6:]
    two[0]["aae036"] = {"same": "2024-05-01 10:00:00", "later": "2024-06-01 10:00:00",
                        "earlier": "2024-04-01 10:00:00", "null": None}[stamp]
    two[1]["aae036"] = "2024-07-01 10:00:00"
    two[2]["aae036"] = "2024-01-01 10:00:00"
    # A third window of plain rows only (one statement from raw): 12, 13 and 14 again, with the
    # instant of the case, and new keys.
    again = {"same": "2024-07-01 10:00:00", "later": "2024-08-01 10:00:00",
             "earlier": "2024-03-01 10:00:00", "null": None}[stamp]
    three = [{**PLAIN, "aaz223": k, "row_ref": k, "aac001": "P009", "aae036": again}
             for k in ("12", "13", "14", "7001", "7002")]
    # One delivery after the other: into an empty table (a plain insert), then upserts.
    plan = [("hr_ac08:1", one), ("hr_ac08:2", two), ("hr_ac08:3", three)]
    by_rows = _stage(warehouse, monkeypatch, "0", plan)
    by_sql = _stage(warehouse, monkeypatch, "1", plan)
    assert by_sql == by_rows
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from staging.contribution")).scalar() > 10
        unparsed = conn.execute(sa.text("select rows_unparsed from ops.stage_audit "
                                        "where delivery = 'hr_ac08:1'")).scalar()
    assert unparsed  # the row function did count what it nulled


def test_plain_rows_are_staged_in_the_server(warehouse, monkeypatch):
    monkeypatch.setenv("QUOTALINK_STAGE_SQL", "1")
    rows = [{"row_ref": str(i), "aaz223": str(i), "aac001": "P001", "aab001": "U001", "aae002": "202401",
             "aae140": "110", "aac040": "4500.00", "aae078": "1", "aae036": "2024-05-01 10:00:00"}
            for i in range(1, 50)]
    with warehouse.begin() as conn:
        _put(conn, "hr_ac08:1", rows)

    def no_row_function(row, ctx):
        raise AssertionError("a plain row went through the row function")

    monkeypatch.setitem(hr.ROW_FUNCTIONS, "hr_ac08", no_row_function)
    report = hr.stage(warehouse)
    assert report["hr_ac08:1"].staged == {"staging.contribution": 49}
    assert report["hr_ac08:1"].unparsed == {}
    # Into a table that holds rows: the same, by upsert.
    with warehouse.begin() as conn:
        _put(conn, "hr_ac08:2", [{**r, "aaz223": str(100 + i), "row_ref": str(100 + i)}
                                 for i, r in enumerate(rows)])
    assert hr.stage(warehouse)["hr_ac08:2"].staged == {"staging.contribution": 49}
