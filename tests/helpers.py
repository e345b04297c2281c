"""Helpers for tests: drop deliveries the way source systems do."""

from pathlib import Path


def drop(folder: Path, name: str, content: bytes, marker: bool = True) -> Path:
    """Drop a delivery file (and its .ok marker) the way a source system does."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    if marker:
        (folder / (name + ".ok")).write_bytes(b"")
    return path
