"""Raw → staging: typed, canonical rows; later deliveries supersede earlier ones per key."""

import datetime as dt
import json
import logging
import multiprocessing
import os
import re
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from operator import itemgetter

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from quotalink.contracts import RawTable
from quotalink.standardise import parse_date
from warehouse.db import (
    CsvText,
    copy_into,
    csv_text,
    on_conflict_clause,
    upsert_rows,
    upsert_select,
)
from warehouse.schema import metadata

log = logging.getLogger(__name__)
CHUNK = 20_000
MEMO_LIMIT = 200_000
STAGE_WORK_MEM = "64MB"


@dataclass
class Context:
    """What a row function knows about the delivery and where it counts unparsed values."""

    source: str
    delivery: str
    period: str
    unparsed: Counter = field(default_factory=Counter)
    substituted: Counter = field(default_factory=Counter)  # replaced by a derived value
    # Dates and code-list values repeat across rows: parse each distinct text once.
    _memo: dict = field(default_factory=dict, repr=False)
    raw_table: str | None = None  # raw.<raw_table>: the staged rows' lineage

    def _memoised(self, key: tuple, compute: Callable[[], object]) -> object:
        try:
            return self._memo[key]
        except KeyError:
            if len(self._memo) > MEMO_LIMIT:
                self._memo.clear()
            value = self._memo[key] = compute()
            return value

    def date(self, row: dict, column: str, formats: tuple[str, ...] | None = None) -> dt.date | None:
        """A date column; a value that parses in no format is counted and nulled."""
        raw = row.get(column)
        if raw is None or str(raw).strip() == "":
            return None
        if isinstance(raw, str):
            value = self._memoised(("date", raw, formats),
                                   lambda: parse_date(raw, formats) if formats else parse_date(raw))
        else:
            value = parse_date(raw, formats) if formats else parse_date(raw)
        if value is None:
            self.unparsed[column] += 1
        return value

    def cached(self, row: dict, column: str, fn: Callable[[object], object]) -> object | None:
        """Like parsed(), for low-cardinality columns (categories, levels, region codes)."""
        raw = row.get(column)
        if raw is None or str(raw).strip() == "":
            return None
        value = self._memoised((fn, raw), lambda: fn(raw))
        if value is None:
            self.unparsed[column] += 1
        return value

    def timestamp(self, row: dict, column: str) -> dt.datetime | None:
        """An ISO-8601 or 'YYYY-MM-DD HH:MM:SS' timestamp column."""
        raw = row.get(column)
        if raw is None or str(raw).strip() == "":
            return None
        text = str(raw).strip().replace("/", "-")
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            d = parse_date(text)
            if d is None:
                self.unparsed[column] += 1
                return None
            return dt.datetime.combine(d, dt.time(0))

    def integer(self, row: dict, column: str, lo: int | None = None, hi: int | None = None) -> int | None:
        """An integer column (tolerates '12.0', full-width digits, thousands separators)."""
        raw = row.get(column)
        if raw is None or str(raw).strip() == "":
            return None
        text = _ascii(str(raw)).replace(",", "").strip()
        try:
            value = int(Decimal(text))
        except (InvalidOperation, ValueError):
            self.unparsed[column] += 1
            return None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            self.unparsed[column] += 1
            return None
        return value

    def decimal(self, row: dict, column: str, lo: Decimal | int | None = None) -> Decimal | None:
        """A money or numeric column; below lo (e.g. a negative income) counts as unparsed."""
        raw = row.get(column)
        if raw is None or str(raw).strip() == "":
            return None
        text = _ascii(str(raw)).replace(",", "").replace("元", "").strip()
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.unparsed[column] += 1
            return None
        if not value.is_finite() or (lo is not None and value < lo):
            self.unparsed[column] += 1
            return None
        return value

    def code(self, row: dict, column: str, mapping: dict[str, object]) -> object | None:
        """A value from a code list; anything else is counted and nulled."""
        raw = row.get(column)
        if raw is None or str(raw).strip() == "":
            return None
        key = _ascii(str(raw)).strip()
        if key in mapping:
            return mapping[key]
        self.unparsed[column] += 1
        return None

    def parsed(self, row: dict, column: str, fn: Callable[[object], object]) -> object | None:
        """Any standardiser: None from a present value counts as unparsed."""
        raw = row.get(column)
        if raw is None or str(raw).strip() == "":
            return None
        value = fn(raw)
        if value is None:
            self.unparsed[column] += 1
        return value


_FW = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FW[0x3000] = 0x20


def _ascii(text: str) -> str:
    return text.translate(_FW)


# How a CSV made for Excel keeps an identifier from becoming a number: ="370102…" (a formula
# giving the text) or '370102… (the text prefix). Raw keeps them as delivered; staging reads the
# identifier inside (a key spelt so in one month and plainly in the next is one registration).
_GUARDS = ("=", "'")
_EXCEL_GUARD = re.compile(r'^\s*(?:="([^"]*)"|\'([0-9A-Za-z][0-9A-Za-z-]*))\s*$')


def unguarded(value: object) -> object:
    """`value` without an Excel text guard around an identifier (other values unchanged)."""
    if type(value) is not str or value[:1] not in _GUARDS:
        return value
    m = _EXCEL_GUARD.match(value)
    return value if m is None else (m[1] if m[1] is not None else m[2])


def text(row: dict, column: str) -> str | None:
    """A free-text column, stripped, None when blank."""
    raw = row.get(column)
    if raw is None:
        return None
    s = str(raw).strip().strip("\u3000")
    return s or None


RowFn = Callable[[dict, Context], Iterable[tuple[str, dict]]]


@dataclass(frozen=True)
class StagedDelivery:
    """What staging one delivery did: rows written per staging table, and per raw column
    the present values no standardiser could read (nulled in staging)."""

    staged: dict[str, int]
    unparsed: dict[str, int]


# Deliveries staged by one call, by delivery name (unique within a source).
StageReport = dict[str, StagedDelivery]


def _table_meta(name: str) -> tuple[list[str], list[str], str | None, bool]:
    table = metadata.tables[name]
    cols = [c.name for c in table.columns]
    key = [c.name for c in table.primary_key.columns]
    return cols, key, table.info.get("supersede_by"), table.info.get("delivery_period", False)


def pending_deliveries(engine: Engine, spec: RawTable) -> list[tuple[str, str]]:
    """Loaded deliveries of a raw table not yet staged, in load order: (delivery, period)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select a.delivery, min(a.load_id) as first_load from ops.load_audit a "
                "where a.raw_table = :t and a.status = 'loaded' and a.rows_loaded > 0 "
                "and not exists (select 1 from ops.stage_audit s where s.raw_table = :t "
                "and s.delivery = a.delivery) group by a.delivery order by first_load"
            ),
            {"t": spec.table},
        ).all()
    pattern = re.compile(spec.pattern) if spec.pattern else None
    out = []
    for delivery, _ in rows:
        m = pattern.match(delivery) if pattern else None
        out.append((delivery, m.group("period") if m else ""))
    return sorted(out, key=lambda d: (d[1], 0)) if pattern else out


def stage_workers() -> int:
    """Staging processes (QUOTALINK_STAGE_WORKERS; default the number of cores, 1 = in-process)."""
    raw = os.environ.get("QUOTALINK_STAGE_WORKERS", "").strip()
    if raw:
        try:
            return max(1, int(raw))
        except ValueError:
            raise ValueError(f"QUOTALINK_STAGE_WORKERS must be a whole number, not {raw!r}") from None
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


# A staged chunk: per staging table its COPY columns and rows (or their COPY text), in row
# order; the unparsed counts and the substitution counts.
StagedChunk = tuple[dict[str, tuple[list[str], list[list] | CsvText]], Counter, Counter]


def _stage_rows(rows: Iterable[tuple], raw_cols: list[str], fn: RowFn, ctx: Context) -> StagedChunk:
    """Run the row function over one chunk of raw rows; the unit of work of a staging process."""
    ctx.unparsed = Counter()
    ctx.substituted = Counter()
    buffers: dict[str, list[dict]] = defaultdict(list)
    for rec in rows:
        if any(type(v) is str and v[:1] in _GUARDS for v in rec):
            rec = tuple(unguarded(v) for v in rec)
        row = dict(zip(raw_cols, rec, strict=True))
        for table, values in fn(row, ctx):
            values.setdefault("delivery", ctx.delivery)
            # Lineage: the raw row (delivery, row_ref of raw.<raw_table>) behind the staged one.
            values.setdefault("raw_table", ctx.raw_table)
            values.setdefault("row_ref", row["row_ref"])
            buffers[table].append(values)
    return ({table: _prepare(table, staged) for table, staged in buffers.items()}, ctx.unparsed,
            ctx.substituted)


_worker: dict = {}
# A delivery of one chunk is cut in one piece per process from this many rows (below, the
# pickling costs about what the second process saves).
MIN_SPLIT = 2_000


def _worker_init(raw_cols: list[str], fn: RowFn) -> None:
    # Forked: the row function (often a closure) is inherited, never pickled.
    _worker.update(raw_cols=raw_cols, fn=fn, ctx=None)


def _worker_chunk(where: tuple[str, str, str, str | None], rows: list[tuple]) -> StagedChunk:
    ctx = _worker["ctx"]
    if ctx is None or (ctx.source, ctx.delivery, ctx.period, ctx.raw_table) != where:
        # A delivery's parses are remembered over its chunks, never into the next delivery.
        ctx = _worker["ctx"] = Context(where[0], where[1], where[2], raw_table=where[3])
    tables, unparsed, substituted = _stage_rows(rows, _worker["raw_cols"], _worker["fn"], ctx)
    # COPY text travels back far cheaper than pickled dates and decimals, and is rendered here.
    return ({t: (present, csv_text(staged)) for t, (present, staged) in tables.items()}, unparsed,
            substituted)


class StagePool:
    """Staging processes for the deliveries of one raw table, started when a delivery first
    needs them and shared by the deliveries after it (many small deliveries, one start)."""

    def __init__(self, raw_cols: list[str], fn: RowFn, workers: int):
        self.raw_cols, self.fn, self.workers = raw_cols, fn, workers
        self._pool: ProcessPoolExecutor | None = None

    def executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # concurrent.futures, not multiprocessing.Pool: a worker that dies breaks the
            # pool with an error (the delivery rolls back) instead of hanging the run.
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"),
                                             initializer=_worker_init, initargs=(self.raw_cols, self.fn))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "StagePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _staged_chunks(parts: Iterator[list], raw_cols: list[str], fn: RowFn, ctx: Context,
                   workers: int, shared: StagePool | None = None) -> Iterator[StagedChunk]:
    """Staged chunks in raw-row order; with workers > 1 a bounded number are in flight."""
    first = next(parts, None)
    if first is None:
        return
    if workers <= 1 or (len(first) < CHUNK and (shared is None or len(first) < MIN_SPLIT)):
        # One small chunk: starting or feeding processes costs more than it saves.
        yield _stage_rows(first, raw_cols, fn, ctx)
        for part in parts:
            yield _stage_rows(part, raw_cols, fn, ctx)
        return
    pool = shared if shared is not None and shared.workers == workers else StagePool(raw_cols, fn, workers)
    where = (ctx.source, ctx.delivery, ctx.period, ctx.raw_table)
    try:
        executor = pool.executor()
        size = CHUNK if len(first) >= CHUNK else -(-len(first) // workers)  # one chunk: a piece each
        pending: deque = deque(executor.submit(_worker_chunk, where, [tuple(r) for r in first[i:i + size]])
                               for i in range(0, len(first), size))
        for part in parts:
            # Bounded queue: memory stays flat however large the delivery.
            while len(pending) >= 2 * workers:
                yield pending.popleft().result()
            pending.append(executor.submit(_worker_chunk, where, [tuple(r) for r in part]))
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool as exc:
        pool.close()
        raise RuntimeError(f"{ctx.source}/{ctx.delivery}: a staging process died ({exc}); "
                           "nothing of this delivery was staged. Rerun, or set "
                           "QUOTALINK_STAGE_WORKERS=1 to stage in one process") from exc
    finally:
        if pool is not shared:
            pool.close()


@dataclass(frozen=True)
class SqlStage:
    """A set-based path beside a row function, for a raw table staged into one table.

    ``plain`` is an SQL condition over the raw columns that holds only for rows whose every
    value is of a form ``columns`` (staging column → SQL expression over the raw columns)
    stages exactly as the row function would, with nothing unparsed or substituted: those
    rows are staged by one statement in the server, the others by the row function; both meet
    in one scratch table, upserted once in raw-row order. A delivery of plain rows only, with
    ``distinct_keys``, goes from raw to staging by one INSERT … SELECT. The raw table's
    row_ref must be unique within a delivery (the HR tables: it is their key).
    """

    table: str
    columns: dict[str, str]
    plain: str
    # Plain rows of one delivery never share a staging key (hr_ac08: its raw key aaz223, read
    # only in canonical decimal form): an all-plain delivery needs no DISTINCT ON.
    distinct_keys: bool = False


def sql_staging() -> bool:
    """Whether SqlStage paths are used (QUOTALINK_STAGE_SQL=0: row functions only)."""
    return os.environ.get("QUOTALINK_STAGE_SQL", "1").strip() != "0"


def raw_columns(spec: RawTable) -> list[str]:
    """The raw columns a row function sees, in order."""
    return ["row_ref", *spec.extra_raw_columns, *spec.columns, "extra"]


def stage_delivery(engine: Engine, spec: RawTable, delivery: str, period: str,
                   fn: RowFn, workers: int | None = None, sql: SqlStage | None = None,
                   pool: StagePool | None = None) -> StagedDelivery:
    """Stage one raw delivery with a row function, in one transaction.

    Processes run the row function over chunks; this process writes every chunk in raw-row
    order through its one connection, so the delivery stays atomic and the staged rows are
    the same whatever the number of workers. With ``sql`` the rows it calls plain are staged
    in the server (in parallel where the server plans so) and only the rest by ``fn``.
    """
    ctx = Context(spec.source, delivery, period, raw_table=spec.table)
    unparsed: Counter = Counter()
    substituted: Counter = Counter()
    staged: Counter = Counter()
    raw_cols = raw_columns(spec)
    select = ", ".join(f'"{c}"' for c in raw_cols)
    if sql is not None and not sql_staging():
        sql = None
    if sql is not None and sql.table not in spec.stages:
        raise ValueError(f"{spec.source}: raw.{spec.table} has an SQL stage for {sql.table}, "
                         f"which its contract does not declare (stages={spec.stages})")
    with engine.begin() as conn:
        # The delivery is read in row order and each chunk upserted through a sort of wide
        # rows: above the default 4MB they spill to disk (reading a registry snapshot: 15 ms
        # at 1.5k rows, 354 ms at 15k); 64MB keeps a chunk and a 100k-row read in memory.
        conn.execute(sa.text(f"set local work_mem = '{STAGE_WORK_MEM}'"))
        where = "delivery = :d"
        rest = True
        if sql is not None:
            # Counted first (a parallel scan): a delivery of plain rows only, with distinct
            # keys, goes from raw to staging in one statement, with no scratch table to write
            # and read back (3.75M contributions: temp_buffers are 8MB) and no sort.
            plain, total = conn.execute(sa.text(
                f"select count(*) filter (where coalesce(({sql.plain}), false)), count(*) "
                f'from raw."{spec.table}" where delivery = :d'), {"d": delivery}).one()
            if plain == total and sql.distinct_keys:
                if total:
                    _sql_insert_all(conn, spec, sql, delivery)
                staged[sql.table] += total  # rows staged, as the row function counts them
                sql, rest = None, False
            else:
                staged[sql.table] += _sql_plain_rows(conn, spec, sql, delivery)
                # The rest, by an anti-join rather than the conditions again.
                where += f" and not exists (select 1 from {SQL_SCRATCH} p where p.row_ref = r.row_ref)"
        chunks: Iterable[StagedChunk] = ()
        if rest:
            query = sa.text(
                f'select {select} from raw."{spec.table}" r where {where} order by length(row_ref), row_ref'
            ).execution_options(stream_results=True, yield_per=CHUNK)
            result = conn.execute(query, {"d": delivery})
            chunks = _staged_chunks(result.partitions(CHUNK), raw_cols, fn, ctx,
                                    stage_workers() if workers is None else workers, pool)
        for tables, counts, replaced in chunks:
            unparsed.update(counts)
            substituted.update(replaced)
            for table, (present, rows) in tables.items():
                if table not in spec.stages:
                    # The asset graph is derived from the contract's declaration; a row
                    # for an undeclared table would be written outside the lineage.
                    raise ValueError(f"{spec.source}: raw.{spec.table} staged a row for {table}, "
                                     f"which its contract does not declare (stages={spec.stages})")
                if sql is not None and table == sql.table:
                    copy_into(conn, SQL_SCRATCH, present, rows)  # upserted with the plain rows
                else:
                    _flush(conn, table, present, rows)
                staged[table] += rows.rows if isinstance(rows, CsvText) else len(rows)
        if sql is not None:
            _, key, newer, _ = _table_meta(sql.table)
            cols = [*sql.columns, *LINEAGE]
            # Of a key's rows the newest wins, of equals the last in raw-row order: what
            # upserting chunk after chunk in that order leaves.
            # Into an empty table (a first load) a plain insert: no conflict to look for.
            empty = _is_empty(conn, sql.table)
            conn.execute(sa.text(upsert_select(sql.table, cols, SQL_SCRATCH, key, newer,
                                               "length(row_ref) DESC, row_ref DESC",
                                               on_conflict="none" if empty else "update")))
        conn.execute(
            sa.text(
                "insert into ops.stage_audit (source, delivery, raw_table, rows_staged, rows_unparsed, "
                "rows_substituted) values (:s, :d, :t, :n, cast(:u as jsonb), cast(:r as jsonb)) "
                "on conflict (raw_table, delivery) do update set rows_staged = excluded.rows_staged, "
                "rows_unparsed = excluded.rows_unparsed, rows_substituted = excluded.rows_substituted, "
                "staged_at = now()"
            ),
            {
                "s": spec.source, "d": delivery, "t": spec.table, "n": sum(staged.values()),
                "u": json.dumps(dict(unparsed), ensure_ascii=False),
                "r": json.dumps(dict(substituted), ensure_ascii=False),
            },
        )
    if unparsed:
        log.info("%s/%s: unparsed values nulled in staging: %s", spec.source, delivery, dict(unparsed))
    if substituted:
        log.info("%s/%s: values replaced by derived ones: %s", spec.source, delivery, dict(substituted))
    return StagedDelivery(dict(staged), dict(unparsed))


SQL_SCRATCH = "tmp_stage_sql"
LINEAGE = ("delivery", "raw_table", "row_ref")


def _is_empty(conn, table: str) -> bool:
    """No row in table (a first load: a plain insert, no conflict to look for)."""
    return conn.execute(sa.text(f"select not exists (select 1 from {table})")).scalar()


def _sql_insert_all(conn, spec: RawTable, sql: SqlStage, delivery: str) -> None:
    """Stage a delivery whose rows are all plain, keys distinct, straight from raw.

    The conditions were checked by the count just before, in the same transaction, under the
    run lock (nothing else lands this source meanwhile): not evaluated again here.
    """
    cols = [c for c in sql.columns if c not in LINEAGE]
    exprs = ", ".join(sql.columns[c] for c in cols)
    _, key, newer, _ = _table_meta(sql.table)
    targets = [*cols, *LINEAGE]
    empty = _is_empty(conn, sql.table)
    listed = ", ".join(f'"{c}"' for c in targets)
    conn.execute(sa.text(
        f"insert into {sql.table} ({listed}) select {exprs}, delivery, cast(:t as text), row_ref "
        f'from raw."{spec.table}" where delivery = :d'
        + on_conflict_clause(sql.table, targets, key, newer, "none" if empty else "update")),
        {"d": delivery, "t": spec.table})


def _sql_plain_rows(conn, spec: RawTable, sql: SqlStage, delivery: str) -> int:
    """Stage a delivery's plain rows into the scratch table (created here); how many."""
    cols = [c for c in sql.columns if c not in LINEAGE]
    exprs = ", ".join(f'{sql.columns[c]} as "{c}"' for c in cols)
    # CREATE TABLE AS may read and compute with parallel workers; INSERT … SELECT may not.
    result = conn.execute(sa.text(
        f"create temp table {SQL_SCRATCH} on commit drop as select {exprs}, delivery, "
        f'cast(:t as text) as raw_table, row_ref from raw."{spec.table}" '
        f"where delivery = :d and coalesce(({sql.plain}), false)"), {"d": delivery, "t": spec.table})
    return result.rowcount


def _prepare(table: str, rows: list[dict]) -> tuple[list[str], list[tuple] | list[list]]:
    """The COPY columns and rows of a chunk of staged rows."""
    cols, _, _, delivery_period = _table_meta(table)
    if delivery_period:
        for r in rows:
            r.setdefault("period", "")
    present = [c for c in cols if any(c in r for r in rows[:1])]
    if len(present) > 1:
        get = itemgetter(*present)
        try:
            return present, [get(r) for r in rows]  # tuples: one C call per row
        except KeyError:
            pass  # a row without a column the first one had: None there
    return present, [[r.get(c) for c in present] for r in rows]


def _flush(conn, table: str, present: list[str], rows: list[list] | CsvText) -> None:
    _, key, newer, _ = _table_meta(table)
    upsert_rows(conn, table, present, rows, key, newer_than=newer)


def stage_pending(engine: Engine, spec: RawTable, fn: RowFn, sql: SqlStage | None = None) -> StageReport:
    """Stage every loaded-but-unstaged delivery of a raw table."""
    summary: StageReport = {}
    with StagePool(raw_columns(spec), fn, stage_workers()) as pool:
        for delivery, period in pending_deliveries(engine, spec):
            summary[delivery] = stage_delivery(engine, spec, delivery, period, fn, sql=sql, pool=pool)
    return summary

