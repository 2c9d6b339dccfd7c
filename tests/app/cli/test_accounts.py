"""``lungsign user add`` and ``token create`` against a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("LUNGSIGN_DATABASE_URL", settings.sqlalchemy_url)
    monkeypatch.setenv("LUNGSIGN_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_user_add_reads_password_from_stdin_and_token_works(
    cli_env: None, client: TestClient
) -> None:
    result = runner.invoke(
        cli, ["user", "add", "dr-ada", "--role", "coordinator"], input="a-long-password\n"
    )
    assert result.exit_code == 0, result.output
    assert "a-long-password" not in result.output
    login = client.post(
        "/api/v1/auth/login", json={"username": "dr-ada", "password": "a-long-password"}
    )
    assert login.status_code == 200 and login.json()["role"] == "coordinator"

    token = runner.invoke(cli, ["token", "create", "dr-ada"])
    assert token.exit_code == 0, token.output
    headers = {"Authorization": f"Bearer {token.output.strip()}"}
    assert client.get("/", headers=headers).status_code == 200


def test_user_add_rejects_bad_role_and_duplicates(cli_env: None) -> None:
    bad = runner.invoke(cli, ["user", "add", "x1", "--role", "boss"], input="a-long-password\n")
    assert bad.exit_code == 1
    assert "role 'boss' is not one of reader, coordinator, admin" in bad.output
    assert (
        runner.invoke(cli, ["user", "add", "x1", "--role", "reader"], input="pw-long-1\n").exit_code
        == 0
    )
    again = runner.invoke(cli, ["user", "add", "x1", "--role", "reader"], input="pw-long-1\n")
    assert again.exit_code == 1 and "already exists" in again.output


def test_short_password_is_refused(cli_env: None) -> None:
    result = runner.invoke(cli, ["user", "add", "x2", "--role", "reader"], input="short\n")
    assert result.exit_code == 1 and "at least 8 characters" in result.output


def test_token_for_unknown_user(cli_env: None) -> None:
    result = runner.invoke(cli, ["token", "create", "nobody"])
    assert result.exit_code == 1 and "user 'nobody' does not exist" in result.output


def test_password_is_never_an_argument(cli_env: None) -> None:
    root = typer.main.get_command(cli)
    add = root.get_command(None, "user").get_command(None, "add")  # type: ignore[attr-defined]
    assert not [p for p in add.params if "password" in (p.name or "")]
    result = runner.invoke(
        cli, ["user", "add", "x3", "--role", "reader", "--password", "a-long-password"]
    )
    assert result.exit_code == 2 and "No such option" in result.output


def test_empty_stdin_is_refused(cli_env: None) -> None:
    result = runner.invoke(cli, ["user", "add", "x4", "--role", "reader"], input="")
    assert result.exit_code == 1 and "at least 8 characters" in result.output


def test_token_list_revoke_and_expiry_from_the_cli(cli_env: None, client: TestClient) -> None:
    runner.invoke(cli, ["user", "add", "dr-bo", "--role", "reader"], input="a-long-password\n")
    made = runner.invoke(cli, ["token", "create", "dr-bo", "--name", "laptop"])
    assert made.exit_code == 0, made.output
    headers = {"Authorization": f"Bearer {made.output.strip()}"}
    assert client.get("/api/v1/reading/studies", headers=headers).status_code == 200
    listed = runner.invoke(cli, ["token", "list", "dr-bo", "--json"])
    rows = json.loads(listed.output)
    assert [(r["name"], r["revoked_at"]) for r in rows] == [("laptop", None)]
    assert rows[0]["expires_at"], "tokens expire by default (90 days)"
    assert made.output.strip() not in listed.output
    revoked = runner.invoke(cli, ["token", "revoke", str(rows[0]["id"])])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/reading/studies", headers=headers).status_code == 401
    never = runner.invoke(cli, ["token", "create", "dr-bo", "--expires-days", "0"])
    assert never.exit_code == 0
    rows = json.loads(runner.invoke(cli, ["token", "list", "--json"]).output)
    assert rows[0]["expires_at"] is None
    huge = runner.invoke(cli, ["token", "revoke", str(2**64)])
    assert huge.exit_code == 2 and "Traceback" not in huge.output  # a usage error, not a crash


def test_password_reset_and_deactivation_from_the_cli(cli_env: None, client: TestClient) -> None:
    runner.invoke(cli, ["user", "add", "dr-cy", "--role", "reader"], input="a-long-password\n")
    token = runner.invoke(cli, ["token", "create", "dr-cy"]).output.strip()
    headers = {"Authorization": f"Bearer {token}"}
    reset = runner.invoke(cli, ["user", "password", "dr-cy"], input="another-password\n")
    assert reset.exit_code == 0, reset.output
    assert client.get("/api/v1/reading/studies", headers=headers).status_code == 401
    old = {"username": "dr-cy", "password": "a-long-password"}
    new = {"username": "dr-cy", "password": "another-password"}
    assert client.post("/api/v1/auth/login", json=old).status_code == 401
    assert client.post("/api/v1/auth/login", json=new).status_code == 200
    assert runner.invoke(cli, ["user", "deactivate", "dr-cy"]).exit_code == 0
    assert client.get("/api/v1/reading/studies").status_code == 401, "the session just opened"
    assert client.post("/api/v1/auth/login", json=new).status_code == 401
    assert runner.invoke(cli, ["user", "activate", "dr-cy"]).exit_code == 0
    assert client.post("/api/v1/auth/login", json=new).status_code == 200


def test_look_alike_and_blank_credentials_are_refused(cli_env: None) -> None:
    """Finding 10: 'аdmin' with a Cyrillic 'а', and an 8-space password."""
    cyrillic = runner.invoke(
        cli, ["user", "add", "\u0430dmin", "--role", "reader"], input="pw-long-12\n"
    )
    assert cyrillic.exit_code == 1 and "lower-case ASCII" in cyrillic.output
    upper = runner.invoke(cli, ["user", "add", "Admin", "--role", "reader"], input="pw-long-12\n")
    assert upper.exit_code == 1
    blank = runner.invoke(cli, ["user", "add", "x3", "--role", "reader"], input=" " * 8 + "\n")
    assert blank.exit_code == 1 and "at least 8 characters" in blank.output
    same = runner.invoke(
        cli, ["user", "add", "radiologist", "--role", "reader"], input="radiologist\n"
    )
    assert same.exit_code == 1 and "must not be the username" in same.output


def test_user_unlock_lifts_a_login_lock_at_once(cli_env: None, client: TestClient) -> None:
    runner.invoke(cli, ["user", "add", "dr-di", "--role", "reader"], input="a-long-password\n")
    for i in range(6):
        client.post("/api/v1/auth/login", json={"username": "dr-di", "password": f"bad-{i}"})
    right = {"username": "dr-di", "password": "a-long-password"}
    assert client.post("/api/v1/auth/login", json=right).status_code == 429
    assert runner.invoke(cli, ["user", "unlock", "dr-di"]).exit_code == 0
    assert client.post("/api/v1/auth/login", json=right).status_code == 200
