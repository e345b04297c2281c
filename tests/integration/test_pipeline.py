"""The whole product on a small synthetic province: generate → run → evaluate, and a rerun."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

PERSONS = 400


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    import synthetic

    root = tmp_path_factory.mktemp("province")
    synthetic.generate(root / "sources", root / "truth", persons=PERSONS, seed=7, progress=False)
    return root


def quotalink(*args: str, env: dict) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "quotalink"
    return subprocess.run([str(exe), *args], env=env, capture_output=True, text=True, timeout=900)


def test_generate_run_rerun_evaluate(warehouse, province, pg_database, tmp_path):
    env = {**os.environ, "WAREHOUSE_URL": pg_database, "SOURCES_DIR": str(province / "sources"),
           "QUOTALINK_VAR_DIR": str(tmp_path / "var"), "QUOTALINK_PROGRESS": "1"}
    env.pop("QUOTA_API_URL", None)
    env.pop("HR_DB_URL", None)
    first = quotalink("run", env=env)
    assert first.returncode == 0, first.stderr[-4000:]
    assert "load disability_registry" in first.stderr
    # Third-party notices stay off the terminal (pyspark on pandas 3, GX's datasource hint).
    for noise in ("FutureWarning", "GxDatasourceWarning", "RuntimeDirWarning", "py.warnings"):
        assert noise not in first.stderr, noise
    assert "this run / all runs" in first.stdout and "postgresql://" in first.stdout

    with warehouse.connect() as conn:
        audit = conn.execute(sa.text(
            "select source, delivery, rows_read, rows_loaded, rows_quarantined from ops.load_audit")).all()
        mentions = {(s, k) for s, k in conn.execute(sa.text("select source, source_key from staging.person_mention"))}
        xref = conn.execute(sa.text("select count(*) from core.person_xref")).scalar()
        emp_mentions = {(s, k) for s, k in conn.execute(sa.text("select source, source_key from staging.employer_mention"))}
    assert audit and all(r.rows_read == r.rows_loaded + r.rows_quarantined for r in audit)
    assert xref == len(mentions)
    loaded_sources = {r.source for r in audit}
    with (province / "truth" / "person_mentions.csv").open(encoding="utf-8") as fh:
        truth = {(r["source"], r["key"]) for r in csv.DictReader(fh) if r["source"] in loaded_sources}
    with (province / "truth" / "employer_mentions.csv").open(encoding="utf-8") as fh:
        emp_truth = {(r["source"], r["key"]) for r in csv.DictReader(fh) if r["source"] in loaded_sources}
    assert truth - mentions == set()
    assert emp_truth - emp_mentions == set()

    # Nothing new delivered: the second run loads nothing and leaves the audit unchanged.
    second = quotalink("run", env=env)
    assert second.returncode == 0, second.stderr[-4000:]
    with warehouse.connect() as conn:
        again = conn.execute(sa.text(
            "select source, delivery, rows_read, rows_loaded, rows_quarantined from ops.load_audit")).all()
    assert sorted(again) == sorted(audit)
    # The closing table tells the rerun apart: nothing this run, everything before.
    registry = next(line for line in second.stdout.splitlines()
                    if line.strip().startswith("disability_registry"))
    assert registry.split()[1:4] == ["0", "/", str(sum(1 for r in audit
                                                       if r.source == "disability_registry"))]

    report = quotalink("evaluate", "--json", "--truth", str(province / "truth"), env=env)
    assert report.returncode == 0, report.stderr[-4000:]
    import json

    scores = json.loads(report.stdout)
    assert scores["entity_resolution"]["person"]["precision"] >= 0.99
    assert scores["entity_resolution"]["employer"]["f1"] >= 0.9
    assert scores["flags"]["overall"]["recall"] >= 0.9

    # The annual report of the default province, in the three formats.
    from orchestration.cli import main
    from tests.integration.test_report import assert_html, assert_pdf, assert_xlsx

    for suffix in ("xlsx", "html", "pdf"):
        assert main(["report", "--year", "2024", "--out", str(tmp_path / f"report.{suffix}")]) == 0
    wb = assert_xlsx(tmp_path / "report.xlsx")
    cities = [row[0] for row in wb["一 目标任务"].iter_rows(min_row=6, max_col=1, values_only=True) if row[0]]
    assert cities[:2] == ["济南市", "青岛市"] and "合计" in cities
    assert_html((tmp_path / "report.html").read_text(encoding="utf-8"))
    pages_dir = tmp_path / "pages"
    pages_dir.mkdir()
    assert assert_pdf(tmp_path / "report.pdf", pages_dir) >= 8
