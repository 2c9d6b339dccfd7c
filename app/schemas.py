"""Request and response models of the JSON API (and the CLI's ``--json``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, Field

from app.services.reading.flags import MAX_COMMENT
from app.tables import Job, ModelVersion
from app.text_rules import SafeName, SafeText


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC, and JSON says so."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# A stored time as RFC 3339 with its offset (an OpenAPI "date-time"), on both databases.
UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class JobCreate(BaseModel):
    kind: str = Field(description="import | train_gan | generate | train_classifier | evaluate")
    params: dict[str, Any] = Field(default_factory=dict, description="the CLI's option names")


class JobPublic(BaseModel):
    id: int
    kind: str
    status: str
    progress: float
    message: str
    metrics: dict[str, Any]
    result: dict[str, Any]
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None

    @classmethod
    def of(cls, job: Job) -> Self:
        return cls.model_validate(job, from_attributes=True)


class JobDetail(JobPublic):
    params: dict[str, Any]
    log_tail: str
    attempts: int
    cancel_requested: bool


class ModelVersionPublic(BaseModel):
    id: int
    kind: str
    version: int
    config: dict[str, Any]
    metrics: dict[str, Any]
    lineage: dict[str, Any]
    current: bool
    created_at: UtcDatetime
    job_id: int | None

    @classmethod
    def of(cls, row: ModelVersion) -> ModelVersionPublic:
        return cls(
            id=row.id,
            kind=row.kind,
            version=row.version,
            config=row.config,
            metrics=row.metrics,
            lineage=row.lineage,
            current=row.is_current,
            created_at=row.created_at,
            job_id=row.job_id,
        )


class DatasetPublic(BaseModel):
    id: int
    name: str
    kind: str
    patch_size: int
    created_at: UtcDatetime
    total: int
    counts: dict[str, dict[str, int]]


class LoginBody(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1024)


class PasswordChangeBody(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class PasswordSetBody(BaseModel):
    new_password: str = Field(max_length=1024)


class TokenCreate(BaseModel):
    username: str = Field(max_length=64, description="whose token (admins may name anyone)")
    name: str = Field("", max_length=120, description="what the token is for")
    expires_days: int = Field(90, ge=0, le=3650, description="0: never expires")


class TokenPublic(BaseModel):
    id: int
    username: str
    name: str
    created_at: UtcDatetime
    last_used_at: UtcDatetime | None
    expires_at: UtcDatetime | None
    revoked_at: UtcDatetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="shown once; only its hash is stored")


class UserPublic(BaseModel):
    username: str
    role: str
    active: bool


class UserAccountPublic(UserPublic):
    """An account as the admin's users page lists it."""

    last_login: UtcDatetime | None
    api_tokens: int  # usable: neither revoked nor expired
    api_tokens_total: int


class UserCreate(BaseModel):
    """A new account; the server generates its one-time password."""

    username: str = Field(min_length=1, max_length=64)
    role: Literal["reader", "coordinator", "admin"] = "reader"


class UserCreated(UserPublic):
    """The new account and its one-time password, shown this once (only its hash is kept)."""

    password: str


class RoleBody(BaseModel):
    role: Literal["reader", "coordinator", "admin"]


class SessionPublic(BaseModel):
    username: str
    role: str
    csrf_token: str


class AnswerBody(BaseModel):
    verdict: str
    confidence: int | None = None
    label: str | None = None
    duration_ms: int | None = Field(None, ge=0)


class FlagBody(BaseModel):
    """A reader's flag on an item: unreadable and/or a comment; with neither, no flag."""

    unreadable: bool = False
    comment: SafeText = Field("", max_length=MAX_COMMENT)


class IntakeBody(BaseModel):
    experience_years: int = Field(ge=0, le=70)
    subspecialty: str = Field("", max_length=120)


class ReaderProgressPublic(BaseModel):
    reader: str
    answered: int
    total: int
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None


class StudyPublic(BaseModel):
    id: int
    name: str
    status: str
    real: dict[str, str | None] | None
    generated: dict[str, list[str]]
    items_per_reader: int
    real_fraction: float
    per_label: bool
    shared_items: bool
    ask_confidence: bool
    ask_label: bool
    allow_changes: bool
    practice_items: int
    windows: list[str]
    instructions: str
    end_text: str
    seed: int
    readers: list[ReaderProgressPublic]
    created_at: UtcDatetime
    opened_at: UtcDatetime | None
    closed_at: UtcDatetime | None


class StudyCopyBody(BaseModel):
    """The new draft's name when copying a study."""

    name: SafeName = Field(min_length=1, max_length=120)


class ReadersBody(BaseModel):
    readers: list[str]
    # Coordinators and admins among READERS, assigned on purpose although not blinded.
    unblinded: list[str] = Field(default_factory=list)


class MachineReaderRun(BaseModel):
    """Run a study's machine reader; no seed: a fresh run with the next unused seed."""

    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)


class CollaboratorBody(BaseModel):
    """Share a study with a coordinator's or admin's account."""

    username: str = Field(min_length=1, max_length=64)


class CollaboratorPublic(BaseModel):
    username: str
    role: str
    added_at: UtcDatetime
    added_by: str | None


class StudySharingPublic(BaseModel):
    """Who sees and manages a study besides admins: its owner (None: admins only) and the
    accounts it is shared with."""

    study: str
    owner: str | None
    collaborators: list[CollaboratorPublic]
