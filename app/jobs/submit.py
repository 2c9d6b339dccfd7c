"""Creating, listing and cancelling jobs (what routes and the CLI call).

``create`` validates the parameters and the data they name before anything is queued, and
returns the existing job when one with the same kind, data snapshot, parameters and seed is
queued, running or succeeded: the same request twice gives the same job.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import Conflict, Invalid, NotFound
from app.jobs.kinds import KINDS
from app.tables import Job, User, utcnow

ACTIVE = ("queued", "running")
ENDED = ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Submitted:
    job: Job
    created: bool  # False: an identical job already existed


def create(
    session: Session, settings: Settings, kind: str, params: dict[str, Any], user: User | None
) -> Submitted:
    """A new queued job (committed by the caller, then ``queue.enqueue``d), or the same one."""
    if kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}")
    spec = KINDS[kind]
    try:
        checked = spec.params.model_validate(params)
    except ValidationError as exc:
        raise Invalid(f"{kind} params: {_problems(exc)}") from None
    normal = checked.model_dump()
    identity = spec.check(session, settings, checked)
    key = dedupe_key(kind, normal, identity)
    same = session.scalar(
        select(Job)
        .where(Job.dedupe_key == key, Job.status.in_((*ACTIVE, "succeeded")))
        .order_by(Job.id)
    )
    if same is not None:
        return Submitted(same, created=False)
    if spec.check_new is not None:
        spec.check_new(session, checked)
    job = Job(kind=kind, params=normal, dedupe_key=key, created_by_id=user.id if user else None)
    session.add(job)
    session.flush()
    return Submitted(job, created=True)


def dedupe_key(kind: str, params: dict[str, Any], identity: dict[str, Any]) -> str:
    raw = json.dumps({"kind": kind, "params": params, "data": identity}, sort_keys=True)
    return hashlib.sha256(raw.encode()).hexdigest()


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'params'}: {err['msg']}" for err in exc.errors()
    )


def get(session: Session, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job


def list_jobs(session: Session, limit: int = 100, kind: str | None = None) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    return list(session.scalars(query))


def cancel(session: Session, job_id: int) -> Job:
    """Cancel a queued job at once; ask a running one to stop (its worker ends it)."""
    job = get(session, job_id)
    if job.status in ENDED:
        raise Conflict(f"job {job_id} has already {job.status}")
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="cancelled", message="cancelled before it started", finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    job.cancel_requested = True
    session.flush()
    session.refresh(job)
    return job
