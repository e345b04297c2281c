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


def test_rerun_skips_override_and_delivery_rerun(warehouse, sources_dir, tmp_path, monkeypatch):
    import synthetic
    from tests.helpers import drop
    from tests.integration.test_registry_delivery import ROWS, csv_bytes

    synthetic.generate(sources_dir, tmp_path / "truth", persons=200, seed=7, progress=False)
    assert main(["run"]) == 0
    first, flags = _stamps(warehouse), _flags(warehouse)
    assert {"stage disability_registry", "resolve persons", "resolve employers", "audit rules",
            "quota compliance"} <= set(first)
    assert any(k.startswith("check staging/") for k in first) and flags

    # Nothing new: no step recomputes, the flags stay as they were.
    assert main(["run"]) == 0
    assert _stamps(warehouse) == first
    assert _flags(warehouse) == flags

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
    for step in ("resolve persons", "resolve employers", "audit rules", "quota compliance"):
        assert second[step] != first[step], step
    assert second["stage disability_registry"] == first["stage disability_registry"]
    assert second["check raw/org"] == first["check raw/org"]

    # A new delivery of one source: that source's staging runs, the others' is skipped.
    drop(sources_dir / "disability_registry", "cjrxx_202611.csv", csv_bytes(ROWS[:2]))
    assert main(["run"]) == 0
    third = _stamps(warehouse)
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
