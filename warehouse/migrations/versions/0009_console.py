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
create index if not exists ix_anomaly_flag_employer on mart.anomaly_flag (employer_id);
create index if not exists ix_anomaly_flag_person on mart.anomaly_flag (person_id);
"""


def upgrade() -> None:
    bind = op.get_bind()
    for statement in DDL.split(";"):
        if statement.strip():
            bind.execute(sa.text(statement))


def downgrade() -> None:
    bind = op.get_bind()
    for name in ("ix_anomaly_flag_queue", "ix_anomaly_flag_employer", "ix_anomaly_flag_person"):
        bind.execute(sa.text(f"drop index if exists mart.{name}"))
    # Decisions are append-only: the columns stay (dropping them would rewrite the chain).
    bind.execute(sa.text("drop table if exists review.account, review.session, "
                         "review.signin_attempt, review.assignment"))
