"""The delivery ledger for operators: what was delivered, its state, and audited replacement."""

import re
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from connectors.base import MARKER, Delivery, LoadResult, replace_delivery
from connectors.files import default_land
from quotalink.contracts import FILE_SOURCES, RawTable
from quotalink.errors import DeliveryError


def ledger_digest(conn, sources: list[str] | None = None) -> tuple[int, str]:
    """(count, md5) of the ledger rows of `sources` (None: all): every landing changes it."""
    return tuple(conn.execute(sa.text(
        "select count(*), md5(coalesce(string_agg(concat_ws('|', load_id, source, delivery, "
        "content_sha256, rows_loaded, status), ',' order by load_id), '')) "
        "from ops.load_audit where cast(:s as text[]) is null or source = any(cast(:s as text[]))"),
        {"s": sources}).one())


@dataclass(frozen=True)
class LedgerRow:
    """One delivery as the ledger knows it and as the drop folder holds it now."""

    source: str
    delivery: str
    status: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    loaded_at: object
    versions: int
    on_disk: str  # same, changed, missing, no marker; '' for pulled windows


def file_spec(source: str, name: str) -> RawTable:
    """The contract of a file source whose pattern the file name matches."""
    for spec in FILE_SOURCES:
        if spec.source == source and re.match(spec.pattern or r"^$", name):
            return spec
    known = sorted({s.source for s in FILE_SOURCES})
    if source not in known:
        raise DeliveryError(source, name, f"not a file-drop source (one of {', '.join(known)})")
    raise DeliveryError(source, name, "file name does not follow the source's naming pattern")


def ledger(engine: Engine, sources_dir: Path | None, source: str | None = None) -> list[LedgerRow]:
    """Every delivery's latest audit row, its number of versions, and the file's state now."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "select distinct on (source, delivery) source, delivery, status, rows_read, rows_loaded, "
            "rows_quarantined, loaded_at, content_sha256, "
            "count(*) over (partition by source, delivery) as versions, "
            "(select a.content_sha256 from ops.load_audit a where a.source = l.source "
            " and a.delivery = l.delivery and a.status = 'loaded' order by a.load_id desc limit 1) as loaded_sha "
            "from ops.load_audit l where (:s is null or source = :s) "
            "order by source, delivery, load_id desc"), {"s": source}).mappings().all()
    out = []
    for r in rows:
        on_disk = ""
        if r["content_sha256"] is not None and sources_dir is not None:
            path = sources_dir / r["source"] / r["delivery"]
            if not path.exists():
                on_disk = "missing"
            elif not (path.parent / (path.name + MARKER)).exists():
                on_disk = "no marker"
            else:
                sha = Delivery(r["source"], r["delivery"], "", path).sha256()
                on_disk = "same" if sha in (r["content_sha256"], r["loaded_sha"]) else "changed"
        out.append(LedgerRow(r["source"], r["delivery"], r["status"], r["rows_read"], r["rows_loaded"],
                             r["rows_quarantined"], r["loaded_at"], r["versions"], on_disk))
    return out


def replace(engine: Engine, sources_dir: Path, source: str, name: str, reason: str,
            max_field_chars: int) -> LoadResult:
    """Replace a loaded file delivery by the file now under its name (see replace_delivery)."""
    spec = file_spec(source, name)
    path = sources_dir / source / name
    if not path.is_file():
        raise DeliveryError(source, name, f"no file {path}")
    if not (path.parent / (name + MARKER)).exists():
        raise DeliveryError(source, name, f"no {MARKER} marker beside it: the file is not complete yet")
    m = re.match(spec.pattern, name)
    delivery = Delivery(source, name, m.group("period"), path)
    return replace_delivery(engine, spec, delivery, default_land(spec), reason, max_field_chars)
