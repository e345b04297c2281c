"""What happens when golden records are published: ID tokens, versions (as of a date), person cities."""

import hashlib
import hmac
import logging

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from quotalink.settings import load_settings
from warehouse.schema import metadata

log = logging.getLogger(__name__)

VERSIONED = {
    "person": (("core.person", ("person_id",)), ("core.person_xref", ("source", "source_key"))),
    "employer": (("core.employer", ("employer_id",)), ("core.employer_xref", ("source", "source_key"))),
}


def hmac_pads(key: str) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer key blocks (RFC 2104), so the database can finish the HMAC
    with its built-in sha256() (pgcrypto is missing from the embedded PostgreSQL)."""
    raw = key.encode("utf-8")
    if len(raw) > 64:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in raw), bytes(b ^ 0x5C for b in raw)


def id_token(id_number: str, key: str) -> str:
    """The id_token of an ID number: hex HMAC-SHA256 under the deployment key."""
    return hmac.new(key.encode("utf-8"), id_number.encode("utf-8"), hashlib.sha256).hexdigest()


def write_id_tokens(conn: Connection, key: str | None, changed: str | None = None) -> int:
    """Fill core.person.id_token from id_number; null everywhere without a key.

    Only rows whose token differs are written (a republished person keeps a token that is
    already right). With ``changed`` (a temporary table with a person_id column) the IDs
    of the rows written are added to it."""
    keep = (f"with w as ({{}} returning person_id) insert into {changed} (person_id) "
            "select person_id from w") if changed else "{}"
    if not key:
        log.warning("QUOTALINK_ID_TOKEN_KEY is unset: api.person.id_token stays empty")
        return conn.execute(sa.text(keep.format(
            "update core.person set id_token = null where id_token is not null"))).rowcount
    inner, outer = hmac_pads(key)
    token = "encode(sha256(:outer || sha256(:inner || convert_to(id_number, 'UTF8'))), 'hex')"
    # The key blocks travel as statement parameters only; nothing stores the key.
    return conn.execute(sa.text(keep.format(
        f"update core.person set id_token = {token} where id_number is not null "
        f"and id_token is distinct from {token}")), {"inner": inner, "outer": outer}).rowcount


def record_versions(conn: Connection, table: str, key: tuple[str, ...],
                    within: str | None = None) -> dict[str, int]:
    """Close versions whose row changed or vanished, open versions for new and changed rows.

    ``within`` (a temporary table of key columns) limits both to those keys: what the whole
    comparison gives when every other key's open version equals its row, as after any
    publish (only these statements write the versions, in the publishing transaction)."""
    base = metadata.tables[table]
    versions = metadata.tables[f"{table}_version"]
    content = [c.name for c in base.c if c.name in versions.c]
    cols = ", ".join(f'"{c}"' for c in content)
    same_key = " and ".join(f't."{k}" = v."{k}"' for k in key)
    t_cols = ", ".join(f't."{c}"' for c in content)
    v_cols = ", ".join(f'v."{c}"' for c in content)
    same_row = f"row({t_cols}) is not distinct from row({v_cols})"

    def among(alias: str) -> str:
        if within is None:
            return ""
        on = " and ".join(f'w."{k}" = {alias}."{k}"' for k in key)
        return f" and exists (select 1 from {within} w where {on})"

    closed = conn.execute(sa.text(f"""
        update {table}_version v set valid_to = now()
        where v.valid_to is null{among("v")}
          and not exists (select 1 from {table} t where {same_key} and {same_row})""")).rowcount
    opened = conn.execute(sa.text(f"""
        insert into {table}_version ({cols}, valid_from)
        select {cols}, now() from {table} t
        where not exists (select 1 from {table}_version v where v.valid_to is null and {same_key})
        {among("t")}
    """)).rowcount
    return {"closed": closed, "opened": opened}


def refresh_person_city(conn: Connection) -> int:
    """Bring core.person_city up to date: the cities of the employers that declared each
    person, and the city of the person's household registration. Only differences are
    written (every row-level security check of a person reads this table)."""
    conn.execute(sa.text("drop table if exists tmp_ql_person_city"))
    conn.execute(sa.text("""
        create temp table tmp_ql_person_city on commit drop as
        select distinct person_id, city_code from (
            select p.person_id, api.city_of(p.hukou_region_code) as city_code
            from core.person p where p.hukou_region_code like '37%'
            union all
            select px.person_id, api.city_of(e.region_code)
            from staging.declared_employment de
            join core.person_xref px on px.source = 'quota' and px.source_key = de.employee_record_id
            join core.employer_xref ex on ex.source = 'quota' and ex.source_key = de.declaration_id
            join core.employer e on e.employer_id = ex.employer_id
            where e.region_code like '37%'
        ) c where length(city_code) = 4"""))
    gone = conn.execute(sa.text("""
        delete from core.person_city pc where not exists (
            select 1 from tmp_ql_person_city t
            where t.person_id = pc.person_id and t.city_code = pc.city_code)""")).rowcount
    new = conn.execute(sa.text("""
        insert into core.person_city (person_id, city_code)
        select person_id, city_code from tmp_ql_person_city
        on conflict do nothing""")).rowcount
    return gone + new


def after_xref(conn: Connection, kind: str, within: str | None = None) -> dict[str, int]:
    """The versions of core.<kind>_xref, inside the publishing transaction once the xref
    is written (it needs nothing else: the resolution writes it first, while the golden
    records are still being computed). ``within``: as for record_versions."""
    out: dict[str, int] = {}
    for table, key in VERSIONED[kind][1:]:
        for what, n in record_versions(conn, table, key, within).items():
            out[f"{table}.{what}"] = n
    return out


def after_publish(conn: Connection, kind: str, id_token_key: str | None = None,
                  xref_done: bool = False, within: str | None = None) -> dict[str, int]:
    """Run inside the publishing transaction of core.<kind> and core.<kind>_xref.

    ``id_token_key`` defaults to QUOTALINK_ID_TOKEN_KEY from the environment; with
    ``xref_done`` the xref's versions were recorded already (after_xref). ``within``: a
    temporary table of the golden IDs the publish wrote or deleted (the rows whose
    tokens change are added to it), the only ones whose versions can change."""
    out: dict[str, int] = {}
    if kind == "person":
        key = id_token_key if id_token_key is not None else load_settings().id_token_key
        out["id_tokens"] = write_id_tokens(conn, key, within)
    for table, key in VERSIONED[kind][:1]:
        for what, n in record_versions(conn, table, key, within).items():
            out[f"{table}.{what}"] = n
    if not xref_done:
        out.update(after_xref(conn, kind))
    out["person_cities_changed"] = refresh_person_city(conn)
    return out
