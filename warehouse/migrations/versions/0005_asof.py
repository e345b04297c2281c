"""As of a date: versions of golden records and crosswalks, api history views and as-of functions.

Revision ID: 0005_asof
Revises: 0004_roles_api
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_asof"
down_revision = "0004_roles_api"
branch_labels = None
depends_on = None

PERSON_COLS = """person_id text not null, full_name text, id_number text, cert_number text,
    gender text, birth_date date, disability_category smallint, disability_level smallint,
    cert_status text, hukou_region_code text, phone text, updated_at timestamptz, id_token text"""
EMPLOYER_COLS = """employer_id text not null, name text, uscc text, org_code text,
    region_code text, unit_type text, updated_at timestamptz"""
XREF_COLS = "source text not null, source_key text not null, {entity}_id text not null, match_probability float8"
TABLES = {
    "person_version": (PERSON_COLS, ("person_id",)),
    "employer_version": (EMPLOYER_COLS, ("employer_id",)),
    "person_xref_version": (XREF_COLS.format(entity="person"), ("source", "source_key")),
    "employer_xref_version": (XREF_COLS.format(entity="employer"), ("source", "source_key")),
}
MASK = "case when (select api.sees_personal_data()) then {col} else api.{fn}({col}) end"
XREF_KEY = ("case when (select api.sees_personal_data()) or x.source_key !~ '^[0-9]{15}' "
            "then x.source_key else api.mask_id_number(x.source_key) end")


def _m(col: str, fn: str) -> str:
    return MASK.format(col=col, fn=fn)


HISTORY_VIEWS = {
    "person_history": f"""
        select p.person_id, {_m('p.full_name', 'mask_name')} as full_name,
               {_m('p.id_number', 'mask_id_number')} as id_number,
               {_m('p.cert_number', 'mask_id_number')} as cert_number, p.gender,
               case when (select api.sees_personal_data()) then p.birth_date end as birth_date,
               p.disability_category, p.disability_level, p.cert_status, p.hukou_region_code,
               {_m('p.phone', 'mask_phone')} as phone,
               extract(year from p.birth_date)::int as birth_year, p.id_token, p.updated_at,
               p.valid_from, p.valid_to
        from core.person_version p""",
    "employer_history": """
        select e.employer_id, e.name, e.uscc, e.org_code, e.region_code,
               api.city_of(e.region_code) as city_code, e.unit_type, e.updated_at,
               e.valid_from, e.valid_to
        from core.employer_version e""",
    "person_xref_history": f"""
        select x.source, {XREF_KEY} as source_key, x.person_id, x.match_probability,
               x.valid_from, x.valid_to
        from core.person_xref_version x""",
    "employer_xref_history": f"""
        select x.source, {XREF_KEY} as source_key, x.employer_id, x.match_probability,
               x.valid_from, x.valid_to
        from core.employer_xref_version x""",
}


def upgrade() -> None:
    bind = op.get_bind()

    def ex(sql: str) -> None:
        bind.execute(sa.text(sql))

    for name, (cols, key) in TABLES.items():
        keys = ", ".join(key)
        ex(f"""create table core.{name} ({cols}, valid_from timestamptz not null,
               valid_to timestamptz, primary key ({keys}, valid_from))""")
        ex(f"create index ix_{name.removesuffix('_version')}_version_open on core.{name} ({keys}, valid_to)")
    # What is published now is the first version of everything.
    for name in TABLES:
        base = name.removesuffix("_version")
        ex(f"insert into core.{name} select *, coalesce(now()) as valid_from, null from core.{base}")
    ex("alter table mart.anomaly_flag add column run_id text")
    ex("""create or replace function api.end_of_day(d date) returns timestamptz
          language sql immutable parallel safe as $$
            select ((d + 1)::timestamp at time zone 'Asia/Shanghai')
          $$""")
    for name, body in HISTORY_VIEWS.items():
        ex(f"create view api.{name} as {body}")
    for entity in ("person", "employer", "person_xref", "employer_xref"):
        ex(f"""create function api.{entity}_as_of(d date) returns setof api.{entity}_history
               language sql stable as $$
                 select * from api.{entity}_history h
                 where h.valid_from < api.end_of_day(d)
                   and (h.valid_to is null or h.valid_to >= api.end_of_day(d))
               $$""")
    # The finding's run, appended to the view downstream systems read.
    ex("""create or replace view api.anomaly_flag as
        select f.flag_id, f.rule, f.year, f.person_id, f.employer_id,
               api.city_of(e.region_code) as city_code, f.severity, f.score,
               case when (select api.sees_personal_data()) then f.evidence
                    else api.mask_jsonb(f.evidence) end as evidence,
               f.rule_version, f.first_seen_at, f.last_seen_at, f.active, d.decision,
               d.reason as decision_reason, d.reviewer,
               case when (select api.sees_personal_data()) then d.note
                    else api.mask_text(d.note) end as decision_note,
               d.decided_at, f.run_id
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
        ) d on d.flag_id = f.flag_id""")


def downgrade() -> None:
    bind = op.get_bind()
    for entity in ("person", "employer", "person_xref", "employer_xref"):
        bind.execute(sa.text(f"drop function if exists api.{entity}_as_of(date)"))
        bind.execute(sa.text(f"drop view if exists api.{entity}_history"))
    bind.execute(sa.text("drop function if exists api.end_of_day(date)"))
    for name in TABLES:
        bind.execute(sa.text(f"drop table if exists core.{name}"))
