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


def _launches(monkeypatch) -> list[set[str]]:
    """The steps each `quotalink run` launched in Dagster (appended per run)."""
    from orchestration import cli

    launched: list[set[str]] = []
    planned = cli._run_planned

    def spy(*args, **kwargs):
        out = planned(*args, **kwargs)
        launched.append({e.step_key for e in out[0].all_events if e.event_type_value == "STEP_START"})
        return out

    monkeypatch.setattr(cli, "_run_planned", spy)
    return launched


def _downstream_nodes(*nodes: str) -> set[str]:
    """The ops of these steps' assets and of every asset downstream of them."""
    import dagster as dg

    from orchestration.definitions import ASSETS, defs

    keys = [k for a in ASSETS if a.node_def.name in nodes for k in a.keys]
    down = dg.AssetSelection.assets(*keys).downstream().resolve(defs.resolve_asset_graph())
    return {a.node_def.name for a in ASSETS if set(a.keys) & down}


def _over_everything() -> set[str]:
    """The ops of the steps (not checks) whose fingerprint covers every delivery and the
    overrides: they run again when any delivery or override is new, downstream or not."""
    from orchestration import incremental
    from quotalink.settings import get_settings

    return {node for node, step in incremental.STEPS.items() if not node.startswith(("suite_", "raw__"))
            and step.inputs(get_settings()).get("sources") is None}


def _failing_checks(engine) -> set[str]:
    """The ops of the checks whose recorded outcome failed (they run again every time)."""
    from orchestration import incremental

    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text("select asset, result from ops.stage_fingerprint")).all())
    return {node for node, step in incremental.STEPS.items()
            if any(not r["passed"] for r in (rows.get(step.name) or {}).get("results") or [])}


def test_rerun_skips_override_and_delivery_rerun(warehouse, sources_dir, tmp_path, monkeypatch):
    import expectations
    import synthetic
    from orchestration.definitions import ASSETS
    from orchestration.plan import roots
    from quotalink.settings import get_settings
    from tests.helpers import drop
    from tests.integration.test_registry_delivery import ROWS, csv_bytes

    launched = _launches(monkeypatch)
    loads = {a.node_def.name for a in roots(ASSETS)}
    assert loads == {f"raw_{s}" for s in ("disability_registry", "quota", "hr", "employment_service",
                                          "training", "graduates", "org", "establishment",
                                          "unemployed_survey")} | {"reference_tables"}
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
    # Only the loads are launched (and the checks that failed, to fail again): no staging,
    # resolution, rule, mart or passing check step goes through Dagster at all.
    assert launched[-1] == loads | _failing_checks(warehouse), launched[-1] - loads
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
    resolution = _downstream_nodes("persons")
    assert {"persons", "employers", "mart__anomaly_flag", "report_city_progress"} <= resolution
    assert not any(n.startswith("stage_") for n in resolution)
    assert launched[-1] - loads - {n for n in launched[-1] if n.startswith(("suite_", "raw__"))} == \
        resolution | _over_everything()
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
    # Exactly that source's staging and what is downstream of it: no other source's staging.
    steps_run = launched[-1] - loads
    assert {n for n in steps_run if not n.startswith(("suite_", "raw__"))} == \
        _downstream_nodes("stage_disability_registry") | _over_everything()
    assert "raw__disability_registry_deliveries_reconcile" in steps_run
    assert "raw__org_deliveries_reconcile" not in steps_run
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


def test_plan_forced_failed_and_failing(warehouse, sources_dir, tmp_path, monkeypatch):
    """The plan itself: QUOTALINK_INCREMENTAL=0 launches every step; nothing downstream of a
    load that failed is launched; a check whose recorded outcome failed is launched again."""
    import dagster as dg

    import synthetic
    from orchestration import plan
    from orchestration.definitions import ASSETS, CHECKS
    from quotalink.settings import get_settings

    synthetic.generate(sources_dir, tmp_path / "truth", persons=200, seed=7, progress=False)
    assert main(["run"]) == 0
    settings = get_settings()
    every = {k for a in ASSETS if a not in plan.roots(ASSETS) for k in a.keys}
    checks = {k for c in CHECKS for k in c.check_keys}
    nothing = plan.plan(warehouse, settings, ASSETS, CHECKS, failed=set())
    assert not nothing.assets and len(nothing.replayed) + len(nothing.nodes) == len(CHECKS)

    failed = {dg.AssetKey(["raw", "hr_ab01"]), dg.AssetKey(["raw", "hr_ac01"]), dg.AssetKey(["raw", "hr_ac08"])}
    with monkeypatch.context() as m:
        m.setenv("QUOTALINK_INCREMENTAL", "0")
        forced = plan.plan(warehouse, settings, ASSETS, CHECKS, failed=set())
        assert forced.assets == every and forced.checks == checks and not forced.replayed
        partial = plan.plan(warehouse, settings, ASSETS, CHECKS, failed=failed)
    assert dg.AssetKey(["staging", "civil_service"]) in partial.assets  # org's: not hr's
    assert dg.AssetKey(["staging", "contribution"]) not in partial.assets
    assert dg.AssetKey(["core", "person"]) not in partial.assets  # reads hr's mentions
    assert not any(k.asset_key in failed for k in partial.checks)

    # A check whose last outcome failed runs again (its replay fails again and blocks).
    with warehouse.begin() as conn:
        conn.execute(sa.text(
            "update ops.stage_fingerprint set result = jsonb_set(result, '{results,0,passed}', 'false') "
            "where asset = 'check staging/certificate'"))
    again = plan.plan(warehouse, settings, ASSETS, CHECKS, failed=set())
    assert "suite_staging__certificate" in again.nodes and not again.assets
    assert "suite_staging__certificate" not in again.replayed
