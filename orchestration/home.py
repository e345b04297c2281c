"""DAGSTER_HOME under var/ with the product's instance settings."""

import os
import shutil
from pathlib import Path

from quotalink.settings import Settings


def ensure_dagster_home(settings: Settings) -> Path:
    """Point DAGSTER_HOME at var/dagster (unless set) and give it our dagster.yaml."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(settings.var_dir / "dagster")))
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists():
        shutil.copyfile(Path(__file__).with_name("dagster.yaml"), target)
    return home
