"""The ``lungsign`` command line (Typer). Each module registers its commands on ``cli``."""

from app.cli import accounts, backup, data, demo, jobs, machine, server, study, train  # noqa: F401
from app.cli.root import cli


def main() -> None:
    cli()
