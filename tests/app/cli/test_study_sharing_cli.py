"""``lungsign study share|unshare`` and ``study create --owner`` (issue 11, finding 13)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import root
from app.cli.root import cli
from app.config import Settings
from app.db import Database
from tests.factories import api_token, make_user
from tests.study_factories import with_data


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(root, "get_settings", lambda: settings)
    return CliRunner()


def test_share_owner_and_unshare_from_the_command_line(
    runner: CliRunner, client: TestClient, db: Database
) -> None:
    with_data(db)
    ann = api_token(db, make_user(db, "coordinator", "ann"))
    bob = api_token(db, make_user(db, "coordinator", "bob"))
    make_user(db, "reader", "rea")
    args = ["study", "create", "--name", "cli", "--real", "real1", "--generated", "gen1"]
    created = runner.invoke(cli, [*args, "--items-per-reader", "4", "--reader", "rea"])
    assert created.exit_code == 0, created.output
    study = "/api/v1/studies/1"
    assert client.get(study, headers=ann).status_code == 404  # no owner: admins only

    owned = runner.invoke(cli, ["study", "share", "cli", "ann", "--owner"])
    assert owned.exit_code == 0 and "owned by ann" in owned.stdout
    assert client.get(study, headers=ann).status_code == 200
    assert client.get(study, headers=bob).status_code == 404

    shared = runner.invoke(cli, ["study", "share", "cli", "bob"])
    assert shared.exit_code == 0 and "shared with bob" in shared.stdout
    assert client.get(study, headers=bob).status_code == 200
    again = runner.invoke(cli, ["study", "share", "cli", "bob"])
    assert again.exit_code == 0 and "already sees it" in again.stdout

    reader = runner.invoke(cli, ["study", "share", "cli", "rea"])
    assert reader.exit_code == 1 and "'rea' is a reader" in reader.output

    gone = runner.invoke(cli, ["study", "unshare", "cli", "bob"])
    assert gone.exit_code == 0 and "no longer shared with bob" in gone.stdout
    assert client.get(study, headers=bob).status_code == 404
    twice = runner.invoke(cli, ["study", "unshare", "cli", "bob"])
    assert twice.exit_code == 1 and "not shared with 'bob'" in twice.output


def test_create_with_an_owner(runner: CliRunner, client: TestClient, db: Database) -> None:
    with_data(db)
    ann = api_token(db, make_user(db, "coordinator", "ann"))
    args = ["study", "create", "--name", "mine", "--real", "real1", "--generated", "gen1"]
    created = runner.invoke(cli, [*args, "--items-per-reader", "4", "--owner", "ann"])
    assert created.exit_code == 0, created.output
    assert [s["name"] for s in client.get("/api/v1/studies", headers=ann).json()] == ["mine"]
