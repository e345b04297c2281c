"""SQLAlchemy metadata of every warehouse table (docs/data-model.md is its readable twin)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from quotalink.contracts import RAW_TABLES

SCHEMAS = ("raw", "staging", "core", "mart", "review", "ops", "ref")
metadata = MetaData()


def _ts(name: str, **kw) -> Column:
    return Column(name, DateTime(timezone=True), **kw)


# ---------------------------------------------------------------- raw: as delivered
RAW_META_COLUMNS = ("delivery", "row_ref", "extra", "loaded_at")
for spec in RAW_TABLES:
    cols = [Column("delivery", Text, nullable=False), Column("row_ref", Text, nullable=False)]
    cols += [Column(c, Text) for c in spec.extra_raw_columns]
    cols += [Column(c, Text) for c in spec.columns]
    cols += [Column("extra", JSONB), _ts("loaded_at", nullable=False, server_default=func.now())]
    if spec.fmt == "db":
        # The HR database is pulled by watermark windows: latest state per primary key.
        pk = PrimaryKeyConstraint(spec.key)
    elif spec.fmt == "api":
        # Every version of an API item is kept once (key + updated_at).
        pk = PrimaryKeyConstraint(spec.key, "updated_at")
    else:
        pk = PrimaryKeyConstraint("delivery", "row_ref")
    Table(spec.table, metadata, *cols, pk, schema="raw")

# ---------------------------------------------------------------- staging
def _staging(name: str, *cols: Column, pk: tuple[str, ...], supersede_by: str = "period") -> Table:
    """A staging table; ``supersede_by`` names the column by which a newer row wins per key
    (the delivery's period, unless the table says otherwise)."""
    meta = [Column("delivery", Text, nullable=False)]
    if supersede_by == "period":
        meta.append(Column("period", Text, nullable=False))
    # Lineage to the raw row the staged row came from: raw.<raw_table> (delivery, row_ref).
    meta += [Column("raw_table", Text), Column("row_ref", Text)]
    return Table(name, metadata, *cols, *meta, PrimaryKeyConstraint(*pk), schema="staging",
                 info={"supersede_by": supersede_by, "delivery_period": supersede_by == "period"})


person_mention = _staging(
    "person_mention",
    Column("source", Text, nullable=False),
    Column("source_key", Text, nullable=False),
    Column("full_name", Text),
    Column("name_raw", Text),
    Column("id_number", Text),
    Column("id_number_raw", Text),
    Column("id_quality", Text),
    Column("cert_number", Text),
    Column("gender", Text),
    Column("birth_date", Date),
    Column("birth_year_min", Integer),
    Column("birth_year_max", Integer),
    Column("phone", Text),
    Column("hukou_region_code", Text),
    Column("disability_category", SmallInteger),
    Column("disability_level", SmallInteger),
    Column("observed_on", Date),
    pk=("source", "source_key"),
)
Index("ix_person_mention_id", person_mention.c.id_number)

employer_mention = _staging(
    "employer_mention",
    Column("source", Text, nullable=False),
    Column("source_key", Text, nullable=False),
    Column("name", Text),
    Column("name_raw", Text),
    Column("uscc", Text),
    Column("org_code", Text),
    Column("region_code", Text),
    Column("unit_type", Text),
    Column("observed_on", Date),
    pk=("source", "source_key"),
)
Index("ix_employer_mention_uscc", employer_mention.c.uscc)

certificate = _staging(
    "certificate",
    Column("cert_number", Text, nullable=False),
    Column("id_number", Text),
    Column("full_name", Text),
    Column("gender", Text),
    Column("birth_date", Date),
    Column("disability_category", SmallInteger),
    Column("disability_level", SmallInteger),
    Column("issued_on", Date),
    Column("valid_until", Date),
    Column("status", Text),
    Column("cancelled_on", Date),
    Column("cancel_reason", Text),
    Column("hukou_region_code", Text),
    Column("address", Text),
    Column("phone", Text),
    _ts("changed_at"),
    pk=("cert_number",),
)

declaration = _staging(
    "declaration",
    Column("declaration_id", Text, nullable=False),
    Column("declaration_year", Integer),
    Column("unit_name", Text),
    Column("uscc", Text),
    Column("org_code", Text),
    Column("unit_region_code", Text),
    Column("unit_type", Text),
    Column("total_staff", Integer),
    Column("avg_annual_wage", Numeric(14, 2)),
    Column("disabled_declared", Integer),
    Column("status", Text),
    _ts("submitted_at"),
    _ts("updated_at"),
    pk=("declaration_id",),
)

declared_employment = _staging(
    "declared_employment",
    Column("employee_record_id", Text, nullable=False),
    Column("declaration_id", Text),
    Column("declaration_year", Integer),
    Column("full_name", Text),
    Column("id_number", Text),
    Column("cert_number", Text),
    Column("disability_category", SmallInteger),
    Column("disability_level", SmallInteger),
    Column("contract_start", Date),
    Column("contract_end", Date),
    Column("monthly_wage", Numeric(12, 2)),
    Column("si_months", Integer),
    Column("position", Text),
    Column("employment_type", Text),
    Column("phone", Text),
    _ts("updated_at"),
    pk=("employee_record_id",),
)
Index("ix_declared_employment_decl", declared_employment.c.declaration_id)

contribution = _staging(
    "contribution",
    Column("contribution_id", BigInteger, nullable=False),
    Column("person_key", Text),
    Column("employer_key", Text),
    Column("period", Integer),
    Column("insurance", Text),
    Column("base_yuan", Numeric(12, 2)),
    Column("is_paid", Boolean),
    _ts("changed_at"),
    pk=("contribution_id",),
    # HR rows supersede by changed_at; 'period' here is the contribution month (aae002).
    supersede_by="changed_at",
)
Index("ix_contribution_person", contribution.c.person_key, contribution.c.employer_key)

employment_registration = _staging(
    "employment_registration",
    Column("registration_id", Text, nullable=False),
    Column("form", Text),
    Column("employer_name", Text),
    Column("uscc", Text),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("monthly_income", Numeric(12, 2)),
    Column("hukou_text", Text),
    Column("office", Text),
    Column("registered_on", Date),
    Column("operation", Text),
    Column("is_withdrawn", Boolean),
    pk=("registration_id",),
)

training = _staging(
    "training",
    Column("trainee_id", Text, nullable=False),
    Column("course", Text),
    Column("kind", Text),
    Column("provider", Text),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("result", Text),
    Column("certified", Boolean),
    Column("city", Text),
    pk=("trainee_id",),
)

study = _staging(
    "study",
    Column("student_key", Text, nullable=False),
    Column("school_code", Text),
    Column("school_name", Text),
    Column("level", Text),
    Column("major", Text),
    Column("enrol_year", Integer),
    Column("expected_graduation", Date),
    Column("destination", Text),
    Column("employer_name", Text),
    Column("help_measures", Text),
    Column("updated_on", Date),
    # A yearly file states each student's situation at the end of its year: one row per year.
    Column("year", Integer, nullable=False),
    pk=("student_key", "year"),
)

civil_service = _staging(
    "civil_service",
    Column("staff_key", Text, nullable=False),
    Column("organ_name", Text),
    Column("organ_uscc", Text),
    Column("post", Text),
    Column("joined_on", Date),
    Column("has_certificate", Boolean),
    Column("cert_number", Text),
    Column("staffing_type", Text),
    Column("year", Integer, nullable=False),
    pk=("staff_key", "year"),
)

institution = _staging(
    "institution",
    Column("uscc", Text, nullable=False),
    Column("name", Text),
    Column("kind", Text),
    Column("supervisor", Text),
    Column("region_code", Text),
    Column("authorised_posts", Integer),
    Column("actual_staff", Integer),
    Column("disabled_staff", Integer),
    Column("is_school", Boolean),
    Column("is_dpf_organ", Boolean),
    Column("updated_on", Date),
    # One row per unit and register year: a later year's file must not overwrite the last.
    Column("year", Integer, nullable=False),
    pk=("uscc", "year"),
)

survey = _staging(
    "survey",
    Column("questionnaire_id", Text, nullable=False),
    Column("survey_year", Integer),
    Column("reason", Text),
    Column("wants_work", Text),
    Column("training_wanted", Text),
    Column("interview_date", Date),
    Column("interviewer", Text),
    pk=("questionnaire_id",),
)

# ---------------------------------------------------------------- core (contract)
person = Table(
    "person",
    metadata,
    Column("person_id", Text, primary_key=True),
    Column("full_name", Text),
    Column("id_number", Text),
    Column("cert_number", Text),
    Column("gender", Text),
    Column("birth_date", Date),
    Column("disability_category", SmallInteger),
    Column("disability_level", SmallInteger),
    Column("cert_status", Text),
    Column("hukou_region_code", Text),
    Column("phone", Text),
    _ts("updated_at"),
    Column("id_token", Text),
    schema="core",
)
person_xref = Table(
    "person_xref",
    metadata,
    Column("source", Text, nullable=False),
    Column("source_key", Text, nullable=False),
    Column("person_id", Text, nullable=False),
    Column("match_probability", Float),
    PrimaryKeyConstraint("source", "source_key"),
    Index("ix_person_xref_person", "person_id"),
    schema="core",
)
employer = Table(
    "employer",
    metadata,
    Column("employer_id", Text, primary_key=True),
    Column("name", Text),
    Column("uscc", Text),
    Column("org_code", Text),
    Column("region_code", Text),
    Column("unit_type", Text),
    _ts("updated_at"),
    schema="core",
)
employer_xref = Table(
    "employer_xref",
    metadata,
    Column("source", Text, nullable=False),
    Column("source_key", Text, nullable=False),
    Column("employer_id", Text, nullable=False),
    Column("match_probability", Float),
    PrimaryKeyConstraint("source", "source_key"),
    Index("ix_employer_xref_employer", "employer_id"),
    schema="core",
)
for _entity in ("person", "employer"):
    Table(
        f"{_entity}_id_history",
        metadata,
        Column("retired_id", Text, primary_key=True),
        Column("current_id", Text, nullable=False),
        _ts("retired_at", nullable=False, server_default=func.now()),
        Column("reason", Text, nullable=False),
        schema="core",
    )
link_override = Table(
    "link_override",
    metadata,
    Column("override_id", BigInteger, primary_key=True, autoincrement=True),
    Column("entity", Text, nullable=False),
    Column("source_a", Text, nullable=False),
    Column("key_a", Text, nullable=False),
    Column("source_b", Text, nullable=False),
    Column("key_b", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("decided_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    _ts("decided_at", nullable=False, server_default=func.now()),
    Column("prev_hash", Text),
    Column("row_hash", Text),
    schema="core",
)
# Why each golden record is one: a spanning set of mention pairs per cluster, written by
# entity resolution with the xref (entity_resolution/explain.py).
MATCH_EDGE_KINDS = ("exact_id", "uscc", "org_code", "repair", "relational", "context",
                    "splink", "must_link")
for _entity in ("person", "employer"):
    Table(
        f"{_entity}_match_edge",
        metadata,
        Column(f"{_entity}_id", Text, nullable=False),
        Column("source_l", Text, nullable=False),
        Column("key_l", Text, nullable=False),
        Column("source_r", Text, nullable=False),
        Column("key_r", Text, nullable=False),
        Column("link_kind", Text, nullable=False),
        Column("reason", Text, nullable=False),
        Column("match_weight", Float),
        Column("match_probability", Float),
        Column("comparisons", JSONB),
        Column("run_id", Text),
        PrimaryKeyConstraint(f"{_entity}_id", "source_l", "key_l", "source_r", "key_r"),
        schema="core",
    )
# Survivorship's choice: which mention supplied each golden attribute (rebuilt with the
# golden records; one row per golden record and mention that won at least one attribute).
for _entity in ("person", "employer"):
    Table(
        f"{_entity}_attr_source",
        metadata,
        Column(f"{_entity}_id", Text, nullable=False),
        Column("source", Text, nullable=False),
        Column("source_key", Text, nullable=False),
        Column("delivery", Text),
        Column("attribute_mask", Integer, nullable=False),
        Column("derived_mask", Integer),
        PrimaryKeyConstraint(f"{_entity}_id", "source", "source_key"),
        schema="core",
    )
# The resolution run that first applied each override (pending until then).
link_override_applied = Table(
    "link_override_applied",
    metadata,
    Column("override_id", BigInteger, primary_key=True),
    Column("entity", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("run_id", Text),
    _ts("applied_at", nullable=False, server_default=func.now()),
    schema="core",
)

# ---------------------------------------------------------------- mart (contract)
anomaly_flag = Table(
    "anomaly_flag",
    metadata,
    Column("flag_id", Text, primary_key=True),
    Column("rule", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("person_id", Text),
    Column("employer_id", Text),
    Column("severity", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("evidence", JSONB, nullable=False),
    Column("rule_version", Text),
    _ts("first_seen_at", nullable=False),
    _ts("last_seen_at", nullable=False),
    Column("active", Boolean, nullable=False),
    Index("ix_anomaly_flag_rule_year", "rule", "year"),
    Index("ix_anomaly_flag_employer", "employer_id"),
    Index("ix_anomaly_flag_person", "person_id"),
    Index("ix_anomaly_flag_last_seen", "last_seen_at"),
    schema="mart",
)
# The console's queue order (severity, score); written as PostgreSQL reflects it.
Index("ix_anomaly_flag_queue", anomaly_flag.c.active,
      text("(\nCASE severity\n    WHEN 'high'::text THEN 0\n    WHEN 'medium'::text THEN 1\n"
           "    ELSE 2\nEND)"),
      anomaly_flag.c.score.desc(), anomaly_flag.c.flag_id)
quota_compliance = Table(
    "quota_compliance",
    metadata,
    Column("employer_id", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("total_staff", Integer),
    Column("quota_ratio", Numeric(8, 6)),
    Column("required_count", Numeric(12, 3)),
    Column("declared_count", Numeric(12, 3)),
    Column("verified_count", Numeric(12, 3)),
    Column("levy_declared", Numeric(16, 2)),
    Column("levy_verified", Numeric(16, 2)),
    Column("levy_gap", Numeric(16, 2)),
    _ts("computed_at", server_default=func.now()),
    PrimaryKeyConstraint("employer_id", "year"),
    schema="mart",
)

# ---------------------------------------------------------------- mart: the annual report
# Built by warehouse.report.marts; definitions in docs/report.md. City code 0000 = 未知/省外.
EMPLOYMENT_FORMS = ("quota", "concentrated", "self_employed", "flexible", "public_welfare",
                    "auxiliary", "other")
city_progress = Table(
    "city_progress",
    metadata,
    Column("city_code", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("city_name", Text, nullable=False),
    Column("target_count", Integer),
    Column("new_count", Integer, nullable=False),
    *[Column(f"new_{form}_count", Integer, nullable=False) for form in EMPLOYMENT_FORMS],
    Column("progress_ratio", Numeric(8, 4)),
    Column("plan_target_count", Integer),
    Column("plan_new_count", Integer, nullable=False),
    _ts("computed_at", nullable=False),
    PrimaryKeyConstraint("city_code", "year"),
    schema="mart",
)
graduate_ledger = Table(
    "graduate_ledger",
    metadata,
    Column("year", Integer, nullable=False),
    Column("student_key", Text, nullable=False),
    Column("person_id", Text),
    Column("city_code", Text),
    Column("school_code", Text),
    Column("school_name", Text),
    Column("study_level", Text),
    Column("major", Text),
    Column("expected_graduation", Date),
    Column("graduates_in_year", Boolean, nullable=False),
    Column("destination", Text),
    Column("employed_found", Boolean, nullable=False),
    Column("employed_source", Text),
    Column("employed_since", Date),
    Column("help_measures", Text),
    Column("status", Text, nullable=False),
    _ts("computed_at", nullable=False),
    PrimaryKeyConstraint("year", "student_key"),
    schema="mart",
)
priority_employer = Table(
    "priority_employer",
    metadata,
    Column("year", Integer, nullable=False),
    Column("employer_id", Text, nullable=False),
    Column("name", Text),
    Column("city_code", Text),
    Column("unit_type", Text),
    Column("total_staff", Integer),
    Column("required_count", Numeric(12, 3)),
    Column("verified_count", Numeric(12, 3)),
    Column("quota_gap", Numeric(12, 3), nullable=False),
    Column("hiring_potential_count", Integer, nullable=False),
    Column("levy_verified", Numeric(16, 2)),
    Column("is_large_staff", Boolean, nullable=False),
    Column("is_large_gap", Boolean, nullable=False),
    Column("is_large_potential", Boolean, nullable=False),
    Column("is_priority", Boolean, nullable=False),
    Column("rank", Integer, nullable=False),
    _ts("computed_at", nullable=False),
    PrimaryKeyConstraint("year", "employer_id"),
    schema="mart",
)
public_sector = Table(
    "public_sector",
    metadata,
    Column("year", Integer, nullable=False),
    Column("city_code", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("city_name", Text, nullable=False),
    Column("unit_count", Integer, nullable=False),
    Column("staff_count", Integer, nullable=False),
    Column("disabled_staff_count", Integer, nullable=False),
    Column("units_employing_none", Integer, nullable=False),
    Column("large_units_employing_none", Integer, nullable=False),
    Column("schools_excluded", Integer, nullable=False),
    _ts("computed_at", nullable=False),
    PrimaryKeyConstraint("year", "city_code", "kind"),
    schema="mart",
)
public_unit_without_disabled = Table(
    "public_unit_without_disabled",
    metadata,
    Column("year", Integer, nullable=False),
    Column("uscc", Text, nullable=False),
    Column("name", Text),
    Column("kind", Text, nullable=False),
    Column("region_code", Text),
    Column("city_code", Text, nullable=False),
    Column("admin_level", Text, nullable=False),
    Column("authorised_posts", Integer),
    Column("staff_count", Integer),
    Column("is_large", Boolean, nullable=False),
    _ts("computed_at", nullable=False),
    PrimaryKeyConstraint("year", "uscc"),
    schema="mart",
)
dpf_organ = Table(
    "dpf_organ",
    metadata,
    Column("year", Integer, nullable=False),
    Column("uscc", Text, nullable=False),
    Column("name", Text),
    Column("region_code", Text),
    Column("city_code", Text),
    Column("admin_level", Text, nullable=False),
    Column("staff_count", Integer),
    Column("disabled_staff_count", Integer),
    Column("disabled_share", Numeric(8, 4)),
    Column("target_share", Numeric(8, 4), nullable=False),
    Column("meets_target", Boolean, nullable=False),
    _ts("computed_at", nullable=False),
    PrimaryKeyConstraint("year", "uscc"),
    schema="mart",
)
unemployed_profile = Table(
    "unemployed_profile",
    metadata,
    Column("year", Integer, nullable=False),
    Column("city_code", Text, nullable=False),
    Column("city_name", Text, nullable=False),
    # Code-list words (视力 … 多重, 一级 … 四级) or 未知: part of the key, so never null.
    Column("category", Text, nullable=False),
    Column("level", Text, nullable=False),
    Column("training_need", Text, nullable=False),
    Column("person_count", Integer, nullable=False),
    Column("wants_work_count", Integer, nullable=False),
    _ts("computed_at", nullable=False),
    PrimaryKeyConstraint("year", "city_code", "category", "level", "training_need"),
    schema="mart",
)

# ---------------------------------------------------------------- review (contract)
decision = Table(
    "decision",
    metadata,
    Column("decision_id", BigInteger, primary_key=True, autoincrement=True),
    Column("flag_id", Text, nullable=False),
    Column("decision", Text, nullable=False),
    Column("reviewer", Text, nullable=False),
    Column("note", Text),
    _ts("decided_at", nullable=False, server_default=func.now()),
    Column("prev_hash", Text),
    Column("row_hash", Text),
    Index("ix_decision_flag", "flag_id"),
    schema="review",
)
# The console's columns (0009): a reason code (review/reasons.csv) and the stage of a
# confirmation of a high flag ('proposed' until a second person signs it off).
decision.append_column(Column("reason", Text))
decision.append_column(Column("stage", Text))
account = Table(
    "account",
    metadata,
    Column("username", Text, primary_key=True),
    Column("display_name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("city_code", Text),
    Column("password_hash", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    _ts("created_at", nullable=False, server_default=func.now()),
    CheckConstraint("role in ('viewer', 'auditor', 'supervisor', 'admin')", name="ck_account_role"),
    schema="review",
)
session = Table(
    "session",
    metadata,
    Column("session_hash", Text, primary_key=True),
    Column("username", Text, nullable=False),
    Column("csrf_token", Text, nullable=False),
    Column("client_addr", Text),
    _ts("created_at", nullable=False, server_default=func.now()),
    _ts("last_seen_at", nullable=False, server_default=func.now()),
    _ts("ended_at"),
    Index("ix_session_username", "username"),
    schema="review",
)
signin_attempt = Table(
    "signin_attempt",
    metadata,
    Column("attempt_id", BigInteger, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False),
    Column("client_addr", Text),
    Column("ok", Boolean, nullable=False),
    _ts("attempted_at", nullable=False, server_default=func.now()),
    Index("ix_signin_attempt_user", "username", "attempted_at"),
    schema="review",
)
# The console's queue: flags in queue order with their city (review.refresh_flag_queue()
# rebuilds it when the flags change), so a page is an index range, not a sort of every flag.
flag_queue = Table(
    "flag_queue",
    metadata,
    Column("flag_id", Text, primary_key=True),
    Column("city_code", Text),
    Column("rule", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("severity", Text, nullable=False),
    Column("score", Float, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("person_id", Text),
    Column("employer_id", Text),
    Column("employer_name", Text),
    Column("uscc", Text),
    Column("levy_gap", Numeric(16, 2)),
    Column("rank", Integer, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("decision_id", BigInteger),
    schema="review",
)
Index("ix_flag_queue_rank", flag_queue.c.active.desc(), flag_queue.c.rank)
Index("ix_flag_queue_city", flag_queue.c.city_code, flag_queue.c.active.desc(), flag_queue.c.rank)
Index("ix_flag_queue_person", flag_queue.c.person_id)  # a case's other flags
Index("ix_flag_queue_employer", flag_queue.c.employer_id)
# Flags of the queue per group and status (the console's totals: a sum over a few thousand
# rows, not a count over every flag); rebuilt with the queue, kept by each decision.
flag_queue_count = Table(
    "flag_queue_count",
    metadata,
    Column("city_code", Text),
    Column("rule", Text, nullable=False),
    Column("year", Integer, nullable=False),
    Column("severity", Text, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("status", Text, nullable=False),
    Column("flags", BigInteger, nullable=False),
    Index("ix_flag_queue_count", "city_code", "rule", "year", "severity", "active", "status",
          unique=True, postgresql_nulls_not_distinct=True),
    schema="review",
)
queue_state = Table(
    "queue_state",
    metadata,
    Column("queue", Text, primary_key=True),
    Column("flag_count", BigInteger, nullable=False),
    _ts("flags_seen_at"),
    _ts("refreshed_at", nullable=False, server_default=func.now()),
    schema="review",
)
assignment = Table(
    "assignment",
    metadata,
    Column("assignment_id", BigInteger, primary_key=True, autoincrement=True),
    Column("flag_id", Text, nullable=False),
    Column("assignee", Text),
    Column("assigned_by", Text, nullable=False),
    _ts("assigned_at", nullable=False, server_default=func.now()),
    Index("ix_assignment_flag", "flag_id", "assignment_id"),
    schema="review",
)
access_log = Table(
    "access_log",
    metadata,
    Column("access_id", BigInteger, primary_key=True, autoincrement=True),
    _ts("accessed_at", nullable=False, server_default=func.now()),
    Column("username", Text, nullable=False),
    Column("client_addr", Text),
    Column("action", Text, nullable=False),
    Column("flag_id", Text),
    Column("person_id", Text),
    Column("employer_id", Text),
    Column("detail", JSONB),
    Column("prev_hash", Text),
    Column("row_hash", Text),
    schema="review",
)

# ---------------------------------------------------------------- ops (contract + own)
load_audit = Table(
    "load_audit",
    metadata,
    Column("load_id", BigInteger, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("delivery", Text, nullable=False),
    Column("raw_table", Text),
    Column("content_sha256", Text),
    Column("rows_read", Integer, nullable=False),
    Column("rows_loaded", Integer, nullable=False),
    Column("rows_quarantined", Integer, nullable=False),
    Column("status", Text, nullable=False, server_default="loaded"),
    Column("quality", JSONB),
    _ts("loaded_at", nullable=False, server_default=func.now()),
    Index("ix_load_audit_delivery", "source", "delivery"),
    schema="ops",
)
quarantine = Table(
    "quarantine",
    metadata,
    Column("quarantine_id", BigInteger, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("delivery", Text, nullable=False),
    Column("row_ref", Text),
    Column("column_name", Text),
    Column("reason", Text, nullable=False),
    Column("raw_content", Text),
    _ts("quarantined_at", nullable=False, server_default=func.now()),
    Index("ix_quarantine_delivery", "source", "delivery"),
    schema="ops",
)
watermark = Table(
    "watermark",
    metadata,
    Column("source", Text, nullable=False),
    Column("stream", Text, nullable=False),
    Column("value", Text, nullable=False),
    _ts("updated_at", nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("source", "stream"),
    schema="ops",
)
stage_audit = Table(
    "stage_audit",
    metadata,
    Column("source", Text, nullable=False),
    Column("delivery", Text, nullable=False),
    Column("raw_table", Text, nullable=False),
    Column("rows_staged", Integer, nullable=False),
    Column("rows_unparsed", JSONB),
    _ts("staged_at", nullable=False, server_default=func.now()),
    Column("rows_substituted", JSONB),
    PrimaryKeyConstraint("raw_table", "delivery"),
    schema="ops",
)
stage_fingerprint = Table(
    "stage_fingerprint",
    metadata,
    Column("asset", Text, primary_key=True),
    Column("fingerprint", Text, nullable=False),
    Column("run_id", Text),
    Column("result", JSONB),
    _ts("computed_at", nullable=False, server_default=func.now()),
    schema="ops",
)

# ---------------------------------------------------------------- ref (reference data)
# ref.<name> mirrors refdata/data/<name>.csv (text columns); written by warehouse.reference.

# ---------------------------------------------------------------- downstream access
# Row-level security: the cities whose auditors may see a person (warehouse.history).
person_city = Table(
    "person_city",
    metadata,
    Column("person_id", Text, nullable=False),
    Column("city_code", Text, nullable=False),
    PrimaryKeyConstraint("person_id", "city_code"),
    Index("ix_person_city_city", "city_code"),
    schema="core",
)
# Hash chains (review.decision, core.link_override, review.access_log): head per chain,
# and the heads each run publishes.
chain_head = Table(
    "chain_head",
    metadata,
    Column("chain", Text, primary_key=True),
    Column("length", BigInteger, nullable=False),
    Column("head_hash", Text, nullable=False),
    _ts("updated_at", nullable=False, server_default=func.now()),
    schema="ops",
)
audit_checkpoint = Table(
    "audit_checkpoint",
    metadata,
    Column("checkpoint_id", BigInteger, primary_key=True, autoincrement=True),
    _ts("taken_at", nullable=False, server_default=func.now()),
    Column("run_id", Text),
    Column("chain", Text, nullable=False),
    Column("length", BigInteger, nullable=False),
    Column("head_hash", Text, nullable=False),
    schema="ops",
)

# As of a date: every published version of the golden records and crosswalks
# (warehouse.history writes them when entity resolution publishes).
def _versions(base: Table, key: tuple[str, ...]) -> Table:
    cols = [Column(c.name, c.type, nullable=c.nullable) for c in base.c]
    return Table(
        f"{base.name}_version", metadata, *cols,
        _ts("valid_from", nullable=False), _ts("valid_to"),
        PrimaryKeyConstraint(*key, "valid_from"),
        Index(f"ix_{base.name}_version_open", *key, "valid_to"),
        schema=base.schema,
    )


person_version = _versions(person, ("person_id",))
employer_version = _versions(employer, ("employer_id",))
person_xref_version = _versions(person_xref, ("source", "source_key"))
employer_xref_version = _versions(employer_xref, ("source", "source_key"))
anomaly_flag.append_column(Column("run_id", Text))

# ---------------------------------------------------------------- descriptions
# Every schema, table and column comment comes from warehouse/descriptions.py; the
# migrations write them with COMMENT ON and docs/downstream.md is generated from them.
from warehouse import descriptions as _descriptions  # noqa: E402


def _describe() -> None:
    for table in metadata.tables.values():
        described = _descriptions.TABLES.get(table.fullname)
        if table.schema == "staging":
            table.comment = table.comment or _descriptions.STAGING_TABLES.get(table.name)
            for col in table.c:
                spec = _descriptions.STAGING_COLUMNS.get(col.name)
                if spec and not col.comment:
                    col.comment, pii = (spec, None) if isinstance(spec, str) else spec
                    if pii:
                        col.info["pii"] = pii
        if table.schema == "raw":
            table.comment = f"Deliveries of raw.{table.name} as delivered, with delivery and row_ref lineage"
            for col in table.c:
                col.comment = col.comment or _descriptions.RAW_COLUMNS.get(
                    col.name, _descriptions.RAW_COLUMN.format(name=col.name))
        if described is None:
            continue
        # A comment the table declares itself wins over the registry's.
        comment, columns = described
        table.comment = table.comment or comment
        for name, spec in columns.items():
            if name not in table.c:
                continue
            text, pii = (spec, None) if isinstance(spec, str) else spec
            table.c[name].comment = text
            if pii:
                table.c[name].info["pii"] = pii


_describe()
