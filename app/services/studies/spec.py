"""What a coordinator asks for when creating a study (API body, CLI file, form)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.text_rules import MAX_STUDY_TEXT, SafeName, SafeText

WindowName = Literal["lung", "mediastinal"]
DEFAULT_WINDOWS: tuple[WindowName, ...] = ("lung", "mediastinal")


class RealSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str
    split: Literal["train", "val", "test"] | None = None  # None: every split


class GeneratedSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    datasets: list[str] = Field(default_factory=list)


class StudySpec(BaseModel):
    """A study design; unknown keys are rejected so typos in study files fail loudly."""

    model_config = ConfigDict(extra="forbid")

    name: SafeName = Field(min_length=1, max_length=120)
    real: RealSource | None = None
    generated: GeneratedSource = Field(default_factory=GeneratedSource)
    items_per_reader: int = Field(ge=1, le=10_000)
    real_fraction: float = Field(0.5, ge=0.0, le=1.0)
    per_label: bool = False
    shared_items: bool = True
    ask_confidence: bool = True
    ask_label: bool = True
    allow_changes: bool = False
    practice_items: int = Field(0, ge=0, le=100)
    windows: list[WindowName] = Field(default_factory=lambda: list(DEFAULT_WINDOWS), min_length=1)
    instructions: SafeText = Field("", max_length=MAX_STUDY_TEXT)
    end_text: SafeText = Field("", max_length=MAX_STUDY_TEXT)
    readers: list[str] = Field(default_factory=list)
    # Coordinators and admins among READERS, assigned on purpose although not blinded.
    unblinded: list[str] = Field(default_factory=list)
    seed: int = Field(0, ge=0, le=2**31 - 1)
