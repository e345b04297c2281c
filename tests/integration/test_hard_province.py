"""The hard scenario end to end: clerk-typed names, ID-less rows and organs resolved; a rerun changes nothing."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

PERSONS = 300


@pytest.fixture(scope="module")
def hard_province(tmp_path_factory):
    import synthetic

    root = tmp_path_factory.mktemp("hard")
    summary = synthetic.generate(root / "sources", root / "truth", persons=PERSONS, seed=5,
                                 progress=False, scenario="hard")
    assert summary["planted_not_found"] == 0 and summary["decoys_flagged"] == 0
    return root


def _quotalink(*args: str, env: dict) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "quotalink"
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=900)


_PERSONAL = re.compile(rb"(?<![0-9])([0-9]{17}[0-9Xx](?:[0-9]{2})?|1[3-9][0-9]{9})(?![0-9])")


def _personal_values(sources: Path) -> set[str]:
    """Every ID number (certificate numbers cut to their ID) and mobile phone in the CSV deliveries."""
    found = set()
    for path in sources.rglob("*.csv"):
        found.update(m[:18].decode() for m in _PERSONAL.findall(path.read_bytes()))
    return found


def _leaks(text: str, values: set[str]) -> list[str]:
    return sorted({m for m in re.findall(r"[0-9]{11,20}[0-9Xx]?", text)
                   for v in values if v in m})


def _state(engine) -> tuple[list, list, list]:
    with engine.connect() as conn:
        persons = conn.execute(sa.text(
            "select source, source_key, person_id from core.person_xref order by 1, 2")).all()
        employers = conn.execute(sa.text(
            "select source, source_key, employer_id from core.employer_xref order by 1, 2")).all()
        flags = conn.execute(sa.text(
            "select flag_id, rule from mart.anomaly_flag where active order by 1")).all()
    return persons, employers, flags


def test_hard_province_resolves_and_reruns_unchanged(warehouse, hard_province, pg_database,
                                                     tmp_path):
    truth = hard_province / "truth"
    tags = pd.read_csv(truth / "mention_tags.csv", dtype=str)
    assert {"clerk_typed_name", "idless_mention"} <= set(tags["tag"])
    env = {**os.environ, "WAREHOUSE_URL": pg_database,
           "SOURCES_DIR": str(hard_province / "sources"), "TRUTH_DIR": str(truth),
           "QUOTALINK_VAR_DIR": str(tmp_path / "var")}
    env.pop("QUOTA_API_URL", None)
    env.pop("HR_DB_URL", None)
    first = _quotalink("run", env=env)
    assert first.returncode == 0, first.stderr[-4000:]
    before = _state(warehouse)

    links = pd.read_parquet(tmp_path / "var" / "er" / "employer_links.parquet")
    relational = links[links["link_kind"] == "relational"]
    assert len(relational) > 0
    assert relational["rule"].str.startswith("same golden person employed there").all()
    assert set(relational["source"]) <= {"employment_service", "org"}

    report = _quotalink("evaluate", "--truth", str(truth), "--json", env=env)
    assert report.returncode == 0, report.stderr[-4000:]
    # The pipeline's log (what `quotalink run` prints, quarantine messages included) and
    # the logs it writes under the var dir hold no clear ID number or mobile phone.
    values = _personal_values(hard_province / "sources")
    assert len(values) > PERSONS
    logs = first.stdout + first.stderr + report.stderr + "".join(
        f.read_text(errors="replace") for f in (tmp_path / "var").rglob("*")
        if f.is_file() and f.suffix in (".log", ".txt", ".err", ".out"))
    assert "rows quarantined" in logs or "quarantined" in logs
    assert _leaks(logs, values) == []
    scores = json.loads(report.stdout)
    persons, employers = (scores["entity_resolution"][k] for k in ("person", "employer"))
    assert persons["precision"] >= 0.999 and persons["f1"] >= 0.99
    assert employers["f1"] >= 0.97
    clerk = employers["breakdown"]["by_tag"]["clerk_typed_name"]
    assert clerk["mixed"] <= 0.01 * clerk["mentions"]
    assert set(employers["breakdown"]["by_source"]) >= {"employment_service", "quota", "org"}
    assert employers["hard_cases"]["code_change"]["joined"] == \
        employers["hard_cases"]["code_change"]["cases"]
    for rule in ("CIVIL_SERVANT_CONFLICT", "SHARED_CONTACT", "DISTANT_RESIDENCE"):
        assert scores["flags"]["per_rule"][rule]["precision"] == 1.0, rule
        assert scores["flags"]["per_rule"][rule]["recall"] == 1.0, rule
    assert scores["flags"]["decoys_flagged"] == []

    # Resolution and the audit again on the same staging (what a rerun does after its
    # loads found nothing new): every golden ID and every active flag stays as it was.
    import datetime as dt

    import entity_resolution
    import expectations

    var = tmp_path / "var"
    entity_resolution.resolve_persons(warehouse, er_engine="duckdb", var_dir=var)
    entity_resolution.resolve_employers(warehouse, er_engine="duckdb", var_dir=var)
    expectations.run_rules(warehouse, dt.datetime.now(dt.UTC))
    assert _state(warehouse) == before
