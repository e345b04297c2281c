"""One settings object, read once from the environment and validated at start-up."""

import functools
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from quotalink.errors import ConfigError


def project_root() -> Path:
    """The checkout the product runs from (QUOTALINK_HOME overrides)."""
    home = os.environ.get("QUOTALINK_HOME")
    if home:
        return Path(home).resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").exists():
        return here
    return Path.cwd()


def normalise_pg_url(url: str) -> str:
    """Map a plain postgresql:// URL onto psycopg2 (SQLAlchemy 2.1 would pick psycopg 3)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"must be a PostgreSQL URL, got backend '{parsed.get_backend_name()}'")
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


class Settings(BaseSettings):
    """Every variable of warehouse-contract.md, plus the product's own paths."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=True, extra="ignore")

    sources_dir: Path | None = Field(default=None, validation_alias="SOURCES_DIR")
    truth_dir: Path | None = Field(default=None, validation_alias="TRUTH_DIR")
    var_dir: Path | None = Field(default=None, validation_alias="QUOTALINK_VAR_DIR")
    hr_db_url: str | None = Field(default=None, validation_alias="HR_DB_URL")
    quota_api_url: str | None = Field(default=None, validation_alias="QUOTA_API_URL")
    quota_api_token: str | None = Field(default=None, validation_alias="QUOTA_API_TOKEN")
    warehouse_url: str | None = Field(default=None, validation_alias="WAREHOUSE_URL")
    quota_years: str | None = Field(default=None, validation_alias="QUOTA_YEARS")
    er_engine: str = Field(default="duckdb", validation_alias="QUOTALINK_ER_ENGINE")
    role_prefix: str = Field(default="", validation_alias="QUOTALINK_ROLE_PREFIX")
    id_token_key: str | None = Field(default=None, validation_alias="QUOTALINK_ID_TOKEN_KEY", repr=False)
    # A delivered field longer than this quarantines its row (the rest of the file loads).
    max_field_chars: int = Field(default=32768, ge=1, validation_alias="QUOTALINK_MAX_FIELD_CHARS")

    @field_validator("role_prefix")
    @classmethod
    def _role_prefix(cls, value: str) -> str:
        # Role names are spliced into DDL: keep them to plain lower-case identifiers.
        if value and not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", value):
            raise ValueError("QUOTALINK_ROLE_PREFIX must be lower-case letters, digits and _ "
                             "(at most 31 characters, starting with a letter)")
        return value

    @field_validator("warehouse_url")
    @classmethod
    def _pg_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            return normalise_pg_url(value)
        except (ArgumentError, ValueError) as exc:
            raise ValueError(f"WAREHOUSE_URL is not a usable PostgreSQL URL: {exc}") from None

    @field_validator("hr_db_url")
    @classmethod
    def _hr_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        try:
            parsed = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"HR_DB_URL is not a SQLAlchemy URL: {exc}") from None
        if parsed.get_backend_name() == "postgresql":
            return normalise_pg_url(value)
        if parsed.get_backend_name() in ("mysql", "mariadb") and "+" not in parsed.drivername:
            return parsed.set(drivername=f"{parsed.drivername}+pymysql").render_as_string(
                hide_password=False
            )
        return value

    @field_validator("quota_years")
    @classmethod
    def _years(cls, value: str | None) -> str | None:
        if value and not re.fullmatch(r"\s*\d{4}(-\d{4})?(\s*,\s*\d{4}(-\d{4})?)*\s*", value):
            raise ValueError("QUOTA_YEARS must look like 2019-2026 or 2024,2025")
        return value or None

    @field_validator("quota_api_url")
    @classmethod
    def _api_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("QUOTA_API_URL must look like scheme://host:port[/prefix]")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _defaults(self) -> "Settings":
        root = project_root()
        if self.sources_dir is None:
            self.sources_dir = root / "data" / "sources"
        if self.truth_dir is None:
            self.truth_dir = root / "data" / "truth"
        if self.var_dir is None:
            self.var_dir = root / "var"
        self.sources_dir = Path(self.sources_dir).resolve()
        self.truth_dir = Path(self.truth_dir).resolve()
        self.var_dir = Path(self.var_dir).resolve()
        if self.er_engine not in ("duckdb", "spark"):
            raise ValueError("QUOTALINK_ER_ENGINE must be 'duckdb' or 'spark'")
        return self

    @property
    def hr_url(self) -> str:
        """The HR database URL, defaulting to the offline SQLite delivery."""
        return self.hr_db_url or f"sqlite:///{self.sources_dir / 'hr' / 'hr.db'}"

    @property
    def embedded_pgdata(self) -> Path:
        """Where the embedded PostgreSQL keeps its data."""
        return self.var_dir / "pgdata"

    def require_sources_dir(self) -> Path:
        """The sources directory, or a clear error naming SOURCES_DIR."""
        if not self.sources_dir.is_dir():
            raise ConfigError(
                f"SOURCES_DIR: directory {self.sources_dir} does not exist "
                "(run `quotalink generate` or point SOURCES_DIR at the deliveries)"
            )
        return self.sources_dir


def load_settings() -> Settings:
    """Read and validate the environment; a bad variable becomes a ConfigError naming it."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from None


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return load_settings()
