"""The console in real Chromium: sign-in, scope, four-eyes, keyboard, export, cannot-link, axe."""

import io

import openpyxl
import pytest
import sqlalchemy as sa

from tests.integration.console.conftest import ID_1, ID_2, sign_in

pytestmark = pytest.mark.integration


def _axe(page) -> list:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_sign_in_page_and_wrong_password(console, new_page):
    page = new_page()
    page.goto(console.url + "/login")
    assert _axe(page) == []
    sign_in(page, console.url, "张审计", "not-the-password")
    assert page.locator("#login-error").is_visible()
    assert page.url.startswith(console.url + "/login")


def test_chinese_username_signs_in_and_next_stays_on_the_console(console, new_page):
    page = new_page()
    sign_in(page, console.url, "张审计", next_="//example.com/steal")
    assert page.url == console.url + "/"
    assert "张审计" in page.locator("header").inner_text()
    page2 = new_page()
    sign_in(page2, console.url, "张审计", next_="/flags/F_JN_MED")
    assert page2.url == console.url + "/flags/F_JN_MED"


def test_login_form_refuses_a_cross_site_post(console):
    import httpx

    r = httpx.post(console.url + "/login", data={"username": "张审计", "password": "x", "csrf": "a"})
    assert r.status_code == 403


def test_city_auditor_queue_case_and_axe(console, new_page):
    page = new_page()
    sign_in(page, console.url, "张审计")
    ids = [r.get_attribute("data-flag") for r in page.locator("#flags tbody tr[data-flag]").all()]
    assert "F_QD_HIGH" not in ids and ids[0] == "F_JN_HIGH"  # high first, then by score
    assert _axe(page) == []
    r = page.goto(console.url + "/flags/F_QD_HIGH")
    assert r.status == 404 and ID_2 not in page.content()
    page.goto(console.url + "/flags/F_JN_HIGH")
    assert "王秀英" in page.locator("#person").inner_text()
    assert page.locator("#mentions tbody tr").count() == 2
    assert page.locator("#why").is_visible() and page.locator("figure.edge svg").count() == 1
    assert _axe(page) == []


def test_post_without_csrf_is_refused(console, new_page):
    page = new_page()
    sign_in(page, console.url, "张审计")
    r = page.request.post(console.url + "/flags/F_JN_MED/decide",
                          form={"decision": "dismissed", "reason": "D01"})
    assert r.status == 403


def test_high_flag_needs_a_second_person_keyboard_only(console, new_page):
    page = new_page()
    sign_in(page, console.url, "张审计")
    # Keyboard alone: j moves to the first row, Enter opens it, 1 picks 确认, then the form.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url("**/flags/F_JN_HIGH")
    page.keyboard.press("1")
    assert page.locator("#d-confirmed").is_checked()
    page.keyboard.press("ArrowDown")  # the reason list has focus: first confirmed reason
    page.select_option("#reason", "C01")
    page.focus("#note")
    page.keyboard.type("两家单位同期申报")
    page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/flags/" in page.url and not page.url.endswith("F_JN_HIGH")  # the next flag opened
    page.goto(console.url + "/flags/F_JN_HIGH")
    assert page.locator("#status").inner_text() == "待复核"
    # The proposer cannot sign off its own proposal, whatever role it has.
    with console.engine.connect() as conn:
        assert conn.execute(sa.text(
            "select decision, stage, reviewer from review.decision where flag_id = 'F_JN_HIGH'")).all() == [
            ("confirmed", "proposed", "张审计")]
    sup = new_page()
    sign_in(sup, console.url, "sup")
    sup.goto(console.url + "/flags/F_JN_HIGH")
    sup.check("#d-confirmed")
    sup.select_option("#reason", "C01")
    with sup.expect_navigation():
        sup.click("#submit-decision")
    sup.goto(console.url + "/flags/F_JN_HIGH")
    assert sup.locator("#status").inner_text() == "确认"


def test_export_holds_the_rows_shown(console, new_page):
    page = new_page()
    sign_in(page, console.url, "viewer")
    page.goto(console.url + "/?status=&active=all")
    shown = [r.get_attribute("data-flag") for r in page.locator("#flags tbody tr[data-flag]").all()]
    names = page.locator("#flags tbody").inner_text()
    assert "王秀英" not in names and "王**" in names  # a viewer sees names masked
    page.click("#export-link")
    assert _axe(page) == []
    with page.expect_download() as dl:
        page.click("#export-queue")
    wb = openpyxl.load_workbook(io.BytesIO(open(dl.value.path(), "rb").read()))
    ws = wb.active
    header = [c.value for c in ws[1]]
    assert header[0] == "线索编号" and "姓名" in header
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert [r[0] for r in rows] == shown
    assert all(ID_1 not in str(r) and "王秀英" not in str(r) for r in rows)


def test_cannot_link_from_the_browser_is_recorded_and_pending(console, new_page):
    page = new_page()
    sign_in(page, console.url, "张审计")  # a city auditor: overrides of its city are visible to it
    page.goto(console.url + "/flags/F_JN_MED")
    row = page.locator("#mentions tbody tr", has_text="declared-employees.jsonl")
    row.locator("input[name=reason]").fill("出生日期相同但并非同一人")
    with page.expect_navigation():
        row.locator("button.cannot-link").click()
    with console.engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select entity, source_a, key_a, source_b, key_b, decision, decided_by from core.link_override")).all()
    assert [tuple(r) for r in rows] == [("person", "quota", "E2024370102000001-0001", "disability_registry",
                                        ID_1 + "41", "cannot_link", "张审计")]
    assert "不是同一人" in page.locator("#pending").inner_text()
