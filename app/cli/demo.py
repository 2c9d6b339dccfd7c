"""``lungsign demo``: everything for a first look, then serve."""

from __future__ import annotations

import typer

from app.cli.root import cli, open_db
from app.cli.server import serve_app
from app.config import get_settings
from app.services.demo import DemoSetup, setup_demo


@cli.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="address to bind"),
    port: int = typer.Option(8000),
    no_serve: bool = typer.Option(False, "--no-serve", help="set up only, don't serve"),
) -> None:
    """Schema, an admin and three readers, the demo cohort and its import, then serve."""
    settings = get_settings()
    db = open_db()
    typer.echo("writing and importing the demo cohort (first run takes a minute)…")
    setup = setup_demo(settings, db)
    db.dispose()
    _print_setup(setup)
    if not no_serve:
        serve_app(host, port)


def _print_setup(setup: DemoSetup) -> None:
    if setup.summary is not None:
        s = setup.summary
        typer.echo(f"dataset {s.dataset!r}: {s.imported} patches imported, {s.skipped} skipped")
    for username, password in setup.created.items():
        typer.echo(f"  account {username:<8} password {password}")
    for username in setup.kept:
        typer.echo(
            f"  account {username:<8} (exists; password unchanged — `lungsign user add` "
            "makes new accounts)"
        )
