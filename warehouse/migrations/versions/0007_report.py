"""The annual report: yearly staging keys, help measures of graduates, the report's mart tables.

Revision ID: 0007_report
Revises: 0005_asof
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_report"
down_revision = "0005_asof"
branch_labels = None
depends_on = None

# Yearly sources: (staging table, key column, raw table whose deliveries restage).
YEARLY = (("institution", "uscc", "establishment"), ("study", "student_key", "graduates"),
          ("civil_service", "staff_key", "org"))

SET_PK = """
do $$
declare pk text;
begin
  select conname into pk from pg_constraint
   where conrelid = 'staging.{table}'::regclass and contype = 'p';
  if pk is not null then
    execute format('alter table staging.{table} drop constraint %I', pk);
  end if;
end $$;
"""

MART = """
create table if not exists mart.city_progress (
    city_code text not null, year integer not null, city_name text not null,
    target_count integer, new_count integer not null,
    new_quota_count integer not null, new_concentrated_count integer not null,
    new_self_employed_count integer not null, new_flexible_count integer not null,
    new_public_welfare_count integer not null, new_auxiliary_count integer not null,
    new_other_count integer not null, progress_ratio numeric(8, 4),
    plan_target_count integer, plan_new_count integer not null,
    computed_at timestamptz not null,
    primary key (city_code, year));
create table if not exists mart.graduate_ledger (
    year integer not null, student_key text not null, person_id text, city_code text,
    school_code text, school_name text, study_level text, major text,
    expected_graduation date, graduates_in_year boolean not null, destination text,
    employed_found boolean not null, employed_source text, employed_since date,
    help_measures text, status text not null, computed_at timestamptz not null,
    primary key (year, student_key));
create table if not exists mart.priority_employer (
    year integer not null, employer_id text not null, name text, city_code text,
    unit_type text, total_staff integer, required_count numeric(12, 3),
    verified_count numeric(12, 3), quota_gap numeric(12, 3) not null,
    hiring_potential_count integer not null, levy_verified numeric(16, 2),
    is_large_staff boolean not null, is_large_gap boolean not null,
    is_large_potential boolean not null, is_priority boolean not null,
    rank integer not null, computed_at timestamptz not null,
    primary key (year, employer_id));
create table if not exists mart.public_sector (
    year integer not null, city_code text not null, kind text not null,
    city_name text not null, unit_count integer not null, staff_count integer not null,
    disabled_staff_count integer not null, units_employing_none integer not null,
    large_units_employing_none integer not null, schools_excluded integer not null,
    computed_at timestamptz not null,
    primary key (year, city_code, kind));
create table if not exists mart.public_unit_without_disabled (
    year integer not null, uscc text not null, name text, kind text not null, region_code text,
    city_code text not null, admin_level text not null, authorised_posts integer,
    staff_count integer, is_large boolean not null, computed_at timestamptz not null,
    primary key (year, uscc));
create table if not exists mart.dpf_organ (
    year integer not null, uscc text not null, name text, region_code text,
    city_code text, admin_level text not null, staff_count integer,
    disabled_staff_count integer, disabled_share numeric(8, 4),
    target_share numeric(8, 4) not null, meets_target boolean not null,
    computed_at timestamptz not null,
    primary key (year, uscc));
create table if not exists mart.unemployed_profile (
    year integer not null, city_code text not null, city_name text not null,
    category text not null, level text not null, training_need text not null,
    person_count integer not null, wants_work_count integer not null,
    computed_at timestamptz not null,
    primary key (year, city_code, category, level, training_need));
"""
MART_TABLES = ("city_progress", "graduate_ledger", "priority_employer", "public_sector",
               "public_unit_without_disabled", "dpf_organ", "unemployed_profile")


def upgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("alter table staging.study add column if not exists help_measures text"))
    for table, key, raw in YEARLY:
        # The year comes from the delivery's period (jgbz_2024.csv → 2024).
        bind.execute(sa.text(
            f"update staging.{table} set year = cast(left(period, 4) as integer) "
            "where year is null and period ~ '^[0-9]{4}'"))
        bind.execute(sa.text(f"delete from staging.{table} where year is null"))
        bind.execute(sa.text(f"alter table staging.{table} alter column year set not null"))
        bind.execute(sa.text(SET_PK.format(table=table)))
        bind.execute(sa.text(f"alter table staging.{table} add primary key ({key}, year)"))
        # Earlier years were overwritten under the old key: restage every delivery from raw.
        bind.execute(sa.text("delete from ops.stage_audit where raw_table = :t"), {"t": raw})
    for statement in MART.split(";"):
        if statement.strip():
            bind.execute(sa.text(statement))


def downgrade() -> None:
    bind = op.get_bind()
    for table in MART_TABLES:
        bind.execute(sa.text(f"drop table if exists mart.{table}"))
    for table, key, _raw in YEARLY:
        # Keep the latest year per key, as the single-key table held it.
        bind.execute(sa.text(
            f"delete from staging.{table} t using staging.{table} n "
            f"where n.{key} = t.{key} and n.year > t.year"))
        bind.execute(sa.text(SET_PK.format(table=table)))
        bind.execute(sa.text(f"alter table staging.{table} add primary key ({key})"))
        bind.execute(sa.text(f"alter table staging.{table} alter column year drop not null"))
    bind.execute(sa.text("alter table staging.study drop column if exists help_measures"))
