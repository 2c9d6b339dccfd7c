"""Schema, users and API tokens."""

from __future__ import annotations

import sys

import typer

from app.cli.root import cli, cli_session, emit_json, open_db
from app.services.accounts import audit, throttle, users

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


@user_cli.command("password")
def user_password(username: str) -> None:
    """Set USERNAME's password (prompt or one line of stdin): every session of the user ends
    and every API token of the user is revoked."""
    password = _read_password()
    with cli_session() as session:
        users.set_password(session, username, password)
        throttle.record_success(session, username)  # an admin's reset also lifts a lock
        audit.record(session, None, "password_reset", username, via="cli")
    typer.echo(f"password of {username} set; their sessions ended and API tokens revoked")


@user_cli.command("deactivate")
def user_deactivate(username: str) -> None:
    """Refuse USERNAME's logins; their sessions end and their API tokens are revoked at once."""
    with cli_session() as session:
        users.set_active(session, username, False)
        audit.record(session, None, "user_deactivated", username, via="cli")
    typer.echo(f"deactivated {username}; their sessions ended and API tokens revoked")


@user_cli.command("activate")
def user_activate(username: str) -> None:
    """Let a deactivated user log in again (their old API tokens stay revoked)."""
    with cli_session() as session:
        users.set_active(session, username, True)
        audit.record(session, None, "user_activated", username, via="cli")
    typer.echo(f"activated {username}")


@user_cli.command("unlock")
def user_unlock(username: str) -> None:
    """Forget USERNAME's failed logins, lifting a login back-off at once."""
    with cli_session() as session:
        throttle.record_success(session, username)
    typer.echo(f"failed logins of {username} forgotten")


@token_cli.command("create")
def token_create(
    username: str,
    name: str = typer.Option("", "--name", help="what the token is for"),
    expires_days: int = typer.Option(
        users.DEFAULT_TOKEN_DAYS, "--expires-days", help="days until it expires; 0: never"
    ),
) -> None:
    """Print a new API token for USERNAME (shown once; only its hash is stored)."""
    with cli_session() as session:
        row, token = users.issue_token(session, username, name, expires_days)
        audit.record(session, None, "token_created", username, token_id=row.id, via="cli")
    typer.echo(token)


@token_cli.command("list")
def token_list(
    username: str | None = typer.Argument(None, help="only this user's tokens"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """API tokens (id, user, name, created, last used, expires, revoked); never the tokens."""
    with cli_session() as session:
        owner = users.get_user(session, username) if username else None
        rows = [
            {
                "id": row.id,
                "username": row.user.username,
                "name": row.name,
                "created_at": row.created_at,
                "last_used_at": row.last_used_at,
                "expires_at": row.expires_at,
                "revoked_at": row.revoked_at,
            }
            for row in users.list_tokens(session, owner)
        ]
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        state = "revoked" if r["revoked_at"] else f"expires {r['expires_at'] or 'never'}"
        typer.echo(f"{r['id']}\t{r['username']}\t{r['name']}\t{state}")


@token_cli.command("revoke")
def token_revoke(
    token_id: int = typer.Argument(..., min=1, max=2**63 - 1, help="the id from token list"),
) -> None:
    """Revoke the API token with this id (see ``token list``); it stops working at once."""
    with cli_session() as session:
        row = users.revoke_token(session, token_id, None)
        audit.record(session, None, "token_revoked", row.user.username, token_id=row.id)
    typer.echo(f"revoked token {token_id} of {row.user.username}")
