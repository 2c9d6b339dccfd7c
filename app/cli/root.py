"""The Typer root and what every command shares: settings, database, JSON output."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from sqlalchemy.orm import Session

from app.config import get_settings
from app.db import Database
from app.errors import LungsignError

cli = typer.Typer(
    help="lungsign: small-data GANs for lung CT signs and a visual Turing test.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def open_db() -> Database:
    """The configured database, its schema created or upgraded first."""
    from app.services.installation.setup import prepare_database

    return prepare_database(get_settings())


@contextmanager
def cli_session() -> Iterator[Session]:
    """A session on the configured database; domain errors become a message and exit 1."""
    db = open_db()
    try:
        with db.session() as session:
            yield session
    except LungsignError as exc:
        raise fail(exc) from exc
    finally:
        db.dispose()


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, default=str) + "\n")


def fail(exc: LungsignError | str) -> typer.Exit:
    """Print an error the user can act on and return the exit to raise."""
    typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)
