"""``lungsign demo``: set-up output and serving, with the server replaced by a recorder."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from app.cli import demo, root
from app.cli.root import cli
from app.config import Settings
from app.db import Database
from app.services.accounts import users


@pytest.fixture
def served(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    monkeypatch.setattr(root, "get_settings", lambda: settings)
    monkeypatch.setattr(demo, "get_settings", lambda: settings)
    calls: list[tuple[str, int]] = []
    monkeypatch.setattr(demo, "serve_app", lambda host, port, alongside: calls.append((host, port)))
    return calls


def test_demo_prints_accounts_then_serves(served: list[tuple[str, int]], db: Database) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--patients", "1", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert served == [("127.0.0.1", 8123)]
    assert "http://127.0.0.1:8123/login" in result.output
    passwords = dict(re.findall(r"^\s+(\S+)\s+\w+\s+password (\S+)$", result.output, re.M))
    assert set(passwords) == {"admin", "reader1", "reader2", "reader3"}
    with db.session() as session:
        assert users.authenticate(session, "admin", passwords["admin"]) is not None

    again = runner.invoke(cli, ["demo", "--patients", "1", "--no-serve"])
    assert again.exit_code == 0, again.output
    assert served == [("127.0.0.1", 8123)]  # --no-serve
    assert "password unchanged" in again.output
    assert not re.search(r"password \S+$", again.output, re.M)  # no password printed again
    assert "patches imported" in again.output
