"""The README cannot drift: every setting and every command is documented."""

from __future__ import annotations

from pathlib import Path

import typer

from app.cli import cli
from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def _command_names(app: typer.Typer, prefix: str = "") -> list[str]:
    names = [
        prefix + (c.name or c.callback.__name__.replace("_", "-"))  # type: ignore[union-attr]
        for c in app.registered_commands
    ]
    for group in app.registered_groups:
        assert group.typer_instance is not None
        names += _command_names(group.typer_instance, f"{prefix}{group.name} ")
    return names


def test_every_setting_is_in_the_readme() -> None:
    for name in Settings.model_fields:
        assert f"`LUNGSIGN_{name.upper()}`" in README, f"LUNGSIGN_{name.upper()} undocumented"


def test_every_command_is_in_the_readme() -> None:
    for name in _command_names(cli):
        assert f"`lungsign {name}" in README, f"`lungsign {name}` undocumented"


def test_readme_names_the_two_commands_ci_runs() -> None:
    assert "make demo" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()
