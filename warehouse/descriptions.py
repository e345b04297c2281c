"""What every schema, table and column means, and which columns are personal data (registry data)."""

SCHEMA_COMMENTS = {
    "raw": "Source deliveries as delivered, one table per source table, with delivery lineage",
    "staging": "Typed, canonical latest state of every source, and the person and employer mentions",
    "core": "Golden records of persons and employers, crosswalks, ID history, overrides, versions",
    "mart": "Audit findings (anomaly flags) and quota compliance per employer and year",
    "review": "Auditors' decisions and the console's access log (append-only, hash-chained)",
    "ops": "Operations: delivery ledger, quarantine, watermarks, audit checkpoints",
    "ref": "Reference tables published from refdata/data (regions, minimum wages, code lists)",
    "api": "Stable, documented views for downstream systems; personal data masked by role",
}

# Personal data kinds and how the api schema masks them for quotalink_reader and city roles.
MASKING = {
    "id_number": "ID number: first 6 and last 4 characters kept (370102********1234)",
    "name": "name: first character kept, the rest starred (张*)",
    "phone": "phone: first 3 and last 4 digits kept (138****5678)",
    "birth_date": "birth date: null when masked (birth_year stays)",
    "evidence": "ID numbers and phones inside the JSON masked as above, names and birth dates too",
    "source_key": "keys that are ID or certificate numbers masked like an ID number",
}

_PERSON = {
    "person_id": "Golden person ID, stable across runs (a merge keeps the oldest; see person_id_lookup)",
    "full_name": ("Name as survivorship chose it (NFKC, simplified characters)", "name"),
    "id_number": ("Resident ID number, 18 characters with upper-case check character; null when unknown",
                  "id_number"),
    "cert_number": ("Disability certificate number (残疾人证号; its first 18 characters are the ID number)",
                    "id_number"),
    "gender": "Sex: M or F",
    "birth_date": ("Date of birth", "birth_date"),
    "disability_category": "Disability category 1–7 (视力, 听力, 言语, 肢体, 智力, 精神, 多重)",
    "disability_level": "Disability level 1–4 (1 most severe; 1–2 count double towards the quota)",
    "cert_status": "Status of the person's certificate in the disability register",
    "hukou_region_code": "6-digit region code of the household registration (户籍)",
    "phone": ("Contact phone number", "phone"),
    "updated_at": "When this golden record last changed content",
    "id_token": "HMAC-SHA256 (hex) of the ID number under the deployment key QUOTALINK_ID_TOKEN_KEY: "
                "joins persons across systems sharing the key without revealing the number",
}
_XREF = {
    "source": "Source system of the mention, as named in source-contracts.md",
    "source_key": ("Key of the mention in its source", "source_key"),
    "match_probability": "Splink match probability of the link; null where the link is exact",
}
_EMPLOYER = {
    "employer_id": "Golden employer ID, stable across runs (see employer_id_lookup)",
    "name": "Employer name as survivorship chose it",
    "uscc": "Unified social credit code (统一社会信用代码, 18 characters)",
    "org_code": "Organisation code (组织机构代码, 9 characters), older registrations",
    "region_code": "6-digit county region code of the employer; its first 4 digits are its city",
    "unit_type": "enterprise, organ, public_institution, social_organisation or individual_business",
    "updated_at": "When this golden record last changed content",
}
_VERSION = {
    "valid_from": "When the warehouse published this version",
    "valid_to": "When a later run replaced or removed it; null while current",
}

# Table comments and column descriptions: (description) or (description, personal data kind).
# Bits of core.<entity>_attr_source.attribute_mask (entity_resolution.survivorship.ATTRIBUTES).
_ATTRIBUTE_BITS = {
    "person": "1 full_name, 2 id_number, 4 cert_number, 8 gender, 16 birth_date, "
              "32 disability_category, 64 disability_level, 128 cert_status, "
              "256 hukou_region_code, 512 phone",
    "employer": "1 name, 2 uscc, 4 org_code, 8 region_code, 16 unit_type",
}
TABLES: dict[str, tuple[str, dict]] = {
    "core.person": ("Golden record of a person (warehouse contract)", _PERSON),
    "core.person_xref": ("Every person mention → its golden person; one row per loaded mention",
                         {**_XREF, "person_id": "Golden person ID the mention belongs to"}),
    "core.employer": ("Golden record of an employer (warehouse contract)", _EMPLOYER),
    "core.employer_xref": ("Every employer mention → its golden employer; one row per loaded mention",
                           {**_XREF, "employer_id": "Golden employer ID the mention belongs to"}),
    "core.person_id_history": ("Person IDs retired by a merge and the ID that replaced them", {
        "retired_id": "The retired golden person ID", "current_id": "The ID it was merged into",
        "retired_at": "When it was retired", "reason": "Why (merge)"}),
    "core.employer_id_history": ("Employer IDs retired by a merge and the ID that replaced them", {
        "retired_id": "The retired golden employer ID", "current_id": "The ID it was merged into",
        "retired_at": "When it was retired", "reason": "Why (merge)"}),
    "core.link_override": ("Auditors' must-link / cannot-link decisions between two mentions "
                           "(append-only, hash-chained)", {
        "override_id": "Sequence number", "entity": "person or employer",
        "source_a": "Source of the first mention", "key_a": ("Key of the first mention", "source_key"),
        "source_b": "Source of the second mention", "key_b": ("Key of the second mention", "source_key"),
        "decision": "must_link or cannot_link", "decided_by": "Who decided", "reason": "Why",
        "decided_at": "When",
        "prev_hash": "row_hash of the previous row of the chain (64 zeros for the first)",
        "row_hash": "SHA-256 of prev_hash and the row's canonical content (jsonb without the hashes, "
                    "nulls stripped), computed by the database on insert"}),
    **{f"core.{_e}_match_edge": (
        f"Why a golden {_e} is one: for each golden record a spanning set of mention pairs "
        "(linear in its mentions) with the kind of link and its evidence; replaced by every "
        "resolution run", {
            f"{_e}_id": f"Golden {_e} ID the pair belongs to",
            "source_l": "Source of the first mention",
            "key_l": ("Key of the first mention in its source", "source_key"),
            "source_r": "Source of the second mention",
            "key_r": ("Key of the second mention in its source", "source_key"),
            "link_kind": "exact_id (same valid ID), uscc (same credit code), org_code (same "
                         "organisation code), repair (deterministic key repair), relational or "
                         "context (evidence from other tables), splink (model), must_link "
                         "(auditor's override)",
            "reason": "Why, in Chinese, for people",
            "match_weight": "Splink match weight (log2 Bayes factor) of the pair; null for "
                            "exact links",
            "match_probability": "Splink match probability of the pair; null for exact links",
            "comparisons": "Splink pairs: [{name, label, weight}], the prior first (name "
                           "'prior'), then each comparison's level and match weight; the "
                           "weights sum to match_weight",
            "run_id": "Pipeline run that wrote it"}) for _e in ("person", "employer")},
    **{f"core.{_e}_attr_source": (
        f"Survivorship's choice for each golden {_e}: which mention supplied which attributes "
        "(entity_resolution/survivorship.csv); replaced with the golden records by every "
        "resolution run", {
            f"{_e}_id": f"Golden {_e} ID",
            "source": "Source of the mention that supplied the attributes",
            "source_key": ("Key of that mention in its source", "source_key"),
            "delivery": "Delivery the mention was staged from when resolution ran",
            "attribute_mask": f"Golden {_e} attributes whose value this mention supplied, "
                              "a bit per attribute in core." + _e + " column order: "
                              + _ATTRIBUTE_BITS[_e],
            "derived_mask": "Of those, the attributes computed from the mention's ID number "
                            "(gender, birth date) rather than delivered (same bits)",
        }) for _e in ("person", "employer")},
    "core.link_override_applied": ("Overrides (core.link_override) and the resolution run "
                                   "that first applied them; an override without a row here "
                                   "is pending", {
        "override_id": "core.link_override.override_id", "entity": "person or employer",
        "outcome": "applied, refused (conflicts with a cannot-link), superseded (a later "
                   "decision on the same pair) or unknown_mention (a mention no longer "
                   "delivered)",
        "run_id": "Pipeline run that applied it", "applied_at": "When"}),
    "core.person_city": ("Cities whose auditors may see a person: the cities of employers that "
                         "declared them and of their household registration (for row-level security)", {
        "person_id": "Golden person ID", "city_code": "4-digit Shandong city code"}),
    "mart.anomaly_flag": ("Findings of fake or ineligible quota employment; never deleted", {
        "flag_id": "Stable ID: the same finding on the same data keeps it in every run",
        "rule": "Rule code (docs/rules.md)", "year": "Declaration year",
        "person_id": "Golden person ID; null for employer-level rules",
        "employer_id": "Golden ID of the declaring employer",
        "severity": "high, medium or low", "score": "Strength of the finding, 0–1",
        "evidence": ("The facts and source mentions behind the finding (JSON)", "evidence"),
        "rule_version": "Version of the rule that produced it",
        "first_seen_at": "First run that found it", "last_seen_at": "Latest run that found it",
        "active": "False once later data no longer supports the finding",
        "run_id": "The pipeline run that last produced the finding (Dagster run ID)"}),
    "mart.quota_compliance": ("Quota compliance and levy, one row per employer and declaration year", {
        "employer_id": "Golden employer ID", "year": "Declaration year",
        "total_staff": "Staff declared", "quota_ratio": "Quota ratio in force (e.g. 0.015)",
        "required_count": "Disabled employees required (total_staff × quota_ratio)",
        "declared_count": "Disabled employees declared, weighted as declared (levels 1–2 count double)",
        "verified_count": "Declared count after removing employees with a high flag, weighted by the "
                          "register's level",
        "levy_declared": "Levy on the declared count (yuan)", "levy_verified": "Levy on the verified count (yuan)",
        "levy_gap": "levy_verified − levy_declared (yuan)", "computed_at": "When computed"}),
    "review.decision": ("Auditors' decisions on flags; append-only and hash-chained", {
        "decision_id": "Sequence number", "flag_id": "The flag decided on",
        "decision": "confirmed, dismissed or escalated", "reviewer": "Console user who decided",
        "note": "Free-text note", "decided_at": "When",
        "reason": "Reason code (review/reasons.csv), set by the console",
        "stage": "proposed: a confirmation of a high flag awaiting a second person's sign-off; "
                 "null otherwise",
        "prev_hash": "row_hash of the previous decision (64 zeros for the first)",
        "row_hash": "SHA-256 of prev_hash and the row's canonical content, computed on insert"}),
    "review.account": ("Console accounts (quotalink users add)", {
        "username": "Sign-in name (any Unicode)", "display_name": "Name shown in the console",
        "role": "viewer, auditor, supervisor or admin",
        "city_code": "4-digit city the account is limited to; null = the whole province",
        "password_hash": "Argon2id hash of the password", "active": "False once disabled",
        "created_at": "When created"}),
    "review.session": ("Console sessions (server side; the cookie holds the token, this its hash)", {
        "session_hash": "SHA-256 of the session token", "username": "Account signed in",
        "csrf_token": "The session's CSRF token", "client_addr": "Address at sign-in",
        "created_at": "Signed in at", "last_seen_at": "Last request (idle timeout)",
        "ended_at": "Signed out or expired at"}),
    "review.signin_attempt": ("Every console sign-in attempt (throttling and audit)", {
        "attempt_id": "Sequence number", "username": "Name tried", "client_addr": "Client address",
        "ok": "True when the password matched an active account", "attempted_at": "When"}),
    "review.flag_queue": ("The console's queue: every flag in queue order with its city (rebuilt by "
                          "review.refresh_flag_queue() when the flags change)", {
        "flag_id": "The flag", "city_code": "City of the flag's employer", "rule": "Rule code",
        "year": "Declaration year", "severity": "high, medium or low", "score": "Score 0–1",
        "active": "Flag still supported by the data", "person_id": "Golden person, if any",
        "employer_id": "Golden employer", "employer_name": "Employer name", "uscc": "Employer's USCC",
        "levy_gap": "Levy at stake (mart.quota_compliance.levy_gap, yuan)",
        "rank": "Position in queue order (severity, score, levy at stake, flag_id)",
        "status": "open, proposed, confirmed, dismissed or escalated (its latest decision)",
        "decision_id": "Its latest decision, if any"}),
    "review.flag_queue_count": ("Flags of the console's queue per group and status (its totals; "
                                "rebuilt with the queue, kept by every decision)", {
        "city_code": "City of the flags' employer", "rule": "Rule code", "year": "Declaration year",
        "severity": "high, medium or low", "active": "Flags still supported by the data",
        "status": "Their status", "flags": "How many"}),
    "review.queue_state": ("What the console's queue was built from (to know when to rebuild it)", {
        "queue": "Queue name", "flag_count": "Flags when built", "flags_seen_at": "Latest last_seen_at then",
        "refreshed_at": "When built"}),
    "review.assignment": ("Who works a flag: claims and assignments, append-only (latest wins)", {
        "assignment_id": "Sequence number", "flag_id": "The flag",
        "assignee": "Account assigned (null = released)", "assigned_by": "Account that assigned",
        "assigned_at": "When"}),
    "review.access_log": ("What console users viewed and exported; append-only and hash-chained", {
        "access_id": "Sequence number", "accessed_at": "When", "username": "Console user",
        "client_addr": "Client address", "action": "view_flag, view_person, export, …",
        "flag_id": "Flag concerned, if any", "person_id": "Person concerned, if any",
        "employer_id": "Employer concerned, if any", "detail": "Further facts (JSON)",
        "prev_hash": "row_hash of the previous row (64 zeros for the first)",
        "row_hash": "SHA-256 of prev_hash and the row's canonical content, computed on insert"}),
    "ops.chain_head": ("Head of each hash chain (review.decision, core.link_override, review.access_log)", {
        "chain": "schema.table of the chain", "length": "Rows in the chain",
        "head_hash": "row_hash of its last row", "updated_at": "When it last grew"}),
    "ops.audit_checkpoint": ("Chain heads written at the end of each run, to be published outside", {
        "checkpoint_id": "Sequence number", "taken_at": "When", "run_id": "Run that wrote it",
        "chain": "schema.table of the chain", "length": "Rows in the chain",
        "head_hash": "row_hash of the chain's last row"}),
    "core.person_version": ("Every published version of each golden person (as of a date)",
                            {**_PERSON, **_VERSION}),
    "core.employer_version": ("Every published version of each golden employer (as of a date)",
                              {**_EMPLOYER, **_VERSION}),
    "core.person_xref_version": ("Every published version of the person crosswalk (as of a date)",
                                 {**_XREF, "person_id": "Golden person ID the mention belonged to",
                                  **_VERSION}),
    "core.employer_xref_version": ("Every published version of the employer crosswalk (as of a date)",
                                   {**_XREF, "employer_id": "Golden employer ID the mention belonged to",
                                    **_VERSION}),
    "ops.load_audit": ("One row per delivery: rows_read = rows_loaded + rows_quarantined", {
        "load_id": "Sequence number", "source": "Source system", "delivery": "Delivery (file name, API or DB window)",
        "raw_table": "raw table it landed in", "content_sha256": "SHA-256 of the delivered bytes",
        "rows_read": "Rows read from the delivery", "rows_loaded": "Rows loaded into raw",
        "rows_quarantined": "Rows rejected to ops.quarantine", "status": "loaded, rejected, …",
        "quality": "Data-quality notes of the delivery (JSON)", "loaded_at": "When"}),
    "ops.quarantine": ("Each rejected row or delivery, with source, delivery, row, column and reason", {
        "quarantine_id": "Sequence number", "source": "Source system", "delivery": "Delivery",
        "row_ref": "Row within the delivery (line, sheet!row, item or key)", "column_name": "Column at fault",
        "reason": "Why it was rejected", "raw_content": ("The rejected content as delivered", "evidence"),
        "quarantined_at": "When"}),
    "ops.watermark": ("Pull watermarks of API and database sources", {
        "source": "Source system", "stream": "Stream within the source", "value": "Watermark value",
        "updated_at": "When it last moved"}),
    "ops.stage_audit": ("Rows staged per delivery and values that parsed in none of their formats", {
        "source": "Source system", "delivery": "Delivery", "raw_table": "raw table staged from",
        "rows_staged": "Rows written to staging", "rows_unparsed": "Values nulled per column (JSON)",
        "staged_at": "When",
        "rows_substituted": "Values replaced by a derived one per column (JSON), e.g. an ID taken from the certificate"}),
    "ops.stage_fingerprint": ("Input fingerprint of each pipeline step's last success (reruns skip unchanged steps)", {
        "asset": "Step (asset or check)", "fingerprint": "Hash of the step's inputs",
        "run_id": "Dagster run that computed it", "result": "What the step reported (replayed when skipped)",
        "computed_at": "When"}),
}

RAW_COLUMNS = {
    "delivery": "Delivery the row came in (file name, API window or DB window)",
    "row_ref": "Where in the delivery (CSV line, sheet!row, API item, DB key)",
    "extra": "Columns delivered beyond the contract (JSON)",
    "loaded_at": "When the row was landed",
}
RAW_COLUMN = "Column {name} as delivered (text, unparsed; source-contracts.md)"
CORE_VIEWS = {
    "core.person_id_lookup": {"person_id": "Any person ID, current or retired",
                              "current_id": "The current golden person ID"},
    "core.employer_id_lookup": {"employer_id": "Any employer ID, current or retired",
                                "current_id": "The current golden employer ID"},
}

STAGING_TABLES = {
    "person_mention": "Every person mention of every source, standardised, keyed (source, source_key)",
    "employer_mention": "Every employer mention of every source, standardised, keyed (source, source_key)",
    "certificate": "Disability certificates, latest state per certificate number",
    "declaration": "Quota declarations, latest version per declaration",
    "declared_employment": "Declared disabled employees, latest version per employee record",
    "contribution": "Social insurance contribution months (hr ac08)",
    "employment_registration": "Employment registrations (就业登记)",
    "training": "Vocational training records",
    "study": "Students with disabilities at universities",
    "civil_service": "Staff registers of organs (机关工作人员)",
    "institution": "Public institutions and their authorised posts (机构编制)",
    "survey": "Unemployed disabled persons survey interviews",
}

_DECISION = {
    "decision": "Latest decision on the flag: confirmed, dismissed or escalated; null while undecided",
    "decision_reason": "Reason code of the latest decision",
    "reviewer": "Console user who took the latest decision",
    "decision_note": ("Note of the latest decision (digit runs masked for masked readers)", "evidence"),
    "decided_at": "When the latest decision was taken",
}
_CITY = {"city_code": "4-digit Shandong city code of the employer (its region's first 4 digits)"}

# The api schema: view → (comment, columns). A column's spec is its description, or
# (description, personal data kind), or "table.column" to take that column's description.
API_VIEWS: dict[str, tuple[str, dict]] = {
    "person": ("Golden persons; personal data masked unless the caller is in quotalink_pii_reader", {
        **{c: f"core.person.{c}" for c in _PERSON if c not in ("updated_at", "id_token")},
        "birth_year": "Year of birth (never masked)",
        "id_token": "core.person.id_token", "updated_at": "core.person.updated_at"}),
    "person_xref": ("Every person mention → its golden person",
                    {c: f"core.person_xref.{c}" for c in ("source", "source_key", "person_id",
                                                          "match_probability")}),
    "employer": ("Golden employers", {
        **{c: f"core.employer.{c}" for c in ("employer_id", "name", "uscc", "org_code", "region_code")},
        **_CITY, "unit_type": "core.employer.unit_type", "updated_at": "core.employer.updated_at"}),
    "employer_xref": ("Every employer mention → its golden employer",
                      {c: f"core.employer_xref.{c}" for c in ("source", "source_key", "employer_id",
                                                              "match_probability")}),
    "declared_employment": ("Disabled employees as declared to the quota system (latest version), "
                            "with golden IDs", {
        "employee_record_id": "Employee record ID in the quota system",
        "declaration_id": "Declaration ID in the quota system",
        "declaration_year": "Declaration year", "declaration_status": "审核通过, 待审核 or 已驳回",
        "employer_id": "Golden ID of the declaring employer", **_CITY,
        "person_id": "Golden ID of the declared person",
        "id_token": "core.person.id_token",
        "full_name": ("Name as declared", "name"), "id_number": ("ID number as declared", "id_number"),
        "cert_number": ("Certificate number as declared", "id_number"),
        "disability_category": "Disability category as declared (1–7)",
        "disability_level": "Disability level as declared (1–4)",
        "contract_start": "Contract start", "contract_end": "Contract end (null: open-ended)",
        "monthly_wage": "Declared monthly wage (yuan)", "si_months": "Declared months of social insurance",
        "position": "Position", "employment_type": "全日制 or 非全日制",
        "phone": ("Phone as declared", "phone"),
        "updated_at": "When the quota system last changed the record"}),
    "anomaly_flag": ("Audit findings with their latest review decision", {
        **{c: f"mart.anomaly_flag.{c}" for c in ("flag_id", "rule", "year", "person_id", "employer_id")},
        **_CITY,
        **{c: f"mart.anomaly_flag.{c}" for c in ("severity", "score", "evidence", "rule_version",
                                                 "first_seen_at", "last_seen_at", "active")},
        **_DECISION}),
    "quota_compliance": ("Quota compliance and levy per employer and declaration year", {
        "employer_id": "mart.quota_compliance.employer_id", "year": "mart.quota_compliance.year", **_CITY,
        **{c: f"mart.quota_compliance.{c}" for c in (
            "total_staff", "quota_ratio", "required_count", "declared_count", "verified_count",
            "levy_declared", "levy_verified", "levy_gap", "computed_at")}}),
    "person_id_lookup": ("Every person_id ever published (current or retired by a merge) → the current one", {
        "person_id": "Any person ID, current or retired", "current_id": "The current golden person ID"}),
    "employer_id_lookup": ("Every employer_id ever published (current or retired by a merge) → the current one", {
        "employer_id": "Any employer ID, current or retired", "current_id": "The current golden employer ID"}),
}

API_FUNCTIONS = {
    "city_of(text)": "City code (4 digits) of a region code; the former 莱芜市 3712 maps to 济南市 3701",
    "visible_cities()": "Cities the calling role may see: null for the whole province, else an array",
    "sees_personal_data()": "True when the calling role sees personal data in clear (quotalink_pii_reader)",
    "mask_id_number(text)": "370102********1234: first 6 and last 4 characters kept",
    "mask_name(text)": "张*: first character kept",
    "mask_phone(text)": "138****5678: first 3 and last 4 digits kept",
    "mask_text(text)": "Masks ID numbers and mobile phone numbers inside free text",
    "mask_jsonb(jsonb)": "Masks ID numbers and phones in every string of a JSON value, names and birth dates by key",
}

_VERSION_COLS = {"valid_from": "core.person_version.valid_from", "valid_to": "core.person_version.valid_to"}
API_VIEWS["anomaly_flag"][1]["run_id"] = "mart.anomaly_flag.run_id"
API_VIEWS.update({
    "person_history": ("Every published version of each golden person, masked like api.person", {
        **API_VIEWS["person"][1], **_VERSION_COLS}),
    "employer_history": ("Every published version of each golden employer", {
        **API_VIEWS["employer"][1], **_VERSION_COLS}),
    "person_xref_history": ("Every published version of the person crosswalk", {
        **API_VIEWS["person_xref"][1], **_VERSION_COLS}),
    "employer_xref_history": ("Every published version of the employer crosswalk", {
        **API_VIEWS["employer_xref"][1], **_VERSION_COLS}),
})
API_AS_OF_FUNCTIONS = {
    "person_as_of(date)": "Golden persons as the warehouse published them at the end of that day "
                          "(China Standard Time): rows of api.person_history",
    "employer_as_of(date)": "Golden employers as published at the end of that day: rows of api.employer_history",
    "person_xref_as_of(date)": "The person crosswalk as published at the end of that day",
    "employer_xref_as_of(date)": "The employer crosswalk as published at the end of that day",
    "end_of_day(date)": "The instant a date ends in China Standard Time (what the as-of functions compare with)",
}

# Types of api columns that are not a table column's reference (PostgreSQL's names).
API_TYPES = {
    "birth_year": "integer", "city_code": "text", "employee_record_id": "text",
    "declaration_id": "text", "declaration_year": "integer", "declaration_status": "text",
    "employer_id": "text", "person_id": "text", "id_token": "text", "full_name": "text",
    "id_number": "text", "cert_number": "text", "disability_category": "smallint",
    "disability_level": "smallint", "contract_start": "date", "contract_end": "date",
    "monthly_wage": "numeric(12,2)", "si_months": "integer", "position": "text",
    "employment_type": "text", "phone": "text", "updated_at": "timestamp with time zone",
    "decision": "text", "decision_reason": "text", "reviewer": "text", "decision_note": "text",
    "decided_at": "timestamp with time zone", "current_id": "text",
}

# Staging columns by name (the same name means the same thing in every staging table);
# (description, personal data kind) where the column is personal data.
STAGING_COLUMNS: dict[str, str | tuple[str, str]] = {
    "delivery": "Delivery the row was staged from", "period": "Period of that delivery (YYYYMM or YYYY)",
    "raw_table": "raw table the row was staged from (lineage: raw.<raw_table> delivery, row_ref)",
    "row_ref": "Row of the delivery it was staged from (CSV line, sheet!row, API item, DB key)",
    "source": "Source system of the mention", "source_key": ("Key of the mention in its source", "source_key"),
    "full_name": ("Name, standardised (NFKC, simplified)", "name"), "name_raw": ("Name as delivered", "name"),
    "id_number": ("Resident ID number, standardised (18 characters) where valid", "id_number"),
    "id_number_raw": ("ID number as delivered", "id_number"),
    "id_quality": "How the ID number was obtained or repaired (valid, converted, derived, invalid…)",
    "cert_number": ("Disability certificate number", "id_number"), "gender": "Sex: M or F",
    "birth_date": ("Date of birth", "birth_date"),
    "birth_year_min": "Earliest possible birth year (from an age)", "birth_year_max": "Latest possible birth year",
    "phone": ("Phone number, standardised", "phone"), "address": ("Address", "name"),
    "hukou_region_code": "6-digit region code of the household registration",
    "hukou_text": "Household registration as written", "disability_category": "Disability category 1–7",
    "disability_level": "Disability level 1–4", "observed_on": "Date the source observed the mention",
    "name": "Employer name, standardised", "uscc": "Unified social credit code", "org_code": "Organisation code",
    "region_code": "6-digit region code", "unit_type": "Unit type (enterprise, organ, …)",
    "unit_name": "Declaring unit's name", "unit_region_code": "Declaring unit's region code",
    "issued_on": "Date issued", "valid_until": "Valid until", "status": "Status in the source",
    "cancelled_on": "Date cancelled", "cancel_reason": "Why cancelled", "changed_at": "Last change in the source",
    "declaration_id": "Quota declaration ID", "declaration_year": "Declaration year",
    "total_staff": "Staff declared", "avg_annual_wage": "Average annual wage declared (yuan)",
    "disabled_declared": "Disabled employees declared", "submitted_at": "When submitted",
    "updated_at": "Last update in the source", "employee_record_id": "Declared employee record ID",
    "contract_start": "Contract start", "contract_end": "Contract end", "monthly_wage": "Monthly wage (yuan)",
    "si_months": "Declared months of social insurance", "position": "Position",
    "employment_type": "全日制 or 非全日制", "contribution_id": "Contribution row ID (hr ac08)",
    "person_key": "hr person key (aac001)", "employer_key": "hr employer key (aab001)",
    "insurance": "Insurance type code", "base_yuan": "Contribution base (yuan)", "is_paid": "Payment arrived",
    "registration_id": "Employment registration ID", "form": "Form of employment (就业形式)",
    "employer_name": "Employer name as written", "start_date": "Start date", "end_date": "End date",
    "monthly_income": "Monthly income (yuan)", "office": "Registering office", "registered_on": "Date registered",
    "operation": "新增, 变更 or 注销", "is_withdrawn": "Withdrawn by a later 注销",
    "trainee_id": "Trainee record ID", "course": "Course", "kind": "Kind", "provider": "Training provider",
    "result": "Result", "certified": "Certificate obtained", "city": "City as written",
    "student_key": "School code and student number", "school_code": "School code", "school_name": "School name",
    "level": "Level of study", "major": "Major", "enrol_year": "Year enrolled",
    "expected_graduation": "Expected graduation date", "destination": "Destination after graduation",
    "updated_on": "Date of the source's update", "year": "Year of the delivery",
    "help_measures": "Help measures received", "staff_key": "Staff register key", "organ_name": "Organ name",
    "organ_uscc": "Organ's unified social credit code", "post": "Post", "joined_on": "Date joined",
    "has_certificate": "Holds a disability certificate", "staffing_type": "Staffing type (编制)",
    "supervisor": "Supervising organ", "authorised_posts": "Authorised posts", "actual_staff": "Actual staff",
    "disabled_staff": "Disabled staff", "is_school": "Is a school", "is_dpf_organ": "Is a DPF organ",
    "questionnaire_id": "Survey questionnaire ID", "survey_year": "Survey year",
    "reason": "Reason not employed", "wants_work": "Wants work", "training_wanted": "Training wanted",
    "interview_date": "Interview date", "interviewer": "Interviewer",
}
