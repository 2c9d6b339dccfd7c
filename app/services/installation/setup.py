"""Making an installation ready: schema, default labels."""

from __future__ import annotations

from app import schema_upgrade
from app.config import Settings
from app.db import Database
from app.services.datasets.labels import ensure_default_labels


def prepare_database(settings: Settings) -> Database:
    """Create or upgrade the schema, seed the default labels, and return the database."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    schema_upgrade.upgrade(settings.sqlalchemy_url)
    db = Database(settings.sqlalchemy_url)
    with db.session() as session:
        ensure_default_labels(session)
    return db
