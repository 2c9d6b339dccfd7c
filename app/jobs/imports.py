"""The ``import`` job: a zip uploaded through the datasets page or the API, imported in a
worker (never in the web process). The upload waits under ``data_dir/uploads`` until then."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import IO

from app.config import Settings
from app.errors import LungsignError
from app.jobs.context import JobContext
from app.services.ingest.uploads import copy_bounded, import_zip, upload_limit
from app.tables import User


def uploads_dir(settings: Settings) -> Path:
    path = settings.data_dir / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_upload(settings: Settings, source: IO[bytes]) -> str:
    """Keep an uploaded zip (bounded by the upload limit) for its job; its file name."""
    name = f"{uuid.uuid4().hex}.zip"
    target = uploads_dir(settings) / name
    try:
        copy_bounded(source, target, upload_limit(settings))
    except BaseException:  # over the limit: keep nothing
        target.unlink(missing_ok=True)
        raise
    return name


def run_import(ctx: JobContext) -> None:
    path = uploads_dir(ctx.settings) / ctx.params["upload"]
    ctx.progress(0.05, "extracting")
    try:
        with ctx.db.session() as session:
            user = session.get(User, ctx.user_id) if ctx.user_id else None
            with path.open("rb") as upload:
                summary = import_zip(session, ctx.settings, upload, ctx.params["dataset"], user)
            ctx.complete(session, summary.as_dict())
    except LungsignError:  # the job fails at once (a bad zip, a generated dataset): no retry
        path.unlink(missing_ok=True)
        raise
    path.unlink(missing_ok=True)
