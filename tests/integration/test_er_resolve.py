"""Entity resolution end to end on PostgreSQL: staging mentions → core golden records."""

import datetime as dt

import pandas as pd
import pytest
import sqlalchemy as sa

import entity_resolution
from quotalink.standardise import check_character
from warehouse.db import copy_frame


def _id(region: str, born: str, seq: str) -> str:
    core = f"{region}{born}{seq}"
    return core + check_character(core)


WANG = _id("370102", "19850312", "452")
WANG_TWIN = _id("370102", "19850312", "471")
LI_A = _id("370203", "19790101", "123")
LI_B = _id("370602", "19900505", "222")
ZHAO = _id("370303", "19701120", "315")


def _wrong_digit(idn: str) -> str:
    digit = "7" if idn[15] != "7" else "8"
    return idn[:15] + digit + idn[16:]


PERSONS = [
    # source, key, name, id_raw, cert, gender, birth, phone, hukou, category, level
    ("disability_registry", WANG + "42", "王秀英", WANG, WANG + "42", "F", "1985-03-12",
     "13805310001", "370102", 4, 2),
    ("quota", "E2024-0001", "王秀英", WANG.lower(), None, None, None, None, None, 4, 2),
    ("hr", "HR001", "王 秀英", WANG, None, "F", "1985-03-12", "13805310001", None, None, None),
    # a wrong digit (bad check) and no certificate: one typo from the ID held under the
    # same name, so the key repair links it exactly
    ("employment_service", "JY001", "王秀英", _wrong_digit(WANG), None, "F", None,
     "13805310001", "370102", 4, 2),
    # the twin: same surname, birth date and county, another ID
    ("disability_registry", WANG_TWIN + "41", "王秀华", WANG_TWIN, WANG_TWIN + "41", "F",
     "1985-03-12", "13805310002", "370102", 4, 1),
    # namesakes in two cities
    ("disability_registry", LI_A + "13", "李伟", LI_A, LI_A + "13", "M", "1979-01-01",
     "13905320001", "370203", 1, 3),
    ("disability_registry", LI_B + "23", "李伟", LI_B, LI_B + "23", "M", "1990-05-05",
     "13905350001", "370602", 2, 3),
    ("hr", "HR002", "李伟", LI_B, None, "M", "1990-05-05", None, None, None, None),
    # trainee with age only, same name and phone as Zhao
    ("disability_registry", ZHAO + "34", "赵建国", ZHAO, ZHAO + "34", "M", "1970-11-20",
     "13705330003", "370303", 3, 4),
    ("training", "PX001", "赵建国", None, None, "M", None, "13705330003", None, None, None),
]


def _person_frame(rows) -> pd.DataFrame:
    cols = ["source", "source_key", "full_name", "id_number_raw", "cert_number", "gender",
            "birth_date", "phone", "hukou_region_code", "disability_category",
            "disability_level"]
    df = pd.DataFrame(rows, columns=cols)
    from quotalink.standardise import normalise_id

    parsed = [normalise_id(v) for v in df["id_number_raw"]]
    df["id_number"] = [p.value for p in parsed]
    df["id_quality"] = [p.quality for p in parsed]
    df["name_raw"] = df["full_name"]
    df["birth_year_min"] = [1969 if k == "PX001" else None for k in df["source_key"]]
    df["birth_year_max"] = [1970 if k == "PX001" else None for k in df["source_key"]]
    for col in ("disability_category", "disability_level", "birth_year_min", "birth_year_max"):
        df[col] = df[col].astype("Int64")
    df["observed_on"] = "2026-10-31"
    df["delivery"] = "test"
    df["period"] = "202610"
    return df


U_HEAD = "91370102MA3C5AB01X"
U_BRANCH = "91370202MA3D7CD02Y"
U_QD = "91370203MA3E8EF03Q"


EMPLOYERS = [
    # source, key, name, uscc, org_code, region, unit_type
    ("quota", "D2024-1", "济南明泰机械有限公司", U_HEAD, None, "370102", "enterprise"),
    ("quota", "D2025-1", "山东明泰智能装备有限公司", U_HEAD.lower(), None, "370102",
     "enterprise"),  # renamed, same credit code
    ("hr", "AB001", "济南明泰机械有限公司", U_HEAD[8:17], None, "370102", "enterprise"),
    ("quota", "D2024-2", "济南明泰机械有限公司青岛分公司", U_BRANCH, None, "370202",
     "enterprise"),
    ("quota", "D2024-3", "青岛明泰机械有限公司", U_QD, None, "370203", "enterprise"),
    ("employment_service", "JY100", "明泰机械（济南）有限公司", None, None, None, None),
]


def _employer_frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=["source", "source_key", "name", "uscc", "org_code",
                                     "region_code", "unit_type"])
    df["name_raw"] = df["name"]
    df["observed_on"] = "2026-10-31"
    df["delivery"] = "test"
    df["period"] = "202610"
    return df


def _load(engine, persons=PERSONS, employers=EMPLOYERS, certificates=True):
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE staging.person_mention, staging.employer_mention, "
                             "staging.certificate"))
        copy_frame(conn, "staging.person_mention", _person_frame(persons))
        copy_frame(conn, "staging.employer_mention", _employer_frame(employers))
        if certificates:
            certs = pd.DataFrame({"cert_number": [r[1] for r in persons
                                                  if r[0] == "disability_registry"]})
            certs["status"] = "valid"
            certs["delivery"] = "test"
            certs["period"] = "202610"
            copy_frame(conn, "staging.certificate", certs)


def _xref(engine, kind="person") -> dict[tuple[str, str], tuple[str, float | None]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            f"SELECT source, source_key, {kind}_id, match_probability FROM core.{kind}_xref"))
        return {(r[0], r[1]): (r[2], r[3]) for r in rows}


@pytest.fixture
def er_warehouse(warehouse, tmp_path):
    _load(warehouse)
    return warehouse


def test_persons_resolved_with_exact_and_model_links(er_warehouse, tmp_path):
    metrics = entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    xref = _xref(er_warehouse)
    assert len(xref) == len(PERSONS)  # every mention exactly one xref row
    wang = xref[("disability_registry", WANG + "42")][0]
    assert xref[("quota", "E2024-0001")][0] == wang
    assert xref[("hr", "HR001")][0] == wang
    assert xref[("employment_service", "JY001")][0] == wang
    # exact links (and repaired keys) carry no probability, model links do
    assert xref[("quota", "E2024-0001")][1] is None
    assert xref[("employment_service", "JY001")][1] is None
    assert metrics["repaired_key_mentions"] == 1
    assert 0.5 < xref[("training", "PX001")][1] <= 1.0
    # the twin and the namesakes stay apart
    assert xref[("disability_registry", WANG_TWIN + "41")][0] != wang
    assert xref[("disability_registry", LI_A + "13")][0] != xref[
        ("disability_registry", LI_B + "23")][0]
    assert xref[("hr", "HR002")][0] == xref[("disability_registry", LI_B + "23")][0]
    assert xref[("training", "PX001")][0] == xref[("disability_registry", ZHAO + "34")][0]
    assert metrics["persons"] == 5
    assert metrics["mentions"] == len(PERSONS)
    assert (tmp_path / "er" / "person_edges.parquet").exists()
    chart = (tmp_path / "er" / "person_match_weights.html").read_text(encoding="utf-8")
    assert "<script src=\"http" not in chart  # self-contained: opens offline
    assert (tmp_path / "er" / "person_waterfall.html").exists()

    with er_warehouse.connect() as conn:
        golden = conn.execute(sa.text(
            "SELECT full_name, id_number, cert_number, gender, birth_date, disability_level, "
            "cert_status, hukou_region_code, phone FROM core.person WHERE person_id = :p"),
            {"p": wang}).one()
    assert golden == ("王秀英", WANG, WANG + "42", "F", dt.date(1985, 3, 12), 2, "valid",
                      "370102", "13805310001")


def test_rerun_on_unchanged_input_keeps_every_id_and_timestamp(er_warehouse, tmp_path):
    entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    first = _xref(er_warehouse)
    with er_warehouse.connect() as conn:
        stamps = dict(conn.execute(sa.text("SELECT person_id, updated_at FROM core.person")).all())
    metrics = entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    assert _xref(er_warehouse) == first
    assert metrics["id_stability"] == 1.0
    assert metrics["ids_minted"] == 0
    with er_warehouse.connect() as conn:
        again = dict(conn.execute(sa.text("SELECT person_id, updated_at FROM core.person")).all())
    assert again == stamps


def test_failure_after_the_xref_is_copied_publishes_nothing(er_warehouse, tmp_path,
                                                              monkeypatch):
    """The xref is copied in the background while survivorship runs: a failure after that
    rolls the whole publishing transaction back (nothing half-written, no lock left)."""
    from entity_resolution import pipeline

    entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    first = _xref(er_warehouse)

    def broken(*_a, **_k):
        raise RuntimeError("survivorship failed")

    monkeypatch.setattr(pipeline, "PERSON", pipeline.EntityKind(
        **{**pipeline.PERSON.__dict__, "survive": broken}))
    with pytest.raises(RuntimeError, match="survivorship failed"):
        entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    assert _xref(er_warehouse) == first
    monkeypatch.undo()
    entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)  # the lock is free
    assert _xref(er_warehouse) == first


def _override(engine, a, b, decision):
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO core.link_override (entity, source_a, key_a, source_b, key_b, decision, "
            "decided_by, reason) VALUES ('person', :sa, :ka, :sb, :kb, :d, 'auditor-7', 'test')"),
            {"sa": a[0], "ka": a[1], "sb": b[0], "kb": b[1], "d": decision})


def test_cannot_link_splits_an_exact_match_and_split_keeps_id_on_larger_part(er_warehouse,
                                                                             tmp_path):
    entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    before = _xref(er_warehouse)
    wang = before[("disability_registry", WANG + "42")][0]
    # the auditor says the HR record is somebody else, despite the same ID
    _override(er_warehouse, ("disability_registry", WANG + "42"), ("hr", "HR001"), "cannot_link")
    metrics = entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    after = _xref(er_warehouse)
    assert after[("disability_registry", WANG + "42")][0] == wang  # the larger part keeps it
    assert after[("hr", "HR001")][0] != wang
    assert metrics["ids_minted"] == 1
    assert metrics["refused_cannot_link"] >= 1


def test_must_link_merges_and_retired_id_resolves(er_warehouse, tmp_path):
    entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    before = _xref(er_warehouse)
    li_a = before[("disability_registry", LI_A + "13")][0]
    li_b = before[("disability_registry", LI_B + "23")][0]
    _override(er_warehouse, ("disability_registry", LI_A + "13"),
              ("disability_registry", LI_B + "23"), "must_link")
    metrics = entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    after = _xref(er_warehouse)
    kept, retired = sorted([li_a, li_b])
    assert after[("disability_registry", LI_A + "13")][0] == kept
    assert after[("disability_registry", LI_B + "23")][0] == kept
    assert metrics["ids_retired"] == 1
    with er_warehouse.connect() as conn:
        row = conn.execute(sa.text("SELECT current_id, reason FROM core.person_id_history "
                                   "WHERE retired_id = :r"), {"r": retired}).one()
    assert row == (kept, "merge")


def test_employers_renamed_joined_branch_and_other_city_apart(er_warehouse, tmp_path):
    metrics = entity_resolution.resolve_employers(er_warehouse, var_dir=tmp_path)
    xref = _xref(er_warehouse, "employer")
    assert len(xref) == len(EMPLOYERS)
    head = xref[("quota", "D2024-1")][0]
    assert xref[("quota", "D2025-1")][0] == head  # renamed, same credit code
    assert xref[("hr", "AB001")][0] == head  # old organisation code
    assert xref[("quota", "D2024-2")][0] != head  # branch
    assert xref[("quota", "D2024-3")][0] != head  # same trade name in Qingdao
    assert xref[("employment_service", "JY100")][0] == head  # name only, city in brackets
    assert metrics["employers"] == 3
    with er_warehouse.connect() as conn:
        name, uscc, org = conn.execute(sa.text(
            "SELECT name, uscc, org_code FROM core.employer WHERE employer_id = :e"),
            {"e": head}).one()
    assert uscc == U_HEAD
    assert org == U_HEAD[8:17]
    assert name in {"济南明泰机械有限公司", "山东明泰智能装备有限公司"}


def test_evaluate_against_truth_files(er_warehouse, tmp_path):
    entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    entity_resolution.resolve_employers(er_warehouse, var_dir=tmp_path)
    truth = tmp_path / "truth"
    truth.mkdir()
    owners = ["p1", "p1", "p1", "p1", "p2", "p3", "p4", "p4", "p5", "p5"]
    rows = [(r[0], r[1], owner) for r, owner in zip(PERSONS, owners, strict=True)]
    pd.DataFrame(rows, columns=["source", "key", "person"]).to_csv(truth / "person_mentions.csv",
                                                                   index=False)
    employers = ["e1", "e1", "e1", "e2", "e3", "e1"]
    pd.DataFrame([(r[0], r[1], e) for r, e in zip(EMPLOYERS, employers, strict=True)],
                 columns=["source", "key", "employer"]).to_csv(
        truth / "employer_mentions.csv", index=False)
    report = entity_resolution.evaluate(er_warehouse, truth, var_dir=tmp_path)
    assert report["person"]["precision"] == 1.0
    assert report["person"]["recall"] == 1.0
    assert report["person"]["true_clusters"] == 5
    assert report["employer"]["f1"] == 1.0
    assert report["person"]["errors"]["false_merges"] == []
    flat = entity_resolution.evaluation_summary(report)
    assert flat["person_f1"] == 1.0
    assert flat["employer_true_clusters"] == 3
    assert all(isinstance(v, int | float) for v in flat.values())


# What a resolution publishes, and its clock columns (new clocks compare as "new").
_PUBLISHED = ("core.person", "core.person_xref", "core.person_version", "core.person_xref_version",
              "core.person_match_edge", "core.person_attr_source", "core.person_id_history",
              "core.person_city", "core.employer", "core.employer_xref", "core.employer_version",
              "core.employer_xref_version", "core.employer_match_edge",
              "core.employer_attr_source", "core.employer_id_history")
_CLOCKS = ("updated_at", "valid_from", "valid_to", "retired_at")


def _published(engine, old_clocks: set[str]) -> dict[str, list[tuple]]:
    out = {}
    with engine.connect() as conn:
        for table in _PUBLISHED:
            result = conn.execute(sa.text(f"SELECT * FROM {table}"))
            cols = list(result.keys())
            rows = []
            for row in result:
                rows.append(tuple(
                    ("old " + str(v) if str(v) in old_clocks else "new") if c in _CLOCKS
                    and v is not None else None if v is None else str(v)
                    for c, v in zip(cols, row, strict=True)))
            out[table] = sorted(rows, key=repr)
    return out


def test_publishing_only_what_changed_ends_as_a_full_rewrite(er_warehouse, tmp_path,
                                                               monkeypatch):
    """A second resolution writes only the rows that changed (and compares only their
    versions): every published table, version and clock ends as rewriting them all does."""
    from entity_resolution import pipeline

    entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    entity_resolution.resolve_employers(er_warehouse, var_dir=tmp_path)
    persons = [r for r in PERSONS if r[1] != "PX001"]  # a mention gone
    persons[1] = (*persons[1][:7], "13805319999", *persons[1][8:])  # another phone
    persons.append(("training", "PX002", "孙丽", None, None, "F", None, "13605340004", None,
                    None, None))  # a new person
    employers = [*EMPLOYERS[:-1], ("quota", "D2024-4", "淄博华光有限公司", None, None,
                                   "370303", "enterprise")]
    _load(er_warehouse, persons, employers)
    with er_warehouse.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS ql_test_backup"))
        for table in _PUBLISHED:
            conn.execute(sa.text(f"DROP TABLE IF EXISTS ql_test_backup.{table.split('.')[1]}"))
            conn.execute(sa.text(f"CREATE TABLE ql_test_backup.{table.split('.')[1]} AS "
                                 f"SELECT * FROM {table}"))
        old_clocks: set[str] = set()
        for table in _PUBLISHED:
            result = conn.execute(sa.text(f"SELECT * FROM ql_test_backup.{table.split('.')[1]}"))
            cols = list(result.keys())
            for row in result:
                old_clocks |= {str(v) for c, v in zip(cols, row, strict=True)
                               if c in _CLOCKS and v is not None}

    written = []
    changes = pipeline._xref_changes
    monkeypatch.setattr(pipeline, "_xref_changes",
                        lambda *a: written.append(changes(*a)) or written[-1])
    entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    entity_resolution.resolve_employers(er_warehouse, var_dir=tmp_path)
    assert len(written) == 2 and 0 < written[0][0].sum() < len(persons)  # only what changed
    only_changes = _published(er_warehouse, old_clocks)

    with er_warehouse.begin() as conn:  # back to the state before, clocks included
        for table in _PUBLISHED:
            conn.execute(sa.text(f"TRUNCATE {table}"))
            conn.execute(sa.text(f"INSERT INTO {table} SELECT * FROM "
                                 f"ql_test_backup.{table.split('.')[1]}"))
        conn.execute(sa.text("DROP SCHEMA ql_test_backup CASCADE"))
    monkeypatch.setattr(pipeline, "_stored_as_read", lambda *a: False)  # rewrite everything
    entity_resolution.resolve_persons(er_warehouse, var_dir=tmp_path)
    entity_resolution.resolve_employers(er_warehouse, var_dir=tmp_path)
    rewritten = _published(er_warehouse, old_clocks)
    for table in _PUBLISHED:
        assert only_changes[table] == rewritten[table], table
    assert any("new" in row for row in rewritten["core.person"])  # some record did change
    assert any(any(str(v).startswith("old") for v in row) for row in rewritten["core.person"])
