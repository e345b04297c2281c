"""Database roles, their grants and the row-level security that limits them to a city."""

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import refdata

KINDS = ("pipeline", "console", "reader", "pii_reader")
# Owns the api views: readers reach core and mart only through it, and the policies that
# apply to it judge the invoking user (current_user), so RLS still follows the caller.
API_OWNER = "api_owner"
OWNED_SCHEMAS = ("raw", "staging", "core", "mart", "review", "ops", "ref", "api")
CONSOLE_READS = ("core", "mart", "review", "ref")
API_OWNER_READS = ("core", "mart", "review", "ref", "staging")
# Tables the console may append to (besides every table of the review schema).
CONSOLE_APPENDS = ("core.link_override",)
# Console tables it also updates (sign-out and idle timeout end a session on the server).
CONSOLE_UPDATES = ("review.session",)
# Accounts are made by operators (`quotalink users`); the queue by review.refresh_flag_queue().
CONSOLE_NO_APPEND = ("review.account", "review.flag_queue", "review.flag_queue_count", "review.queue_state")
# The mentions as delivered, read for a flag already found in scope (no RLS on staging).
CONSOLE_STAGING_READS = ("staging.person_mention", "staging.employer_mention")
CITY_SETTING = "quotalink.city_code"
# Security-definer functions only the console may call (execution revoked from public):
# the raw row behind a mention of a flag in the session's scope (migration 0012).
CONSOLE_EXECUTES = ("review.mention_raw_row(text, text, text, text, boolean)",)


def city_codes() -> list[str]:
    """The 4-digit codes of Shandong's current prefecture-level cities (refdata)."""
    return sorted(c.code for c in refdata.cities())


def role_name(kind: str, prefix: str = "") -> str:
    """`quotalink_<kind>`, prefixed (QUOTALINK_ROLE_PREFIX) for servers shared by deployments."""
    if kind not in (*KINDS, API_OWNER):
        raise ValueError(f"unknown role kind {kind!r}; expected one of {', '.join(KINDS)}")
    return f"{prefix}quotalink_{kind}"


def city_role(code: str, prefix: str = "") -> str:
    """`quotalink_city_<code>` for a 4-digit Shandong city code (e.g. 3701)."""
    if code not in city_codes():
        raise ValueError(f"{code!r} is not a Shandong city code ({', '.join(city_codes())})")
    return f"{prefix}quotalink_city_{code}"


def all_roles(prefix: str = "") -> list[str]:
    """Every role the migrations create, in creation order."""
    return ([role_name(k, prefix) for k in (*KINDS, API_OWNER)]
            + [city_role(c, prefix) for c in city_codes()])


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_roles(conn: Connection, prefix: str = "") -> None:
    """Create the NOLOGIN group roles unless they exist (roles are cluster-wide).

    Several databases on one server migrate at once in tests and shared deployments: a
    role created by another session between the check and the CREATE is not an error.
    """
    for role in all_roles(prefix):
        conn.execute(sa.text(f"""
            do $$ begin
              if not exists (select 1 from pg_roles where rolname = {_lit(role)}) then
                begin
                  create role {_q(role)} nologin;
                exception when duplicate_object or unique_violation then null;
                end;
              end if;
            end $$"""))


def function_sql(prefix: str = "") -> list[str]:
    """The api helper functions (scope and masking); role names are spliced in."""
    r = {k: _lit(role_name(k, prefix)) for k in (*KINDS, API_OWNER)}
    cities = ", ".join(f"({_lit(c)}, {_lit(city_role(c, prefix))})" for c in city_codes())
    return [
        """create or replace function api.city_of(region_code text) returns text
           language sql immutable parallel safe as $$
             select case when left(region_code, 4) = '3712' then '3701'
                         else left(region_code, 4) end
           $$""",
        f"""create or replace function api.visible_cities() returns text[]
           language plpgsql stable parallel safe as $$
           declare
             setting text;
             found text[];
           begin
             -- Owners and province-wide readers see every city (null = no restriction).
             if pg_has_role(current_user, {r['pipeline']}, 'USAGE') then return null; end if;
             if pg_has_role(current_user, {r['console']}, 'USAGE') then
               setting := current_setting('{CITY_SETTING}', true);
               if coalesce(setting, '') = '' then return null; end if;
               return array[setting];
             end if;
             if pg_has_role(current_user, {r['reader']}, 'USAGE')
                or pg_has_role(current_user, {r['pii_reader']}, 'USAGE') then
               return null;
             end if;
             select coalesce(array_agg(code order by code), '{{}}') into found
             from (values {cities}) as c(code, role)
             where pg_has_role(current_user, role, 'USAGE');
             return found;
           end $$""",
        f"""create or replace function api.sees_personal_data() returns boolean
           language sql stable parallel safe as $$
             select pg_has_role(current_user, {r['pii_reader']}, 'USAGE')
                 or pg_has_role(current_user, {r['pipeline']}, 'USAGE')
           $$""",
        """create or replace function api.mask_id_number(value text) returns text
           language sql immutable parallel safe as $$
             select case when value is null or value = '' then value
                         when length(value) < 11 then repeat('*', length(value))
                         else left(value, 6) || repeat('*', length(value) - 10) || right(value, 4) end
           $$""",
        """create or replace function api.mask_name(value text) returns text
           language sql immutable parallel safe as $$
             select case when value is null or value = '' then value
                         else left(value, 1) || repeat('*', greatest(length(value) - 1, 1)) end
           $$""",
        """create or replace function api.mask_phone(value text) returns text
           language sql immutable parallel safe as $$
             select case when value is null or value = '' then value
                         when length(value) < 8 then repeat('*', length(value))
                         else left(value, 3) || repeat('*', length(value) - 7) || right(value, 4) end
           $$""",
        r"""create or replace function api.mask_text(value text) returns text
           language sql immutable parallel safe as $$
             select regexp_replace(
                      regexp_replace(value, '(\d{6})\d{8}(\d{3}[0-9Xx])', '\1********\2', 'g'),
                      '(\d{3})\d{4,}(\d{4})', '\1****\2', 'g')
           $$""",
        """create or replace function api.mask_jsonb(value jsonb) returns jsonb
           language sql immutable parallel safe as $$
             select case jsonb_typeof(value)
               when 'object' then (
                 select coalesce(jsonb_object_agg(k, case
                     when k in ('full_name', 'name_raw', 'person_name') and jsonb_typeof(v) = 'string'
                       then to_jsonb(api.mask_name(v #>> '{}'))
                     when k in ('birth_date', 'person_birth_date') and jsonb_typeof(v) = 'string'
                       then to_jsonb(left(v #>> '{}', 4))
                     else api.mask_jsonb(v) end), '{}'::jsonb)
                 from jsonb_each(value) as e(k, v))
               when 'array' then (
                 select coalesce(jsonb_agg(api.mask_jsonb(v) order by i), '[]'::jsonb)
                 from jsonb_array_elements(value) with ordinality as a(v, i))
               when 'string' then to_jsonb(api.mask_text(value #>> '{}'))
               else value end
           $$""",
    ]


def _tables(conn: Connection, schemas: Iterable[str], kinds: str = "rp") -> list[tuple[str, str, str]]:
    """(schema, name, relkind) of our tables (partitioned included) in the schemas."""
    return [tuple(r) for r in conn.execute(sa.text("""
        select n.nspname, c.relname, c.relkind from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(:s) and c.relkind = any(:k) and c.relname <> 'alembic_version'
        order by 1, 2"""), {"s": list(schemas), "k": list(kinds)}).all()]


def _columns(conn: Connection, schema: str, table: str) -> set[str]:
    return set(conn.execute(sa.text(
        "select column_name from information_schema.columns where table_schema = :s "
        "and table_name = :t"), {"s": schema, "t": table}).scalars())


SCOPE = "(select api.visible_cities())"
# Cast, or `= any((select …))` would read as a quantified subquery instead of an array.
IN_SCOPE = "(select api.visible_cities())::text[]"


def employer_in_scope(col: str) -> str:
    """True when the employer `col` names is in a city in scope."""
    return (f"exists (select 1 from core.employer e where e.employer_id = {col} "
            f"and api.city_of(e.region_code) = any({IN_SCOPE}))")


def person_in_scope(col: str) -> str:
    """True when the person `col` names has a city in scope (core.person_city)."""
    return (f"exists (select 1 from core.person_city pc where pc.person_id = {col} "
            f"and pc.city_code = any({IN_SCOPE}))")


def flag_in_scope(col: str) -> str:
    """True when the flag `col` names is visible: mart.anomaly_flag's own policy (same roles)
    tests its employer, and repeating the test here would plan it twice per review row."""
    return f"exists (select 1 from mart.anomaly_flag f where f.flag_id = {col})"


def city_predicate(schema: str, table: str, columns: set[str]) -> str | None:
    """SQL over a row of schema.table: true when the row belongs to a city in scope.

    The city of a row is its own city_code where it has one, else its employer's region;
    for person-level rows without an employer,
    the cities of the person (core.person_city: employers that declared them, household
    registration); for review rows, their flag's employer. Each test is an EXISTS correlated
    by a key: the planner keeps both a probe of the key's index per row and a hashed
    semi-join, and picks by the rows it expects (a console page reads a few rows by key, an
    api view scans them all). None: no city (the row is visible to province-wide scope only).
    """
    row = f"{_q(table)}."  # the policy's own row, named apart from the subqueries' columns
    if (schema, table) == ("core", "link_override"):
        # An override is the city's when the first mention it names belongs to the city.
        return (f"(entity = 'person' and exists (select 1 from core.person_xref x "
                f"where x.source = {row}source_a and x.source_key = {row}key_a "
                f"and {person_in_scope('x.person_id')})) "
                f"or (entity = 'employer' and exists (select 1 from core.employer_xref x "
                f"where x.source = {row}source_a and x.source_key = {row}key_a "
                f"and {employer_in_scope('x.employer_id')}))")
    if (schema, table) == ("core", "link_override_applied"):
        return (f"exists (select 1 from core.link_override o "
                f"where o.override_id = {row}override_id)")
    if (schema, table) == ("core", "employer") or (schema == "core" and table.startswith("employer_version")):
        return f"api.city_of(region_code) = any({IN_SCOPE})"
    if "city_code" in columns:  # the row names its city (report marts, the console's queue)
        return f"city_code = any({IN_SCOPE})"
    if "employer_id" in columns:
        return employer_in_scope(f"{row}employer_id")
    if table.startswith("employer_id_history"):
        return employer_in_scope(f"{row}current_id")
    if "person_id" in columns:
        return person_in_scope(f"{row}person_id")
    if table.startswith("person_id_history"):
        return person_in_scope(f"{row}current_id")
    if "flag_id" in columns:
        return flag_in_scope(f"{row}flag_id")
    return None


def sync_access(conn: Connection, prefix: str = "") -> None:
    """Owners, grants and row-level security for every object of the warehouse (idempotent).

    Run by the migration that introduced the roles and again after every later upgrade, so
    tables added by later revisions get the same treatment. Grants are per database; the
    roles themselves are cluster-wide (``create_roles``).
    """
    pipeline, console, reader, pii, owner = (role_name(k, prefix) for k in (*KINDS, API_OWNER))
    cities = [city_role(c, prefix) for c in city_codes()]
    api_users = [reader, pii, *cities]
    ex = conn.execute

    def run(sql: str) -> None:
        ex(sa.text(sql))

    for stmt in function_sql(prefix):
        run(stmt)
    # Objects are owned by the pipeline role, so whoever runs it (a member) writes freely and
    # is not subject to row-level security (owners are exempt unless it is forced).
    for schema in OWNED_SCHEMAS:
        run(f"create schema if not exists {_q(schema)}")
        if _owner_of_schema(conn, schema) != pipeline:
            run(f"alter schema {_q(schema)} owner to {_q(pipeline)}")
        run(f"revoke all on schema {_q(schema)} from public")
    # Sequences behind serial columns follow their table's owner.
    for schema, name, kind in _tables(conn, OWNED_SCHEMAS, "rpvm"):
        want = owner if (schema == "api" and kind in "vm") else pipeline
        if _owner_of(conn, schema, name) != want:
            word = {"v": "view", "m": "materialized view"}.get(kind, "table")
            run(f"alter {word} {_q(schema)}.{_q(name)} owner to {_q(want)}")
        if kind == "v" and schema != "api":
            # Internal views read as their caller, so the caller's row-level security holds.
            run(f"alter view {_q(schema)}.{_q(name)} set (security_invoker = true)")
    for fn in conn.execute(sa.text("""
            select p.oid::regprocedure::text, pg_get_userbyid(p.proowner) from pg_proc p
            join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = any(:s)"""), {"s": list(OWNED_SCHEMAS)}).all():
        if fn[1] != pipeline:
            run(f"alter function {fn[0]} owner to {_q(pipeline)}")

    run(f"grant usage on schema {', '.join(map(_q, CONSOLE_READS))} to {_q(console)}")
    run(f"grant usage on schema {', '.join(map(_q, API_OWNER_READS))} to {_q(owner)}")
    run(f"grant usage on schema api to {', '.join(map(_q, [*api_users, console, owner]))}")
    run(f"grant create on schema api to {_q(owner)}")
    for schema in CONSOLE_READS:
        run(f"grant select on all tables in schema {_q(schema)} to {_q(console)}")
    for schema in API_OWNER_READS:
        run(f"grant select on all tables in schema {_q(schema)} to {_q(owner)}")
    run(f"grant select on all tables in schema api to {', '.join(map(_q, [*api_users, console]))}")
    run(f"grant execute on all functions in schema api to {', '.join(map(_q, [*api_users, console, owner]))}")
    appends = [f"{s}.{n}" for s, n, _ in _tables(conn, ["review"])
               if f"{s}.{n}" not in CONSOLE_NO_APPEND] + list(CONSOLE_APPENDS)
    for table in appends:
        run(f"grant insert on {_qualified(table)} to {_q(console)}")
    present = {f"{s}.{n}" for s, n, _ in _tables(conn, ["review", "staging"])}
    for table in CONSOLE_UPDATES:
        if table in present:
            run(f"grant update on {_qualified(table)} to {_q(console)}")
    run(f"grant usage on schema staging to {_q(console)}")
    for table in CONSOLE_STAGING_READS:
        if table in present:
            run(f"grant select on {_qualified(table)} to {_q(console)}")
    for fn in CONSOLE_EXECUTES:
        if conn.execute(sa.text("select to_regprocedure(:f) is not null"), {"f": fn}).scalar():
            run(f"revoke all on function {fn} from public")
            run(f"grant execute on function {fn} to {_q(console)}")
    for seq in conn.execute(sa.text("""
            select pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name)
            from information_schema.columns
            where format('%s.%s', table_schema, table_name) = any(:t)
              and pg_get_serial_sequence(format('%I.%I', table_schema, table_name), column_name)
                  is not null"""), {"t": appends}).scalars():
        run(f"grant usage on sequence {seq} to {_q(console)}")

    # Row-level security: console and the api views' owner see rows of the cities in scope.
    for schema, name, _kind in _tables(conn, ("core", "mart", "review")):
        table = f"{_q(schema)}.{_q(name)}"
        pred = city_predicate(schema, name, _columns(conn, schema, name))
        visible = f"{SCOPE} is null" + (f" or {pred}" if pred else "")
        run(f"alter table {table} enable row level security")
        run(f"drop policy if exists quotalink_read on {table}")
        run(f"create policy quotalink_read on {table} for select to {_q(console)}, {_q(owner)} "
            f"using ({visible})")
        if f"{schema}.{name}" in appends:
            run(f"drop policy if exists quotalink_append on {table}")
            # A decision must concern a flag in the auditor's scope; log lines and link
            # overrides name mentions, not cities.
            check = visible if (schema, name) == ("review", "decision") else "true"
            run(f"create policy quotalink_append on {table} for insert to {_q(console)} "
                f"with check ({check})")
        if f"{schema}.{name}" in CONSOLE_UPDATES:
            run(f"drop policy if exists quotalink_update on {table}")
            run(f"create policy quotalink_update on {table} for update to {_q(console)} "
                f"using ({visible}) with check ({visible})")


def _qualified(table: str) -> str:
    schema, _, name = table.partition(".")
    return f"{_q(schema)}.{_q(name)}"


def _owner_of(conn: Connection, schema: str, name: str) -> str:
    return conn.execute(sa.text(
        "select pg_get_userbyid(c.relowner) from pg_class c join pg_namespace n "
        "on n.oid = c.relnamespace where n.nspname = :s and c.relname = :n"),
        {"s": schema, "n": name}).scalar()


def _owner_of_schema(conn: Connection, schema: str) -> str:
    return conn.execute(sa.text(
        "select pg_get_userbyid(nspowner) from pg_namespace where nspname = :s"), {"s": schema}).scalar()
