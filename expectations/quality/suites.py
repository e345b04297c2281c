"""Great Expectations suites for every warehouse table, generated from one schema registry.

Columns, types, keys and nullability come from ``warehouse.schema.metadata``; code lists,
ranges, identifier checks and integrity checks from ``data/suite_registry.csv``. Great
Expectations is imported lazily (≈ 3.5 s) inside ``validate_table``.
"""

import csv
import fnmatch
import functools
import html
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table

from quotalink.privacy import mask_id, mask_name, mask_phone, mask_text

log = logging.getLogger(__name__)
REGISTRY = Path(__file__).parent / "data" / "suite_registry.csv"
SAMPLE = 5
# Weights of the ISO 7064 MOD 11-2 check character of a resident ID number.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class CheckSpec:
    """One check of a table's suite, as plain data (no Great Expectations object)."""

    name: str
    kind: str  # columns, type, not_null, unique, in_set, between, regex, sql
    blocking: bool
    column: str | None = None
    columns: tuple[str, ...] = ()
    arg: Any = None
    note: str = ""


@dataclass
class CheckOutcome:
    """Result of validating one table: ``passed`` (all checks), ``blocking`` (a blocking
    check failed: downstream must not run) and JSON-safe ``metadata`` with counts and a few
    unexpected values, masked where they are personal data."""

    passed: bool
    blocking: bool
    metadata: dict[str, Any] = field(default_factory=dict)


@functools.cache
def _registry() -> list[dict[str, str]]:
    with open(REGISTRY, encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["table"] and not r["table"].startswith("#")]


def _metadata():
    from warehouse.schema import metadata  # noqa: PLC0415 - lead's package, cheap import

    return metadata


def tables() -> list[str]:
    """Every table of the warehouse schema as ``schema.table``."""
    return sorted(t.fullname for t in _metadata().sorted_tables)


def _table(name: str) -> Table:
    try:
        return _metadata().tables[name]
    except KeyError:
        raise KeyError(f"unknown warehouse table {name!r}") from None


def _rows_for(table: str) -> list[dict[str, str]]:
    return [r for r in _registry()
            if any(fnmatch.fnmatchcase(table, pat) for pat in r["table"].split("|"))]


def personal_columns(table: str) -> dict[str, str]:
    """Columns of the table holding personal data and their mask kind (id, name, phone)."""
    cols = set(_table(table).columns.keys())
    return {r["column"]: r["arg"] for r in _rows_for(table)
            if r["check"] == "personal" and r["column"] in cols}


def _type_name(col) -> str:
    from sqlalchemy.dialects import postgresql  # noqa: PLC0415

    name = col.type.compile(dialect=postgresql.dialect())
    # The inspector reports FLOAT columns as DOUBLE PRECISION.
    return {"FLOAT": "DOUBLE PRECISION"}.get(name, name)


def _id_check_sql(column: str) -> str:
    c = f'"{column}"'
    total = " + ".join(f"substr({c}, {i + 1}, 1)::int * {w}" for i, w in enumerate(_ID_WEIGHTS))
    return (f"select {c} from {{batch}} where {c} is not null and ("
            f"length({c}) <> 18 or substr({c}, 1, 17) !~ '^[0-9]+$' "
            f"or substr('10X98765432', (({total}) % 11) + 1, 1) <> substr({c}, 18, 1))")


def check_specs(table: str) -> list[CheckSpec]:
    """The checks of a table's suite: schema-derived ones first, then the registry's."""
    t = _table(table)
    cols = list(t.columns.keys())
    specs = [CheckSpec("columns_present", "columns", False, columns=tuple(cols))]
    specs += [CheckSpec(f"type:{c.name}", "type", False, column=c.name, arg=_type_name(c))
              for c in t.columns]
    pk = [c.name for c in t.primary_key.columns]
    for c in t.columns:
        if not c.nullable and not (c.server_default is not None or c.autoincrement is True):
            specs.append(CheckSpec(f"not_null:{c.name}", "not_null", c.name in pk,
                                   column=c.name))
    # A table without a primary key (a nullable key column) declares its key in the registry.
    key = pk or next((r["arg"].split(";") for r in _rows_for(table) if r["check"] == "key"), [])
    if key:
        specs.append(CheckSpec("key_unique:" + "+".join(key), "unique", True, columns=tuple(key)))
    for r in _rows_for(table):
        kind, col, arg = r["check"], r["column"] or None, r["arg"]
        blocking = r["blocking"] == "1"
        if kind in ("personal", "key") or (col and col not in cols):
            continue
        if kind == "in_set":
            values: list[Any] = arg.split(";")
            if str(t.columns[col].type).upper() in ("SMALLINT", "INTEGER", "BIGINT"):
                values = [int(v) for v in values]
            specs.append(CheckSpec(f"in_set:{col}", kind, blocking, column=col, arg=values))
        elif kind == "between":
            lo, hi = (float(v) for v in arg.split(";"))
            specs.append(CheckSpec(f"between:{col}", kind, blocking, column=col, arg=(lo, hi)))
        elif kind == "regex":
            specs.append(CheckSpec(f"format:{col}", kind, blocking, column=col, arg=arg))
        elif kind == "id_number":
            specs.append(CheckSpec(f"id_check_digit:{col}", "sql", blocking, column=col,
                                   arg=_id_check_sql(col), note=r["note"]))
        elif kind == "xref_complete":
            specs.append(CheckSpec("xref_complete", "sql", blocking, arg=(
                "with x as (select * from {batch}) "
                f"select m.source, m.source_key from staging.{arg}_mention m where not exists"
                " (select 1 from x where x.source = m.source"
                " and x.source_key = m.source_key)"), note=r["note"]))
        elif kind == "references":
            ref_schema, ref_table, ref_col = arg.split(".")
            specs.append(CheckSpec(f"references:{col}", "sql", blocking, column=col, arg=(
                f'with x as (select * from {{batch}}) '
                f'select x."{col}" from x where x."{col}" is not null and not exists'
                f' (select 1 from {ref_schema}.{ref_table} r where r."{ref_col}" = x."{col}")'
            ), note=r["note"]))
        elif kind == "reconciles":
            specs.append(CheckSpec("delivery_reconciles", "sql", blocking, arg=(
                "select source, delivery, rows_read, rows_loaded, rows_quarantined from {batch}"
                " where rows_read <> rows_loaded + rows_quarantined"), note=r["note"]))
        elif kind == "sql":
            specs.append(CheckSpec(f"sql:{r['note'] or len(specs)}", "sql", blocking, arg=arg,
                                   note=r["note"]))
        else:
            raise ValueError(f"suite registry: unknown check {kind!r} for {table}")
    return specs


def has_blocking_checks(table: str) -> bool:
    """Whether a table's suite holds a blocking check (for declaring Dagster checks)."""
    return any(s.blocking for s in check_specs(table))


def _expectation(spec: CheckSpec):
    import great_expectations.expectations as gxe  # noqa: PLC0415

    meta = {"check": spec.name, "blocking": spec.blocking}
    if spec.kind == "columns":
        return gxe.ExpectTableColumnsToMatchSet(column_set=list(spec.columns), exact_match=False,
                                                meta=meta)
    if spec.kind == "type":
        return gxe.ExpectColumnValuesToBeOfType(column=spec.column, type_=spec.arg, meta=meta)
    if spec.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=spec.column, meta=meta)
    if spec.kind == "unique":
        if len(spec.columns) == 1:
            return gxe.ExpectColumnValuesToBeUnique(column=spec.columns[0], meta=meta)
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(spec.columns), meta=meta)
    if spec.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=spec.column, value_set=spec.arg, meta=meta)
    if spec.kind == "between":
        return gxe.ExpectColumnValuesToBeBetween(column=spec.column, min_value=spec.arg[0],
                                                 max_value=spec.arg[1], meta=meta)
    if spec.kind == "regex":
        return gxe.ExpectColumnValuesToMatchRegex(column=spec.column, regex=spec.arg, meta=meta)
    if spec.kind == "sql":
        return gxe.UnexpectedRowsExpectation(unexpected_rows_query=spec.arg,
                                             description=spec.note or spec.name, meta=meta)
    raise ValueError(spec.kind)


_gx_lock = threading.Lock()
_contexts: dict[str, Any] = {}


def _context(engine: Engine):
    import great_expectations as gx  # noqa: PLC0415 - 3.5 s, only when validating
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415

    url = engine.url.render_as_string(hide_password=False)
    if url not in _contexts:
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        # add_sql, not add_postgres: the latter rejects unix-socket URLs (the embedded server).
        ctx.data_sources.add_sql("warehouse", connection_string=url)
        _contexts[url] = ctx
    return _contexts[url]


def _mask(value: Any, kind: str | None) -> Any:
    if value is None:
        return None
    if kind == "id":
        return mask_id(str(value))
    if kind == "name":
        return mask_name(str(value))
    if kind == "phone":
        return mask_phone(str(value))
    if isinstance(value, str):
        return mask_text(value)
    return value


def _sample(values: list[Any], kind: str | None, personal: dict[str, str]) -> list[Any]:
    out = []
    for v in values[:SAMPLE]:
        if isinstance(v, dict):
            out.append({k: _mask(x, personal.get(k)) for k, x in v.items()})
        else:
            out.append(_mask(v, kind))
    return out


# Kinds whose Great Expectations result reports the batch's row count (element_count).
_ROW_COUNTING = ("not_null", "unique", "in_set", "between", "regex")


def _validate(engine: Engine, table: str, specs: list[CheckSpec], source: str | None = None,
              complete: bool = True):
    import great_expectations as gx  # noqa: PLC0415

    schema, _, name = table.partition(".")
    ctx = _context(engine)
    ds = ctx.data_sources.get("warehouse")
    asset_name = f"{table}[{source}]" if source else table
    try:
        asset = ds.get_asset(asset_name)
    except LookupError:
        if source:
            asset = ds.add_query_asset(
                asset_name, query=f"select * from {schema}.{name} where source = '{source}'")
        else:
            asset = ds.add_table_asset(asset_name, table_name=name, schema_name=schema)
    try:
        batch_def = asset.get_batch_definition("whole")
    except (KeyError, LookupError, ValueError):
        batch_def = asset.add_batch_definition_whole_table("whole")
    suite = gx.ExpectationSuite(f"{asset_name}.suite")
    for spec in specs:
        suite.add_expectation(_expectation(spec))
    suite = ctx.suites.add_or_update(suite)
    # BOOLEAN_ONLY computes each check's unexpected count (bundled into one query where GE
    # can) and no unexpected values or rows; COMPLETE fetches those too, one scan per check.
    fmt = ({"result_format": "COMPLETE", "partial_unexpected_count": SAMPLE} if complete
           else {"result_format": "BOOLEAN_ONLY"})
    return batch_def.get_batch().validate(suite, result_format=fmt)


def _ge_order(specs: list[CheckSpec]) -> dict[str, int]:
    """Where each check's result comes in a validation of all `specs` (GE groups the
    expectations by their column, in order of first appearance; then the others)."""
    def column(s: CheckSpec) -> str | None:
        if s.kind in ("type", "not_null", "in_set", "between", "regex"):
            return s.column
        if s.kind == "unique" and len(s.columns) == 1:
            return s.columns[0]
        return None  # table-level expectations: GE's "_nocolumn" group

    groups: dict[str | None, list[str]] = {}
    for s in specs:
        groups.setdefault(column(s), []).append(s.name)
    return {name: i for i, name in enumerate(n for g in groups.values() for n in g)}


def _row_count(engine: Engine, table: str, source: str | None) -> int:
    """Rows of the batch a suite validates (the table, or one source's rows of it)."""
    import sqlalchemy as sa  # noqa: PLC0415

    schema, _, name = table.partition(".")
    sql = f'select count(*) from {schema}."{name}"' + (" where source = :s" if source else "")
    with engine.connect() as conn:
        return conn.execute(sa.text(sql), {"s": source}).scalar()


def _errors(info: Any) -> list[str]:
    """Exception messages of a result (GE nests them per metric)."""
    if not isinstance(info, dict):
        return []
    if "raised_exception" in info:
        return [str(info.get("exception_message"))] if info["raised_exception"] else []
    return [m for v in info.values() for m in _errors(v)]


def validate_table(engine: Engine, table: str, level: str = "all",
                   source: str | None = None, schema_checks: bool = True) -> CheckOutcome:
    """Validate one warehouse table with its generated suite.

    ``level``: ``all``, ``blocking`` (only blocking checks) or ``warning`` (only the others).
    ``source``: validate only that source's rows (of a table several sources stage);
    ``schema_checks=False`` leaves out the columns and types checks (a table's schema is
    the same for every source's part: one part checks it).
    The outcome's ``blocking`` is true when a blocking check failed. Metadata: rows,
    checks run, failures, and per failed check its unexpected count and up to five
    unexpected values, masked where the column holds personal data.
    """
    if source is not None and not re.fullmatch(r"[a-z_]+", source):
        raise ValueError(f"not a source id: {source!r}")
    specs = check_specs(table)
    if level == "blocking":
        specs = [s for s in specs if s.blocking]
    elif level == "warning":
        specs = [s for s in specs if not s.blocking]
    elif level != "all":
        raise ValueError("level must be all, blocking or warning")
    if not schema_checks:
        specs = [s for s in specs if s.kind not in ("columns", "type")]
    by_name = {s.name: s for s in specs}
    personal = personal_columns(table)
    started = time.perf_counter()
    # A source's part is a query on the table: its rows are checked there, while the schema
    # checks (columns, types) need the table itself, whose schema GE can reflect.
    schema_specs = [s for s in specs if source and s.kind in ("columns", "type")]
    row_specs = [s for s in specs if s not in schema_specs]
    results = []
    counted = False  # a row-counting check passed: its result would carry the row count
    with _gx_lock:
        # First every check's verdict only; then the complete results (counts, unexpected
        # values, rows) of the checks that failed, as one complete pass gives them: a check's
        # verdict and result do not depend on the other checks of the suite.
        for part, whole_table in ((schema_specs, True), (row_specs, False)):
            if not part:
                continue
            batch = None if whole_table else source
            again, raised = set(), False
            for r in _validate(engine, table, part, batch, complete=False).results:
                check = r.expectation_config.meta.get("check")
                if _errors(r.exception_info):
                    raised = True
                elif not r.success:
                    again.add(check)
                elif not whole_table and by_name[check].kind in _ROW_COUNTING:
                    counted = True
            if raised:
                # Where a check raised, GE orders and words the results as it resolved the
                # whole suite: the complete pass of the whole part, as before.
                results += [(r, whole_table) for r in _validate(engine, table, part, batch).results]
            elif again:
                subset = _validate(engine, table, [s for s in part if s.name in again], batch)
                order = _ge_order(part)
                results += sorted(((r, whole_table) for r in subset.results),
                                  key=lambda x: order[x[0].expectation_config.meta.get("check")])
    failed: dict[str, Any] = {}
    rows = None
    if counted:
        rows = _row_count(engine, table, source)
    for r, whole_table in results:
        check = r.expectation_config.meta.get("check")
        spec = by_name.get(check)
        res = r.to_json_dict().get("result") or {}
        if res.get("element_count") is not None and not whole_table:
            rows = res["element_count"]
        errors = _errors(r.exception_info)
        errored = bool(errors)
        if r.success and not errored:
            continue
        kind = personal.get(spec.column) if spec and spec.column else None
        entry: dict[str, Any] = {"blocking": bool(spec and spec.blocking)}
        if errored:
            entry["error"] = mask_text(errors[0][:300])
        if "unexpected_count" in res:
            entry["unexpected_count"] = res["unexpected_count"]
            entry["unexpected_sample"] = _sample(res.get("partial_unexpected_list") or [], kind,
                                             personal)
        details = res.get("details") or {}
        if "unexpected_rows" in details:
            entry["unexpected_count"] = res.get("observed_value")
            entry["unexpected_sample"] = _sample(details["unexpected_rows"], kind, personal)
        if spec and spec.kind in ("columns", "type"):
            entry["observed"] = res.get("observed_value")
            if spec.kind == "type":
                entry["expected"] = spec.arg
            if spec.kind == "columns":
                missing = sorted(set(spec.columns) - set(res.get("observed_value") or []))
                if not missing:
                    continue  # extra columns are allowed; only missing ones fail
                entry["missing"] = missing
        failed[check or "?"] = entry
    blocking = any(e["blocking"] for e in failed.values())
    meta = {
        "table": table, "source": source, "level": level, "rows": rows, "checks": len(specs),
        "checks_failed": len(failed), "blocking_failed": sorted(k for k, e in failed.items()
                                                               if e["blocking"]),
        "failures": failed, "seconds": round(time.perf_counter() - started, 2),
    }
    log.info("validated %s: %d checks, %d failed", table, len(specs), len(failed))
    return CheckOutcome(passed=not failed, blocking=blocking, metadata=meta)


def schema_signature(engine: Engine, table: str) -> str | None:
    """The table's columns and types as the database reports them (None: no such table):
    the columns and types checks of its suite read nothing else (GE reflects them)."""
    import sqlalchemy as sa  # noqa: PLC0415

    with engine.connect() as conn:
        if conn.execute(sa.text("select to_regclass(:t)"), {"t": table}).scalar() is None:
            return None
        rows = conn.execute(sa.text(
            "select attname, format_type(atttypid, atttypmod) from pg_attribute "
            "where attrelid = cast(:t as regclass) and attnum > 0 and not attisdropped "
            "order by attnum"), {"t": table}).all()
    return "\n".join(f"{n} {t}" for n, t in rows)


def passing_outcome(engine: Engine, table: str) -> CheckOutcome | None:
    """The outcome of ``validate_table(engine, table)`` when every row check passes, without
    Great Expectations; None when a check may fail (then GE must say how). The caller knows
    the columns and types checks pass (the schema is the one they last passed on).

    Each query counts the rows GE's condition for the check would count as unexpected
    (the same SQL as GE's for PostgreSQL); a compound key counts duplicates with NULLs
    grouped together, which finds at least every duplicate GE finds.
    """
    import sqlalchemy as sa  # noqa: PLC0415

    started = time.perf_counter()
    schema, _, name = table.partition(".")
    relation = f'{schema}."{name}"'
    specs = [s for s in check_specs(table) if s.kind not in ("columns", "type")]
    counts, exists, binds = ["count(*)"], [], {}
    for i, spec in enumerate(specs):
        c = f'"{spec.column}"' if spec.column else None
        if spec.kind == "not_null":
            counts.append(f"count(*) filter (where {c} is null)")
        elif spec.kind == "in_set":
            binds[f"v{i}"] = spec.arg
            counts.append(f"count(*) filter (where {c} is not null and not ({c} = any(:v{i})))")
        elif spec.kind == "between":
            binds[f"lo{i}"], binds[f"hi{i}"] = spec.arg
            counts.append(f"count(*) filter (where {c} is not null "
                          f"and not ({c} >= :lo{i} and {c} <= :hi{i}))")
        elif spec.kind == "regex":
            binds[f"re{i}"] = spec.arg
            counts.append(f"count(*) filter (where {c} is not null and not ({c} ~ :re{i}))")
        elif spec.kind == "unique":
            cols = ", ".join(f'"{k}"' for k in spec.columns)
            if len(spec.columns) == 1:
                counts.append(f"count({cols}) - count(distinct {cols})")
            else:
                exists.append(f"select 1 from {relation} group by {cols} having count(*) > 1")
        elif spec.kind == "sql":
            exists.append(spec.arg.replace("{batch}", f"(select * from {relation}) as subselect"))
        else:
            return None
    sql = f"select {', '.join(counts)}"
    sql += "".join(f", exists ({q})" for q in exists) + f" from {relation}"
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text(sql), binds).one()
    except sa.exc.DBAPIError:
        return None  # GE would report the error: let it
    if any(row[1:]):
        return None
    counted = any(s.kind in _ROW_COUNTING for s in specs)
    meta = {"table": table, "source": None, "level": "all", "rows": row[0] if counted else None,
            "checks": len(check_specs(table)), "checks_failed": 0, "blocking_failed": [],
            "failures": {}, "seconds": round(time.perf_counter() - started, 2)}
    return CheckOutcome(passed=True, blocking=False, metadata=meta)


def split_levels(outcome: CheckOutcome, table: str,
                 schema_checks: bool = True) -> dict[str, CheckOutcome]:
    """The blocking and the warning outcome of one validation at level ``all`` (one pass
    over the rows serves both Dagster checks of a table)."""
    specs = [s for s in check_specs(table)
             if schema_checks or s.kind not in ("columns", "type")]
    out = {}
    for level, want in (("blocking", True), ("warning", False)):
        failed = {k: v for k, v in outcome.metadata["failures"].items() if v["blocking"] == want}
        out[level] = CheckOutcome(passed=not failed, blocking=want and bool(failed), metadata={
            **outcome.metadata, "level": level,
            "checks": sum(1 for s in specs if s.blocking == want),
            "checks_failed": len(failed), "failures": failed,
            "blocking_failed": sorted(failed) if want else []})
    return out


def merge_outcomes(parts: list[CheckOutcome]) -> CheckOutcome:
    """One table's outcome from the outcomes of its parts (e.g. blocking and warning levels)."""
    failures: dict[str, Any] = {}
    for p in parts:
        failures.update(p.metadata.get("failures") or {})
    rows = next((p.metadata.get("rows") for p in parts if p.metadata.get("rows") is not None), None)
    return CheckOutcome(
        passed=all(p.passed for p in parts),
        blocking=any(p.blocking for p in parts),
        metadata={"rows": rows, "checks": sum(p.metadata.get("checks", 0) for p in parts),
                  "failures": failures},
    )


def merge_sources(parts: dict[str | None, CheckOutcome]) -> CheckOutcome:
    """One table's outcome from the outcomes of its sources' parts (disjoint rows: the
    row counts add up; a failed check is named with its source)."""
    if list(parts) == [None]:
        return parts[None]
    failures: dict[str, Any] = {}
    for source, p in parts.items():
        failures.update({f"{source}: {k}": v for k, v in (p.metadata.get("failures") or {}).items()})
    rows = [p.metadata.get("rows") for p in parts.values()]
    return CheckOutcome(
        passed=all(p.passed for p in parts.values()),
        blocking=any(p.blocking for p in parts.values()),
        metadata={"rows": None if None in rows else sum(rows),
                  "checks": sum(p.metadata.get("checks", 0) for p in parts.values()),
                  "failures": failures},
    )


def docs_tables() -> list[str]:
    """The tables the data-docs page shows, in its order."""
    return [t for t in tables() if t.split(".")[0] in ("raw", "staging", "core", "mart", "review", "ops")]


def build_data_docs(engine: Engine, out_dir: str | Path = "var/gx",
                    tables_: list[str] | None = None,
                    known: dict[str, CheckOutcome] | None = None) -> Path:
    """Validate the tables and write a self-contained HTML summary (``index.html``).

    Great Expectations' own Data Docs load CSS/JS from CDNs and render unstyled offline,
    so the page is our own: one row per table, each failed check with its masked sample.
    ``known`` holds outcomes already computed in this process (the run's asset checks):
    those tables are not validated again.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = tables_ or docs_tables()
    known = known or {}
    outcomes = [(t, known[t] if t in known else validate_table(engine, t)) for t in names]
    parts = ["<!doctype html><meta charset='utf-8'><title>QuotaLink data quality</title>",
             "<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse}"
             "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}"
             ".ok{color:#060}.warn{color:#a60}.block{color:#b00;font-weight:bold}"
             "pre{margin:0;white-space:pre-wrap}</style>",
             "<h1>QuotaLink data quality</h1>",
             f"<p>{len(outcomes)} tables validated; "
             f"{sum(not o.passed for _, o in outcomes)} with failed checks; "
             f"{sum(o.blocking for _, o in outcomes)} blocking.</p>",
             "<table><tr><th>table</th><th>rows</th><th>checks</th><th>status</th>"
             "<th>failed checks (masked samples)</th></tr>"]
    for name, o in outcomes:
        status = ("<span class='block'>BLOCKING</span>" if o.blocking else
                  "<span class='ok'>passed</span>" if o.passed else
                  "<span class='warn'>warning</span>")
        fails = "".join(
            f"<pre>{html.escape(k)}: {html.escape(str(v))}</pre>"
            for k, v in o.metadata["failures"].items())
        parts.append(f"<tr><td>{html.escape(name)}</td><td>{o.metadata['rows']}</td>"
                     f"<td>{o.metadata['checks']}</td><td>{status}</td><td>{fails}</td></tr>")
    parts.append("</table>")
    index = out / "index.html"
    index.write_text("\n".join(parts), encoding="utf-8")
    return index
