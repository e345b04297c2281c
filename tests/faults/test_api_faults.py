"""Quota API faults over real HTTP (the emulator): each ends with raw and staging as a clean pull's."""

import pytest
import sqlalchemy as sa

from connectors import quota
from connectors.quota import QuotaClient, RetryPolicy
from connectors.quota_emulator import QuotaEmulator
from quotalink.errors import SourceAPIError
from tests.faults.conftest import audit, copy_source, reset_source, snapshot

TOKEN = "fault-token"
YEARS = [2024, 2025]


def _pull(engine, emulator, token=TOKEN, timeout_s=30.0):
    client = QuotaClient(emulator.url, token, page_size=20, timeout_s=timeout_s,
                         retry=RetryPolicy(attempts=4, backoff_s=0.01, max_wait_s=0.05))
    try:
        return quota.load(engine, client, YEARS)
    finally:
        client.close()


def _stage_and_snapshot(engine):
    quota.stage(engine)
    return snapshot(engine, "quota")


@pytest.fixture
def api(warehouse, sources_dir, province):
    folder = copy_source(province, sources_dir, "quota")
    with QuotaEmulator(folder, token=TOKEN) as emulator:
        yield emulator


def test_quota_api_faults_recover_to_a_clean_pull(warehouse, api):
    _pull(warehouse, api)
    clean = _stage_and_snapshot(warehouse)
    assert clean["raw.quota_declarations"][0] > 0 and clean["raw.quota_declared_employees"][0] > 0

    # 429 with Retry-After, 503, and a hang past the client's timeout: retried, nothing lost.
    reset_source(warehouse, "quota")
    api.faults.extend([(429, {"Retry-After": "0"}), (503, {}), (0, {"sleep": "1.5"})])
    _pull(warehouse, api, timeout_s=0.5)
    assert not api.faults
    assert _stage_and_snapshot(warehouse) == clean

    # 401: named, nothing written; the right token then pulls everything.
    reset_source(warehouse, "quota")
    with pytest.raises(SourceAPIError, match="401 unauthorised - check QUOTA_API_TOKEN"):
        _pull(warehouse, api, token="wrong")
    assert snapshot(warehouse, "quota")["raw.quota_declarations"][0] == 0
    _pull(warehouse, api)
    assert _stage_and_snapshot(warehouse) == clean

    # An outage in the middle of a window: the window rolls back whole, the watermark does
    # not move, and a plain rerun after the outage completes it.
    reset_source(warehouse, "quota")
    api.outage_from = len(api.requests) + 3
    with pytest.raises(SourceAPIError, match="HTTP 503"):
        _pull(warehouse, api)
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select count(*) from ops.watermark where source = 'quota' "
                                    "and stream like 'quota_declarations:%'")).scalar() <= 1
    api.outage_from = None
    _pull(warehouse, api)
    assert _stage_and_snapshot(warehouse) == clean
    # Nothing new: no delivery, no audit row.
    before = len(audit(warehouse, "quota"))
    assert _pull(warehouse, api) == []
    assert len(audit(warehouse, "quota")) == before


def test_duplicate_items_are_counted_and_loaded_once(warehouse, api, sources_dir):
    _pull(warehouse, api)
    clean = _stage_and_snapshot(warehouse)
    reset_source(warehouse, "quota")
    path = sources_dir / "quota" / "declared-employees.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines + lines[:3]), encoding="utf-8")  # three items served twice
    api.reload()
    results = _pull(warehouse, api)
    employees = [r for r in results if r.delivery.startswith("quota_declared_employees")]
    assert sum(r.rows_read for r in employees) == len(lines) + 3
    assert sum(r.rows_loaded for r in employees) == len(lines)
    assert sum(r.rows_quarantined for r in employees) == 3
    with warehouse.connect() as conn:
        reasons = conn.execute(sa.text("select reason from ops.quarantine where source = 'quota'")).scalars().all()
    assert len(reasons) == 3 and all("duplicate of row" in r for r in reasons)
    assert _stage_and_snapshot(warehouse) == clean
