"""quota: declarations and declared employees pulled from the certification system's API."""

import datetime as dt
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.base import Delivery, Lander, LoadResult, Record
from connectors.mentions import employer_mention, person_fields, person_mention
from connectors.staging import Context, StageReport, stage_pending, text
from quotalink.contracts import QUOTA_DECLARATIONS, QUOTA_EMPLOYEES, RawTable
from quotalink.errors import SourceAPIError
from quotalink.standardise import (
    normalise_org_code,
    normalise_region_code,
    normalise_uscc,
    org_code_of_uscc,
    parse_category,
    parse_level,
)

log = logging.getLogger(__name__)
UNIT_TYPES = {
    "企业": "enterprise", "机关": "organ", "事业单位": "public_institution",
    "社会组织": "social_organisation", "个体工商户": "individual_business",
}
ENDPOINTS = {
    QUOTA_DECLARATIONS.table: "/api/v1/declarations",
    QUOTA_EMPLOYEES.table: "/api/v1/declared-employees",
}


@dataclass
class RetryPolicy:
    """How hard to try before giving up on a request."""

    attempts: int = 6
    backoff_s: float = 0.5
    max_wait_s: float = 30.0


class QuotaClient:
    """Client of the quota API: bearer token, paging, resumable pulls, bounded retries."""

    def __init__(self, base_url: str, token: str | None, page_size: int = 500,
                 retry: RetryPolicy | None = None, timeout_s: float = 30.0):
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.retry = retry or RetryPolicy()
        headers = {"Accept": "application/json"}
        # An empty bearer value is not a legal header; without a token the API answers 401.
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(headers=headers, timeout=timeout_s)

    def close(self) -> None:
        """Release the connection pool."""
        self._http.close()

    def get_page(self, path: str, params: dict) -> dict:
        """One page, retrying 429 (honouring Retry-After), 503 and network errors."""
        url = self.base_url + path
        for attempt in range(1, self.retry.attempts + 1):
            try:
                resp = self._http.get(url, params=params)
            except httpx.TransportError as exc:
                wait = self.retry.backoff_s * 2 ** (attempt - 1)
                log.warning("quota API %s: %s (attempt %d), retrying in %.1fs", path, type(exc).__name__, attempt, wait)
                if attempt == self.retry.attempts:
                    raise SourceAPIError(f"quota API {url}: unreachable after {attempt} attempts: {exc}") from None
                time.sleep(wait)
                continue
            if resp.status_code == 200:
                return resp.json()
            if resp.status_code == 401:
                raise SourceAPIError(
                    f"quota API {url}: 401 unauthorised - check QUOTA_API_TOKEN ({_message(resp)})"
                )
            if resp.status_code in (429, 502, 503, 504) and attempt < self.retry.attempts:
                wait = self.retry.backoff_s * 2 ** (attempt - 1)
                if resp.status_code == 429:
                    wait = _retry_after(resp.headers.get("Retry-After"), wait)
                wait = min(wait, self.retry.max_wait_s)
                log.warning("quota API %s: %d (attempt %d), retrying in %.1fs", path, resp.status_code, attempt, wait)
                time.sleep(wait)
                continue
            raise SourceAPIError(
                f"quota API {url}: HTTP {resp.status_code} after {attempt} attempt(s): {_message(resp)}"
            )
        raise SourceAPIError(f"quota API {url}: gave up")  # pragma: no cover - loop always returns

    def pull(self, path: str, key: str, year: int, updated_since: str | None) -> Iterator[dict]:
        """Every item of a year changed at or after updated_since, in (updated_at, id) order.

        Moves the window forward after each page, so items edited or added while paging
        neither shift the pages nor get lost.
        """
        since, page, last = updated_since, 1, None
        while True:
            params = {"declaration_year": year, "page": page, "page_size": self.page_size}
            if since:
                params["updated_since"] = since
            body = self.get_page(path, params)
            items = body.get("items") or []
            fresh = []
            for item in items:
                k = _order_key(item, key)
                if last is None or k > last:
                    fresh.append(item)
            yield from fresh
            # A server may serve fewer per page than asked (its own cap) and say so in page_size:
            # a page that short is not the last one.
            served = body.get("page_size")
            size = served if type(served) is int and 1 <= served < self.page_size else self.page_size
            if len(items) < size:
                return
            tail = _order_key(items[-1], key)
            if fresh and tail[0] and tail[0] != since:
                last, since, page = tail, tail[0], 1
            else:
                if fresh:
                    last = tail
                page += 1


def _retry_after(value: str | None, default: float) -> float:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return default
    if value.strip().isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - dt.datetime.now(when.tzinfo or dt.UTC)).total_seconds())


def _order_key(item: object, key: str) -> tuple[str, str]:
    if not isinstance(item, dict):
        return ("", "")
    return (str(item.get("updated_at") or ""), str(item.get(key) or ""))


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
        return f"{body.get('error')}: {body.get('message')}"
    except (ValueError, AttributeError):
        return resp.text[:200]


def _as_text(value: object) -> object:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def _records(items: Iterator[dict], spec: RawTable, year: int) -> Iterator[Record]:
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            yield Record(f"item {n}", {}, "item is not a JSON object", None, json.dumps(item, ensure_ascii=False))
            continue
        values = {k: _as_text(v) for k, v in item.items()}
        if spec is QUOTA_EMPLOYEES:
            values["declaration_year"] = str(year)
        ref = str(item.get(spec.key) or f"item {n}")
        if not item.get("updated_at"):
            yield Record(ref, values, "updated_at is missing", "updated_at", typed=True)
            continue
        yield Record(ref, values, typed=True)


LOOKBACK_YEARS = 6


def years_to_pull(spec: str | None = None, today: dt.date | None = None) -> list[int]:
    """Declaration years to pull: QUOTA_YEARS ('2019-2026' or '2024,2025'), else the
    current year and the six before it (declarations stay editable and re-reviewable)."""
    today = today or dt.date.today()
    if not spec:
        return list(range(today.year - LOOKBACK_YEARS, today.year + 1))
    years: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        lo, _, hi = part.partition("-")
        years.update(range(int(lo), int(hi or lo) + 1))
    return sorted(years)


def watermark(conn, stream: str) -> str | None:
    """The last updated_at pulled for a stream."""
    return conn.execute(
        sa.text("select value from ops.watermark where source = 'quota' and stream = :s"), {"s": stream}
    ).scalar()


def load(engine: Engine, client: QuotaClient, years: list[int] | None = None) -> list[LoadResult]:
    """Pull every stream and year from its watermark; each non-empty window is one delivery.

    Items stream from the API straight into the raw table (COPY in chunks), so memory does
    not grow with the size of a window.
    """
    results = []
    for spec in (QUOTA_DECLARATIONS, QUOTA_EMPLOYEES):
        for year in years or years_to_pull():
            result = _pull_window(engine, client, spec, year)
            if result is not None:
                results.append(result)
    return results


def _pull_window(engine: Engine, client: QuotaClient, spec: RawTable, year: int) -> LoadResult | None:
    stream = f"{spec.table}:{year}"
    with engine.connect() as conn:
        since = watermark(conn, stream)
        # updated_since is inclusive: items at exactly the watermark were loaded last time.
        seen = set() if not since else set(conn.execute(
            sa.text(f'select "{spec.key}" from raw."{spec.table}" where updated_at = :u'), {"u": since},
        ).scalars())
    top = since or ""

    def fresh() -> Iterator[object]:
        nonlocal top
        for item in client.pull(ENDPOINTS[spec.table], spec.key, year, since):
            if isinstance(item, dict):
                updated = str(item.get("updated_at") or "")
                if since and updated == since and item.get(spec.key) in seen:
                    continue
                top = max(top, updated)
            yield item

    delivery = Delivery("quota", f"{spec.table}:{year}:after:{since or 'start'}", since or "")
    with engine.connect() as conn:
        with conn.begin() as trans:
            lander = Lander(conn, spec, delivery)
            lander.upsert(_records(fresh(), spec, year), [spec.key, "updated_at"])
            if lander.rows_read == 0:
                trans.rollback()  # nothing new: no delivery, no audit row
                return None
            result = lander.finish(None)
            if top:
                conn.execute(
                    sa.text(
                        "insert into ops.watermark (source, stream, value) values ('quota', :s, :v) "
                        "on conflict (source, stream) do update set value = excluded.value, updated_at = now()"
                    ),
                    {"s": stream, "v": top},
                )
    log.info("quota %s: %d item(s) read, %d quarantined", stream, result.rows_read, result.rows_quarantined)
    return result


def stage_declaration(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """A declaration version → the declaration fact and its employer mention."""
    updated = ctx.timestamp(row, "updated_at")
    period = updated.isoformat() if updated else ""
    uscc = ctx.parsed(row, "uscc", normalise_uscc)
    org = ctx.parsed(row, "org_code", normalise_org_code) or org_code_of_uscc(uscc)
    region = ctx.cached(row, "unit_region_code", normalise_region_code)
    unit_type = ctx.code(row, "unit_type", UNIT_TYPES)
    key = text(row, "declaration_id")
    yield "staging.declaration", {
        "declaration_id": key,
        "declaration_year": ctx.integer(row, "declaration_year", 2000, 2100),
        "unit_name": text(row, "unit_name"),
        "uscc": uscc, "org_code": org, "unit_region_code": region, "unit_type": unit_type,
        "total_staff": ctx.integer(row, "total_staff", 0),
        "avg_annual_wage": ctx.decimal(row, "avg_annual_wage"),
        "disabled_declared": ctx.integer(row, "disabled_declared", 0),
        "status": text(row, "status"),
        "submitted_at": ctx.timestamp(row, "submitted_at"),
        "updated_at": updated,
        "period": period,
    }
    yield employer_mention(ctx, key, text(row, "unit_name"), uscc=uscc, org_code=org,
                           region_code=region, unit_type=unit_type,
                           observed_on=updated.date() if updated else None, period=period)


def stage_employee(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """A declared-employee version → the declared employment fact and its person mention."""
    updated = ctx.timestamp(row, "updated_at")
    period = updated.isoformat() if updated else ""
    person = person_fields(ctx, row, name="name", id_col="id_number", cert_col="cert_number")
    category = ctx.cached(row, "disability_category", parse_category)
    level = ctx.cached(row, "disability_level", parse_level)
    key = text(row, "employee_record_id")
    yield "staging.declared_employment", {
        "employee_record_id": key,
        "declaration_id": text(row, "declaration_id"),
        "declaration_year": ctx.integer(row, "declaration_year", 2000, 2100),
        "full_name": person["full_name"], "id_number": person["id_number"],
        "cert_number": person["cert_number"],
        "disability_category": category, "disability_level": level,
        "contract_start": ctx.date(row, "contract_start"),
        "contract_end": ctx.date(row, "contract_end"),
        "monthly_wage": ctx.decimal(row, "monthly_wage"),
        "si_months": ctx.integer(row, "si_months", 0, 12),
        "position": text(row, "position"),
        "employment_type": text(row, "employment_type"),
        "phone": None,
        "updated_at": updated, "period": period,
    }
    yield person_mention(ctx, key, person, disability_category=category, disability_level=level,
                         observed_on=updated.date() if updated else None, period=period)


def stage(engine: Engine) -> StageReport:
    """Stage every pulled window not yet staged, declarations before their employees
    (windows are named after their table)."""
    return {**stage_pending(engine, QUOTA_DECLARATIONS, stage_declaration),
            **stage_pending(engine, QUOTA_EMPLOYEES, stage_employee)}
