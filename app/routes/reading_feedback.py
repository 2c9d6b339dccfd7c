"""What a reader tells and is told besides the answers: flags on items, their own summary."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from app.deps import ReaderUser, SessionDep
from app.schemas import FlagBody
from app.services.reading import flags
from app.services.reading.summary import reader_summary

api = APIRouter(prefix="/api/v1/reading", tags=["reading"])


@api.post("/items/{token}/flag")
def flag_item(session: SessionDep, user: ReaderUser, token: str, body: FlagBody) -> dict[str, Any]:
    """Flag one of your items shown so far as unreadable and/or comment on it, for the
    coordinator (replaces your earlier flag; neither takes it away). The item still needs
    an answer."""
    flag = flags.set_flag(session, user, token, flags.Flag(body.unreadable, body.comment))
    return {"item": token, "flagged": flag.flagged, **asdict(flag)}


@api.get("/studies/{study_id}/summary")
def my_summary(session: SessionDep, user: ReaderUser, study_id: int) -> dict[str, Any]:
    """Your own summary of a study: items answered, reading time (total, median per item),
    practice score and flags; never a score of counted items."""
    return asdict(reader_summary(session, user, study_id))
