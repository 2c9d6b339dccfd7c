"""Rules for text people type into names and study texts.

Names (studies, datasets, subspecialties) may use any script, but never control characters
(NUL included) or the Unicode bidirectional controls (U+202A-U+202E, U+2066-U+2069, U+200E,
U+200F, U+061C), which can make one name display as another ("Trojan Source"). Longer texts
(study instructions and end text) may hold newlines and tabs but the same nothing else.
Usernames are stricter still: ``USERNAME_RE`` (see ``app.services.accounts.users``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
MAX_STUDY_TEXT = 10_000  # characters of study instructions or end text
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def problem(value: str, multiline: bool = False) -> str | None:
    """Why VALUE is not acceptable as a name (or, MULTILINE, as a text), or None."""
    for char in value:
        if char in BIDI_CONTROLS:
            return f"must not contain the direction control character U+{ord(char):04X}"
        if unicodedata.category(char) == "Cc" and not (multiline and char in "\n\r\t"):
            return f"must not contain the control character U+{ord(char):04X}"
    return None


def _name(value: str) -> str:
    reason = problem(value)
    if reason:
        raise ValueError(reason)
    return value


def _text(value: str) -> str:
    reason = problem(value, multiline=True)
    if reason:
        raise ValueError(reason)
    return value


SafeName = Annotated[str, AfterValidator(_name)]
SafeText = Annotated[str, AfterValidator(_text)]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")


def spreadsheet_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula (CSV injection):
    text starting with = + - @ tab or CR gets a leading apostrophe, which spreadsheets hide;
    so does text already starting with one, so ``from_spreadsheet_cell`` undoes it exactly.
    Numbers pass unchanged (a negative number is not a formula)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def from_spreadsheet_cell(value: str) -> str:
    """The text ``spreadsheet_cell`` was given."""
    return value[1:] if value.startswith("'") else value
