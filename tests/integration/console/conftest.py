"""A small seeded warehouse (two cities), the console served over loopback, one Chromium per module."""

import json
import logging
import re
import shutil
import socket
import threading
import time
import uuid
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from tests.conftest import _server_url

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ID_1 = "370102198503124522"
PHONE_1 = "13805311234"
ID_2 = "370203199001015678"
PASSWORD = "correct-horse-1"
ACCOUNTS = (("张审计", "auditor", "3701"), ("李审计", "auditor", "3701"), ("qd_auditor", "auditor", "3702"),
            ("sup", "supervisor", None), ("viewer", "viewer", "3701"), ("admin", "admin", None))
# A clear ID number or mobile phone anywhere in a log line.
SECRET = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|1[3-9][0-9]{9})(?![0-9])")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed(engine: sa.Engine) -> None:
    """Employers in 济南 (3701) and 青岛 (3702), two persons with mentions, flags of both cities."""
    from review.accounts import add_account

    rows = {
        "core.employer (employer_id, name, uscc, region_code, unit_type)": [
            ("E1", "济南明泰机械有限公司", "91370102MA3C00001X", "370102", "enterprise"),
            ("E2", "青岛海岸食品有限公司", "91370202MA3C00002Y", "370202", "enterprise")],
        "core.person (person_id, full_name, id_number, cert_number, phone, birth_date, gender)": [
            ("P1", "王秀英", ID_1, ID_1 + "41", PHONE_1, "1985-03-12", "F"),
            ("P2", "赵强", ID_2, ID_2 + "42", "13905321111", "1990-01-01", "M")],
        "core.person_xref (source, source_key, person_id)": [
            ("disability_registry", ID_1 + "41", "P1"), ("quota", "E2024370102000001-0001", "P1"),
            ("disability_registry", ID_2 + "42", "P2")],
        "core.person_city (person_id, city_code)": [("P1", "3701"), ("P2", "3702")],
        "staging.person_mention (source, source_key, full_name, name_raw, id_number, id_number_raw, "
        "phone, birth_date, delivery, period)": [
            ("disability_registry", ID_1 + "41", "王秀英", "王秀英", ID_1, ID_1, PHONE_1, "1985-03-12",
             "cjrxx_202610.csv", "202610"),
            ("quota", "E2024370102000001-0001", "王秀英", "王 秀英", ID_1, ID_1, PHONE_1, "1985-03-12",
             "declared-employees.jsonl", "202610"),
            ("disability_registry", ID_2 + "42", "赵强", "赵强", ID_2, ID_2, "13905321111", "1990-01-01",
             "cjrxx_202610.csv", "202610")],
        "core.person_match_edge (person_id, source_l, key_l, source_r, key_r, link_kind, reason, "
        "match_weight, match_probability, comparisons)": [
            ("P1", "disability_registry", ID_1 + "41", "quota", "E2024370102000001-0001", "splink",
             "模型匹配", 14.2, 0.9999,
             json.dumps([{"name": "prior", "label": "先验", "weight": -9.1},
                         {"name": "full_name", "label": "姓名一致", "weight": 11.0},
                         {"name": "birth_date", "label": "出生日期一致", "weight": 12.3}]))],
    }
    with engine.begin() as conn:
        for target, values in rows.items():
            cols = target[target.index("(") + 1:-1].split(", ")
            for v in values:
                conn.execute(sa.text(f"insert into {target} values ({', '.join(':' + c for c in cols)})"),
                             dict(zip(cols, v, strict=True)))
        flags = [("F_JN_HIGH", "MULTI_EMPLOYER", "P1", "E1", "high", 0.95),
                 ("F_JN_MED", "BELOW_MIN_WAGE", "P1", "E1", "medium", 0.7),
                 ("F_JN_LOW", "SHORT_CONTRACT", "P1", "E1", "low", 0.4),
                 ("F_QD_HIGH", "MULTI_EMPLOYER", "P2", "E2", "high", 0.9)]
        for fid, rule, p, e, sev, score in flags:
            conn.execute(sa.text(
                "insert into mart.anomaly_flag (flag_id, rule, year, person_id, employer_id, severity, "
                "score, evidence, rule_version, first_seen_at, last_seen_at, active) values (:f, :r, 2024, "
                ":p, :e, :s, :sc, cast(:ev as jsonb), '1.0.0', now(), now(), true)"),
                {"f": fid, "r": rule, "p": p, "e": e, "s": sev, "sc": score, "ev": json.dumps({
                    "declared": [{"monthly_wage": 1500.0, "contract_start": "2024-01-01"}],
                    "id_number": ID_1 if p == "P1" else ID_2, "phone": PHONE_1,
                    "mentions": [{"source": "quota", "source_key": "E2024370102000001-0001",
                                  "entity": "person"}]})})
        conn.execute(sa.text(
            "insert into mart.quota_compliance (employer_id, year, levy_gap) values ('E1', 2024, 52000)"))
    for name, role, city in ACCOUNTS:
        add_account(engine, name, role, PASSWORD, city)


class Capture(logging.Handler):
    """Every log record of the process while the console runs (the log-grep test reads it)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def start_console(engine: sa.Engine, access_log: bool = True, **kw):
    """Serve the console on a free loopback port in a thread: (base URL, stop())."""
    import uvicorn

    from review.app import create_app

    port = _free_port()
    # The access log is on in the tests' consoles (off in `quotalink review`) so that request
    # lines are grepped too; uvicorn stops it propagating, process-wide, for a server without one.
    server = uvicorn.Server(uvicorn.Config(create_app(engine, **kw), host="127.0.0.1", port=port,
                                           log_level="info", access_log=access_log, log_config=None,
                                           timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        server.force_exit = True  # keep-alive clients of the tests do not hold the shutdown
        thread.join(5)

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture(scope="package")
def console():
    """The seeded warehouse and the console serving it on loopback (uvicorn in a thread)."""
    from warehouse.db import ensure_schema

    server_url = _server_url()
    database = f"ql_console_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'create database "{database}"'))
    url = sa.engine.make_url(server_url).set(database=database)
    engine = sa.create_engine(url, pool_size=10)
    ensure_schema(engine, "")
    seed(engine)
    capture = Capture()
    root = logging.getLogger()
    root.addHandler(capture)
    old_level = root.level
    root.setLevel(logging.INFO)
    # An earlier test in this process may have configured logging (uvicorn's default config
    # stops its access log propagating; dictConfig disables existing loggers): undo that, so
    # every record reaches the capture.
    touched = {}
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", "review", *[
            n for n in logging.root.manager.loggerDict if n.startswith(("review.", "uvicorn."))]):
        logger = logging.getLogger(name)
        touched[name] = (logger.propagate, logger.disabled, logger.level)
        logger.propagate, logger.disabled = True, False
        if logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
    base, stop = start_console(engine, access_log=True)
    yield SimpleNamespace(url=base, engine=engine, log=capture)
    stop()
    root.removeHandler(capture)
    root.setLevel(old_level)
    for name, (propagate, disabled, level) in touched.items():
        logger = logging.getLogger(name)
        logger.propagate, logger.disabled = propagate, disabled
        logger.setLevel(level)
    engine.dispose()
    from warehouse import db

    db._migrated.discard(url.render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.execute(sa.text(f'drop database if exists "{database}" with (force)'))
    admin.dispose()


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def new_page(browser):
    """new_page() → a page in a fresh context (own cookies); closed after the test."""
    contexts = []

    def make():
        ctx = browser.new_context(accept_downloads=True, locale="zh-CN")
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def sign_in(page, base: str, username: str, password: str = PASSWORD, next_: str | None = None) -> None:
    """Sign in through the form."""
    page.goto(base + "/login" + (f"?next={next_}" if next_ else ""))
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#signin")


def api(base: str, username: str, password: str = PASSWORD):
    """(httpx client with a session, csrf token) through POST /api/login."""
    import httpx

    c = httpx.Client(base_url=base)
    r = c.post("/api/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return c, r.json()["csrf_token"]
