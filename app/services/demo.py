"""The demo installation: accounts, the synthetic cohort, its import."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.security import new_password
from app.services.import_types import ImportSummary
from app.services.ingest import import_directory
from app.services.users import add_user
from app.tables import User

DEMO_ACCOUNTS = (
    ("admin", "admin"),
    ("reader1", "reader"),
    ("reader2", "reader"),
    ("reader3", "reader"),
)
DEMO_DATASET = "demo"
DEMO_PATIENTS = 24
DEMO_SEED = 0


@dataclass
class DemoSetup:
    """What the demo made: new accounts with their passwords, kept ones, the import summary."""

    created: dict[str, str] = field(default_factory=dict)  # username -> password
    kept: list[str] = field(default_factory=list)
    cohort_dir: Path | None = None
    summary: ImportSummary | None = None


def ensure_accounts(db: Database, setup: DemoSetup) -> None:
    """Create the demo accounts that don't exist; existing ones keep their passwords."""
    with db.session() as session:
        for username, role in DEMO_ACCOUNTS:
            if session.scalar(select(User).where(User.username == username)):
                setup.kept.append(username)
                continue
            password = new_password()
            add_user(session, username, password, role)
            setup.created[username] = password


def ensure_cohort(settings: Settings, patients: int = DEMO_PATIENTS, seed: int = DEMO_SEED) -> Path:
    """Write the demo cohort under the data dir once; later runs reuse it."""
    from app.demo_cohort import write_cohort

    out = settings.data_dir / "demo-cohort"
    if not (out / "annotations.csv").exists():
        write_cohort(out, patients=patients, seed=seed)
    return out


def setup_demo(settings: Settings, db: Database) -> DemoSetup:
    """Accounts, cohort and import; re-running adds nothing new."""
    setup = DemoSetup()
    ensure_accounts(db, setup)
    setup.cohort_dir = ensure_cohort(settings)
    with db.session() as session:
        setup.summary = import_directory(session, settings, setup.cohort_dir, DEMO_DATASET)
    return setup
