"""Lineage staging → raw, survivorship's sources, and the console's scoped raw-row function.

Revision ID: 0012_rawlink
Revises: 0011_scale
"""

from alembic import op

revision = "0012_rawlink"
down_revision = "0011_scale"
branch_labels = None
depends_on = None

STAGING = ("person_mention", "employer_mention", "certificate", "declaration",
           "declared_employment", "contribution", "employment_registration", "training", "study",
           "civil_service", "institution", "survey")

SOURCES = """
create table if not exists core.{entity}_attr_source (
    {entity}_id text not null, source text not null, source_key text not null, delivery text,
    attribute_mask integer not null, derived_mask integer,
    primary key ({entity}_id, source, source_key))"""

# The raw row behind a mention of a flag, for the console (which has no grant on raw):
# nothing unless the flag is in the city scope of the session (the console's city setting,
# as api.visible_cities() reads it) and the mention is one of the flag's person or
# employer. Masked unless p_clear, column by column as the case page masks the same values.
# Security definer: it runs as the owner of raw (the pipeline role, sync_access), which
# row-level security does not restrict, hence the explicit scope test.
RAW_ROW = r"""
create or replace function review.mention_raw_row(p_flag_id text, p_entity text, p_source text,
                                                  p_source_key text, p_clear boolean)
returns table (raw_table text, delivery text, row_ref text, loaded_at timestamptz, content jsonb)
language plpgsql stable security definer set search_path = pg_catalog, pg_temp as $$
declare
  city text := coalesce(current_setting('quotalink.city_code', true), '');
  f record;
  m record;
  rel regclass;
  pk text[];
  got jsonb;
begin
  select a.person_id, a.employer_id, a.evidence into f
  from mart.anomaly_flag a join core.employer e on e.employer_id = a.employer_id
  where a.flag_id = p_flag_id and (city = '' or api.city_of(e.region_code) = city);
  if not found then
    return;
  end if;
  if p_entity = 'person' then
    if not (exists (select 1 from core.person_xref x where x.source = p_source
                    and x.source_key = p_source_key and x.person_id = f.person_id)
            or exists (select 1 from jsonb_array_elements(
                         case jsonb_typeof(f.evidence -> 'mentions') when 'array'
                              then f.evidence -> 'mentions' else '[]'::jsonb end) as v(item)
                       where v.item ->> 'source' = p_source and v.item ->> 'source_key' = p_source_key
                         and coalesce(v.item ->> 'entity', 'person') = 'person')) then
      return;
    end if;
    select s.raw_table, s.delivery, s.row_ref into m from staging.person_mention s
    where s.source = p_source and s.source_key = p_source_key;
  elsif p_entity = 'employer' then
    if not exists (select 1 from core.employer_xref x where x.source = p_source
                   and x.source_key = p_source_key and x.employer_id = f.employer_id) then
      return;
    end if;
    select s.raw_table, s.delivery, s.row_ref into m from staging.employer_mention s
    where s.source = p_source and s.source_key = p_source_key;
  else
    return;
  end if;
  if m.raw_table is null or m.row_ref is null then
    return;  -- staged before lineage was kept (0012), or never staged
  end if;
  rel := to_regclass(format('raw.%I', m.raw_table));
  if rel is null then
    return;
  end if;
  select array_agg(a.attname::text order by k.ord) into pk
  from pg_index i cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
  join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
  where i.indrelid = rel and i.indisprimary;
  if pk[1] = 'delivery' then
    -- A file delivery: each row lands once, keyed (delivery, row_ref).
    execute format('select to_jsonb(r) from %s r where r.delivery = $1 and r.row_ref = $2', rel)
      into got using m.delivery, m.row_ref;
  else
    -- A pulled source (database, API): keyed by the record's key, which is its row_ref; the
    -- version of the staged delivery first, else the latest held.
    execute format('select to_jsonb(r) from %s r where r.%I = $1 order by (r.delivery = $2) desc, '
                   'r.loaded_at desc, to_jsonb(r) ->> ''updated_at'' desc nulls last limit 1',
                   rel, pk[1])
      into got using m.row_ref, m.delivery;
  end if;
  if got is null then
    return;
  end if;
  if not p_clear then
    select jsonb_object_agg(e.k, case
        when jsonb_typeof(e.v) is distinct from 'string' then
          case when e.k = 'extra' then api.mask_jsonb(e.v) else e.v end
        when e.k in ('delivery', 'loaded_at') then e.v
        when e.k in ('姓名', 'name', 'aac003') then to_jsonb(api.mask_name(e.v #>> '{}'))
        when e.k in ('出生日期', '出生年月', 'aac006') then to_jsonb(left(e.v #>> '{}', 4))
        when e.k in ('公民身份号码', '身份证号', '证件号码', 'id_number', 'aac002', '残疾人证号',
                     '残疾证号', 'cert_number') then to_jsonb(api.mask_id_number(e.v #>> '{}'))
        when e.k in ('联系电话', 'aae005') then to_jsonb(api.mask_phone(e.v #>> '{}'))
        when e.k in ('现居住地址', '户籍地址') then to_jsonb(api.mask_name(e.v #>> '{}'))
        when e.k = '民族' then to_jsonb('*'::text)  -- sensitive (GB/T 35273), shown nowhere else
        else to_jsonb(api.mask_text(e.v #>> '{}')) end)
      into got from jsonb_each(got) as e(k, v);
  end if;
  return query select m.raw_table, got ->> 'delivery', got ->> 'row_ref',
                      (got ->> 'loaded_at')::timestamptz, got;
end $$"""


def upgrade() -> None:
    for table in STAGING:
        # Nullable, no default: no table rewrite; rows staged before carry no lineage.
        op.execute(f"alter table staging.{table} add column if not exists raw_table text, "
                   "add column if not exists row_ref text")
    for entity in ("person", "employer"):
        op.execute(SOURCES.format(entity=entity))
    op.execute(RAW_ROW)
    # Execution is granted to the console role only (warehouse.roles.sync_access).
    op.execute("revoke all on function review.mention_raw_row(text, text, text, text, boolean) "
               "from public")


def downgrade() -> None:
    op.execute("drop function if exists review.mention_raw_row(text, text, text, text, boolean)")
    for entity in ("person", "employer"):
        op.execute(f"drop table if exists core.{entity}_attr_source")
    for table in STAGING:
        op.execute(f"alter table staging.{table} drop column if exists raw_table, "
                   "drop column if exists row_ref")
