"""The ORM schema (SQLAlchemy 2.x, typed). Alembic revisions in ``migrations/`` follow it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("reader", "coordinator", "admin")
SOURCES = ("real", "generated")
SPLITS = ("train", "val", "test")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Reader intake, asked once, for group analysis.
    experience_years: Mapped[int | None] = mapped_column(Integer)
    subspecialty: Mapped[str | None] = mapped_column(String(120))
    # In every session cookie; bumped by logout, which so ends all of the user's sessions.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]  # None: never expires
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class LoginThrottle(Base):
    """Failed logins per account (``user:NAME``) or per address (``addr:IP``), with back-off;
    in the database so every web process sees the same counts."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    locked_until: Mapped[datetime | None]


class Label(Base):
    """A sign (or normal tissue); codes and names are data, editable per installation."""

    __tablename__ = "labels"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_normal: Mapped[bool] = mapped_column(Boolean, default=False)


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # "real" | "generated"
    patch_size: Mapped[int] = mapped_column(Integer)
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class Patch(Base):
    """One patch in Hounsfield units, stored as raw little-endian int16 bytes."""

    __tablename__ = "patches"
    __table_args__ = (UniqueConstraint("dataset_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(16))  # "real" | "generated"
    label_code: Mapped[str] = mapped_column(ForeignKey("labels.code"), index=True)
    patient_key: Mapped[str] = mapped_column(String(64), index=True)
    split: Mapped[str] = mapped_column(String(8))
    height: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    pixels: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(64))
    # Provenance of real patches.
    series_uid: Mapped[str | None] = mapped_column(String(64))
    sop_uid: Mapped[str | None] = mapped_column(String(64))
    roi_x: Mapped[int | None] = mapped_column(Integer)
    roi_y: Mapped[int | None] = mapped_column(Integer)
    roi_width: Mapped[int | None] = mapped_column(Integer)
    roi_height: Mapped[int | None] = mapped_column(Integer)
    padded_pixels: Mapped[int] = mapped_column(Integer, default=0)  # filled with -1000 HU
    # Provenance of generated patches.
    model_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("model_versions.id", ondelete="SET NULL")
    )
    seed: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    dataset: Mapped[Dataset] = relationship()


class ModelVersion(Base):
    """A trained model: config, metrics, lineage and checkpoint; one current per kind."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "gan" | "classifier"
    version: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lineage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    checkpoint_path: Mapped[str] = mapped_column(String(500))
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))


class Job(Base):
    """A background job; its row is the only state the UI and API read."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(default=dict)
    result: Mapped[dict[str, Any]] = mapped_column(default=dict)
    log_tail: Mapped[str] = mapped_column(Text, default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Same kind, data snapshot, parameters and seed: the same key, and so the same job.
    dedupe_key: Mapped[str | None] = mapped_column(String(64), index=True)
    worker_id: Mapped[str | None] = mapped_column(String(80))  # the claim of the running worker
    heartbeat_at: Mapped[datetime | None]  # a running job whose heartbeat is stale is resumed
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class AuditEvent(Base):
    """Who did what (exports, logins, study changes)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target: Mapped[str] = mapped_column(String(200), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


# --- Reader study (visual Turing test) -------------------------------------------------
STUDY_STATUSES = ("draft", "open", "closed")
VERDICTS = SOURCES


class Study(Base):
    """A blinded reader study: which patches, how many per reader, which questions."""

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    real_dataset_id: Mapped[int | None] = mapped_column(
        ForeignKey("datasets.id", ondelete="SET NULL")
    )
    real_split: Mapped[str | None] = mapped_column(String(8))  # None: every split
    items_per_reader: Mapped[int] = mapped_column(Integer)
    real_fraction: Mapped[float] = mapped_column(Float)
    per_label: Mapped[bool] = mapped_column(Boolean, default=False)
    shared_items: Mapped[bool] = mapped_column(Boolean, default=True)
    ask_confidence: Mapped[bool] = mapped_column(Boolean, default=True)
    ask_label: Mapped[bool] = mapped_column(Boolean, default=True)
    allow_changes: Mapped[bool] = mapped_column(Boolean, default=False)
    practice_items: Mapped[int] = mapped_column(Integer, default=0)
    windows: Mapped[list[str]] = mapped_column(JSON, default=list)
    instructions: Mapped[str] = mapped_column(Text, default="")
    end_text: Mapped[str] = mapped_column(Text, default="")
    seed: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Sees and manages the study, and shares it (study_collaborators); None: admins only.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    real_dataset: Mapped[Dataset | None] = relationship()
    generated_datasets: Mapped[list[Dataset]] = relationship(
        secondary="study_generated_datasets", order_by="Dataset.name"
    )


class StudyCollaborator(Base):
    """A coordinator (or admin) the owner shared a study with: sees and manages it too."""

    __tablename__ = "study_collaborators"

    study_id: Mapped[int] = mapped_column(
        ForeignKey("studies.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys="StudyCollaborator.user_id")


class StudyGeneratedDataset(Base):
    """A generated dataset (one GAN version's output) a study draws from."""

    __tablename__ = "study_generated_datasets"

    study_id: Mapped[int] = mapped_column(
        ForeignKey("studies.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )


class StudyItem(Base):
    """A patch drawn into a study; practice items give feedback and never count."""

    __tablename__ = "study_items"
    __table_args__ = (UniqueConstraint("study_id", "patch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    patch_id: Mapped[int] = mapped_column(ForeignKey("patches.id"), index=True)
    is_practice: Mapped[bool] = mapped_column(Boolean, default=False)

    patch: Mapped[Patch] = relationship()


class ItemImage(Base):
    """A study item pre-rendered at open, one PNG per window preset, served as stored."""

    __tablename__ = "item_images"

    study_item_id: Mapped[int] = mapped_column(
        ForeignKey("study_items.id", ondelete="CASCADE"), primary_key=True
    )
    window: Mapped[str] = mapped_column(String(16), primary_key=True)
    png: Mapped[bytes] = mapped_column(LargeBinary)


class Assignment(Base):
    """One reader's part of a study, in the reader's own seeded order."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("study_id", "reader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"))
    reader_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # The coordinator ticked "unblinded reader": someone who can see galleries or results
    # (a coordinator or admin) reads anyway, and the results mark them.
    unblinded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    reader: Mapped[User] = relationship()


class AssignmentItem(Base):
    """An item at a position of an assignment; readers only ever see its random token."""

    __tablename__ = "assignment_items"
    __table_args__ = (UniqueConstraint("assignment_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    study_item_id: Mapped[int] = mapped_column(
        ForeignKey("study_items.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    token: Mapped[str] = mapped_column(String(43), unique=True)
    shown_at: Mapped[datetime | None]


class Judgment(Base):
    """A reader's answer; one per assignment item (the unique key stops double submits)."""

    __tablename__ = "judgments"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_item_id: Mapped[int] = mapped_column(
        ForeignKey("assignment_items.id", ondelete="CASCADE"), unique=True
    )
    verdict: Mapped[str] = mapped_column(String(16))  # "real" | "generated"
    confidence: Mapped[int | None] = mapped_column(Integer)
    label_code: Mapped[str | None] = mapped_column(String(16))
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    revisions: Mapped[int] = mapped_column(Integer, default=0)
    # The first answer's reading time and moment; duration_ms and answered_at are the answer
    # in force, which a study that allows changes may replace (revisions counts how often).
    first_duration_ms: Mapped[int | None] = mapped_column(Integer)
    first_answered_at: Mapped[datetime | None] = mapped_column()


class ItemFlag(Base):
    """A reader's flag on one of their items: unreadable and/or a comment, for the
    coordinator. The item still needs an answer; flags change no statistic."""

    __tablename__ = "item_flags"

    assignment_item_id: Mapped[int] = mapped_column(
        ForeignKey("assignment_items.id", ondelete="CASCADE"), primary_key=True
    )
    unreadable: Mapped[bool] = mapped_column(Boolean, default=False)
    comment: Mapped[str] = mapped_column(Text, default="")
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow)
