"""The console's queue keeps each flag's status and counts per group, so a page needs no count over every flag.

Revision ID: 0013_latency
Revises: 0011_scale
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_latency"
down_revision = "0012_rawlink"
branch_labels = None
depends_on = None

DDL = """
alter table review.flag_queue add column status text not null default 'open';
alter table review.flag_queue add column decision_id bigint;
create table review.flag_queue_count (
    city_code text, rule text not null, year integer not null, severity text not null,
    active boolean not null, status text not null, flags bigint not null);
create index ix_flag_queue_person on review.flag_queue (person_id);
create index ix_flag_queue_employer on review.flag_queue (employer_id);
create unique index ix_flag_queue_count on review.flag_queue_count (city_code, rule, year, severity, active, status)
    nulls not distinct
"""

# The status as the console shows it: the latest decision (by decision_id) of the flag.
STATUS = "case when r.decision is null then 'open' when r.stage = 'proposed' then 'proposed' else r.decision end"

# Rebuilds the queue when the flags changed, with each flag's status and the counts per
# group; security definer: the console calls it and its role may not write the queue.
REFRESH = f"""
create or replace function review.refresh_flag_queue() returns boolean
language plpgsql security definer set search_path = pg_catalog as $$
declare
  n bigint;
  seen timestamptz;
begin
  select count(*), max(last_seen_at) into n, seen from mart.anomaly_flag;
  if exists (select 1 from review.queue_state s where s.queue = 'flags' and s.flag_count = n
             and s.flags_seen_at is not distinct from seen) then
    return false;
  end if;
  -- Exclusive against review.decision_to_queue(): no decision lands between the statuses
  -- read below and the new queue.
  perform pg_advisory_xact_lock(7313009);
  delete from review.flag_queue;
  insert into review.flag_queue (flag_id, city_code, rule, year, severity, score, active, person_id,
                                 employer_id, employer_name, uscc, levy_gap, rank, status, decision_id)
  select f.flag_id, api.city_of(e.region_code), f.rule, f.year, f.severity, f.score, f.active,
         f.person_id, f.employer_id, e.name, e.uscc, q.levy_gap,
         row_number() over (order by case f.severity when 'high' then 0 when 'medium' then 1 else 2 end,
                                     f.score desc, q.levy_gap desc nulls last, f.flag_id),
         {STATUS}, r.decision_id
  from mart.anomaly_flag f
  left join core.employer e on e.employer_id = f.employer_id
  left join mart.quota_compliance q on q.employer_id = f.employer_id and q.year = f.year
  left join (select distinct on (d.flag_id) d.flag_id, d.decision_id, d.decision, d.stage
             from review.decision d order by d.flag_id, d.decision_id desc) r on r.flag_id = f.flag_id;
  delete from review.flag_queue_count;
  insert into review.flag_queue_count
  select city_code, rule, year, severity, active, status, count(*) from review.flag_queue
  group by 1, 2, 3, 4, 5, 6;
  insert into review.queue_state (queue, flag_count, flags_seen_at) values ('flags', n, seen)
  on conflict (queue) do update set flag_count = excluded.flag_count,
    flags_seen_at = excluded.flags_seen_at, refreshed_at = now();
  analyze review.flag_queue;
  return true;
end $$"""

# A decision moves its flag (when queued) to its status, and the counts with it. Row by
# row after the insert; a decision older than the one the queue holds (two at once on one
# flag, committed out of order) changes nothing.
TRIGGER = """
create or replace function review.decision_to_queue() returns trigger
language plpgsql security definer set search_path = pg_catalog as $$
declare
  q record;
  st text := case when new.decision is null then 'open' when new.stage = 'proposed' then 'proposed'
                  else new.decision end;
begin
  perform pg_advisory_xact_lock_shared(7313009);
  select * into q from review.flag_queue where flag_id = new.flag_id for update;
  if not found or q.decision_id > new.decision_id then
    return null;
  end if;
  update review.flag_queue set status = st, decision_id = new.decision_id where flag_id = new.flag_id;
  if q.status <> st then
    update review.flag_queue_count c set flags = c.flags - 1
    where c.city_code is not distinct from q.city_code and c.rule = q.rule and c.year = q.year
      and c.severity = q.severity and c.active = q.active and c.status = q.status;
    -- One row per group even when two decisions open a new group at once.
    insert into review.flag_queue_count as c
    values (q.city_code, q.rule, q.year, q.severity, q.active, st, 1)
    on conflict (city_code, rule, year, severity, active, status) do update set flags = c.flags + 1;
  end if;
  return null;
end $$"""
CREATE_TRIGGER = """create trigger decision_to_queue after insert on review.decision
for each row execute function review.decision_to_queue()"""


def upgrade() -> None:
    bind = op.get_bind()
    for statement in DDL.split(";"):
        if statement.strip():
            bind.execute(sa.text(statement))
    bind.execute(sa.text(REFRESH))
    bind.execute(sa.text(TRIGGER))
    bind.execute(sa.text(CREATE_TRIGGER))
    # The next console request rebuilds the queue with the statuses.
    bind.execute(sa.text("delete from review.queue_state where queue = 'flags'"))


def downgrade() -> None:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("m0009", Path(__file__).with_name("0009_console.py"))
    m0009 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m0009)
    bind = op.get_bind()
    bind.execute(sa.text("drop trigger if exists decision_to_queue on review.decision"))
    bind.execute(sa.text("drop function if exists review.decision_to_queue()"))
    bind.execute(sa.text("drop table if exists review.flag_queue_count"))
    bind.execute(sa.text("alter table review.flag_queue drop column if exists status, "
                         "drop column if exists decision_id"))
    bind.execute(sa.text(m0009.REFRESH))
    bind.execute(sa.text("delete from review.queue_state where queue = 'flags'"))
