"""The label set: nine CISLs plus normal tissue by default, editable per installation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.tables import Label

DEFAULT_LABELS = (
    ("GGO", "ground-glass opacity"),
    ("LOB", "lobulation"),
    ("CAL", "calcification"),
    ("CAV", "cavity and vacuolus"),
    ("SPI", "spiculation"),
    ("PLI", "pleural indentation"),
    ("AIB", "air bronchogram"),
    ("BRE", "bronchiectasis"),
    ("OBP", "obstructive pneumonia"),
    ("NOR", "normal tissue"),
)
NORMAL_CODE = "NOR"


def ensure_default_labels(session: Session) -> None:
    """Insert the default labels into an installation that has none."""
    if session.scalar(select(Label).limit(1)) is not None:
        return
    for position, (code, name) in enumerate(DEFAULT_LABELS):
        session.add(Label(code=code, name=name, position=position, is_normal=code == NORMAL_CODE))
    session.flush()


def list_labels(session: Session) -> list[Label]:
    return list(session.scalars(select(Label).order_by(Label.position, Label.code)))


class LabelResolver:
    """Maps a code or a name, in any case, to the installation's label code."""

    def __init__(self, labels: list[Label]) -> None:
        self._by_key: dict[str, str] = {}
        for label in labels:
            self._by_key[label.code.casefold()] = label.code
            self._by_key[label.name.casefold()] = label.code

    def resolve(self, text: str) -> str:
        code = self._by_key.get(text.strip().casefold())
        if code is None:
            raise Invalid(f"unknown label {text!r}")
        return code
