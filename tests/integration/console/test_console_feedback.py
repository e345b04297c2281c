"""End to end: "不是同一人" in the browser → the next resolution run → the split in core.person_xref
and in the console."""

import pytest
import sqlalchemy as sa

import entity_resolution
from expectations import run_rules
from review.accounts import add_account
from tests.integration.console.conftest import PASSWORD, sign_in, start_console

pytestmark = pytest.mark.integration
PERSONS = 120


@pytest.fixture
def resolved(warehouse, tmp_path, monkeypatch):
    """A generated province loaded, staged and resolved once, in process."""
    import synthetic
    from connectors.registry import SOURCE_OBJECTS
    from quotalink.settings import get_settings

    synthetic.generate(tmp_path / "p", tmp_path / "truth", persons=PERSONS, seed=11, progress=False,
                       scenario="hard")
    monkeypatch.setenv("SOURCES_DIR", str(tmp_path / "p"))
    get_settings.cache_clear()
    settings = get_settings()
    for source in SOURCE_OBJECTS.values():
        source.load(warehouse, settings)
        source.stage(warehouse)
    resolve(warehouse, "run-1")
    return warehouse


def resolve(engine, run_id: str) -> None:
    """What `quotalink run` does after loading: resolve persons and employers, run the rules."""
    entity_resolution.resolve_persons(engine, run_id=run_id)
    entity_resolution.resolve_employers(engine, run_id=run_id)
    run_rules(engine, run_id=run_id)


def test_cannot_link_in_the_browser_splits_the_person_on_the_next_run(resolved, browser):
    engine = resolved
    with engine.connect() as conn:
        flag, person, key = conn.execute(sa.text("""
            select f.flag_id, f.person_id, q.source_key from mart.anomaly_flag f
            join core.person_xref q on q.person_id = f.person_id and q.source = 'quota'
            join core.person_xref o on o.person_id = f.person_id and o.source = 'disability_registry'
            where f.active and f.rule = 'MULTI_EMPLOYER' order by f.flag_id limit 1""")).one()
    add_account(engine, "省复核", "supervisor", PASSWORD)
    base, stop = start_console(engine, queue_check_seconds=0)
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        sign_in(page, base, "省复核")
        page.goto(f"{base}/flags/{flag}")
        assert page.locator("figure.edge").count() >= 1  # why the mentions were one person
        row = page.locator("#mentions tbody tr", has=page.locator(f"button[data-key='{key}']"))
        row.locator("input[name=reason]").fill("申报记录与登记人员不是同一人")
        with page.expect_navigation():
            row.locator("button.cannot-link").click()
        assert "不是同一人" in page.locator("#pending").inner_text()

        resolve(engine, "run-2")  # the next run applies the override

        with engine.connect() as conn:
            now = conn.execute(sa.text(
                "select person_id from core.person_xref where source = 'quota' and source_key = :k"),
                {"k": key}).scalar()
            active = conn.execute(sa.text("select active from mart.anomaly_flag where flag_id = :f"),
                                  {"f": flag}).scalar()
        assert now != person
        page.goto(f"{base}/flags/{flag}")
        assert page.locator("#pending").count() == 0
        assert page.locator(f"button[data-key='{key}']").count() == 0  # no longer this person's
        # The flag followed the new clusters: deactivated, or still resting on other mentions.
        assert active is False or page.locator("#mentions tbody tr").count() >= 1
        r = page.goto(f"{base}/?person={now}&status=all&active=all")
        assert r.status == 200
    finally:
        ctx.close()
        stop()
