"""HR database faults: rows changed at the source, the database unreachable in the middle of a run."""

import sqlite3

import sqlalchemy as sa

from connectors.registry import SOURCE_OBJECTS
from orchestration.cli import main
from quotalink.settings import get_settings
from tests.faults.conftest import clean_snapshot, copy_source, snapshot

# Pulled windows are named by their time of pull: compare content, not window names.
WINDOW = ("delivery", "row_ref")


def test_changed_rows_are_upserted_not_doubled(warehouse, sources_dir, province):
    folder = copy_source(province, sources_dir, "hr")
    settings = get_settings()
    SOURCE_OBJECTS["hr"].load(warehouse, settings)
    SOURCE_OBJECTS["hr"].stage(warehouse)
    before = snapshot(warehouse, "hr", WINDOW)
    with sqlite3.connect(folder / "hr.db") as db:  # money arrives, bases are corrected
        changed = db.execute("update ac08 set aae078 = '1', aae036 = '2026-11-30 10:00:00' where aaz223 in "
                             "(select aaz223 from ac08 where aae078 = '0' order by aaz223 limit 5)").rowcount
        changed += db.execute("update ac08 set aac040 = aac040 + 1, aae036 = '2026-11-30 10:00:00' "
                              "where aaz223 in (select aaz223 from ac08 where aae078 = '1' "
                              "order by aaz223 desc limit 2)").rowcount
    assert changed >= 2
    results = SOURCE_OBJECTS["hr"].load(warehouse, settings)
    SOURCE_OBJECTS["hr"].stage(warehouse)
    ac08 = [r for r in results if r.delivery.startswith("hr_ac08")]
    assert [r.rows_loaded for r in ac08] == [changed]
    after = snapshot(warehouse, "hr", WINDOW)
    assert after["raw.hr_ac08"][0] == before["raw.hr_ac08"][0]  # replaced in place, not doubled
    assert after["raw.hr_ac08"][1] != before["raw.hr_ac08"][1]
    # The same as loading the changed database from scratch.
    assert after == clean_snapshot(warehouse, settings, "hr", WINDOW)


def test_hr_outage_fails_only_hr_and_a_plain_rerun_recovers(warehouse, sources_dir, province,
                                                           monkeypatch, capsys):
    copy_source(province, sources_dir, "hr")
    copy_source(province, sources_dir, "org")
    monkeypatch.setenv("HR_DB_URL", "postgresql+psycopg2://hr@127.0.0.1:9/hr")  # nothing listens
    get_settings.cache_clear()
    assert main(["run", "--only", "hr", "--only", "org"]) == 1
    err = capsys.readouterr().err
    assert "step failed: raw_hr" in err and "HR_DB_URL: cannot reach" in err
    blocked = err.split("not materialised in this run", 1)[1]
    assert "staging/contribution" in blocked and "staging/civil_service" not in blocked
    with warehouse.connect() as conn:
        # org, in the same run, was loaded and staged.
        assert conn.execute(sa.text("select count(*) from ops.stage_audit where source = 'org'")).scalar() == 2
        assert conn.execute(sa.text("select count(*) from raw.hr_ac08")).scalar() == 0
    # Back up: what the next run loads is a clean load (the crash tests rerun whole runs).
    monkeypatch.delenv("HR_DB_URL")
    get_settings.cache_clear()
    SOURCE_OBJECTS["hr"].load(warehouse, get_settings())
    SOURCE_OBJECTS["hr"].stage(warehouse)
    recovered = snapshot(warehouse, "hr", WINDOW)
    assert recovered == clean_snapshot(warehouse, get_settings(), "hr", WINDOW)
