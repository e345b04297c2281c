"""The review console: accounts, sessions, sign-in attempts, assignments, decision reasons.

Revision ID: 0009_console
Revises: 0008_match_edges (0007_report on main; chained after the match edges once merged)
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_console"
down_revision = "0008_match_edges"
branch_labels = None
depends_on = None

DDL = """
create table review.account (
    username text primary key, display_name text not null, role text not null,
    city_code text, password_hash text not null, active boolean not null default true,
    created_at timestamptz not null default now(),
    constraint ck_account_role check (role in ('viewer', 'auditor', 'supervisor', 'admin')));
create table review.session (
    session_hash text primary key, username text not null, csrf_token text not null,
    client_addr text, created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(), ended_at timestamptz);
create index ix_session_username on review.session (username);
create table review.signin_attempt (
    attempt_id bigserial primary key, username text not null, client_addr text,
    ok boolean not null, attempted_at timestamptz not null default now());
create index ix_signin_attempt_user on review.signin_attempt (username, attempted_at);
create table review.assignment (
    assignment_id bigserial primary key, flag_id text not null, assignee text,
    assigned_by text not null, assigned_at timestamptz not null default now());
create index ix_assignment_flag on review.assignment (flag_id, assignment_id);
alter table review.decision add column if not exists reason text;
alter table review.decision add column if not exists stage text;
create index if not exists ix_anomaly_flag_queue on mart.anomaly_flag
    (active, (case severity when 'high' then 0 when 'medium' then 1 else 2 end), score desc, flag_id);
create table review.flag_queue (
    flag_id text primary key, city_code text, rule text not null, year integer not null,
    severity text not null, score float8 not null, active boolean not null, person_id text,
    employer_id text, employer_name text, uscc text, levy_gap numeric(16, 2), rank integer not null);
create index ix_flag_queue_rank on review.flag_queue (active desc, rank);
create index ix_flag_queue_city on review.flag_queue (city_code, active desc, rank);
create table review.queue_state (
    queue text primary key, flag_count bigint not null, flags_seen_at timestamptz,
    refreshed_at timestamptz not null default now());
create index if not exists ix_anomaly_flag_last_seen on mart.anomaly_flag (last_seen_at);
create index if not exists ix_anomaly_flag_employer on mart.anomaly_flag (employer_id);
create index if not exists ix_anomaly_flag_person on mart.anomaly_flag (person_id);
"""


# Rebuilds the queue when the flags changed (a run, or rows written directly); security
# definer: the console calls it and its role may not write the queue itself.
REFRESH = """
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
  perform pg_advisory_xact_lock(7313009);
  delete from review.flag_queue;
  insert into review.flag_queue
  select f.flag_id, api.city_of(e.region_code), f.rule, f.year, f.severity, f.score, f.active,
         f.person_id, f.employer_id, e.name, e.uscc, q.levy_gap,
         row_number() over (order by case f.severity when 'high' then 0 when 'medium' then 1 else 2 end,
                                     f.score desc, q.levy_gap desc nulls last, f.flag_id)
  from mart.anomaly_flag f
  left join core.employer e on e.employer_id = f.employer_id
  left join mart.quota_compliance q on q.employer_id = f.employer_id and q.year = f.year;
  insert into review.queue_state (queue, flag_count, flags_seen_at) values ('flags', n, seen)
  on conflict (queue) do update set flag_count = excluded.flag_count,
    flags_seen_at = excluded.flags_seen_at, refreshed_at = now();
  analyze review.flag_queue;
  return true;
end $$"""


def upgrade() -> None:
    bind = op.get_bind()
    for statement in DDL.split(";"):
        if statement.strip():
            bind.execute(sa.text(statement))
    bind.execute(sa.text(REFRESH))


def downgrade() -> None:
    bind = op.get_bind()
    for name in ("ix_anomaly_flag_queue", "ix_anomaly_flag_employer", "ix_anomaly_flag_person"):
        bind.execute(sa.text(f"drop index if exists mart.{name}"))
    # Decisions are append-only: the columns stay (dropping them would rewrite the chain).
    bind.execute(sa.text("drop function if exists review.refresh_flag_queue()"))
    bind.execute(sa.text("drop index if exists mart.ix_anomaly_flag_last_seen"))
    bind.execute(sa.text("drop table if exists review.account, review.session, "
                         "review.signin_attempt, review.assignment, review.flag_queue, "
                         "review.queue_state"))
