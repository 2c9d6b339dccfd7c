"""``lungsign demo``: everything for a first look, then serve."""

from __future__ import annotations

import typer

from app.cli.root import cli, open_db
from app.cli.server import serve_app
from app.config import get_settings
from app.jobs.demo_pipeline import DemoPipeline
from app.services.installation.demo import (
    DEMO_ACCOUNTS,
    DEMO_PATIENTS,
    DemoSetup,
    ensure_accounts,
    setup_demo,
)


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
    """Schema, an admin and three readers, then serve at once while the demo pipeline runs as
    jobs (import, GAN, generation, demo studies, classifiers); --no-serve only sets up the
    accounts and imports the cohort."""
    settings = get_settings()
    db = open_db()
    typer.echo(f"demo data under {settings.data_dir.resolve()}")
    if no_serve:
        typer.echo("importing the demo cohort (written on the first run: about a minute)…")
        try:
            setup = setup_demo(settings, db, patients=patients, reset_passwords=reset_passwords)
        finally:
            db.dispose()
        _print_setup(setup, f"http://{host}:{port}/")
        return
    setup = DemoSetup()
    ensure_accounts(db, setup, reset_passwords)
    _print_setup(setup, f"http://{host}:{port}/")
    typer.echo("The demo pipeline runs as jobs meanwhile: watch it at /jobs (admin).")

    def pipeline() -> None:
        try:
            DemoPipeline(settings, db, typer.echo).run(patients)
        except Exception as exc:  # the server goes on; the reason is shown
            typer.secho(f"demo pipeline stopped: {exc}", err=True, fg=typer.colors.RED)

    serve_app(host, port, alongside=pipeline)


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
            "`make demo DEMO_ARGS=--reset-passwords` prints new ones)"
        )
    typer.echo("")
