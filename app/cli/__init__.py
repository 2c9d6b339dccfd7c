"""The ``lungsign`` command line (Typer). Each module registers its commands on ``cli``."""

from app.cli import accounts, data, demo, jobs, server, study, train  # noqa: F401  (registers)
from app.cli.root import cli


def main() -> None:
    cli()
