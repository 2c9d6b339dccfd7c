"""Shared fixtures: every test gets its own database (SQLite by default, PostgreSQL when
``LUNGSIGN_TEST_DATABASE_URL`` is set) cloned from a migrated template, and its own data dir."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from app.config import Settings
from app.db import Database
from app.main import create_app
from app.services.installation.setup import prepare_database

PG_URL = os.environ.get("LUNGSIGN_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("LUNGSIGN_TEST_REDIS_URL")


def _pg_admin_execute(sql: str) -> None:
    assert PG_URL
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, seeded database that each test's database is cloned from."""
    if PG_URL:
        name = f"lungsign_tmpl_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        _pg_admin_execute(f'CREATE DATABASE "{name}"')
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        data_dir = tmp_path_factory.mktemp("template")
        prepare_database(Settings(data_dir=data_dir, database_url=url)).dispose()
        yield name
        _pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        data_dir = tmp_path_factory.mktemp("template")
        prepare_database(Settings(data_dir=data_dir)).dispose()
        yield str(data_dir / "lungsign.db")


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    """A fresh database URL for this test alone, already migrated."""
    if PG_URL:
        name = f"lungsign_t_{uuid.uuid4().hex[:12]}"
        _pg_admin_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        _pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path / "lungsign.db"
        shutil.copy(template_database, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    data_dir = tmp_path / "var"
    data_dir.mkdir(exist_ok=True)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=REDIS_URL,
        secret_key="test-secret-key",
        pseudonym_key="test-pseudonym-key",
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.sqlalchemy_url)
    yield database
    database.dispose()


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db)) as test_client:
        yield test_client
