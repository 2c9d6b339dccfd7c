"""Settings from ``LUNGSIGN_*`` environment variables (pydantic-settings)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every knob of a lungsign installation; defaults give the embedded SQLite setup."""

    model_config = SettingsConfigDict(env_prefix="LUNGSIGN_")

    data_dir: Path = Path("var")
    database_url: str | None = None  # default: SQLite file under data_dir
    redis_url: str | None = None  # default: SQLite-backed Huey queue under data_dir
    secret_key: str | None = None  # signs session cookies; default: generated once into data_dir
    pseudonym_key: str | None = None  # keys patient pseudonyms; default: generated into data_dir
    patch_size: int = 64
    max_upload_mb: int = 512
    max_body_kb: int = 64  # any other request body (forms, JSON); see app/bodies.py
    max_unzip_mb: int = 2048  # bytes an upload may extract to, in all (docs/import.md)
    max_unzip_ratio: int = 100  # ... and at most this many times the zip's (entry's) size
    max_import_rows: int = 100_000  # rows of annotations.csv / patches.csv
    cookie_secure: bool | None = None  # None: Secure when the request came over HTTPS
    job_stale_s: float = 60.0  # a running job without a heartbeat this long is resumed
    static_dir: Path = REPO_ROOT / "static"
    templates_dir: Path = REPO_ROOT / "templates"
    node_modules_dir: Path = REPO_ROOT / "node_modules"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to ``data_dir/lungsign.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir.resolve() / 'lungsign.db'}"

    def secret(self, name: str) -> str:
        """A secret from the environment, else one generated once and kept in ``data_dir``."""
        value = getattr(self, name)
        if value:
            return str(value)
        path = self.data_dir / f".{name}"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings``)."""
    return Settings()
