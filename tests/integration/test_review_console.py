"""The review console in real Chromium: list, sign in, read evidence, record a decision."""

import json
import shutil
import socket
import threading
import time

import pytest
import sqlalchemy as sa
import uvicorn

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def console(warehouse):
    from review.app import create_app

    with warehouse.begin() as conn:
        conn.execute(sa.text(
            "insert into core.person (person_id, full_name, id_number, phone) values "
            "('P000001', '王秀英', '370102198503124522', '13805311234')"))
        conn.execute(sa.text("insert into core.employer (employer_id, name) values ('E000001', '济南明泰机械有限公司')"))
        for fid, rule, sev in (("f1", "MULTI_EMPLOYER", "high"), ("f2", "SHARED_CONTACT", "low")):
            conn.execute(sa.text(
                "insert into mart.anomaly_flag (flag_id, rule, year, person_id, employer_id, severity, score, "
                "evidence, first_seen_at, last_seen_at, active) values (:f, :r, 2024, 'P000001', 'E000001', "
                ":s, 0.9, cast(:e as jsonb), now(), now(), true)"),
                {"f": fid, "r": rule, "s": sev,
                 "e": json.dumps({"id_number": "370102198503124522", "other_employers": ["E000002"]})})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(warehouse), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser.new_page()
        browser.close()


def test_auditor_works_a_flag(console, page, warehouse):
    page.goto(console + "/")
    rows = page.locator("#flags tbody tr[data-flag]")
    assert rows.count() == 2
    assert rows.first.get_attribute("data-flag") == "f1"  # high before low
    assert "王**" in rows.first.inner_text() and "王秀英" not in page.content()

    page.goto(console + "/flags/f1")
    assert "370102198503124522" not in page.locator("#evidence").inner_text()  # masked before sign-in
    assert page.locator("#decide").count() == 0
    page.fill("input[name=reviewer]", "auditor-zhang")
    page.click("#signin")
    page.wait_for_selector("#decide")
    assert "370102198503124522" in page.locator("#evidence").inner_text()
    assert "王秀英" in page.locator("#person").inner_text()
    page.check("input[value=confirmed]")
    page.fill("textarea[name=note]", "两家单位同期申报")
    page.click("#submit-decision")
    page.wait_for_selector("#decisions >> text=confirmed")

    with warehouse.connect() as conn:
        rows = conn.execute(sa.text("select flag_id, decision, reviewer, note from review.decision")).all()
    assert [tuple(r) for r in rows] == [("f1", "confirmed", "auditor-zhang", "两家单位同期申报")]

    page.goto(console + "/?status=open")
    assert [r.get_attribute("data-flag") for r in page.locator("#flags tbody tr[data-flag]").all()] == ["f2"]


def test_decisions_of_a_renamed_finding_stay_visible(console, warehouse):
    import httpx

    with warehouse.begin() as conn:
        conn.execute(sa.text("insert into review.decision (flag_id, decision, reviewer, note) "
                             "values ('old-f', 'escalated', 'wang', 'before the merge')"))
        conn.execute(sa.text("update mart.anomaly_flag set evidence = evidence || "
                             "'{\"previous_flag_ids\": [\"old-f\"]}'::jsonb where flag_id = 'f2'"))
    page = httpx.get(console + "/flags/f2").text
    assert "before the merge" in page and "on earlier flag old-f" in page


def test_decision_requires_reviewer_and_valid_kind(console, warehouse):
    import httpx

    assert httpx.post(console + "/flags/f1/decision", data={"decision": "confirmed"}).status_code == 403
    cookies = {"reviewer": "li"}
    assert httpx.post(console + "/flags/f1/decision", data={"decision": "maybe"}, cookies=cookies).status_code == 422
    assert httpx.post(console + "/flags/nope/decision", data={"decision": "dismissed"}, cookies=cookies).status_code == 404
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from review.decision")).scalar() == 0
