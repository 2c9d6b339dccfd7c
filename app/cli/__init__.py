"""The ``lungsign`` command line (Typer). Each module registers its commands on ``cli``."""

from app.cli import accounts, data, demo, server, study, train  # noqa: F401  (registers commands)
from app.cli.root import cli


def main() -> None:
    cli()
