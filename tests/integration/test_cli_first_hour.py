"""The first hour at the terminal: `quotalink db`, a clean stop on SIGTERM, the closing table."""

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import sqlalchemy as sa

from orchestration.cli import main


def test_db_prints_a_psql_uri_and_opens_psql(warehouse, pg_database, capfd):
    assert main(["db", "--print"]) == 0
    uri = capfd.readouterr().out.strip()
    assert uri.startswith("postgresql://") and "+psycopg2" not in uri and "***" not in uri
    assert uri.rsplit("/", 1)[1] == sa.engine.make_url(pg_database).database
    with warehouse.begin() as conn:
        conn.execute(sa.text(
            "insert into ops.load_audit (source, delivery, raw_table, rows_read, rows_loaded, "
            "rows_quarantined) values ('org', 'jgry_2024.csv', 'org', 3, 3, 0)"))
    assert main(["db", "-tA", "-c", "select sum(rows_loaded) from ops.load_audit"]) == 0
    assert capfd.readouterr().out.strip() == "3"


def test_closing_table_shows_this_run_beside_the_totals(warehouse, capsys, monkeypatch):
    from orchestration.summary import print_summary
    from quotalink.settings import load_settings

    monkeypatch.setenv("COLUMNS", "200")
    with warehouse.begin() as conn:
        conn.execute(sa.text(
            "insert into ops.load_audit (source, delivery, raw_table, rows_read, rows_loaded, "
            "rows_quarantined, loaded_at) values "
            "('org', 'jgry_2024.csv', 'org', 10, 9, 1, now() - interval '1 day'),"
            "('org', 'jgry_2025.csv', 'org', 5, 5, 0, now()),"
            "('training', 'pxxy_2026Q2.xlsx', 'training', 7, 7, 0, now() - interval '1 day')"))
    started = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    print_summary(warehouse, load_settings(), 3.0, started)
    out = capsys.readouterr().out
    rows = {line.split()[0]: re.split(r"\s{2,}", line.strip())
            for line in out.splitlines() if line.strip().startswith(("org ", "training "))}
    assert rows["org"] == ["org", "1 / 2", "5", "5 / 14", "0 / 1", "0"]
    assert rows["training"][1:4] == ["0 / 1", "0", "0 / 7"]
    assert re.search(r"warehouse: postgresql://\S+", out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _console_until_sigterm(env: dict, pgdata: Path) -> None:
    port = _free_port()
    exe = Path(sys.executable).parent / "quotalink"
    proc = subprocess.Popen([str(exe), "review", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read()
                assert time.monotonic() < deadline, "console did not come up"
                time.sleep(0.5)
        assert (pgdata / "postmaster.pid").exists()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_embedded_server_stops_cleanly_when_the_console_gets_sigterm(tmp_path):
    var = tmp_path / "var"
    pgdata = var / "pgdata"
    env = {k: v for k, v in os.environ.items() if k != "WAREHOUSE_URL"}
    env.update({"QUOTALINK_VAR_DIR": str(var), "SOURCES_DIR": str(tmp_path)})
    _console_until_sigterm(env, pgdata)
    # The server went down with its last user: no postmaster, no stale handle.
    assert not (pgdata / "postmaster.pid").exists()
    assert json.loads((pgdata / ".handle_pids.json").read_text() or "[]") == []

    # A user killed with SIGKILL leaves its PID behind; the next one does not wait for it.
    dead = subprocess.Popen(["true"])
    dead.wait()
    (pgdata / ".handle_pids.json").write_text(json.dumps([dead.pid]))
    _console_until_sigterm(env, pgdata)
    assert not (pgdata / "postmaster.pid").exists()
    assert json.loads((pgdata / ".handle_pids.json").read_text() or "[]") == []
