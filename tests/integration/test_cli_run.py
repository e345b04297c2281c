"""`quotalink run` exits non-zero naming what failed: a blocking check, a source's outage."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from orchestration.cli import main


def test_blocking_check_failure_fails_the_run(warehouse, capsys):
    with warehouse.begin() as conn:  # a delivery whose books do not balance
        conn.execute(sa.text(
            "insert into ops.load_audit (source, delivery, raw_table, rows_read, rows_loaded, "
            "rows_quarantined) values ('org', 'jgry_2024.csv', 'org', 10, 8, 1)"))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "raw/org / deliveries_reconcile" in err
    assert "blocking check(s) failed" in err


def test_empty_delivery_folder_runs_clean(warehouse, capsys):
    assert main(["run"]) == 0
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from core.person")).scalar() == 0


class _Outage(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        body = b'{"error": "maintenance"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def quota_outage(monkeypatch):
    """A quota API that answers every request with HTTP 500 (a real server, a real outage)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Outage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("QUOTA_API_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setenv("QUOTA_YEARS", "2025")
    yield
    server.shutdown()


def test_quota_outage_blocks_only_what_reads_quota(warehouse, sources_dir, quota_outage, capsys):
    from tests.helpers import drop
    from tests.integration.test_registry_delivery import ROWS, csv_bytes

    drop(sources_dir / "disability_registry", "cjrxx_202405.csv", csv_bytes(ROWS[:2]))
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "step failed: raw_quota" in err and "HTTP 500" in err
    blocked = err.split("not materialised in this run", 1)[1]
    for key in ("staging/declaration", "staging/person_mention/quota", "core/person",
                "mart/anomaly_flag"):
        assert key in blocked
    for key in ("staging/certificate", "staging/person_mention/disability_registry", "ref/region"):
        assert key not in blocked
    with warehouse.connect() as conn:
        # The registry's delivery was staged although quota failed in the same run.
        assert conn.execute(sa.text("select count(*) from staging.certificate")).scalar() == 2
        assert conn.execute(sa.text(
            "select count(*) from ops.stage_audit where source = 'disability_registry'")).scalar() == 1
        assert conn.execute(sa.text("select count(*) from core.person")).scalar() == 0
