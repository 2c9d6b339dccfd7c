"""The demo installation: accounts, the synthetic cohort, its import.

Re-running is safe: accounts that exist are kept with their passwords (only new accounts'
passwords are printed, since only their hashes are stored) unless ``reset_passwords`` asks
for new ones; the cohort is written once under the data dir; the import adds nothing twice.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from app import security
from app.config import Settings
from app.db import Database
from app.services.accounts.users import add_user
from app.services.ingest.directory import import_directory
from app.services.ingest.types import ImportSummary, ProgressCallback
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
COHORT_DIRNAME = "demo-cohort"


@dataclass
class DemoSetup:
    """What the demo made: accounts with new passwords, kept ones, the cohort and its import."""

    passwords: dict[str, str] = field(default_factory=dict)  # username -> password (new/reset)
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    cohort_dir: Path | None = None
    summary: ImportSummary | None = None


def ensure_accounts(db: Database, setup: DemoSetup, reset_passwords: bool = False) -> None:
    """Create the demo accounts that don't exist; existing ones keep their passwords unless
    RESET_PASSWORDS, which gives them new ones (and re-activates them)."""
    with db.session() as session:
        for username, role in DEMO_ACCOUNTS:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                password = security.new_password()
                add_user(session, username, password, role)
                setup.created.append(username)
                setup.passwords[username] = password
            elif reset_passwords:
                password = security.new_password()
                user.password_hash = security.hash_password(password)
                user.active = True
                setup.passwords[username] = password
            else:
                setup.kept.append(username)


def ensure_cohort(settings: Settings, patients: int = DEMO_PATIENTS, seed: int = DEMO_SEED) -> Path:
    """Write the demo cohort under the data dir once; later runs reuse it.

    It is written to a scratch folder and renamed when complete, so an interrupted first run
    never leaves a half cohort that later runs would take as whole.
    """
    from app.demo_cohort import write_cohort

    out = settings.data_dir / COHORT_DIRNAME
    if (out / "annotations.csv").exists():
        return out
    scratch = settings.data_dir / f".{COHORT_DIRNAME}.partial"
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    write_cohort(scratch, patients=patients, seed=seed)
    scratch.rename(out)
    return out


def setup_demo(
    settings: Settings,
    db: Database,
    *,
    patients: int = DEMO_PATIENTS,
    reset_passwords: bool = False,
    on_progress: ProgressCallback | None = None,
) -> DemoSetup:
    """Accounts, cohort and import into dataset ``demo``; re-running adds nothing new."""
    setup = DemoSetup()
    ensure_accounts(db, setup, reset_passwords)
    setup.cohort_dir = ensure_cohort(settings, patients)
    with db.session() as session:
        setup.summary = import_directory(
            session, settings, setup.cohort_dir, DEMO_DATASET, on_progress=on_progress
        )
    return setup
