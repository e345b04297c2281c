"""The quota connector against the emulator over real HTTP: paging, retries, watermark, staging."""

import json

import pytest
import sqlalchemy as sa

from connectors import quota
from connectors.quota import QuotaClient, RetryPolicy
from connectors.quota_emulator import QuotaEmulator
from quotalink.errors import SourceAPIError

TOKEN = "secret-token"


def decl(i: int, updated: str, status: str = "审核通过", total_staff: int = 200, **kw) -> dict:
    item = {
        "declaration_id": f"D2024370102{i:06d}", "declaration_year": 2024,
        "unit_name": f"济南明泰机械{i}有限公司", "uscc": None, "org_code": "MA3C5XXX-1",
        "unit_region_code": "370102", "unit_type": "企业", "total_staff": total_staff,
        "avg_annual_wage": 78432.50, "disabled_declared": 4, "status": status,
        "submitted_at": "2025-03-02T10:12:00", "updated_at": updated,
    }
    item.update(kw)
    return item


def emp(i: int, decl_i: int, updated: str, **kw) -> dict:
    item = {
        "employee_record_id": f"E2024370102{decl_i:06d}-{i:04d}", "declaration_id": f"D2024370102{decl_i:06d}",
        "name": "王秀英", "id_number": "370102198503124522", "cert_number": None,
        "disability_category": 4, "disability_level": 2, "contract_start": "2024-01-01",
        "contract_end": None, "monthly_wage": 2450.00, "si_months": 12, "position": "质检员",
        "employment_type": "全日制", "updated_at": updated,
    }
    item.update(kw)
    return item


def write_jsonl(folder, declarations, employees):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "declarations.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in declarations), encoding="utf-8")
    (folder / "declared-employees.jsonl").write_text(
        "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in employees), encoding="utf-8")


@pytest.fixture
def api(sources_dir):
    folder = sources_dir / "quota"
    decls = [decl(i, f"2025-04-{10 + i:02d}T09:00:00") for i in range(1, 6)]
    decls.append(decl(1, "2025-05-01T08:00:00", total_staff=300))  # edited later
    emps = [emp(j, 1 + j % 5, f"2025-04-{10 + j % 5:02d}T09:30:00", id_number=f"37010219850312{j:03d}X")
            for j in range(1, 8)]
    write_jsonl(folder, decls, emps)
    with QuotaEmulator(folder, token=TOKEN) as emulator:
        yield emulator


def client(url, token=TOKEN, page_size=2):
    return QuotaClient(url, token, page_size=page_size, retry=RetryPolicy(attempts=3, backoff_s=0.01))


def counts(engine):
    with engine.connect() as conn:
        return {
            t: conn.execute(sa.text(f"select count(*) from {t}")).scalar()
            for t in ("raw.quota_declarations", "raw.quota_declared_employees", "ops.load_audit",
                      "staging.declaration", "staging.declared_employment")
        }


def test_pull_pages_versions_and_resumes(warehouse, api):
    results = quota.load(warehouse, client(api.url), years=[2024])
    assert [(r.rows_read, r.rows_loaded) for r in results] == [(6, 6), (7, 7)]
    quota.stage(warehouse)
    assert counts(warehouse) == {
        "raw.quota_declarations": 6, "raw.quota_declared_employees": 7, "ops.load_audit": 2,
        "staging.declaration": 5, "staging.declared_employment": 7,
    }
    with warehouse.connect() as conn:
        staff = conn.execute(sa.text(
            "select total_staff from staging.declaration where declaration_id = 'D2024370102000001'")).scalar()
        mention = conn.execute(sa.text(
            "select org_code, unit_type, region_code from staging.employer_mention "
            "where source = 'quota' and source_key = 'D2024370102000001'")).one()
        marks = dict(conn.execute(sa.text("select stream, value from ops.watermark")).all())
    assert staff == 300  # only the latest version of an edited declaration counts
    assert tuple(mention) == ("MA3C5XXX1", "enterprise", "370102")
    assert marks["quota_declarations:2024"] == "2025-05-01T08:00:00"
    # Nothing new: a second pull loads nothing and writes no audit row.
    assert quota.load(warehouse, client(api.url), years=[2024]) == []
    assert counts(warehouse)["ops.load_audit"] == 2
    # One edit arrives: only it is pulled, from the watermark.
    write_jsonl(api.quota_dir, [decl(2, "2025-06-01T00:00:00", status="已驳回")], [])
    api.reload()
    again = quota.load(warehouse, client(api.url), years=[2024])
    assert [(r.rows_read, r.rows_loaded) for r in again] == [(1, 1)]
    assert any("updated_since=2025-05-01T08%3A00%3A00" in r for r in api.requests)


def test_retries_429_with_retry_after_and_503(warehouse, api):
    api.faults.extend([(429, {"Retry-After": "0"}), (503, {})])
    results = quota.load(warehouse, client(api.url), years=[2024])
    assert sum(r.rows_loaded for r in results) == 13
    assert not api.faults


def test_bounded_retries_then_clear_error(warehouse, api):
    api.faults.extend([(503, {})] * 5)
    with pytest.raises(SourceAPIError, match="HTTP 503 after 3 attempt"):
        list(client(api.url).pull("/api/v1/declarations", "declaration_id", 2024, None))


def test_wrong_token_fails_with_401_message(warehouse, api):
    with pytest.raises(SourceAPIError, match="401 unauthorised - check QUOTA_API_TOKEN"):
        quota.load(warehouse, client(api.url, token="wrong"), years=[2024])


def test_path_prefix_and_edits_during_paging(sources_dir):
    folder = sources_dir / "quota"
    write_jsonl(folder, [decl(i, f"2025-04-{10 + i:02d}T09:00:00") for i in range(1, 6)], [])
    with QuotaEmulator(folder, token=TOKEN) as emulator:
        c = client(emulator.url + "/gateway", page_size=2)
        seen = []
        for n, item in enumerate(c.pull("/api/v1/declarations", "declaration_id", 2024, None)):
            seen.append((item["declaration_id"], item["updated_at"]))
            if n == 1:  # declaration 1 is edited while we page: it moves to the end
                write_jsonl(folder, [decl(i, f"2025-04-{10 + i:02d}T09:00:00") for i in range(2, 6)]
                            + [decl(1, "2025-07-01T00:00:00")], [])
                emulator.reload()
    ids = [d for d, _ in seen]
    assert set(ids) == {f"D2024370102{i:06d}" for i in range(1, 6)}
    assert ("D2024370102000001", "2025-07-01T00:00:00") in seen


def test_malformed_item_quarantined_rest_loads(warehouse, sources_dir):
    folder = sources_dir / "quota"
    bad = decl(9, "2025-04-20T00:00:00")
    del bad["updated_at"]
    write_jsonl(folder, [decl(1, "2025-04-11T09:00:00"), bad], [])
    with QuotaEmulator(folder, token=TOKEN) as emulator:
        # The emulator orders an item without updated_at first; the connector must keep it visible.
        results = quota.load(warehouse, client(emulator.url), years=[2024])
    assert [(r.rows_read, r.rows_loaded, r.rows_quarantined) for r in results] == [(2, 1, 1)]
    with warehouse.connect() as conn:
        reason = conn.execute(sa.text("select reason from ops.quarantine")).scalar()
    assert "updated_at" in reason


class CappedEmulator(QuotaEmulator):
    """A server that serves at most 3 items a page whatever page_size asks, and echoes 3."""

    def _select(self, path, query):
        query = dict(query)
        if query.get("page_size", "").isdigit():
            query["page_size"] = str(min(3, int(query["page_size"])))
        return super()._select(path, query)


def test_a_server_capping_page_size_below_the_request_is_paged_to_the_end(warehouse, sources_dir):
    folder = sources_dir / "quota"
    # Eleven declarations, several sharing an updated_at, and eleven employees.
    write_jsonl(folder, [decl(i, f"2025-04-{10 + i // 3:02d}T09:00:00") for i in range(1, 12)],
                [emp(j, 1 + j % 11, f"2025-04-{10 + j // 4:02d}T09:30:00") for j in range(1, 12)])
    with CappedEmulator(folder, token=TOKEN) as emulator:
        results = quota.load(warehouse, client(emulator.url, page_size=5), years=[2024])
    assert [(r.rows_read, r.rows_loaded) for r in results] == [(11, 11), (11, 11)]
