"""The audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.tables import AuditEvent, User


def record(
    session: Session, user: User | None, action: str, target: str = "", **detail: Any
) -> None:
    session.add(
        AuditEvent(user_id=user.id if user else None, action=action, target=target, detail=detail)
    )
