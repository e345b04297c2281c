"""Resolve persons and employers: staging mentions → clusters → golden records in core."""

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from entity_resolution import explain
from entity_resolution import overrides as override_rules
from entity_resolution.clustering import ClusterResult, cluster
from entity_resolution.context import (
    IDLESS_MOVED_RULE,
    IDLESS_NAME_RULE,
    IDLESS_SOUND_RULE,
    EmployerContext,
    ambiguous_name_records,
    apply_links,
    build_context,
    link_by_context,
    link_idless_persons,
    person_employer_cores,
)
from entity_resolution.linking import predict_edges, save_charts
from entity_resolution.model import Model, load_model
from entity_resolution.prepare import (
    EMPLOYER_COLUMNS,
    PERSON_COLUMNS,
    prepare_employers,
    prepare_persons,
    warm_up_persons,
)
from entity_resolution.repair import attach_keyless_employers, repair_person_keys
from entity_resolution.stable_ids import IdAssignment, assign_ids
from entity_resolution.survivorship import ATTRIBUTES, attribute_sources, golden_with_winners
from quotalink.standardise import normalise_id

log = logging.getLogger(__name__)
_LOCK_KEY = 7313101  # serialises entity-resolution writers across processes


def _read(conn, sql: str, **params) -> pd.DataFrame:
    result = conn.execute(sa.text(sql), params)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def _read_bulk(conn, sql: str) -> pd.DataFrame:
    """A large parameterless query through COPY … TO STDOUT: every value as text.

    Row-by-row fetching of millions of mentions costs more than linking them; the
    features step parses dates and numbers itself. Arrow parses the CSV (in C++, outside
    Python's lock, so a read in a worker thread leaves the main thread computing): the
    same frame as pandas' reader with `dtype=str` and only empty fields missing.
    """
    import csv
    import io

    import pyarrow as pa
    import pyarrow.csv as pacsv

    buffer = io.BytesIO()
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv, HEADER)", buffer)
    finally:
        cursor.close()
    buffer.seek(0)
    names = next(csv.reader([buffer.readline().decode("utf-8")]))
    if buffer.tell() == len(buffer.getbuffer()):  # no rows: as pandas gives an empty result
        buffer.seek(0)
        return pd.read_csv(buffer, dtype=str, keep_default_na=False, na_values=[""])
    table = pacsv.read_csv(
        buffer, read_options=pacsv.ReadOptions(column_names=names),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=True))
    return table.to_pandas()


def _write_edges(kind: str, features: pd.DataFrame, edges: pd.DataFrame, var_dir: Path) -> Path:
    """Keep the run's scored pairs (by mention key) for evaluation and review."""
    out = var_dir / "er" / f"{kind}_edges.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    src, key = features["source"].to_numpy(), features["source_key"].to_numpy()
    frame = pd.DataFrame({
        "source_l": src[edges["unique_id_l"].to_numpy()],
        "key_l": key[edges["unique_id_l"].to_numpy()],
        "source_r": src[edges["unique_id_r"].to_numpy()],
        "key_r": key[edges["unique_id_r"].to_numpy()],
        "match_weight": edges["match_weight"].to_numpy(),
        "match_probability": edges["match_probability"].to_numpy(),
    })
    frame.to_parquet(out, index=False)
    return out


def _write_links(kind: str, features: pd.DataFrame, reasons: pd.DataFrame | None,
                 var_dir: Path) -> None:
    """Keep the run's context and repair links (by mention key) beside the edges."""
    if reasons is None:
        return
    rows = reasons["unique_id"].to_numpy(dtype=np.int64)
    pd.DataFrame({"source": features["source"].to_numpy()[rows],
                  "source_key": features["source_key"].to_numpy()[rows],
                  "link_kind": reasons["link_kind"].to_numpy(),
                  "rule": reasons["rule"].to_numpy()}).to_parquet(
        var_dir / "er" / f"{kind}_links.parquet", index=False)


PERSON_ATTRIBUTES, EMPLOYER_ATTRIBUTES = ATTRIBUTES["person"], ATTRIBUTES["employer"]


def _golden_persons(features: pd.DataFrame, certificates: pd.DataFrame
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mention attributes as survivorship sees them (valid IDs only; certificate status);
    the golden rows and which mention supplied each value."""
    m = features[["source", "source_key", "cluster", "full_name", "gender", "birth_date",
                  "cert_number", "disability_category", "disability_level",
                  "hukou_region_code", "phone", "observed_on"]].copy()
    m["id_number"] = features["id_key"]
    status = certificates.set_index("cert_number")["status"] if len(certificates) else None
    is_registry = m["source"] == "disability_registry"
    m["cert_status"] = None
    if status is not None:
        m.loc[is_registry, "cert_status"] = m.loc[is_registry, "source_key"].map(status)
    golden, winners = golden_with_winners(m, "cluster", "person")
    # Gender and birth date follow from a valid ID where no source gave them.
    need = golden["id_number"].notna() & (golden["gender"].isna() | golden["birth_date"].isna())
    derived = {a: np.zeros(len(golden), dtype=bool) for a in ("gender", "birth_date")}
    rows = np.flatnonzero(need.to_numpy())
    if len(rows):
        # On plain lists: a cell-by-cell .at on the frame costs more than parsing the IDs.
        gender, birth = golden["gender"].tolist(), golden["birth_date"].tolist()
        for i, idn in zip(rows.tolist(), golden["id_number"].iloc[rows].tolist(), strict=True):
            parsed = normalise_id(idn)
            if gender[i] is None or pd.isna(gender[i]):
                gender[i] = parsed.gender
                derived["gender"][i] = parsed.gender is not None
            if birth[i] is None or pd.isna(birth[i]):
                birth[i] = parsed.birth_date.isoformat() if parsed.birth_date else None
                derived["birth_date"][i] = parsed.birth_date is not None
        golden["gender"] = pd.Series(gender, index=golden.index, dtype=golden["gender"].dtype)
        golden["birth_date"] = pd.Series(birth, index=golden.index,
                                         dtype=golden["birth_date"].dtype)
    for col in ("disability_category", "disability_level"):
        golden[col] = pd.to_numeric(golden[col], errors="coerce").astype("Int64")
    return golden, attribute_sources(features, winners, PERSON_ATTRIBUTES,
                                     {a: ("id_number", d) for a, d in derived.items()})


def _golden_employers(features: pd.DataFrame, certificates: pd.DataFrame
                      ) -> tuple[pd.DataFrame, pd.DataFrame]:
    m = features[["source", "source_key", "cluster", "name", "uscc", "org_code", "region_code",
                  "unit_type", "observed_on"]]
    golden, winners = golden_with_winners(m, "cluster", "employer")
    return golden, attribute_sources(features, winners, EMPLOYER_ATTRIBUTES)


@dataclass(frozen=True)
class EntityKind:
    """Where an entity kind's mentions, golden records, xref and ID history live, and the
    kind's own steps (features, key repair, survivorship)."""

    name: str
    prefix: str
    staging: str
    columns: tuple[str, ...]
    golden: str
    xref: str
    history: str
    id_col: str
    exact_key: str
    attributes: tuple[str, ...]
    prepare: Callable[[pd.DataFrame], pd.DataFrame]
    repair: Callable[[pd.DataFrame, list[tuple[int, int]]], np.ndarray]
    # survivorship: mention features with cluster labels (and certificates) → golden rows,
    # and the mentions that supplied their values (core.<kind>_attr_source)
    survive: Callable[[pd.DataFrame, pd.DataFrame], tuple[pd.DataFrame, pd.DataFrame]]
    # the certificate table whose status survivorship reads (persons only)
    certificates: str | None = None


PERSON = EntityKind("person", "P", "staging.person_mention", PERSON_COLUMNS, "core.person",
                    "core.person_xref", "core.person_id_history", "person_id", "id_key",
                    PERSON_ATTRIBUTES,
                    prepare_persons, repair_person_keys, _golden_persons, "staging.certificate")
EMPLOYER = EntityKind("employer", "E", "staging.employer_mention", EMPLOYER_COLUMNS,
                      "core.employer", "core.employer_xref", "core.employer_id_history",
                      "employer_id", "org_code", EMPLOYER_ATTRIBUTES,
                      prepare_employers, attach_keyless_employers, _golden_employers)
KINDS = {k.name: k for k in (PERSON, EMPLOYER)}


@dataclass
class Resolution:
    """Everything one resolution run computes, before anything is written."""

    features: pd.DataFrame
    edges: pd.DataFrame
    result: ClusterResult
    assignment: IdAssignment
    golden: pd.DataFrame
    xref: pd.DataFrame
    previous_ids: list[str | None]
    timings: dict[str, float]
    repaired: int = 0  # mentions given their key by the deterministic repair
    # Why a mention got its key other than by its own value: unique_id, link_kind, rule.
    link_reasons: pd.DataFrame | None = None
    # Rows of core.<kind>_match_edge (the spanning pairs of every cluster, explained) and
    # of core.link_override_applied (what became of each override read).
    match_edges: pd.DataFrame | None = None
    applied: pd.DataFrame | None = None
    # Rows of core.<kind>_attr_source: which mention supplied which golden attributes.
    attr_sources: pd.DataFrame | None = None


def resolve_frame(kind: EntityKind, mentions: pd.DataFrame, model: Model, *,
                  er_engine: str = "duckdb", previous: pd.DataFrame | None = None,
                  known_ids: set[str] | None = None,
                  overrides: pd.DataFrame | None = None,
                  certificates: pd.DataFrame | None = None,
                  prepared: bool = False,
                  context: EmployerContext | None = None,
                  employer_cores: dict | None = None,
                  explain_links: bool = True, run_id: str | None = None,
                  on_xref: Callable[[pd.DataFrame], None] | None = None,
                  late_inputs: Callable[[], dict[str, Any]] | None = None) -> Resolution:
    """The whole resolution on in-memory frames (no database): features → edges →
    clusters → stable IDs → golden records and xref, and (with `explain_links`) the match
    edges that explain every cluster. With `prepared`, `mentions` is already the output
    of prepare_persons / prepare_employers. `on_xref` receives the xref as soon as the
    stable IDs are known, before survivorship (the caller may start writing it).
    `late_inputs`, called once the pairs are scored, returns any of `previous`,
    `known_ids`, `overrides`, `certificates`, `context` and `employer_cores` (which the
    caller may still be reading while Splink scores)."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    # A prepared frame is used as is (and gains cluster and ID columns): no second copy.
    features = mentions if prepared else kind.prepare(mentions)
    timings["prepare_s"] = time.perf_counter() - t

    t = time.perf_counter()
    tf_tables: dict = {}
    edges = predict_edges(model, features, engine=er_engine, tf_tables=tf_tables)
    timings["predict_s"] = time.perf_counter() - t
    if late_inputs is not None:
        t = time.perf_counter()
        late = late_inputs()
        timings["inputs_wait_s"] = time.perf_counter() - t
        previous = late.get("previous", previous)
        known_ids = late.get("known_ids", known_ids)
        overrides = late.get("overrides", overrides)
        certificates = late.get("certificates", certificates)
        context = late.get("context", context)
        employer_cores = late.get("employer_cores", employer_cores)

    t = time.perf_counter()
    decided = override_rules.decisions(overrides, features)
    must, cannot, unknown = decided.must, decided.cannot, decided.unknown
    # After scoring, so the model sees the mentions as delivered; before clustering, so
    # a repaired key is an exact link (and a cannot-link override undoes the repair).
    reasons: list[tuple[int, str, str]] = []
    links = None
    if kind.name == "employer" and context is not None:
        # Found on the mentions' own keys; the repair below sees those keys only, and
        # context evidence (the person's employer, the office) wins over a name alone.
        links = link_by_context(features, context, cannot)
    repaired = kind.repair(features, cannot)
    idless_rules: dict[int, tuple[str, str]] = {}
    if kind.name == "person":
        sounded: set[int] = set()
        moved: set[int] = set()
        fixed, blind = link_idless_persons(features, employer_cores, sounded=sounded,
                                           moved=moved)
        fixed = {i: k for i, k in fixed.items() if not any(
            (a == i and features["id_key"].iat[b] == k) or (b == i and features["id_key"].iat[a] == k)
            for a, b in cannot)}
        if fixed:
            features["id_key"] = features["id_key"].astype("string")
            features.iloc[np.fromiter(fixed, dtype=np.int64),
                          features.columns.get_loc("id_key")] = list(fixed.values())
            for i in fixed:
                repaired[i] = True
                idless_rules[i] = ("repair", IDLESS_SOUND_RULE if i in sounded else
                                   IDLESS_MOVED_RULE if i in moved else IDLESS_NAME_RULE)
        if blind.any():
            keep = ~(blind[edges["unique_id_l"].to_numpy()] | blind[edges["unique_id_r"].to_numpy()])
            edges = edges[keep].reset_index(drop=True)
        timings["idless_linked"] = len(fixed)
        timings["idless_ambiguous"] = int(blind.sum())
    if links is not None:
        repaired[np.fromiter(links.rows, dtype=np.int64)] = False
        repaired |= apply_links(features, links)
    for i in np.flatnonzero(repaired).tolist():
        kind_rule = (links.reasons.get(i) if links is not None else None) or idless_rules.get(i)
        reasons.append((int(i), *(kind_rule or ("repair", _REPAIR_RULE[kind.name]))))
    # The explanation of a record keyed by a rule rather than by its own value travels
    # with the features (explain.py reads them for the match-edge tables).
    link_kind = np.full(len(features), None, dtype=object)
    link_rule = np.full(len(features), None, dtype=object)
    for i, k, r in reasons:
        link_kind[i], link_rule[i] = k, r
    features["link_kind"], features["link_rule"] = link_kind, link_rule
    if kind.name == "employer":
        # A cityless, keyless name that several employers carry is no evidence for any.
        blind = ambiguous_name_records(features)
        if blind.any():
            keep = ~(blind[edges["unique_id_l"].to_numpy()] | blind[edges["unique_id_r"].to_numpy()])
            edges = edges[keep].reset_index(drop=True)
    result = cluster(
        len(features), exact_keys=features[kind.exact_key],
        edges_l=edges["unique_id_l"].to_numpy(), edges_r=edges["unique_id_r"].to_numpy(),
        edges_p=edges["match_probability"].to_numpy(), threshold=model.threshold,
        edges_w=edges["match_weight"].to_numpy(), ambiguity_margin=model.ambiguity_margin,
        must_link=must, cannot_link=cannot)
    timings["cluster_s"] = time.perf_counter() - t
    features["cluster"] = result.labels
    override_rules.mark_refused(decided, result.labels)
    if explain_links:
        # The model pairs' comparisons are scored in the background, beside survivorship.
        t = time.perf_counter()
        pairs, comparisons = explain_clusters(kind, features, edges, result, model, decided,
                                              er_engine=er_engine, tf_tables=tf_tables)
        timings["explain_s"] = time.perf_counter() - t

    t = time.perf_counter()
    if previous is not None and len(previous):
        prev = features[["source", "source_key"]].merge(
            previous, on=["source", "source_key"], how="left")[kind.id_col]
        prev_list = [v if isinstance(v, str) else None for v in prev.tolist()]
    else:
        prev_list = [None] * len(features)
    assignment = assign_ids(result.labels.tolist(), prev_list, prefix=kind.prefix,
                            known_ids=known_ids or ())
    features[kind.id_col] = features["cluster"].map(assignment.ids)
    probability = np.where(result.exact | np.isnan(result.probability), np.nan,
                           result.probability)
    xref = pd.DataFrame({"source": features["source"], "source_key": features["source_key"],
                         kind.id_col: features[kind.id_col],
                         "match_probability": probability})
    if on_xref is not None:
        on_xref(xref)
    golden, sources = kind.survive(features,
                                   certificates if certificates is not None else pd.DataFrame())
    golden[kind.id_col] = golden["cluster"].map(assignment.ids)
    golden = golden[[kind.id_col, *kind.attributes]]
    sources.insert(0, kind.id_col, sources.pop("cluster").map(assignment.ids))
    timings["golden_s"] = time.perf_counter() - t
    timings["overrides_unknown"] = unknown
    match_edges = None
    if explain_links:
        t = time.perf_counter()
        match_edges = explain.edge_frame(kind.name, features, pairs, kind.id_col,
                                         comparisons(), run_id)
        timings["explain_s"] += time.perf_counter() - t
    return Resolution(features, edges, result, assignment, golden, xref, prev_list, timings,
                      int(repaired.sum()),
                      pd.DataFrame(reasons, columns=["unique_id", "link_kind", "rule"]),
                      match_edges, override_rules.applied_frame(kind.name, decided, run_id),
                      sources)


def explain_clusters(kind: EntityKind, features: pd.DataFrame, edges: pd.DataFrame,
                     result: ClusterResult, model: Model, decided: override_rules.Decisions,
                     *, er_engine: str = "duckdb", tf_tables: dict | None = None):
    """A spanning set of pairs per cluster, each with its kind and reason, and the call
    that returns the per-comparison weights of its model pairs (scored in the background;
    explain.edge_frame turns both into the rows of core.<kind>_match_edge)."""
    pairs = explain.spanning_pairs(kind.name, features, result.labels, edges, model.threshold,
                                   decided.must_info, result.refused)
    model_pairs = pairs[pairs["link_kind"] == "splink"]
    comparisons = explain.comparisons_later(
        model, features, model_pairs["l"].to_numpy(), model_pairs["r"].to_numpy(),
        engine=er_engine, tf_tables=tf_tables)
    return pairs, comparisons


_REPAIR_RULE = {
    "person": "typed ID one or two typos from the only valid ID of the same name (or its certificate's)",
    "employer": "cityless name of the only identified employer with that trade name",
}


def repair_keys(kind: str, features: pd.DataFrame,
                cannot_link: list[tuple[int, int]] | None = None) -> np.ndarray:
    """The deterministic key repair of an entity kind (see repair.py); repaired mask."""
    return KINDS[kind].repair(features, cannot_link or [])


def _read_rest(kind: EntityKind, engine: Engine) -> dict[str, Any]:
    """Everything a resolution reads besides the mentions (on its own connection: it runs
    in a background thread while the mentions' features are prepared)."""
    t = time.perf_counter()
    with engine.connect() as conn:
        out = {
            "certificates": (_read_bulk(conn, f"SELECT cert_number, status "
                                              f"FROM {kind.certificates}")
                             if kind.certificates else None),
            # The whole xref: its IDs carry over, and publishing writes only what changed.
            "previous": _read_bulk(conn, f"SELECT source, source_key, {kind.id_col}, "
                                         f"match_probability FROM {kind.xref}"),
            "old_golden": _read_bulk(conn, f"SELECT * FROM {kind.golden}"),
            "history": _read(conn, f"SELECT retired_id, current_id FROM {kind.history}"),
            "overrides": _read(conn, "SELECT override_id, source_a, key_a, source_b, key_b, "
                                     "decision, decided_by, reason, decided_at "
                                     "FROM core.link_override WHERE entity = :e", e=kind.name),
            "context": _employer_context(conn) if kind.name == "employer" else None,
            "employer_cores": _person_employers(conn) if kind.name == "person" else None,
        }
    out["seconds"] = time.perf_counter() - t
    return out


def _by_products(kind: EntityKind, model: Model, run: Resolution, var_dir: Path,
                 er_engine: str) -> dict[str, Any]:
    """The edge and link files and the model's charts: artefacts for people, written
    while the run publishes in its worker thread (they read nothing the publish writes)."""
    out: dict[str, Any] = {}
    try:
        _write_edges(kind.name, run.features, run.edges, var_dir)
        _write_links(kind.name, run.features, run.link_reasons, var_dir)
    except Exception as exc:  # the edge file is a by-product; never fail the run on it
        log.warning("could not write %s edges: %s", kind.name, type(exc).__name__)
    t = time.perf_counter()
    try:
        out["charts"] = [str(c) for c in save_charts(model, run.features, var_dir / "er",
                                                     engine=er_engine)]
    except Exception as exc:  # charts are artefacts for people; never fail the run
        log.warning("could not save %s charts: %s", kind.name, exc)
    out["charts_s"] = time.perf_counter() - t
    return out


def _resolve(kind: EntityKind, engine: Engine, er_engine: str, model: Model | None,
             var_dir: Path | None, run_id: str | None = None) -> dict[str, Any]:
    from concurrent.futures import ThreadPoolExecutor

    started = time.perf_counter()
    model = model or load_model(kind.name)

    # Two threads (psycopg2 and DuckDB release Python's lock while they work): the rest of
    # the inputs are read while the mentions' features are prepared and scored; the xref
    # is written while survivorship runs, the rest of the results while the by-products
    # (edge files, charts) are.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"er-{kind.name}") as pool:
        # Two connections at once: the other inputs (the employers' context rules read as
        # much as their mentions) beside the mentions; for persons the standardisers'
        # tables load first, while the mentions arrive.
        if kind.name == "person":
            pool.submit(warm_up_persons)
        rest = pool.submit(_read_rest, kind, engine)
        with engine.connect() as conn:
            mentions = _read_bulk(conn, f"SELECT {', '.join(kind.columns)}, delivery "
                                        f"FROM {kind.staging}")
        read_s = time.perf_counter() - started
        t = time.perf_counter()
        features = kind.prepare(mentions)
        prepare_s = time.perf_counter() - t
        del mentions

        def late_inputs() -> dict[str, Any]:
            """The other inputs, waited for once Splink has scored the pairs."""
            inputs = rest.result()
            old_golden, history = inputs["old_golden"], inputs["history"]
            known = set(old_golden[kind.id_col]) if len(old_golden) else set()
            known |= set(history["retired_id"]) | set(history["current_id"])
            return {**inputs, "known_ids": known}

        # The publishing transaction opens (and copies the xref) in the background as
        # soon as the stable IDs are known; survivorship and the match edges go on here.
        publisher = _Publisher(engine, kind, pool, stored=lambda: rest.result())
        try:
            run = resolve_frame(kind, features, model, er_engine=er_engine, prepared=True,
                                run_id=run_id, on_xref=publisher.begin,
                                late_inputs=late_inputs)
            run.timings["prepare_s"] = prepare_s
            inputs = rest.result()
            read_s += run.timings.pop("inputs_wait_s", 0.0)  # waited for after scoring
            golden, unchanged = _keep_updated_at(run.golden, inputs["old_golden"], kind)
            finished = publisher.finish(golden, run.xref, run.assignment.retired,
                                        run.match_edges, run.applied, run.attr_sources,
                                        unchanged)
            if var_dir is not None:  # here, while the worker publishes
                done = _by_products(kind, model, run, Path(var_dir), er_engine)
                run.timings["charts_s"] = done["charts_s"]
                if "charts" in done:
                    run.timings["charts"] = done["charts"]
            t = time.perf_counter()
            run.timings["edges_write_s"] = finished.result()
            run.timings["publish_wait_s"] = time.perf_counter() - t
            # The publishing transaction's own seconds (xref, then the rest).
            write_s = publisher.xref_s + publisher.rest_s
            run.timings["xref_write_s"] = publisher.xref_s
        finally:
            publisher.close()
    return _metrics(kind, model, er_engine, run, golden, inputs["overrides"],
                    {"read_s": read_s, "read_rest_s": inputs["seconds"], **run.timings,
                     "write_s": write_s, "total_s": time.perf_counter() - started})


def _person_employers(conn) -> dict:
    """Trade-name cores of the employers of each person mention (ID-less persons' evidence)."""
    employers = _read_bulk(conn, "SELECT source, source_key, name FROM staging.employer_mention "
                                 "WHERE source IN ('quota', 'hr', 'employment_service')")
    declared = _read_bulk(conn, "SELECT employee_record_id, declaration_id "
                                "FROM staging.declared_employment")
    pairs = _read_bulk(conn, "SELECT DISTINCT person_key, employer_key FROM staging.contribution")
    return person_employer_cores(employers, declared, pairs)


def _employer_context(conn) -> EmployerContext:
    """The facts the context rules read: offices, golden persons, employment months."""
    registrations = _read_bulk(
        conn, "SELECT r.registration_id, r.office, r.start_date, r.end_date, "
              "m.hukou_region_code FROM staging.employment_registration r "
              "LEFT JOIN staging.person_mention m ON m.source = 'employment_service' "
              "AND m.source_key = r.registration_id")
    person_xref = _read_bulk(conn, "SELECT source, source_key, person_id FROM core.person_xref "
                                   "WHERE source IN ('employment_service', 'quota', 'hr', 'org')")
    declared = _read_bulk(conn, "SELECT employee_record_id, declaration_id, declaration_year, "
                                "contract_start, contract_end FROM staging.declared_employment")
    contributions = _read_bulk(conn, "SELECT person_key, employer_key, min(period) AS first, "
                                     "max(period) AS last FROM staging.contribution "
                                     "GROUP BY person_key, employer_key")
    civil = _read_bulk(conn, "SELECT staff_key, joined_on, year FROM staging.civil_service")
    return build_context(registrations, person_xref, declared, contributions, civil)


def _metrics(kind: EntityKind, model: Model, er_engine: str, run: Resolution, golden: pd.DataFrame,
             overrides: pd.DataFrame, timings: dict[str, float]) -> dict[str, Any]:
    result, assignment, edges = run.result, run.assignment, run.edges
    new_ids = run.features[kind.id_col].tolist()
    unchanged = sum(1 for old, new in zip(run.previous_ids, new_ids, strict=True)
                    if old is not None and old == new)
    with_previous = sum(1 for old in run.previous_ids if old is not None)
    refused = pd.Series([r for _a, _b, r in result.refused], dtype="object").value_counts()
    probability = run.xref["match_probability"]
    unknown = int(timings.pop("overrides_unknown", 0))
    charts = timings.pop("charts", [])
    return {
        "model": model.name,
        "threshold": model.threshold,
        "engine": er_engine,
        "mentions": len(run.features),
        "entities": int(golden.shape[0]),
        f"{kind.name}s": int(golden.shape[0]),
        "exact_mentions": int(result.exact.sum()),
        "repaired_key_mentions": run.repaired,
        "relational_mentions": int((run.link_reasons["link_kind"] == "relational").sum())
        if run.link_reasons is not None else 0,
        "probabilistic_mentions": int(probability.notna().sum()),
        "scored_pairs": int(len(edges)),
        "pairs_above_threshold": int((edges["match_probability"] >= model.threshold).sum()),
        "refused_cannot_link": int(refused.get("cannot_link", 0)),
        "refused_different_keys": int(refused.get("different_keys", 0)),
        "refused_ambiguous": int(refused.get("ambiguous", 0)),
        "overrides": int(len(overrides)),
        "match_edges": int(len(run.match_edges)) if run.match_edges is not None else 0,
        "overrides_pending_applied": int((run.applied["outcome"] == "applied").sum())
        if run.applied is not None and len(run.applied) else 0,
        "overrides_unknown_mentions": unknown,
        "ids_kept": assignment.kept,
        "ids_minted": assignment.minted,
        "ids_retired": len(assignment.retired),
        "id_stability": round(unchanged / with_previous, 6) if with_previous else None,
        "charts": ", ".join(charts),
        **{k: round(v, 3) for k, v in timings.items()},
    }


def _keep_updated_at(golden: pd.DataFrame, old: pd.DataFrame, kind: EntityKind
                     ) -> tuple[pd.DataFrame, np.ndarray]:
    """updated_at moves only when a golden record's attributes changed; also which golden
    records are stored already as they are (a boolean array)."""
    golden = golden.copy()
    now = pd.Timestamp(dt.datetime.now(dt.UTC))
    if old.empty or golden.empty:
        golden["updated_at"] = now
        return golden, np.zeros(len(golden), dtype=bool)

    # Each golden record against the old one of its ID (IDs are unique on both sides),
    # attribute by attribute as text (a date from PostgreSQL equals its ISO string here):
    # column comparisons, no per-row hashing of text.
    at = pd.Index(old[kind.id_col].astype(str).to_numpy()).get_indexer(
        golden[kind.id_col].astype(str).to_numpy())
    found = at >= 0
    same = found.copy()
    rows = at[found]
    for col in kind.attributes:
        before = pa.array(old[col].astype("string").iloc[rows], from_pandas=True)
        after = pa.array(golden[col].astype("string")[found], from_pandas=True)
        equal = pc.fill_null(pc.equal(before, after), False)
        both_missing = pc.and_(pc.is_null(before), pc.is_null(after))
        same[found] &= pc.or_(equal, both_missing).to_numpy(zero_copy_only=False)
    kept = pd.to_datetime(old["updated_at"], utc=True).array
    updated = pd.Series(now, index=golden.index, dtype=kept.dtype)
    updated[same] = kept[at[same]]
    golden["updated_at"] = updated.array
    return golden, same


def _publish(engine: Engine, kind: EntityKind, golden: pd.DataFrame, xref: pd.DataFrame,
             retired: list[tuple[str, str]], match_edges: pd.DataFrame | None = None,
             applied: pd.DataFrame | None = None,
             attr_sources: pd.DataFrame | None = None) -> float:
    """Replace golden records, xref, attribute sources and match edges in one transaction;
    append to the ID history; record the overrides this run applied. Returns the seconds
    the edges took."""
    with engine.begin() as conn:
        _publish_xref(conn, kind, xref)
        return _publish_rest(conn, kind, golden, retired, match_edges, applied, attr_sources)


# Temporary tables (dropped at commit) of the keys a publish wrote or deleted: the only
# ones whose versions can change.
_XREF_WRITTEN = "tmp_ql_xref_written"
_GOLDEN_WRITTEN = "tmp_ql_golden_written"


def _stored_as_read(conn, table: str, rows: int) -> bool:
    """Whether `table` and its open versions hold `rows` rows each, as read before the
    lock: then only what changed need be written (anything else: the whole table)."""
    n, open_versions = conn.execute(sa.text(
        f"SELECT (SELECT count(*) FROM {table}), "
        f"(SELECT count(*) FROM {table}_version WHERE valid_to IS NULL)")).one()
    return n == rows and open_versions == rows


def _rewrite_changed(conn, table: str, keys: list[str], gone: pd.DataFrame,
                     rows: pd.DataFrame, written: str) -> None:
    """Delete the stored rows of `gone` (key columns), write `rows`, and leave every key
    deleted or written in the temporary table `written` (for the version comparisons)."""
    from warehouse.db import copy_frame_arrow

    columns = ", ".join(f"{k} text" for k in keys)
    on = " AND ".join(f"x.{k} = w.{k}" for k in keys)
    conn.execute(sa.text(f"CREATE TEMP TABLE {written} ({columns}) ON COMMIT DROP"))
    copy_frame_arrow(conn, written, gone[keys])
    conn.execute(sa.text(f"DELETE FROM {table} x USING {written} w WHERE {on}"))
    copy_frame_arrow(conn, table, rows)
    copy_frame_arrow(conn, written, rows[keys])
    conn.execute(sa.text(f"ANALYZE {written}"))


def _xref_changes(old: pd.DataFrame, xref: pd.DataFrame, kind: EntityKind
                  ) -> tuple[np.ndarray, pd.DataFrame]:
    """Which rows of the new xref are not stored as they are (a new key, another ID or
    another probability), and the stored keys to delete (gone, or to be rewritten).
    Probabilities compare as the doubles PostgreSQL holds (its text and Arrow's both
    round-trip exactly; NaN is written as NULL)."""
    def text(f: pd.DataFrame, col: str) -> pa.Array:
        return pa.array(f[col], type=pa.string(), from_pandas=True)

    def keys(f: pd.DataFrame) -> pa.Array:
        return pc.binary_join_element_wise(text(f, "source"), text(f, "source_key"), "\x1f")

    # Arrow's hash lookup, without a Python object per key (pandas' Index: twice the time).
    at = pc.index_in(keys(xref), value_set=keys(old)).fill_null(-1).to_numpy()
    found = at >= 0
    rows = at[found]
    same = found.copy()
    same[found] = pc.equal(text(old, kind.id_col).take(pa.array(rows)),
                           text(xref, kind.id_col).filter(pa.array(found))).fill_null(False).to_numpy(
                               zero_copy_only=False)
    before = pc.cast(text(old, "match_probability"), pa.float64()).to_numpy(
        zero_copy_only=False)[rows]
    after = xref["match_probability"].to_numpy(dtype="float64")[found]
    same[found] &= (before == after) | (np.isnan(before) & np.isnan(after))
    kept = np.zeros(len(old), dtype=bool)
    kept[at[same]] = True
    return ~same, old.loc[~kept, ["source", "source_key"]]


def _publish_xref(conn, kind: EntityKind, xref: pd.DataFrame,
                  stored: pd.DataFrame | None = None) -> bool:
    """The first half of publishing: lock, empty the match edges and attribute sources,
    write the xref and record its versions (none of which needs the golden records).

    With `stored` (the xref as read at the start of the run) only the rows that differ
    are deleted and written, and only their keys' versions compared; the table and its
    versions end as a full rewrite leaves them. Returns whether it went that way."""
    from warehouse.db import copy_frame_arrow
    from warehouse.history import after_xref

    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    conn.execute(sa.text(f"TRUNCATE core.{kind.name}_match_edge, core.{kind.name}_attr_source"))
    if stored is not None and len(stored) and _stored_as_read(conn, kind.xref, len(stored)):
        write, gone = _xref_changes(stored, xref, kind)
        _rewrite_changed(conn, kind.xref, ["source", "source_key"], gone, xref[write],
                         _XREF_WRITTEN)
        conn.execute(sa.text(f"ANALYZE {kind.xref}"))
        after_xref(conn, kind.name, within=_XREF_WRITTEN)
        return True
    conn.execute(sa.text(f"TRUNCATE {kind.xref}"))
    copy_frame_arrow(conn, kind.xref, xref)  # text and a float: Arrow writes it faster
    # Statistics of the table just replaced, before the statements below read it:
    # estimated from the truncated table, a join over the xref takes a nested loop of
    # index scans per employer (seconds at 60k persons, superlinear beyond).
    conn.execute(sa.text(f"ANALYZE {kind.xref}"))
    after_xref(conn, kind.name)
    return False


def _publish_rest(conn, kind: EntityKind, golden: pd.DataFrame,
                  retired: list[tuple[str, str]], match_edges: pd.DataFrame | None,
                  applied: pd.DataFrame | None, attr_sources: pd.DataFrame | None,
                  unchanged: np.ndarray | None = None,
                  stored: pd.DataFrame | None = None) -> float:
    """The second half, in the same transaction as _publish_xref: golden records,
    attribute sources, match edges, overrides applied, ID history, versions and cities.
    With `stored` (the golden records as read at the start of the run) and `unchanged`
    (which new ones equal their stored row) only the others are deleted and written, and
    only their versions compared. Returns the seconds the edges took."""
    from warehouse.db import copy_frame_arrow

    edge_table = f"core.{kind.name}_match_edge"
    source_table = f"core.{kind.name}_attr_source"
    within = None
    if (stored is not None and unchanged is not None and len(stored)
            and _stored_as_read(conn, kind.golden, len(stored))):
        within = _GOLDEN_WRITTEN
        gone = stored.loc[~stored[kind.id_col].isin(golden[kind.id_col][unchanged])]
        _rewrite_changed(conn, kind.golden, [kind.id_col], gone, golden[~unchanged], within)
    else:
        conn.execute(sa.text(f"TRUNCATE {kind.golden}"))
        # Arrow's writer, twice as fast as pandas' on the golden rows; their timestamps
        # (updated_at, microseconds, UTC) read back identical (bench/bench_resolve.py).
        copy_frame_arrow(conn, kind.golden, golden)
    if attr_sources is not None:
        copy_frame_arrow(conn, source_table, attr_sources)
    conn.execute(sa.text(f"ANALYZE {kind.golden}"))  # as the xref, in _publish_xref
    edges_s = time.perf_counter()
    if match_edges is not None:
        copy_frame_arrow(conn, edge_table, match_edges)
    edges_s = time.perf_counter() - edges_s
    if applied is not None and len(applied):
        # The first run that applied an override marks it no longer pending.
        conn.execute(sa.text(
            "INSERT INTO core.link_override_applied (override_id, entity, outcome, run_id) "
            "SELECT * FROM unnest(cast(:i as bigint[]), cast(:e as text[]), "
            "cast(:o as text[]), cast(:r as text[])) ON CONFLICT (override_id) DO NOTHING"),
            {"i": applied["override_id"].astype(int).tolist(),
             "e": applied["entity"].tolist(), "o": applied["outcome"].tolist(),
             "r": [applied["run_id"].iat[0]] * len(applied)})
    for old, new in retired:
        # Keep every retired ID one hop from a live one.
        conn.execute(sa.text(f"UPDATE {kind.history} SET current_id = :new "
                             "WHERE current_id = :old"), {"new": new, "old": old})
        conn.execute(sa.text(f"INSERT INTO {kind.history} (retired_id, current_id, reason) "
                             "VALUES (:old, :new, 'merge') ON CONFLICT (retired_id) "
                             "DO UPDATE SET current_id = EXCLUDED.current_id"),
                     {"new": new, "old": old})
    # Versions (as of a date), ID tokens and person cities, in the publishing transaction
    # (the xref's versions are recorded already).
    from warehouse.history import after_publish

    after_publish(conn, kind.name, xref_done=True, within=within)
    return edges_s


class _Publisher:
    """The publishing transaction of one run, on its own connection in a worker thread
    (psycopg2 releases Python's lock while PostgreSQL works): `begin` writes the xref
    while the caller computes the golden records, `finish` writes the rest and commits,
    `close` rolls back whatever was not committed. Every step runs in `pool`'s one
    thread, in the order submitted. `stored` returns what the run read of the published
    tables (`previous`, `old_golden`), so that only what changed is written."""

    def __init__(self, engine: Engine, kind: EntityKind, pool,
                 stored: Callable[[], dict[str, Any]] | None = None) -> None:
        self.engine, self.kind, self.pool = engine, kind, pool  # pool: one thread
        self.stored = stored
        self.conn = self.tx = self.begun = None
        self.xref_s = self.rest_s = 0.0
        self.xref_diff = False

    def begin(self, xref: pd.DataFrame) -> None:
        self.begun = self.pool.submit(self._begin, xref)

    def _begin(self, xref: pd.DataFrame) -> None:
        t = time.perf_counter()
        self.conn = self.engine.connect()
        self.tx = self.conn.begin()
        stored = self.stored()["previous"] if self.stored is not None else None
        self.xref_diff = _publish_xref(self.conn, self.kind, xref, stored)
        self.xref_s = time.perf_counter() - t

    def finish(self, golden: pd.DataFrame, xref: pd.DataFrame, *rest):
        """The future of the edges' seconds (the xref is written first if begin was not
        called: a run that never reached its stable IDs)."""
        if self.begun is None:
            self.begin(xref)
        return self.pool.submit(self._finish, golden, *rest)

    def _finish(self, golden: pd.DataFrame, retired, match_edges, applied, attr_sources,
                unchanged: np.ndarray | None = None) -> float:
        self.begun.result()  # ran first in this thread; re-raises its error
        t = time.perf_counter()
        stored = self.stored()["old_golden"] if self.stored is not None else None
        edges_s = _publish_rest(self.conn, self.kind, golden, retired, match_edges, applied,
                                attr_sources, unchanged, stored)
        self.tx.commit()
        self.rest_s = time.perf_counter() - t
        return edges_s

    def close(self) -> None:
        if self.begun is not None:
            self.pool.submit(self._close).result()

    def _close(self) -> None:
        if self.conn is not None:
            try:
                if self.tx is not None and self.tx.is_active:
                    self.tx.rollback()
            finally:
                self.conn.close()
                self.conn = self.tx = None


def resolve_persons(engine: Engine, *, er_engine: str = "duckdb", model: Model | None = None,
                    var_dir: Path | None = None, run_id: str | None = None) -> dict[str, Any]:
    """Link person mentions in staging and publish core.person, core.person_xref and
    core.person_match_edge (stamped with ``run_id``, the pipeline run).

    ``var_dir`` (the settings' QUOTALINK_VAR_DIR) receives the run's edges and charts;
    without it none are written."""
    return _resolve(PERSON, engine, er_engine, model, var_dir, run_id)


def resolve_employers(engine: Engine, *, er_engine: str = "duckdb",
                      model: Model | None = None, var_dir: Path | None = None,
                      run_id: str | None = None) -> dict[str, Any]:
    """Link employer mentions in staging and publish core.employer, core.employer_xref and
    core.employer_match_edge (``var_dir`` and ``run_id`` as for resolve_persons)."""
    return _resolve(EMPLOYER, engine, er_engine, model, var_dir, run_id)
