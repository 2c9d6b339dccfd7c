"""Keyboard shortcuts of the reading page; label keys are derived from the label data."""

from __future__ import annotations

from app.tables import Label

VERDICT_KEYS = {"real": "R", "generated": "G"}
WINDOW_KEY = "W"
FULL_SCREEN_KEY = "F"
CONFIDENCE_KEYS = ("1", "2", "3", "4", "5")
VIEWER_KEYS = {FULL_SCREEN_KEY, "0", "+", "-"}  # the image viewer's (static/js/viewer.js)
RESERVED = {*VERDICT_KEYS.values(), WINDOW_KEY, *CONFIDENCE_KEYS, *VIEWER_KEYS}
SPARE_KEYS = "6789"
MINOR_WORDS = {"and", "of", "the", "with", "or"}


def label_keys(labels: list[Label]) -> dict[str, str]:
    """A distinct key per label, the first free of: the code's first letter, the first letter
    of each word of the name ("air bronchogram": A, B), the code's other letters, the name's
    other letters, a spare digit."""
    taken = set(RESERVED)
    keys: dict[str, str] = {}
    for label in labels:
        key = next((k for k in _candidates(label) if k not in taken), "")
        taken.add(key)
        keys[label.code] = key
    return keys


def _candidates(label: Label) -> list[str]:
    words = [w for w in label.name.replace("-", " ").split() if w.lower() not in MINOR_WORDS]
    initials = [label.code[:1], *(w[:1] for w in words)]
    letters = [*initials, *label.code, *label.name]
    return [c.upper() for c in letters if c.isalnum()] + list(SPARE_KEYS)
