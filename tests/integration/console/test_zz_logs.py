"""The console's log (and the pipeline's, in this process) holds no clear ID number or mobile phone."""

import httpx
import pytest

from tests.integration.console.conftest import ID_1, SECRET, api

pytestmark = pytest.mark.integration


def test_console_log_has_no_clear_id_or_phone(console):
    # The sensitive paths once more, so that the test holds when run alone (xdist loadfile);
    # after the other modules in this process, their traffic is in the capture too.
    httpx.post(console.url + "/api/login", json={"username": "张审计", "password": ID_1})
    c, csrf = api(console.url, "sup")
    c.post("/search", data={"q": ID_1, "csrf": csrf})
    c.get("/flags/F_JN_HIGH")
    c.get("/api/flags/F_QD_HIGH")
    c.get("/export/queue.xlsx")
    lines = console.log.lines
    assert any("POST /api/login" in line for line in lines)  # the capture did see the traffic
    assert any("failed sign-in" in line for line in lines)
    leaks = [line for line in lines if SECRET.search(line)]
    assert leaks == []
