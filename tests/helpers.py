"""Helpers for tests: drop deliveries the way source systems do; migrate a database to a revision."""

from pathlib import Path

import sqlalchemy as sa


def drop(folder: Path, name: str, content: bytes, marker: bool = True) -> Path:
    """Drop a delivery file (and its .ok marker) the way a source system does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    if marker:
        (folder / (name + ".ok")).write_bytes(b"")
    return path


def upgrade_to(engine: sa.Engine, target: str) -> None:
    """Apply the migrations up to revision `target` on a database of its own."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "warehouse" / "migrations"))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS ops"))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)
