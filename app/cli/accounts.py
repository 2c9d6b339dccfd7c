"""Schema, users and API tokens."""

from __future__ import annotations

import sys

import typer

from app.cli.root import cli, cli_session, emit_json, open_db
from app.services.accounts import users

user_cli = typer.Typer(help="Manage user accounts.", no_args_is_help=True)
token_cli = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
cli.add_typer(user_cli, name="user")
cli.add_typer(token_cli, name="token")


@cli.command()
def init() -> None:
    """Create or upgrade the schema."""
    db = open_db()
    typer.echo(f"schema ready at {db.engine.url.render_as_string(hide_password=True)}")


def _read_password() -> str:
    """From a prompt on a terminal, else one line of stdin; never from argv."""
    if sys.stdin.isatty():
        return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@user_cli.command("add")
def user_add(
    username: str,
    role: str = typer.Option(..., "--role", help="reader, coordinator or admin"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Add a user; the password comes from a prompt or one line of stdin."""
    password = _read_password()
    with cli_session() as session:
        user = users.add_user(session, username, password, role)
    if json_out:
        emit_json({"username": user.username, "role": user.role})
    else:
        typer.echo(f"added {user.role} {user.username}")


@token_cli.command("create")
def token_create(username: str) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is stored)."""
    with cli_session() as session:
        token = users.create_token(session, username)
    typer.echo(token)
