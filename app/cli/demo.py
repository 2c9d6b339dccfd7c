"""``lungsign demo``: everything for a first look, then serve."""

from __future__ import annotations

import typer

from app.cli.root import cli, open_db
from app.cli.server import serve_app
from app.config import get_settings
from app.services.demo import DEMO_ACCOUNTS, DEMO_PATIENTS, DemoSetup, setup_demo


@cli.command()
def demo(
    host: str = typer.Option("127.0.0.1", help="address to bind"),
    port: int = typer.Option(8000),
    patients: int = typer.Option(DEMO_PATIENTS, help="demo cohort size (first run only)"),
    reset_passwords: bool = typer.Option(
        False, "--reset-passwords", help="give the demo accounts new passwords and print them"
    ),
    no_serve: bool = typer.Option(False, "--no-serve", help="set up only, don't serve"),
) -> None:
    """Schema, an admin and three readers, the demo cohort and its import, then serve."""
    settings = get_settings()
    db = open_db()
    typer.echo(f"demo data under {settings.data_dir.resolve()}")
    typer.echo("importing the demo cohort (written on the first run: about a minute)…")
    try:
        setup = setup_demo(settings, db, patients=patients, reset_passwords=reset_passwords)
    finally:
        db.dispose()
    _print_setup(setup, f"http://{host}:{port}/")
    if not no_serve:
        serve_app(host, port)


def _print_setup(setup: DemoSetup, url: str) -> None:
    if setup.summary is not None:
        s = setup.summary
        typer.echo(
            f"dataset {s.dataset!r}: {s.imported} patches imported, "
            f"{s.already_present} already present, {len(s.errors)} bad"
        )
    typer.echo(f"\nLog in at {url}login with:")
    roles = dict(DEMO_ACCOUNTS)
    for username, password in setup.passwords.items():
        typer.echo(f"  {username:<8} {roles[username]:<7} password {password}")
    for username in setup.kept:
        typer.echo(
            f"  {username:<8} {roles[username]:<7} (exists; password unchanged — "
            "`lungsign demo --reset-passwords` prints new ones)"
        )
    typer.echo("")
