"""The lineage declarations match the code they describe, and the asset graph follows them."""

import importlib
import inspect
import re

import pytest

from connectors.registry import staged_tables, staging_writers
from expectations.rules.config import BASE_READS, COMPLIANCE_READS, rule_specs, rules_read
from quotalink.contracts import RAW_TABLES, SOURCES

TABLE = re.compile(r"\b((?:staging|core|mart)\.[a-z_]+)\b")


def tables_in(*modules) -> set[str]:
    return {m for mod in modules for m in TABLE.findall(inspect.getsource(mod))}


@pytest.mark.parametrize("code", list(rule_specs()))
def test_each_rule_reads_only_what_its_row_declares(code):
    from expectations.rules import _certs, base

    module = importlib.import_module(f"expectations.rules.{code.lower()}")
    source = inspect.getsource(module)
    used = tables_in(module)
    if "_certs" in source:
        used |= tables_in(_certs)
    if "contributions()" in source:
        used.add("staging.contribution")
    declared = set(rule_specs()[code].reads) | set(BASE_READS)
    assert used <= declared, f"{code} reads {sorted(used - declared)} without declaring them"
    # and declares nothing it does not read (a stale row would add needless dependencies)
    assert set(rule_specs()[code].reads) <= used | tables_in(base), code


def test_base_and_compliance_read_what_they_declare():
    from expectations.rules import base, compliance

    prepare = inspect.getsource(base.prepare)
    assert set(TABLE.findall(prepare)) == set(BASE_READS)
    assert tables_in(compliance) - {"mart.quota_compliance"} == set(COMPLIANCE_READS)


def test_entity_resolution_reads_what_it_declares():
    import entity_resolution
    from entity_resolution import pipeline

    for kind, reads in entity_resolution.READS.items():
        spec = getattr(pipeline, kind.upper())
        assert spec.staging in reads and spec.golden in entity_resolution.WRITES[kind]
    used = tables_in(pipeline)
    declared = {t for ts in (*entity_resolution.READS.values(), *entity_resolution.WRITES.values())
                for t in ts}
    assert used <= declared, sorted(used - declared)


@pytest.mark.parametrize("source", SOURCES)
def test_each_source_stages_what_its_contracts_declare(source):
    from connectors import mentions

    module = importlib.import_module(f"connectors.{source}")
    text = inspect.getsource(module)
    yielded = {t for t in TABLE.findall(text) if t.startswith("staging.")}
    if "person_mention(" in text:
        yielded.add("staging.person_mention")
    if "employer_mention(" in text:
        yielded.add("staging.employer_mention")
    assert "staging.person_mention" in tables_in(mentions)
    assert yielded == set(staged_tables(source)), source


def test_shared_tables_are_one_asset_per_source():
    writers = staging_writers()
    assert writers["staging.certificate"] == ["disability_registry"]
    assert set(writers["staging.person_mention"]) == {
        t.source for t in RAW_TABLES if "staging.person_mention" in t.stages}
    from orchestration.lineage import staging_key

    assert staging_key("staging.certificate", "disability_registry").path == [
        "staging", "certificate"]
    assert staging_key("staging.person_mention", "quota").path == [
        "staging", "person_mention", "quota"]


def test_flag_dependencies_follow_the_rules_declarations():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    flag = graph.get(next(k for k in graph.get_all_asset_keys()
                          if k.path == ["mart", "anomaly_flag"]))
    parents = {".".join(p.path[:2]) for p in flag.parent_keys}
    assert parents == set(rules_read())
    # quota's outage must not hold back the registry's staging: no edge between them
    cert = graph.get(next(k for k in graph.get_all_asset_keys()
                          if k.path == ["staging", "certificate"]))
    assert {p.to_user_string() for p in cert.parent_keys} == {"raw/disability_registry"}
