"""Every link explained at resolution time, and auditors' overrides fed back into resolution."""

import time

import pytest
import sqlalchemy as sa

import entity_resolution
from entity_resolution.explain import cluster_edges
from entity_resolution.overrides import pending_overrides, record_override, split_mention
from expectations import run_rules

pytestmark = pytest.mark.integration
PERSONS = 150


@pytest.fixture(scope="module")
def province(tmp_path_factory):
    import synthetic

    root = tmp_path_factory.mktemp("edges")
    synthetic.generate(root / "sources", root / "truth", persons=PERSONS, seed=11,
                       progress=False, scenario="hard")
    return root


@pytest.fixture
def loaded(warehouse, province, monkeypatch):
    """The province loaded and staged in process (no Dagster: only what resolution needs)."""
    from connectors.registry import SOURCE_OBJECTS
    from quotalink.settings import get_settings

    monkeypatch.setenv("SOURCES_DIR", str(province / "sources"))
    get_settings.cache_clear()
    settings = get_settings()
    for source in SOURCE_OBJECTS.values():
        source.load(warehouse, settings)
        source.stage(warehouse)
    return warehouse


def _resolve(engine, run_id: str) -> None:
    entity_resolution.resolve_persons(engine, run_id=run_id)
    entity_resolution.resolve_employers(engine, run_id=run_id)
    run_rules(engine, run_id=run_id)


def _clusters(engine, entity: str) -> dict[str, set[tuple[str, str]]]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            f"select {entity}_id, source, source_key from core.{entity}_xref")).all()
    out: dict[str, set] = {}
    for gid, s, k in rows:
        out.setdefault(gid, set()).add((s, k))
    return out


def _spans(members: set, edges) -> bool:
    """The edges connect every member of the cluster, and only those."""
    parent = {m: m for m in members}

    def find(m):
        while parent[m] != m:
            m = parent[m]
        return m

    for e in edges:
        a, b = (e.source_l, e.key_l), (e.source_r, e.key_r)
        if a not in parent or b not in parent:
            return False
        parent[find(a)] = find(b)
    return len({find(m) for m in members}) == 1


def test_every_cluster_is_explained_and_overrides_change_the_next_run(loaded):
    t = time.perf_counter()
    _resolve(loaded, "run-1")
    first_s = time.perf_counter() - t
    for entity in ("person", "employer"):
        clusters = _clusters(loaded, entity)
        with loaded.connect() as conn:
            count = conn.execute(sa.text(f"select count(*) from core.{entity}_match_edge")).scalar()
            runs = set(conn.execute(sa.text(
                f"select distinct run_id from core.{entity}_match_edge")).scalars())
            kinds = set()
            for gid, members in clusters.items():
                edges = cluster_edges(conn, entity, gid)
                assert len(edges) == len(members) - 1, gid  # a spanning tree: linear
                if len(members) > 1:
                    assert _spans(members, edges), gid
                for e in edges:
                    kinds.add(e.link_kind)
                    assert e.reason and e.golden_id == gid
                    if e.link_kind == "splink":
                        assert e.comparisons[0].name == "先验"
                        assert sum(c.weight for c in e.comparisons) == pytest.approx(
                            e.match_weight, abs=1e-6)
                        assert 0 < e.match_probability <= 1
                    else:
                        assert e.comparisons == [] and e.match_weight is None
        assert count == sum(len(m) - 1 for m in clusters.values())
        assert runs == {"run-1"}
        assert kinds, entity
    assert {"exact_id", "repair", "context"} <= _kinds(loaded, "person")
    assert {"uscc", "org_code", "relational", "context", "splink"} <= _kinds(loaded, "employer")

    # An auditor says the declared employee behind a flag is somebody else.
    flag, person, mention, other = _flagged_mention(loaded)
    with loaded.begin() as conn:
        oids = split_mention(conn, "person", *mention, "审计员甲", "不是同一人")
        assert len(oids) == len(_clusters(loaded, "person")[person]) - 1 >= 2
        pending = pending_overrides(conn, "person", [other])
        assert len(pending) == 1 and pending[0]["override_id"] in oids
        assert (pending[0]["decision"], pending[0]["decided_by"]) == ("cannot_link", "审计员甲")
        assert [o["override_id"] for o in pending_overrides(conn, "person", [mention])] == oids
        assert pending_overrides(conn, "person", [("hr", "nobody")]) == []
        conn.execute(sa.text("insert into review.decision (flag_id, decision, reviewer, note) "
                             "values (:f, 'escalated', '审计员甲', '疑似冒名')"), {"f": flag})
    oid = oids[0]
    t = time.perf_counter()
    _resolve(loaded, "run-2")
    second_s = time.perf_counter() - t
    xref = {m: gid for gid, ms in _clusters(loaded, "person").items() for m in ms}
    assert xref[other] == person  # the larger part keeps the ID
    assert xref[mention] != person
    assert _clusters(loaded, "person")[xref[mention]] == {mention}  # set apart from all
    with loaded.connect() as conn:
        assert pending_overrides(conn, "person") == []
        applied = conn.execute(sa.text(
            "select outcome, run_id from core.link_override_applied where override_id = :i"),
            {"i": oid}).one()
        assert tuple(applied) == ("applied", "run-2")
        old = conn.execute(sa.text("select active, person_id from mart.anomaly_flag "
                                   "where flag_id = :f"), {"f": flag}).one()
        edges = cluster_edges(conn, "person", person)
    # The flag rested on the split-off mention: it no longer holds for that person, it
    # holds for the new one, whose flag names the old one (decisions stay with the old).
    assert old.active is False
    with loaded.connect() as conn:
        moved = conn.execute(sa.text(
            "select n.evidence -> 'previous_flag_ids' from mart.anomaly_flag n "
            "join mart.anomaly_flag o on o.flag_id = :f and n.rule = o.rule "
            "and n.year = o.year and n.employer_id = o.employer_id "
            "where n.active and n.person_id = :p"), {"f": flag, "p": xref[mention]}).one()
    assert flag in moved[0]
    with loaded.connect() as conn:
        assert conn.execute(sa.text("select flag_id from review.decision")).scalars().all() \
            == [flag]
    assert all(mention not in ((e.source_l, e.key_l), (e.source_r, e.key_r)) for e in edges)

    # Must-link: two golden persons become one; the retired ID finds the merged edges.
    a, b = _two_persons(loaded, exclude={person, xref[mention]})
    with loaded.begin() as conn:
        oid2 = record_override(conn, "person", *a[1], *b[1], "must_link", "审计员乙",
                               "复核后确认为同一人")
    _resolve(loaded, "run-3")
    xref = {m: gid for gid, ms in _clusters(loaded, "person").items() for m in ms}
    assert xref[a[1]] == xref[b[1]] == min(a[0], b[0])  # the oldest ID survives
    assert xref[mention] != xref[other]  # the cannot-link stays in force
    with loaded.connect() as conn:
        merged = cluster_edges(conn, "person", max(a[0], b[0]))  # the retired ID
        outcome = conn.execute(sa.text("select outcome, run_id from core.link_override_applied "
                                       "where override_id = :i"), {"i": oid2}).one()
        members = _clusters(loaded, "person")[min(a[0], b[0])]
    assert tuple(outcome) == ("applied", "run-3")
    assert _spans(members, merged)
    must = [e for e in merged if e.link_kind == "must_link"]
    assert len(must) == 1 and "审计员乙" in must[0].reason
    print(f"resolution runs: {first_s:.1f} s, {second_s:.1f} s")


def _two_persons(engine, exclude: set[str]):
    """Two golden persons with a valid ID each: (person_id, a registry mention)."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            select distinct on (x.person_id) x.person_id, x.source, x.source_key
            from core.person_xref x join core.person p using (person_id)
            where x.source = 'disability_registry' and p.id_number is not null
              and x.person_id <> all(:ex)
            order by x.person_id, x.source_key limit 2"""), {"ex": sorted(exclude)}).all()
    return [(r[0], (r[1], r[2])) for r in rows]


def _kinds(engine, entity: str) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(sa.text(
            f"select distinct link_kind from core.{entity}_match_edge")).scalars())


def _flagged_mention(engine):
    """An age finding (it holds for whoever the declared employee is), its person, the
    declared employee's quota mention and a registry mention of the person."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text("""
            select f.flag_id, f.person_id, m ->> 'source_key', o.source, o.source_key
            from mart.anomaly_flag f
            cross join lateral jsonb_array_elements(f.evidence -> 'mentions') m
            join core.person_xref o on o.person_id = f.person_id
                 and o.source = 'disability_registry'
            where f.active and f.rule = 'AGE_INELIGIBLE'
              and m ->> 'entity' = 'person' and m ->> 'source' = 'quota'
            order by f.flag_id""")).all()
    assert rows, "the province plants AGE_INELIGIBLE cases"
    flag, person, key, source, other_key = rows[0]
    return flag, person, ("quota", key), (source, other_key)


def test_a_city_console_records_an_override_it_cannot_read_back(warehouse):
    from warehouse.roles import role_name

    with warehouse.begin() as conn:
        conn.execute(sa.text(f'set local role "{role_name("console")}"'))
        conn.execute(sa.text("select set_config('quotalink.city_code', '3701', true)"))
        oid = record_override(conn, "person", "quota", "E1", "hr", "H1", "cannot_link",
                              "审计员甲", "不是同一人")
        assert pending_overrides(conn, "person") == []  # no city: province scope only
    with warehouse.connect() as conn:
        assert [o["override_id"] for o in pending_overrides(conn, "person")] == [oid]
    with pytest.raises(ValueError), warehouse.begin() as conn:
        record_override(conn, "person", "quota", "E1", "quota", "E1", "must_link", "审计员甲", "")
