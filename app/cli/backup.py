"""``lungsign backup OUT`` and ``lungsign restore IN`` (see app/services/installation/backup.py)."""

from __future__ import annotations

from pathlib import Path

import typer

from app.cli.root import cli, emit_json, fail
from app.config import get_settings
from app.errors import LungsignError
from app.services.installation import backup as backups


@cli.command("backup")
def backup_command(
    out: Path = typer.Argument(..., help="a new folder for the backup"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """A consistent copy of the database (while serving), the secret and pseudonym keys and
    every checkpoint, with a manifest of checksums."""
    try:
        manifest = backups.backup(get_settings(), out)
    except LungsignError as exc:
        raise fail(exc) from exc
    if json_out:
        emit_json(manifest)
    else:
        typer.echo(f"backup of {len(manifest['files'])} files in {out}")


@cli.command("restore")
def restore_command(
    src: Path = typer.Argument(..., help="a folder written by lungsign backup"),
    force: bool = typer.Option(False, "--force", help="replace a database that holds accounts"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Put a backup in place (stop the server and the workers first): checksums checked,
    then the database, the keys and the models restored."""
    try:
        done = backups.restore(get_settings(), src, force)
    except LungsignError as exc:
        raise fail(exc) from exc
    if json_out:
        emit_json(done)
    else:
        typer.echo(f"restored {done['database']} and {done['files']} files from {src}")
