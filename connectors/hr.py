"""hr: social-insurance employers, insured persons and contributions pulled from a SQL database."""

import datetime as dt
import hashlib
import itertools
import json
import logging
import re
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg2.errors
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from connectors.base import (
    _UNREADABLE,
    Delivery,
    Lander,
    LoadResult,
    QuarantineRow,
    Record,
    audit_state,
    clean_texts,
    write_audit,
    write_quarantine,
)
from connectors.mentions import employer_mention, person_fields, person_mention
from connectors.staging import Context, SqlStage, StageReport, stage_pending, text
from quotalink.contracts import HR_AB01, HR_AC01, HR_AC08, RawTable
from quotalink.errors import ConfigError
from quotalink.standardise import (
    normalise_org_code,
    normalise_region_code,
    normalise_uscc,
    org_code_of_uscc,
)
from warehouse.db import copy_batches, upsert_rows

log = logging.getLogger(__name__)
SOURCE = "hr"
TABLES: tuple[RawTable, ...] = (HR_AB01, HR_AC01, HR_AC08)
WATERMARK_COLUMN = "aae036"
# Rows committed late can carry an aae036 below what the last pull saw: re-read this margin.
OVERLAP = dt.timedelta(days=1)
CHUNK = 50_000  # rows per fetch from the source
# aab019 单位类型 → canonical unit type of employer mentions.
UNIT_TYPES = {
    "10": "enterprise", "30": "organ", "50": "public_institution", "55": "social_organisation",
    "60": "social_organisation", "70": "individual_business",
}
PAID = {"1": True, "0": False}


def source_table(spec: RawTable) -> str:
    """The source table name of a raw table (raw.hr_ac08 ← ac08)."""
    return spec.table.removeprefix("hr_")


def open_source(url: str) -> Engine | None:
    """An engine on the HR database; None when the offline SQLite delivery is absent.

    SQLite files are opened read-only so that a missing path is never created.
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or not path.is_file():
            return None
        uri = f"file:{path.resolve()}?mode=ro"
        return sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    return sa.create_engine(url, pool_pre_ping=True)


def _render(value: object) -> str | None:
    """A source value as raw text; timestamps always as 'YYYY-MM-DD HH:MM:SS[.ffffff]'."""
    kind = type(value)  # exact-type fast paths: this runs for every cell of ac08
    if kind is str:
        return value if value and not value.isspace() else None
    if kind is int:
        return str(value)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text_value = str(value)
    return text_value if text_value.strip() else None


def _render_ts(value: object) -> str | None:
    if type(value) is str and _canonical_ts(value):
        return value  # already 'YYYY-MM-DD HH:MM:SS': what the parse and re-format below give
    rendered = _render(value)
    if rendered is None:
        return None
    # SQLite keeps timestamps as text ('T' or ' ', with or without microseconds): one spelling.
    try:
        return dt.datetime.fromisoformat(rendered.strip()).isoformat(sep=" ")
    except ValueError:
        return rendered.strip()


def _canonical_ts(text_value: str) -> bool:
    # ASCII digits in the fixed positions only: any such text either parses and re-formats
    # to itself or fails to parse and is kept as it is; both give the text back unchanged.
    return (len(text_value) == 19 and text_value.isascii() and text_value[4] == "-" and text_value[7] == "-"
            and text_value[10] == " " and text_value[13] == ":" and text_value[16] == ":"
            and (text_value[:4] + text_value[5:7] + text_value[8:10] + text_value[11:13]
                 + text_value[14:16] + text_value[17:]).isdigit())


def _watermark(conn: Connection, stream: str) -> str | None:
    return conn.execute(
        sa.text("select value from ops.watermark where source = :s and stream = :t"),
        {"s": SOURCE, "t": stream},
    ).scalar()


def _set_watermark(conn: Connection, stream: str, value: str) -> None:
    conn.execute(
        sa.text(
            "insert into ops.watermark (source, stream, value) values (:s, :t, :v) "
            "on conflict (source, stream) do update set value = excluded.value, updated_at = now() "
            "where ops.watermark.value < excluded.value"
        ),
        {"s": SOURCE, "t": stream, "v": value},
    )


def _columns(src: Engine, spec: RawTable) -> tuple[str, dict[str, str]]:
    """The source table's real name and its columns (lower-cased name → real name)."""
    inspector = sa.inspect(src)
    wanted = source_table(spec)
    names = {n.lower(): n for n in inspector.get_table_names()}
    if wanted not in names:
        raise LookupError(f"table {wanted} not found in the HR database")
    real = names[wanted]
    return real, {c["name"].lower(): c["name"] for c in inspector.get_columns(real)}


def _window_query(src: Engine, table: str, columns: dict[str, str], since: dt.datetime | None):
    """SELECT of every column, restricted to aae036 >= since when there is a watermark."""
    cols = [sa.column(real) for real in columns.values()]
    query = sa.select(*cols).select_from(sa.table(table))
    if since is not None:
        ts = sa.column(columns[WATERMARK_COLUMN])
        if src.dialect.name == "sqlite":
            # Text timestamps: compare in one spelling ('YYYY-MM-DD HH:MM:SS').
            query = query.where(sa.func.replace(ts, "T", " ") >= since.isoformat(sep=" "))
        else:
            query = query.where(ts >= since)
    return query


def _compiled(src: Engine, query) -> tuple[str, object]:
    """The window query as the source driver's SQL text and parameters."""
    compiled = query.compile(dialect=src.dialect)
    params = compiled.construct_params()
    if compiled.positional:
        return str(compiled), tuple(params[k] for k in compiled.positiontup)
    return str(compiled), params


def _batches(src_conn, src: Engine, query, size: int) -> Iterator[list[tuple]]:
    """The window's rows as the driver gives them, size at a time, through a cursor that
    streams (server-side on PostgreSQL and MySQL): no per-row objects of SQLAlchemy's."""
    dbapi = src_conn.connection.driver_connection
    name = src.dialect.name
    if name == "postgresql" and hasattr(dbapi, "cursor"):
        try:
            cursor = dbapi.cursor(name="quotalink_hr_window")
            cursor.itersize = size
        except TypeError:  # a PostgreSQL driver without named (server-side) cursors
            cursor = dbapi.cursor()
    elif name in ("mysql", "mariadb") and src.dialect.driver == "pymysql":
        import pymysql.cursors

        cursor = dbapi.cursor(pymysql.cursors.SSCursor)
    else:
        cursor = dbapi.cursor()
    sql, params = _compiled(src, query)
    try:
        cursor.execute(sql, params)
        while True:
            batch = cursor.fetchmany(size)
            if not batch:
                return
            yield batch
    finally:
        cursor.close()


_NONE = type(None)


def _render_column(values: tuple) -> tuple | list:
    """_render over one column of a batch, by the column's types (one check per batch)."""
    kinds = set(map(type, values))
    if kinds <= {int, _NONE}:
        return values  # the COPY writer renders ints as _render does, None as NULL
    if kinds <= {str, _NONE}:
        return [v if v and not v.isspace() else None for v in values]
    if kinds == {float}:
        return [str(int(v)) if v.is_integer() else str(v) for v in values]
    return list(map(_render, values))


def _render_key_column(values: tuple) -> list:
    """_render over the key column (always text: it is also the row's row_ref)."""
    if set(map(type, values)) == {int}:
        return list(map(str, values))
    return list(map(_render, values))


# A column of 'YYYY-MM-DD HH:MM:SS' texts, one per line: _render_ts gives each back as it is.
_CANONICAL_TS_LINES = re.compile(r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\n)*")


def _render_ts_column(values: tuple) -> list:
    """_render_ts over one column of a batch; a column of canonical texts in one match."""
    if set(map(type, values)) == {str} and _CANONICAL_TS_LINES.fullmatch("\n".join(values) + "\n"):
        return list(values)
    return list(map(_render_ts, values))


class _NotColumnar(Exception):
    """The source holds what the columnar pull would not render as the per-row one does."""


# SQLite storage classes the Arrow pull renders; a column holding a blob, or two classes, is
# read by the DBAPI (ADBC's SQLite driver converts a batch's mixed values to one type).
_ARROW_CLASSES = {"integer": "int64", "real": "double", "text": "string"}


def _arrow_batches(src_conn, table: str, columns: dict[str, str], size: int) -> Iterator | None:
    """A first pull of a SQLite table as Arrow batches (ADBC, no Python object per value),
    columns in the order of `columns`; None when this source is not one it reads."""
    if src_conn.dialect.name != "sqlite":
        return None
    try:
        import adbc_driver_sqlite.dbapi as adbc_sqlite

        from connectors import columnar  # noqa: F401  (pyarrow)
    except ImportError:
        return None
    files = [r[2] for r in src_conn.exec_driver_sql("pragma database_list") if r[1] == "main"]
    if not files or not files[0]:
        return None  # an in-memory database: only this connection sees it
    q = '"{}"'.format
    classes = {}
    for real in columns.values():
        kind = src_conn.exec_driver_sql(
            f"select typeof({q(real)}) from {q(table)} where {q(real)} is not null limit 1").scalar()
        if kind is not None and kind not in _ARROW_CLASSES:
            return None
        classes[real] = kind
    # One guard column: any value of another class than its column's first one ends the pull.
    mixed = " or ".join(f"typeof({q(real)}) not in ('null'{f', {kind!r}' if kind else ''})"
                        for real, kind in classes.items())
    sql = f"select {', '.join(map(q, columns.values()))}, ({mixed}) from {q(table)}"
    expected = [pa_type for kind in classes.values() for pa_type in [_ARROW_CLASSES.get(kind)]]
    return _adbc_batches(adbc_sqlite, files[0], sql, size, expected)


def _adbc_batches(adbc_sqlite, path: str, sql: str, size: int, expected: list[str | None]) -> Iterator:
    import pyarrow as pa
    import pyarrow.compute as pc

    with adbc_sqlite.connect(f"file:{path}?mode=ro") as conn, conn.cursor() as cursor:
        cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(size)})
        try:
            cursor.execute(sql)
            reader = cursor.fetch_record_batch()
            for batch in reader:
                *cols, mixed = batch.columns
                if pc.max(mixed).as_py():
                    raise _NotColumnar("a column holds values of two storage classes")
                for c, want in zip(cols, expected, strict=True):
                    if str(c.type) != (want or str(c.type)) or (want is None and c.null_count != len(c)):
                        raise _NotColumnar(f"column read as {c.type}, not {want}")
                    if want == "string":
                        c.validate(full=True)  # text that is not UTF-8: the DBAPI names it
                yield cols
        except (pa.ArrowException, adbc_sqlite.Error, OSError) as exc:
            raise _NotColumnar(str(exc)) from None


def _parse_watermark(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


class _Window:
    """The rows of one pull of one table that are new or changed since the last pull."""

    def __init__(self, conn: Connection, spec: RawTable, watermark: str | None):
        self.conn, self.spec, self.watermark = conn, spec, watermark
        self.top: str | None = None
        self.unchanged = 0

    def records(self, result, columns: dict[str, str]) -> Iterator[Record]:
        """Records of the streamed result; rows re-read in the overlap and unchanged are dropped."""
        lower = list(columns)
        at = lower.index(WATERMARK_COLUMN)
        render, render_ts = _render, _render_ts
        n = 0
        for part in result.partitions():
            rows = []
            top = self.top
            for values in part:
                rec = dict(zip(lower, map(render, values), strict=True))
                rec[WATERMARK_COLUMN] = ts = render_ts(values[at])
                if ts is not None and (top is None or ts > top):
                    top = ts
                rows.append(rec)
            self.top = top
            n += len(rows)
            yield from self._fresh(rows, n - len(rows))

    def raw_batches(self, batches: Iterator[list[tuple]], columns: dict[str, str], lander: Lander,
                    offset: int = 0) -> Iterator:
        """The raw rows of a first pull (no watermark: every row is new), batch by batch:
        what lander.rows() gives for the records of records(), its per-row checks replaced
        by one screen per batch where the batch passes it."""
        lower = list(columns)
        at = lower.index(WATERMARK_COLUMN)
        ki = lower.index(self.spec.key)
        wanted = [lower.index(c) if c in lower else None for c in (*self.spec.extra_raw_columns, *self.spec.columns)]
        unknown = [(c, lower.index(c)) for c in lander._unknown or ()]
        exact = {at, ki, *(i for _, i in unknown)}  # rendered value by value, as records() does
        name, limit = lander.delivery.name, lander.max_field_chars
        for batch in batches:
            n = len(batch)
            cols = [_render_ts_column(c) if i == at else _render_key_column(c) if i == ki
                    else list(map(_render, c)) if i in exact else _render_column(c)
                    for i, c in enumerate(zip(*batch, strict=True))]
            top = max(filter(None, cols[at]), default=None)
            if top is not None and (self.top is None or top > self.top):
                self.top = top
            keys = cols[ki]
            if (None in keys or _UNREADABLE.search("".join(keys))
                    or not all(clean_texts(list(filter(None, c)), limit) for c in cols if type(c) is list)):
                # Something to set aside in this batch: record by record, as records() gives them.
                records = []
                for j, values in enumerate(batch, offset + 1):
                    rec = dict(zip(lower, map(_render, values), strict=True))
                    rec[WATERMARK_COLUMN] = _render_ts(values[at])
                    k = rec.get(self.spec.key)
                    records.append(Record(k if k is not None else f"row {j} of the window", rec))
                offset += n
                yield list(lander.rows(records))
                continue
            offset += n
            lander.rows_read += n
            lander.rows_loaded += n
            nones = [None] * n
            extras = nones
            if unknown:
                extras = [json.dumps(e, ensure_ascii=False) if e else None
                          for e in ({c: v for (c, _), v in zip(unknown, vals, strict=True) if v is not None}
                                    for vals in zip(*[cols[i] for _, i in unknown], strict=True))]
            yield zip([name] * n, keys, *[cols[i] if i is not None else nones for i in wanted], extras,
                      strict=True)

    def arrow_raw_batches(self, batches: Iterator[list], columns: dict[str, str], lander: Lander) -> Iterator:
        """What raw_batches yields for the same rows read as Arrow columns, a batch that
        passes the screen as its COPY text (no Python object per value)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        from connectors import columnar

        if lander._unknown:
            raise _NotColumnar("extra columns")  # their JSON is written row by row
        lower = list(columns)
        at = lower.index(WATERMARK_COLUMN)
        ki = lower.index(self.spec.key)
        wanted = [lower.index(c) if c in lower else None for c in (*self.spec.extra_raw_columns, *self.spec.columns)]
        name, limit = lander.delivery.name, lander.max_field_chars
        text = pa.string()

        def rendered(i: int, c: pa.Array) -> tuple[pa.Array, bool]:
            """The column as raw text, and whether raw_batches screens it (the per-row
            renderer gives ints of a column other than ts and key back as ints, unscreened)."""
            kind = c.type
            if c.null_count == len(c):
                return pa.nulls(len(c), text), False
            if i == at:
                if kind == text and columnar.canonical_timestamps(c):
                    return c, True
                return pa.array(list(map(_render_ts, c.to_pylist())), text), True
            if pa.types.is_integer(kind):
                return pc.cast(c, text), i == ki
            if kind == text:
                return columnar.blank_to_null(c), True
            whole = columnar.whole_doubles_as_text(c) if pa.types.is_floating(kind) else None
            if whole is None:
                whole = pa.array(list(map(_render, c.to_pylist())), text)
            return whole, True

        offset = 0
        for batch in batches:
            n = len(batch[0])
            cols, screened = zip(*(rendered(i, c) for i, c in enumerate(batch)), strict=True)
            top = pc.max(cols[at]).as_py()
            if top is not None and (self.top is None or top > self.top):
                self.top = top
            keys = cols[ki]
            if not (columnar.keys_readable(keys)
                    and all(columnar.clean(c, limit) for c, s in zip(cols, screened, strict=True) if s)):
                rows = list(zip(*[c.to_pylist() for c in batch], strict=True))
                yield from self.raw_batches(iter([rows]), columns, lander, offset)
                offset += n
                continue
            offset += n
            lander.rows_read += n
            lander.rows_loaded += n
            nulls = pa.nulls(n, text)
            yield columnar.csv_bytes([pa.repeat(pa.scalar(name, text), n), keys,
                                      *[cols[i] if i is not None else nulls for i in wanted], nulls])

    def _fresh(self, rows: list[dict], offset: int) -> Iterator[Record]:
        key = self.spec.key
        seen: dict[str, str | None] = {}
        if self.watermark is not None:
            old = [r[key] for r in rows if r.get(key) and (r[WATERMARK_COLUMN] or "") <= self.watermark]
            if old:
                seen = dict(
                    self.conn.execute(
                        sa.text(
                            f'select "{key}", "{WATERMARK_COLUMN}" from raw."{self.spec.table}" '
                            f'where "{key}" = any(:k)'
                        ),
                        {"k": old},
                    ).all()
                )
        for i, rec in enumerate(rows, offset + 1):
            k = rec.get(key)
            ts = rec[WATERMARK_COLUMN]
            if k is not None and k in seen and seen[k] == ts:
                self.unchanged += 1
                continue
            if k is None and self.watermark is not None and ts is not None and ts <= self.watermark:
                # A keyless row below the watermark was quarantined by the pull that saw it.
                self.unchanged += 1
                continue
            yield Record(k if k is not None else f"row {i} of the window", rec)


def _reject_table(conn: Connection, spec: RawTable, reason: str) -> LoadResult | None:
    """Reject a table whole (schema drift), once per distinct reason."""
    name = f"{spec.table}:schema"
    digest = hashlib.sha256(reason.encode()).hexdigest()
    state = audit_state(conn, SOURCE, name)
    if state is not None and state["content_sha256"] == digest:
        return None
    log.error("hr/%s rejected: %s", spec.table, reason)
    write_quarantine(conn, [QuarantineRow(SOURCE, name, None, None, f"delivery rejected: {reason}",
                                          source_table(spec))])
    write_audit(conn, SOURCE, name, spec.table, digest, 0, 0, 0, "rejected", {"reason": reason})
    return LoadResult(SOURCE, name, "rejected", reason=reason)


def load_table(engine: Engine, src: Engine, spec: RawTable, overlap: dt.timedelta = OVERLAP,
               chunk: int = CHUNK) -> LoadResult | None:
    """Pull one table from its watermark (minus the overlap); None when nothing is new."""
    try:
        table, columns = _columns(src, spec)
        missing = [c for c in spec.required if c not in columns]
        if missing:
            raise LookupError(f"table {source_table(spec)}: missing required column(s) {', '.join(missing)}")
    except LookupError as exc:
        with engine.begin() as conn:
            return _reject_table(conn, spec, str(exc))
    with engine.connect() as conn:
        mark = _watermark(conn, spec.table)
    last = _parse_watermark(mark) if mark else None
    since_dt = last - overlap if last else None
    with engine.connect() as conn:
        pulled = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        since_text = since_dt.isoformat(sep=" ") if since_dt else "start"
        delivery = Delivery(SOURCE, f"{spec.table}:{since_text}..{pulled}", since_text)
        trans = conn.begin()
        query = _window_query(src, table, columns, since_dt)
        # A first pull into an empty table COPYs straight into it; should the source repeat
        # a key after all (its table without a primary key), it is pulled again by upsert.
        direct = mark is None and not conn.execute(
            sa.text(f'select exists (select 1 from raw."{spec.table}")')).scalar()
        columnar = direct  # the Arrow pull, when a savepoint can undo it
        while True:
            lander = Lander(conn, spec, delivery)
            lander.check_header(list(columns))  # required columns are there; names the extra ones
            lander._dedupe_on = ()  # a source database's key is unique per window: no need to remember rows
            window = _Window(conn, spec, mark)
            savepoint = conn.begin_nested() if direct else None
            try:
                with src.connect() as src_conn:
                    _pull(conn, src, src_conn, query, spec, columns, window, lander, chunk, direct,
                          table if columnar else None)
            except _NotColumnar as exc:
                savepoint.rollback()
                log.info("hr/%s: read row by row (%s)", spec.table, exc)
                columnar = False
                continue
            except psycopg2.errors.UniqueViolation:
                if savepoint is None:
                    raise
                savepoint.rollback()
                log.warning("hr/%s: the source repeats a key; pulled again by upsert", spec.table)
                direct = False
                continue
            if savepoint is not None:
                savepoint.commit()
            break
        if lander.rows_read == 0:
            # Nothing new in the window: no delivery, no audit row, watermark as it was.
            trans.rollback()
            log.info("hr/%s: nothing new since %s", spec.table, mark)
            return None
        outcome = lander.finish(None)
        if window.top:
            _set_watermark(conn, spec.table, window.top)
        trans.commit()
    log.info("hr/%s: %d new or changed row(s), %d re-read unchanged, %d quarantined",
             spec.table, outcome.rows_loaded, window.unchanged, outcome.rows_quarantined)
    return outcome


def _pull(conn: Connection, src: Engine, src_conn, query, spec: RawTable, columns: dict[str, str],
          window: _Window, lander: Lander, chunk: int, direct: bool, arrow_table: str | None = None) -> None:
    """Read the window and write it: COPY into the raw table, or upsert chunk by chunk.
    With arrow_table (a first pull COPYed in), the source table is read as Arrow where it can be."""
    arrow = _arrow_batches(src_conn, arrow_table, columns, chunk) if arrow_table else None
    if arrow is not None:
        batches = window.arrow_raw_batches(arrow, columns, lander)
    elif window.watermark is None:
        batches = window.raw_batches(_batches(src_conn, src, query, chunk), columns, lander)
    else:
        # Incremental windows compare rows with what raw holds: record by record.
        result = src_conn.execution_options(stream_results=True, yield_per=chunk).execute(query)
        batches = _chunked(lander.rows(window.records(result, columns)), chunk)
    if direct:
        copy_batches(conn, f"raw.{spec.table}", lander._raw_columns, batches)
        return
    # Upsert batch by batch: the window can be the whole of ac08 on a first pull, and a
    # window's rows are unique by key, so batches never compete.
    for batch in batches:
        upsert_rows(conn, f"raw.{spec.table}", lander._raw_columns, batch, [spec.key])


def _chunked(rows: Iterator, size: int) -> Iterator[list]:
    rows = iter(rows)
    while part := list(itertools.islice(rows, size)):
        yield part


def load_url(engine: Engine, url: str, overlap: dt.timedelta = OVERLAP, chunk: int = CHUNK,
             required: bool = True) -> list[LoadResult]:
    """Pull ab01, ac01 and ac08 from the database at url (any SQLAlchemy URL)."""
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    src = open_source(url)
    if src is None:
        if required:
            raise ConfigError(f"HR_DB_URL: no SQLite database at {shown}")
        log.info("hr: no offline delivery at %s, nothing to pull", shown)
        return []
    try:
        with src.connect() as probe:
            probe.execute(sa.text("select 1"))
    except sa.exc.DBAPIError as exc:
        src.dispose()
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise ConfigError(f"HR_DB_URL: cannot reach {shown}: {first}") from None
    try:
        results = []
        for spec in TABLES:
            result = load_table(engine, src, spec, overlap, chunk)
            if result is not None:
                results.append(result)
        return results
    finally:
        src.dispose()


def sqlite_files(url: str) -> list[Path] | None:
    """The files of a SQLite database (with its journal and write-ahead log, whose content
    is part of the database's); None for a server database."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    path = Path(parsed.database)
    return [path, path.with_name(path.name + "-journal"), path.with_name(path.name + "-wal")]


def load(engine: Engine, settings) -> list[LoadResult]:
    """Pull the HR database of the settings (HR_DB_URL, else the offline SQLite delivery);
    a SQLite file exactly as the last clean pull left it is not read again (connectors/offline.py)."""
    from connectors import offline

    files = sqlite_files(settings.hr_url)
    if files is None or not files[0].is_file():
        return load_url(engine, settings.hr_url, required=bool(settings.hr_db_url))
    digest = offline.files_digest(files)
    if offline.unchanged(engine, SOURCE, offline.key(engine, SOURCE, digest)):
        log.info("hr: %s is as the last pull left it: nothing new", files[0])
        return []
    results = load_url(engine, settings.hr_url, required=bool(settings.hr_db_url))
    offline.remember(engine, SOURCE, digest, results)
    return results


def _period(ctx: Context, row: dict) -> tuple[dt.datetime | None, str]:
    changed = ctx.timestamp(row, WATERMARK_COLUMN)
    return changed, (changed.isoformat() if changed else "")


def stage_employer(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """An ab01 row → an employer mention keyed aab001."""
    changed, period = _period(ctx, row)
    code = row.get("aab003")
    uscc = normalise_uscc(code)
    org = org_code_of_uscc(uscc) if uscc else normalise_org_code(code)
    if code and not (uscc or org):
        ctx.unparsed["aab003"] += 1
    yield employer_mention(ctx, text(row, "aab001"), text(row, "aab004"), uscc=uscc, org_code=org,
                           region_code=ctx.cached(row, "aab301", normalise_region_code),
                           unit_type=ctx.code(row, "aab019", UNIT_TYPES),
                           observed_on=changed.date() if changed else None, period=period)


def stage_person(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """An ac01 row → a person mention keyed aac001."""
    changed, period = _period(ctx, row)
    person = person_fields(ctx, row, name="aac003", id_col="aac002", cert_col=None,
                           gender_col="aac004", phone_col="aae005")
    yield person_mention(ctx, text(row, "aac001"), person,
                         birth_date=ctx.date(row, "aac006", ("%Y%m%d",)) or person["birth_date"],
                         observed_on=changed.date() if changed else None, period=period)


def stage_contribution(row: dict, ctx: Context) -> Iterator[tuple[str, dict]]:
    """An ac08 row → a contribution (is_paid from aae078; later changes supersede)."""
    month = ctx.integer(row, "aae002", 190001, 209912)
    if month is not None and not 1 <= month % 100 <= 12:
        ctx.unparsed["aae002"] += 1
        month = None
    yield "staging.contribution", {
        "contribution_id": ctx.integer(row, "aaz223"),
        "person_key": text(row, "aac001"),
        "employer_key": text(row, "aab001"),
        "period": month,
        "insurance": text(row, "aae140"),
        "base_yuan": ctx.decimal(row, "aac040"),
        "is_paid": ctx.code(row, "aae078", PAID),
        "changed_at": ctx.timestamp(row, WATERMARK_COLUMN),
    }


ROW_FUNCTIONS = {HR_AB01.table: stage_employer, HR_AC01.table: stage_person, HR_AC08.table: stage_contribution}

# Contributions are nine-tenths of what HR delivers and nearly all plain: digits, codes and
# canonical timestamps, staged in the server. A row with any other value (blank-padded,
# full-width digits, a thousands separator, a month out of range, another timestamp form, a
# date that does not exist, …) goes through stage_contribution, which counts what it nulls.
_KEY = "^[0-9A-Za-z]*$"  # text(): nothing to strip; '' is NULL either way
_TS = ("^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01]) "
       "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$")
CONTRIBUTION_SQL = SqlStage(
    table="staging.contribution",
    columns={
        "contribution_id": "cast(aaz223 as bigint)",
        "person_key": "nullif(aac001, '')",
        "employer_key": "nullif(aab001, '')",
        "period": "cast(nullif(aae002, '') as integer)",
        "insurance": "nullif(aae140, '')",
        "base_yuan": "cast(nullif(aac040, '') as numeric(12, 2))",
        "is_paid": "case aae078 when '1' then true when '0' then false end",
        # The text a naive datetime is written as, read in the same session time zone.
        "changed_at": "cast(nullif(aae036, '') as timestamptz)",
    },
    plain=" and ".join([
        "aaz223 ~ '^(0|[1-9][0-9]{0,17})$'",
        *(f"(col is null or col ~ '{_KEY}')".replace("col", c) for c in ("aac001", "aab001", "aae140")),
        "(aae002 is null or aae002 ~ '^((19|20)[0-9]{2}(0[1-9]|1[0-2]))?$')",
        "(aac040 is null or aac040 ~ '^([0-9]{1,10}([.][0-9]{1,2})?)?$')",
        "(aae078 is null or aae078 in ('', '0', '1'))",
        # CASE, not AND: the day is checked against its month only once the form is right.
        f"(aae036 is null or aae036 = '' or case when aae036 ~ '{_TS}' then "
        "substr(aae036, 9, 2) <= '28' or cast(substr(aae036, 9, 2) as integer) <= extract(day from "
        "make_date(cast(substr(aae036, 1, 4) as integer), cast(substr(aae036, 6, 2) as integer), 1) "
        "+ interval '1 month' - interval '1 day') else false end)",
    ]),
    distinct_keys=True,  # aaz223 is raw.hr_ac08's key, and plain only in canonical form
)
SQL_STAGES = {HR_AC08.table: CONTRIBUTION_SQL}


def stage(engine: Engine) -> StageReport:
    """Stage every pulled window not yet staged (windows are named after their table)."""
    return {d: r for spec in TABLES
            for d, r in stage_pending(engine, spec, ROW_FUNCTIONS[spec.table],
                                      sql=SQL_STAGES.get(spec.table)).items()}
