"""Offline hr and quota deliveries: a pull is skipped while the files are as the last clean pull left them."""

import datetime as dt

import sqlalchemy as sa

from connectors import hr, offline, quota
from connectors.base import LoadResult
from connectors.registry import SOURCE_OBJECTS
from tests.integration.test_hr import (
    AB01,
    AC01,
    AC08,
    EMPLOYERS,
    PERSONS,
    T0,
    contributions,
    md,
    put,
)
from tests.integration.test_quota_api import decl, emp, write_jsonl


def _counting(monkeypatch, module, name: str) -> list:
    calls: list = []
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **kw: calls.append(a) or real(*a, **kw))
    return calls


def test_hr_sqlite_unchanged_is_not_read_and_any_change_is(warehouse, sources_dir, monkeypatch):
    from quotalink.settings import get_settings

    (sources_dir / "hr").mkdir()
    src = sa.create_engine(f"sqlite:///{sources_dir / 'hr' / 'hr.db'}")
    md.create_all(src)
    put(src, AB01, EMPLOYERS)
    put(src, AC01, PERSONS)
    put(src, AC08, contributions(5))
    settings = get_settings()
    pulls = _counting(monkeypatch, hr, "load_url")

    assert sorted(r.rows_loaded for r in hr.load(warehouse, settings)) == [2, 2, 5]
    assert len(pulls) == 1
    # Nothing new: the file is as the pull left it; the database is not even opened.
    assert hr.load(warehouse, settings) == []
    assert len(pulls) == 1

    # A row changes (money arrives, a new aae036): pulled.
    changed = {**contributions(5)[2], "aae078": "1", "aae036": T0 + dt.timedelta(hours=2)}
    put(src, AC08, [changed])
    assert [(r.delivery.split(":")[0], r.rows_loaded) for r in hr.load(warehouse, settings)] == [("hr_ac08", 1)]
    assert len(pulls) == 2 and hr.load(warehouse, settings) == [] and len(pulls) == 2

    # A late commit below the watermark, inside the overlap: the file changed, so it is pulled.
    late = {**contributions(6)[5], "aae036": T0 + dt.timedelta(hours=1)}
    put(src, AC08, [late])
    assert [(r.delivery.split(":")[0], r.rows_loaded) for r in hr.load(warehouse, settings)] == [("hr_ac08", 1)]
    assert hr.load(warehouse, settings) == [] and len(pulls) == 3

    # The warehouse side moved (a watermark reset): pulled again, whatever the file.
    with warehouse.begin() as conn:
        conn.execute(sa.text("delete from ops.watermark where source = 'hr' and stream = 'hr_ab01'"))
    hr.load(warehouse, settings)
    assert len(pulls) == 4
    src.dispose()


def test_quota_offline_unchanged_is_not_served_and_an_edit_is(warehouse, sources_dir, monkeypatch):
    from quotalink.settings import get_settings

    monkeypatch.setenv("QUOTA_YEARS", "2024")
    get_settings.cache_clear()
    settings = get_settings()
    folder = sources_dir / "quota"
    decls = [decl(i, f"2025-04-{10 + i:02d}T09:00:00") for i in range(1, 4)]
    emps = [emp(j, 1 + j % 3, f"2025-04-{10 + j % 3:02d}T09:30:00") for j in range(1, 5)]
    write_jsonl(folder, decls, emps)
    pulls = _counting(monkeypatch, quota, "load")
    source = SOURCE_OBJECTS["quota"]

    assert sorted(r.rows_loaded for r in source.load(warehouse, settings)) == [3, 4]
    assert source.load(warehouse, settings) == [] and len(pulls) == 1

    # One declaration edited: the files changed, the pull runs and takes only the edit.
    write_jsonl(folder, [*decls, decl(2, "2025-06-01T00:00:00", status="已驳回")], emps)
    assert [(r.delivery.split(":")[0], r.rows_read) for r in source.load(warehouse, settings)] == [
        ("quota_declarations", 1)]
    assert source.load(warehouse, settings) == [] and len(pulls) == 2

    # Another year to pull is another question: asked.
    monkeypatch.setenv("QUOTA_YEARS", "2024-2025")
    get_settings.cache_clear()
    assert source.load(warehouse, get_settings()) == [] and len(pulls) == 3


def test_a_pull_that_set_rows_aside_is_not_remembered(warehouse):
    files = "digest of some files"
    offline.remember(warehouse, "hr", files, [])
    assert offline.unchanged(warehouse, "hr", offline.key(warehouse, "hr", files))
    assert not offline.unchanged(warehouse, "hr", offline.key(warehouse, "hr", "other files"))
    # Quarantined rows are not in raw: the next pull reads them again, so it must run.
    offline.remember(warehouse, "hr", files, [LoadResult("hr", "w", "loaded", rows_read=2, rows_loaded=1,
                                                         rows_quarantined=1)])
    assert not offline.unchanged(warehouse, "hr", offline.key(warehouse, "hr", files))
