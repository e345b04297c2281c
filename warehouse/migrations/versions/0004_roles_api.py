"""Roles, the api schema with masked personal data, row-level security by city, hash chains.

Revision ID: 0004_roles_api
Revises: 0002

Structure (tables, triggers, views) is written out here; the roles are created here too.
Access (owners, grants, policies) and comments are applied after every upgrade that applied
a revision, by migrations/env.py through ``warehouse.access.after_upgrade``, so tables of
later revisions are covered too.
"""

import os

import sqlalchemy as sa
from alembic import op

revision = "0004_roles_api"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
CHAINS = (("review", "decision", "decision_id"), ("core", "link_override", "override_id"),
          ("review", "access_log", "access_id"))

CHAIN_FUNCTIONS = [
    """create or replace function ops.chain_content(r jsonb) returns text
       language sql immutable parallel safe as $$
         select jsonb_strip_nulls(r - 'prev_hash' - 'row_hash')::text
       $$""",
    """create or replace function ops.chain_hash(prev text, content text) returns text
       language sql immutable parallel safe as $$
         select encode(sha256(convert_to(prev || content, 'UTF8')), 'hex')
       $$""",
    # Security definer: an auditor limited to one city still extends the whole chain.
    # timezone is fixed so that timestamps render the same way when verify recomputes.
    f"""create or replace function ops.chain_append() returns trigger
       language plpgsql security definer set timezone = 'UTC' set search_path = pg_catalog, ops as $$
       declare
         name text := tg_table_schema || '.' || tg_table_name;
         prev text;
       begin
         insert into ops.chain_head (chain, length, head_hash) values (name, 0, '{GENESIS}')
           on conflict (chain) do nothing;
         -- The head row lock makes the chain linear: concurrent inserts queue here, and
         -- under repeatable read a concurrent one fails instead of forking the chain.
         select h.head_hash into prev from ops.chain_head h where h.chain = name for update;
         new.prev_hash := prev;
         new.row_hash := ops.chain_hash(prev, ops.chain_content(to_jsonb(new)));
         update ops.chain_head set length = length + 1, head_hash = new.row_hash, updated_at = now()
           where chain = name;
         return new;
       end $$""",
    """create or replace function ops.chain_refuse() returns trigger
       language plpgsql as $$
       begin
         raise exception '%.% is append-only: % refused', tg_table_schema, tg_table_name, tg_op
           using errcode = 'insufficient_privilege',
                 hint = 'record a new row instead (a later decision supersedes an earlier one)';
       end $$""",
]

MASK = "case when (select api.sees_personal_data()) then {col} else api.{fn}({col}) end"


def _m(col: str, fn: str) -> str:
    return MASK.format(col=col, fn=fn)


XREF_KEY = ("case when (select api.sees_personal_data()) or x.source_key !~ '^[0-9]{{15}}' "
            "then x.source_key else api.mask_id_number(x.source_key) end")

VIEWS = {
    "person": f"""
        select p.person_id, {_m('p.full_name', 'mask_name')} as full_name,
               {_m('p.id_number', 'mask_id_number')} as id_number,
               {_m('p.cert_number', 'mask_id_number')} as cert_number, p.gender,
               case when (select api.sees_personal_data()) then p.birth_date end as birth_date,
               p.disability_category, p.disability_level, p.cert_status, p.hukou_region_code,
               {_m('p.phone', 'mask_phone')} as phone,
               extract(year from p.birth_date)::int as birth_year, p.id_token, p.updated_at
        from core.person p""",
    "person_xref": f"""
        select x.source, {XREF_KEY.format()} as source_key, x.person_id, x.match_probability
        from core.person_xref x""",
    "employer": """
        select e.employer_id, e.name, e.uscc, e.org_code, e.region_code,
               api.city_of(e.region_code) as city_code, e.unit_type, e.updated_at
        from core.employer e""",
    "employer_xref": f"""
        select x.source, {XREF_KEY.format()} as source_key, x.employer_id, x.match_probability
        from core.employer_xref x""",
    "declared_employment": f"""
        select de.employee_record_id, de.declaration_id, de.declaration_year,
               d.status as declaration_status, ex.employer_id, api.city_of(e.region_code) as city_code,
               px.person_id, p.id_token,
               {_m('de.full_name', 'mask_name')} as full_name,
               {_m('de.id_number', 'mask_id_number')} as id_number,
               {_m('de.cert_number', 'mask_id_number')} as cert_number,
               de.disability_category, de.disability_level, de.contract_start, de.contract_end,
               de.monthly_wage, de.si_months, de.position, de.employment_type,
               {_m('de.phone', 'mask_phone')} as phone, de.updated_at
        from staging.declared_employment de
        -- The employer crosswalk is under row-level security: a city sees its employers' rows.
        join core.employer_xref ex on ex.source = 'quota' and ex.source_key = de.declaration_id
        join core.employer e on e.employer_id = ex.employer_id
        left join staging.declaration d on d.declaration_id = de.declaration_id
        left join core.person_xref px on px.source = 'quota' and px.source_key = de.employee_record_id
        left join core.person p on p.person_id = px.person_id""",
    "anomaly_flag": f"""
        select f.flag_id, f.rule, f.year, f.person_id, f.employer_id,
               api.city_of(e.region_code) as city_code, f.severity, f.score,
               {_m('f.evidence', 'mask_jsonb')} as evidence, f.rule_version, f.first_seen_at,
               f.last_seen_at, f.active, d.decision, d.reason as decision_reason, d.reviewer,
               {_m('d.note', 'mask_text')} as decision_note, d.decided_at
        from mart.anomaly_flag f
        join core.employer e on e.employer_id = f.employer_id
        -- The latest decision per flag, hash-joined: a per-row lateral lookup made the
        -- planner's estimate (and JIT) explode at 100k flags.
        left join (
            -- reason is the console's column; read through jsonb so this view does not need it.
            select distinct on (r.flag_id) r.flag_id, r.decision, to_jsonb(r) ->> 'reason' as reason,
                   r.reviewer, r.note, r.decided_at
            from review.decision r
            order by r.flag_id, r.decided_at desc, r.decision_id desc
        ) d on d.flag_id = f.flag_id""",
    "quota_compliance": """
        select q.employer_id, q.year, api.city_of(e.region_code) as city_code, q.total_staff,
               q.quota_ratio, q.required_count, q.declared_count, q.verified_count,
               q.levy_declared, q.levy_verified, q.levy_gap, q.computed_at
        from mart.quota_compliance q
        join core.employer e on e.employer_id = q.employer_id""",
}
LOOKUP = """
    with recursive chain(any_id, current_id, depth) as (
        select {entity}_id, {entity}_id, 0 from core.{entity}
        union all
        select h.retired_id, c.current_id, c.depth + 1
        from core.{entity}_id_history h join chain c on h.current_id = c.any_id
        where c.depth < 50
    )
    select any_id as {entity}_id, current_id from chain"""
VIEWS["person_id_lookup"] = LOOKUP.format(entity="person")
VIEWS["employer_id_lookup"] = LOOKUP.format(entity="employer")


def _prefix() -> str:
    prefix = op.get_context().config.attributes.get("role_prefix")
    return os.environ.get("QUOTALINK_ROLE_PREFIX", "") if prefix is None else prefix


def upgrade() -> None:
    from warehouse import roles

    bind = op.get_bind()

    def ex(sql: str) -> None:
        bind.execute(sa.text(sql))

    prefix = _prefix()
    roles.create_roles(bind, prefix)
    ex("create schema if not exists api")
    ex("alter table core.person add column if not exists id_token text")
    for schema, table, _pk in CHAINS[:2]:
        ex(f"alter table {schema}.{table} add column if not exists prev_hash text")
        ex(f"alter table {schema}.{table} add column if not exists row_hash text")
    ex("""create table if not exists review.access_log (
            access_id bigserial primary key,
            accessed_at timestamptz not null default now(),
            username text not null,
            client_addr text,
            action text not null,
            flag_id text,
            person_id text,
            employer_id text,
            detail jsonb,
            prev_hash text,
            row_hash text)""")
    ex("""create table ops.chain_head (
            chain text primary key, length bigint not null, head_hash text not null,
            updated_at timestamptz not null default now())""")
    ex("""create table ops.audit_checkpoint (
            checkpoint_id bigserial primary key, taken_at timestamptz not null default now(),
            run_id text, chain text not null, length bigint not null, head_hash text not null)""")
    ex("""create table core.person_city (
            person_id text not null, city_code text not null, primary key (person_id, city_code))""")
    ex("create index ix_person_city_city on core.person_city (city_code)")
    for stmt in CHAIN_FUNCTIONS:
        ex(stmt)
    # Rows written before the chain existed are chained in key order, once.
    for schema, table, pk in CHAINS:
        ex(f"""create temp table _chain_backfill on commit drop as
               select * from {schema}.{table} order by {pk}""")
        ex(f"truncate {schema}.{table}")
        ex(f"""create trigger zz_chain_append before insert on {schema}.{table}
               for each row execute function ops.chain_append()""")
        ex(f"insert into {schema}.{table} select * from _chain_backfill order by {pk}")
        ex("drop table _chain_backfill")
        ex(f"""create trigger chain_refuse before update or delete on {schema}.{table}
               for each statement execute function ops.chain_refuse()""")
    for stmt in roles.function_sql(prefix):
        ex(stmt)
    for name, body in VIEWS.items():
        ex(f"create or replace view api.{name} as {body}")


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("drop schema if exists api cascade"))
    for schema, table, _pk in CHAINS:
        bind.execute(sa.text(f"drop trigger if exists chain_refuse on {schema}.{table}"))
        bind.execute(sa.text(f"drop trigger if exists zz_chain_append on {schema}.{table}"))
    bind.execute(sa.text("drop table if exists review.access_log, ops.chain_head, "
                         "ops.audit_checkpoint, core.person_city"))
    for stmt in ("ops.chain_append()", "ops.chain_refuse()", "ops.chain_content(jsonb)",
                 "ops.chain_hash(text, text)"):
        bind.execute(sa.text(f"drop function if exists {stmt}"))
    for schema, table, _pk in CHAINS[:2]:
        bind.execute(sa.text(f"alter table {schema}.{table} drop column if exists prev_hash, "
                             "drop column if exists row_hash"))
    bind.execute(sa.text("alter table core.person drop column if exists id_token"))
    for schema in ("core", "mart", "review"):
        for (table,) in bind.execute(sa.text(
                "select tablename from pg_tables where schemaname = :s"), {"s": schema}).all():
            bind.execute(sa.text(f'drop policy if exists quotalink_read on {schema}."{table}"'))
            bind.execute(sa.text(f'drop policy if exists quotalink_append on {schema}."{table}"'))
            bind.execute(sa.text(f'alter table {schema}."{table}" disable row level security'))
