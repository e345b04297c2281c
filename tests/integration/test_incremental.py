"""Reruns skip the steps whose inputs did not change; a new delivery or override reruns them."""

import sqlalchemy as sa

from orchestration.cli import main


def _stamps(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.text("select asset, run_id from ops.stage_fingerprint")).all())


def _flags(engine) -> set:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(
            "select flag_id, rule, person_id, employer_id, active from mart.anomaly_flag")).all())


def _page_rows_current(engine, index) -> None:
    """Every table's row count on the data-docs page is the table's count now (the audit
    checkpoints' before the run wrote its own, after the page)."""
    import re

    from warehouse.audit import CHAINS

    shown = dict(re.findall(r"<tr><td>([a-z_]+\.[a-z_]+)</td><td>(\d+)</td>",
                            index.read_text(encoding="utf-8")))
    assert len(shown) > 50
    with engine.connect() as conn:
        for table, rows in shown.items():
            n = conn.execute(sa.text(f"select count(*) from {table}")).scalar()
            assert n - (len(CHAINS) if table == "ops.audit_checkpoint" else 0) == int(rows), table


def _steps(engine) -> dict[str, str]:
    """The steps' records, without the data docs' (it records each table it validated again)."""
    return {k: v for k, v in _stamps(engine).items() if k != "data docs"}


def test_rerun_skips_override_and_delivery_rerun(warehouse, sources_dir, tmp_path, monkeypatch):
    import expectations
    import synthetic
    from quotalink.settings import get_settings
    from tests.helpers import drop
    from tests.integration.test_registry_delivery import ROWS, csv_bytes

    validated = []
    validate = expectations.validate_table
    monkeypatch.setattr(expectations, "validate_table",
                        lambda engine, table, **kw: validated.append(table) or validate(engine, table, **kw))
    index = get_settings().var_dir / "gx" / "index.html"

    synthetic.generate(sources_dir, tmp_path / "truth", persons=200, seed=7, progress=False)
    assert main(["run"]) == 0
    first, flags = _steps(warehouse), _flags(warehouse)
    assert {"stage disability_registry", "resolve persons", "resolve employers", "audit rules",
            "quota compliance", "report city_progress"} <= set(first)
    assert any(k.startswith("check staging/") for k in first) and flags
    page = index.read_text(encoding="utf-8")

    # Nothing new: no step recomputes, the flags stay as they were, the report's marts are
    # not rebuilt, and the data docs validate nothing with Great Expectations; the table every
    # run appends to (the audit checkpoints) is counted again: its row count is all that
    # changes on the page.
    _page_rows_current(warehouse, index)
    validated.clear()
    with warehouse.connect() as conn:
        built = conn.execute(sa.text("select max(computed_at) from mart.city_progress")).scalar()
    assert main(["run"]) == 0
    assert _steps(warehouse) == first
    assert _flags(warehouse) == flags
    assert validated == []
    _page_rows_current(warehouse, index)
    changed = set(index.read_text(encoding="utf-8").splitlines()) ^ set(page.splitlines())
    assert len(changed) == 2 and all("<td>ops.audit_checkpoint</td>" in line for line in changed)
    with warehouse.connect() as conn:
        assert conn.execute(sa.text("select max(computed_at) from mart.city_progress")).scalar() == built

    # An auditor's override: resolution and everything after it run again, staging does not.
    with warehouse.connect() as conn:
        a, b = conn.execute(sa.text("select source, source_key from staging.person_mention "
                                    "order by source, source_key limit 2")).all()
    with warehouse.begin() as conn:
        conn.execute(sa.text(
            "insert into core.link_override (entity, source_a, key_a, source_b, key_b, decision, "
            "decided_by, reason) values ('person', :sa, :ka, :sb, :kb, 'cannot_link', 'auditor-7', 'test')"),
            {"sa": a[0], "ka": a[1], "sb": b[0], "kb": b[1]})
    assert main(["run"]) == 0
    second = _stamps(warehouse)
    for step in ("resolve persons", "resolve employers", "audit rules", "quota compliance",
                 "report city_progress", "report priority_employer"):
        assert second[step] != first[step], step
    assert second["stage disability_registry"] == first["stage disability_registry"]
    assert second["check raw/org"] == first["check raw/org"]

    # A new delivery of one source: that source's staging runs, the others' is skipped.
    drop(sources_dir / "disability_registry", "cjrxx_202611.csv", csv_bytes(ROWS[:2]))
    validated.clear()
    assert main(["run"]) == 0
    third = _stamps(warehouse)
    # New mentions: the suites of what changed ran again, and the page shows today's tables.
    assert "staging.person_mention" in validated
    _page_rows_current(warehouse, index)
    assert third["report city_progress"] != second["report city_progress"]
    assert third["stage disability_registry"] != second["stage disability_registry"]
    assert third["stage org"] == second["stage org"]
    assert third["resolve persons"] != second["resolve persons"]

    # QUOTALINK_INCREMENTAL=0 forces every step: no recorded result counts any more.
    from orchestration import incremental

    with warehouse.connect() as conn:
        fp = incremental.fingerprint(conn, day=True)
        assert incremental.previous(conn, "audit rules", fp) is not None
        monkeypatch.setenv("QUOTALINK_INCREMENTAL", "0")
        assert incremental.previous(conn, "audit rules", fp) is None
