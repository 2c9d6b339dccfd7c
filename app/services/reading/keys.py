"""Keyboard shortcuts of the reading page; label keys are derived from the label data."""

from __future__ import annotations

from app.tables import Label

VERDICT_KEYS = {"real": "R", "generated": "G"}
WINDOW_KEY = "W"
CONFIDENCE_KEYS = ("1", "2", "3", "4", "5")
RESERVED = {*VERDICT_KEYS.values(), WINDOW_KEY, *CONFIDENCE_KEYS}
SPARE_KEYS = "6789"


def label_keys(labels: list[Label]) -> dict[str, str]:
    """A distinct key per label: the first free letter of its code, then of its name."""
    taken = set(RESERVED)
    keys: dict[str, str] = {}
    for label in labels:
        letters = [c.upper() for c in label.code + label.name if c.isalnum()]
        spare = [k for k in SPARE_KEYS if k not in taken]
        key = next((c for c in letters if c not in taken), spare[0] if spare else "")
        taken.add(key)
        keys[label.code] = key
    return keys
