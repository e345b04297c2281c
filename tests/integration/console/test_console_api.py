"""The console's JSON API and web hygiene over real HTTP: sessions, CSRF, scope, roles, headers."""

import httpx
import pytest
import sqlalchemy as sa

from tests.integration.console.conftest import ID_1, PASSWORD, PHONE_1, api

pytestmark = pytest.mark.integration


def test_no_session_no_data_and_forged_cookies_see_nothing(console):
    assert httpx.get(console.url + "/api/flags").status_code == 401
    assert httpx.get(console.url + "/api/flags/F_JN_HIGH").status_code == 401
    for cookie in ({"reviewer": "anyone"}, {"ql_session": "forged-token"}, {"ql_session": "%E5%BC%A0"}):
        r = httpx.get(console.url + "/flags/F_JN_HIGH", cookies=cookie, follow_redirects=True)
        assert ID_1 not in r.text and "王秀英" not in r.text and PHONE_1 not in r.text
        assert r.url.path == "/login"
    # The API docs are for signed-in admins only.
    assert httpx.get(console.url + "/openapi.json").status_code == 401
    auditor, _ = api(console.url, "张审计")
    assert auditor.get("/openapi.json").status_code == 403
    admin, _ = api(console.url, "admin")
    assert "/api/flags" in admin.get("/openapi.json").json()["paths"]
    assert admin.get("/api/flags").status_code == 403  # admins see no flag


def test_security_headers_and_bad_input_are_not_500(console):
    r = httpx.get(console.url + "/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    c, _ = api(console.url, "张审计")
    assert c.get("/?page=99999999999999999999").status_code == 200
    assert c.get("/api/flags?page=99999999999999999999&year=abc").status_code == 200


def test_wrong_password_and_throttle(console):
    bad = {"username": "李审计", "password": "wrong-password"}
    codes = [httpx.post(console.url + "/api/login", json=bad).status_code for _ in range(5)]
    assert codes == [401] * 5
    assert httpx.post(console.url + "/api/login", json=bad).status_code == 429
    # Even the right password waits out the window once a name is throttled.
    ok = {"username": "李审计", "password": PASSWORD}
    assert httpx.post(console.url + "/api/login", json=ok).status_code == 429
    with console.engine.connect() as conn:
        assert conn.execute(sa.text(
            "select count(*) from review.signin_attempt where username = '李审计' and not ok")).scalar() == 5


def test_csrf_scope_and_roles_on_the_api(console):
    c, csrf = api(console.url, "张审计")
    body = {"decision": "dismissed", "reason": "D01", "note": "数据重复"}
    assert c.post("/api/flags/F_JN_LOW/decisions", json=body).status_code == 403  # no token
    assert c.post("/api/flags/F_JN_LOW/decisions", json=body,
                  headers={"X-CSRF-Token": "wrong"}).status_code == 403
    # Another city's flag does not exist for a 济南 auditor, in the API as in pages.
    assert c.get("/api/flags/F_QD_HIGH").status_code == 404
    assert c.get("/flags/F_QD_HIGH").status_code == 404
    assert c.post("/api/flags/F_QD_HIGH/decisions", json=body,
                  headers={"X-CSRF-Token": csrf}).status_code == 404
    flags = c.get("/api/flags").json()["flags"]
    assert {f["city_code"] for f in flags} == {"3701"} and len(flags) == 3
    # In scope: personal data in clear, and the view is in the access log.
    detail = c.get("/api/flags/F_JN_HIGH").json()
    assert detail["person"]["id_number"] == ID_1
    with console.engine.connect() as conn:
        logged = conn.execute(sa.text(
            "select username, action, flag_id, client_addr from review.access_log "
            "where flag_id = 'F_JN_HIGH'")).all()
    assert ("张审计", "view_flag", "F_JN_HIGH", "127.0.0.1") in [tuple(r) for r in logged]
    with console.engine.connect() as conn:
        lists = conn.execute(sa.text(
            "select detail ->> 'rows' from review.access_log where username = '张审计' "
            "and action = 'view_queue'")).scalars().all()
    assert "3" in lists  # the queue showed three names in clear
    # A viewer reads masked data (masked in SQL) and may not decide.
    v, vcsrf = api(console.url, "viewer")
    vd = v.get("/api/flags/F_JN_HIGH").json()
    assert vd["person"]["id_number"] != ID_1 and ID_1 not in str(vd) and PHONE_1 not in str(vd)
    assert v.post("/api/flags/F_JN_HIGH/decisions", json=body,
                  headers={"X-CSRF-Token": vcsrf}).status_code == 403
    # A decision with a reason from the code list; logout ends the session on the server.
    r = c.post("/api/flags/F_JN_LOW/decisions", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201 and r.json()["status"] == "dismissed"
    assert c.post("/api/flags/F_JN_LOW/decisions", json={**body, "reason": "C01"},
                  headers={"X-CSRF-Token": csrf}).status_code == 422
    cookie = c.cookies.get("ql_session")
    assert c.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert httpx.get(console.url + "/api/flags", cookies={"ql_session": cookie}).status_code == 401


def test_province_supervisor_sees_both_cities_and_filters_by_city(console):
    c, _ = api(console.url, "sup")
    assert {f["city_code"] for f in c.get("/api/flags?status=").json()["flags"]} == {"3701", "3702"}
    assert {f["flag_id"] for f in c.get("/api/flags?city=3702").json()["flags"]} == {"F_QD_HIGH"}


def test_search_by_id_number_never_echoes_it(console):
    c, csrf = api(console.url, "张审计")
    r = c.post("/search", data={"q": ID_1, "csrf": csrf})
    assert r.status_code == 303 and ID_1 not in r.headers["location"]
    assert "person=P1" in r.headers["location"]
    page = c.get(r.headers["location"]).text
    assert ID_1 not in page and 'data-flag="F_JN_MED"' in page
    assert c.post("/search", data={"q": ID_1}).status_code == 403  # CSRF here too
    by_name = c.get(c.post("/search", data={"q": "明泰", "csrf": csrf}).headers["location"]).text
    assert 'data-flag="F_JN_MED"' in by_name and "F_QD_HIGH" not in by_name
