"""The demo set-up without serving: accounts, cohort, import, and re-running it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import demo_cohort
from app.config import Settings
from app.db import Database
from app.services.accounts import users
from app.services.installation.demo import DEMO_ACCOUNTS, ensure_cohort, setup_demo


def _logs_in(db: Database, username: str, password: str) -> bool:
    with db.session() as session:
        return users.authenticate(session, username, password) is not None


def test_setup_then_rerun_adds_nothing(settings: Settings, db: Database) -> None:
    first = setup_demo(settings, db, patients=1)
    names = [name for name, _ in DEMO_ACCOUNTS]
    assert first.created == names and first.kept == []
    assert all(_logs_in(db, name, password) for name, password in first.passwords.items())
    with db.session() as session:
        assert users.get_user(session, "admin").role == "admin"
        assert [u.username for u in users.list_users(session, "reader")] == names[1:]
    assert first.summary is not None and first.summary.imported > 0
    assert first.summary.errors == []

    again = setup_demo(settings, db, patients=1)
    assert again.created == [] and again.passwords == {} and again.kept == names
    assert again.summary is not None and again.summary.imported == 0
    assert again.summary.already_present == first.summary.imported
    assert _logs_in(db, "reader1", first.passwords["reader1"])  # kept, not reset


def test_reset_passwords_replaces_them(settings: Settings, db: Database) -> None:
    first = setup_demo(settings, db, patients=1)
    reset = setup_demo(settings, db, patients=1, reset_passwords=True)
    assert reset.created == [] and set(reset.passwords) == set(first.passwords)
    assert _logs_in(db, "admin", reset.passwords["admin"])
    assert not _logs_in(db, "admin", first.passwords["admin"])


def test_interrupted_cohort_is_written_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []

    def fake_write(out: Path, patients: int, seed: int) -> None:
        calls.append(out)
        out.mkdir(parents=True)
        (out / "annotations.csv").write_text("sop_instance_uid,x,y,label\n")

    monkeypatch.setattr(demo_cohort, "write_cohort", fake_write)
    half = settings.data_dir / "demo-cohort"
    half.mkdir()
    (half / "stale.dcm").write_bytes(b"")  # a first run stopped before annotations.csv
    out = ensure_cohort(settings, patients=1)
    assert out == half and (out / "annotations.csv").exists()
    assert not (out / "stale.dcm").exists()
    assert ensure_cohort(settings, patients=1) == out and len(calls) == 1
