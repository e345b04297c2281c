"""`quotalink users add|list|disable` on the console's warehouse; the idle timeout ends a session."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from tests.integration.console.conftest import api

pytestmark = pytest.mark.integration
EXE = Path(sys.executable).parent / "quotalink"


def _users(console, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "WAREHOUSE_URL": console.engine.url.render_as_string(hide_password=False)}
    return subprocess.run([str(EXE), "users", *args], input=stdin, env=env, capture_output=True,
                          text=True, timeout=120)


def _login(console, username: str, password: str) -> httpx.Response:
    return httpx.post(console.url + "/api/login", json={"username": username, "password": password})


def test_users_add_list_disable_from_the_command_line(console):
    r = _users(console, "add", "孙审计", "--role", "auditor", "--city", "3702", "--password-stdin",
               stdin="青岛-审计-口令-2026\n")
    assert r.returncode == 0, r.stderr
    assert "孙审计" in r.stdout and "3702" in r.stdout
    with console.engine.connect() as conn:
        stored = conn.execute(sa.text("select * from review.account where username = '孙审计'")).mappings().one()
    assert stored["password_hash"].startswith("$argon2id$") and "青岛-审计-口令-2026" not in str(dict(stored))
    assert stored["role"] == "auditor" and stored["city_code"] == "3702" and stored["active"]

    ok = _login(console, "孙审计", "青岛-审计-口令-2026")
    assert ok.status_code == 200 and ok.cookies.get("ql_session")
    # Its queue is its city's: 青岛 only.
    flags = httpx.get(console.url + "/api/flags?status=", cookies=ok.cookies).json()["flags"]
    assert {f["flag_id"] for f in flags} == {"F_QD_HIGH"}

    listed = _users(console, "list")
    assert listed.returncode == 0
    line = next(x for x in listed.stdout.splitlines() if x.startswith("孙审计\t"))
    assert line.split("\t") == ["孙审计", "auditor", "3702", "active"]
    assert "$argon2" not in listed.stdout

    # Refusals name the problem and create nothing.
    for args, stdin, message in (
            (("add", "x1", "--role", "root", "--password-stdin"), "long-enough-pw\n", "invalid choice"),
            (("add", "x2", "--role", "auditor", "--city", "9999", "--password-stdin"), "long-enough-pw\n",
             "not a Shandong city code"),
            (("add", "x3", "--role", "viewer", "--password-stdin"), "short\n", "at least 10"),
            (("add", "孙审计", "--role", "viewer", "--password-stdin"), "long-enough-pw\n", "exists"),
            (("add", "x4", "--role", "viewer"), "", "--password-stdin")):
        bad = _users(console, *args, stdin=stdin)
        assert bad.returncode != 0 and message in bad.stderr, (args, bad.stderr)
    with console.engine.connect() as conn:
        assert conn.execute(sa.text(
            "select count(*) from review.account where username like 'x_'")).scalar() == 0

    # Disabling ends its live session and refuses the next sign-in.
    gone = _users(console, "disable", "孙审计")
    assert gone.returncode == 0 and "disabled" in gone.stdout
    assert httpx.get(console.url + "/api/flags", cookies=ok.cookies).status_code == 401
    assert _login(console, "孙审计", "青岛-审计-口令-2026").status_code == 401
    assert _users(console, "disable", "无此人").returncode == 1
    assert "孙审计\tauditor\t3702\tdisabled" in _users(console, "list").stdout


def test_an_idle_session_expires_on_the_server(console):
    c, _ = api(console.url, "viewer")
    assert c.get("/api/flags").status_code == 200
    token = c.cookies.get("ql_session")
    with console.engine.begin() as conn:
        # 31 minutes without a request: past the idle timeout.
        moved = conn.execute(sa.text(
            "update review.session set last_seen_at = now() - interval '31 minutes' "
            "where username = 'viewer'")).rowcount
    assert moved >= 1
    assert httpx.get(console.url + "/api/flags", cookies={"ql_session": token}).status_code == 401


def test_password_is_read_from_stdin_only(console):
    # No --password option exists: a password on the command line would land in shell history.
    r = _users(console, "add", "x5", "--role", "viewer", "--password", "long-enough-pw")
    assert r.returncode == 2 and "unrecognized arguments" in r.stderr
