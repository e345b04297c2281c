"""Offline deliveries of the pulled sources: a pull is skipped while their files are as the last one left them."""

# The hr database and the quota API have no markers: a pull is how a change is found. An
# offline delivery of either (the SQLite file, the API's JSON Lines served by the emulator)
# is files only, so their exact content tells whether a pull could find anything: the pull's
# answer is a function of the files, the warehouse's watermarks and raw rows (here: the
# source's ledger, which every landing changes) and the connector's code. After a pull that
# set nothing aside (a quarantined row is not in raw, so the next pull would read it again),
# the next pull on the same files finds nothing new: that state is remembered, and a pull on
# it is skipped. Any other byte in a file, any other ledger or watermark, another code: the
# pull runs as before. Only the offline files: a live database or API is always pulled.

import functools
import hashlib
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.deliveries import ledger_digest

STREAM = "offline delivery"  # its row in ops.watermark, beside the source's pull watermarks
_CODE = ("base.py", "hr.py", "quota.py", "quota_emulator.py", "offline.py")


def files_digest(paths: list[Path]) -> str:
    """Digest of the files' names and exact content (a missing file counts as missing)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(f"{path.name}\0".encode())
        if path.is_file():
            with path.open("rb") as fh:
                h.update(hashlib.file_digest(fh, "sha256").digest())
        else:
            h.update(b"missing")
    return h.hexdigest()


@functools.cache
def _code() -> str:
    """Digest of the connector code a pull's answer depends on."""
    code = hashlib.sha256()
    for name in _CODE:
        code.update((Path(__file__).with_name(name)).read_bytes())
    return code.hexdigest()


def _key(conn, source: str, files: str, extra: str) -> str:
    """The files' digest and what besides them a pull's answer depends on: the source's
    ledger and watermarks, the code."""
    marks = conn.execute(sa.text(
        "select stream, value from ops.watermark where source = :s and stream <> :p order by stream"),
        {"s": source, "p": STREAM}).all()
    state = repr((list(map(tuple, marks)), ledger_digest(conn, [source]), _code(), extra))
    return hashlib.sha256(f"{files}\n{state}".encode()).hexdigest()


def key(engine: Engine, source: str, files: str, extra: str = "") -> str:
    """The state a pull would start from: the files' digest and the warehouse's side."""
    with engine.connect() as conn:
        return _key(conn, source, files, extra)


def unchanged(engine: Engine, source: str, state: str) -> bool:
    """Whether the last pull left exactly this state (then a pull now finds nothing new)."""
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "select value from ops.watermark where source = :s and stream = :p"),
            {"s": source, "p": STREAM}).scalar() == state


def remember(engine: Engine, source: str, files: str, results: list, extra: str = "") -> None:
    """After a pull of files with digest `files` (taken before it): remember the state it
    left, unless it set rows aside or rejected something (the next pull reads those again)."""
    clean = all(r.status == "loaded" and not r.rows_quarantined for r in results)
    with engine.begin() as conn:
        if not clean:
            conn.execute(sa.text("delete from ops.watermark where source = :s and stream = :p"),
                         {"s": source, "p": STREAM})
            return
        state = _key(conn, source, files, extra)
        conn.execute(sa.text(
            "insert into ops.watermark (source, stream, value) values (:s, :p, :v) "
            "on conflict (source, stream) do update set value = excluded.value, updated_at = now()"),
            {"s": source, "p": STREAM, "v": state})
