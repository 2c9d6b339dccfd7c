"""The docs cannot drift: every setting is in the README's configuration table, every command
in the README, and every link between the README and docs/ resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer

from app.cli import cli
from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))
LINK = re.compile(r"\[[^\]]*\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _command_names(app: typer.Typer, prefix: str = "") -> list[str]:
    names = [
        prefix + (c.name or c.callback.__name__.replace("_", "-"))  # type: ignore[union-attr]
        for c in app.registered_commands
        if not c.hidden
    ]
    for group in app.registered_groups:
        assert group.typer_instance is not None
        names += _command_names(group.typer_instance, f"{prefix}{group.name} ")
    return names


def _table_settings() -> set[str]:
    """The variables in the first column of the README's configuration table."""
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\|\s*`(LUNGSIGN_[A-Z0-9_]+)`\s*\|", section, re.M))


def test_every_setting_is_in_the_configuration_table() -> None:
    documented = _table_settings()
    fields = {f"LUNGSIGN_{name.upper()}" for name in Settings.model_fields}
    assert fields - documented == set(), "settings missing from the README's table"
    assert documented - fields == set(), "the README documents settings that do not exist"


def test_every_command_is_in_the_readme() -> None:
    commands = _command_names(cli)
    assert {"init", "user add", "token create", "demo", "serve"} <= set(commands)
    missing = [name for name in commands if f"`lungsign {name}" not in README]
    assert missing == [], f"commands missing from the README: {missing}"


@pytest.mark.parametrize("page", [ROOT / "README.md", *DOCS], ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    targets = [t for t in LINK.findall(page.read_text()) if "://" not in t]
    broken = [t for t in targets if not (page.parent / t).exists()]
    assert broken == [], f"{page.name} links to missing files: {broken}"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {(ROOT / t).resolve() for t in LINK.findall(README) if "://" not in t}
    unlinked = [p.name for p in DOCS if p.resolve() not in linked]
    assert unlinked == [], f"docs pages the README does not link: {unlinked}"


def test_readme_names_the_two_commands_ci_runs() -> None:
    assert "make demo" in README and "make test" in README
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
