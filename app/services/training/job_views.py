"""What the admin pages show of jobs and model versions: the jobs list, a job's live status
(progress, loss curves as SVG points, the GAN's sample grid, its result), the versions of
each kind side by side, and the image files those pages serve."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.errors import NotFound
from app.jobs import submit
from app.services.training import model_versions
from app.tables import Job, ModelVersion, User

CHART_W, CHART_H = 1000, 300  # the loss chart's SVG user units (stretched to the width)
KIND_NAMES = {
    "train_gan": "GAN training",
    "generate": "generation",
    "train_classifier": "classifier training",
    "evaluate": "evaluation",
    "import": "import",
    "machine_reader": "machine reader (study)",
}


@dataclass(frozen=True)
class LossChart:
    """Polyline points of the discriminator and generator losses over the steps."""

    d_points: str
    g_points: str
    low: float
    high: float
    first_step: int
    last_step: int
    last_d: float
    last_g: float


@dataclass
class JobView:
    job: Job
    kind_name: str
    active: bool
    chart: LossChart | None
    samples_url: str | None  # the live sample grid, cache-busted by its step
    model: ModelVersion | None  # the version this job made
    started_by: str | None

    @property
    def result_rows(self) -> list[tuple[str, Any]]:
        """The result's numbers and words ({value, ci95} statistics too), not its paths."""
        return [
            (key, value)
            for key, value in (self.job.result or {}).items()
            if key != "model_version"
            and not key.endswith(("_png", "_path"))
            and (isinstance(value, str | int | float) or _is_stat(value))
        ]


def _is_stat(value: Any) -> bool:
    return isinstance(value, dict) and "value" in value


@dataclass
class ModelCard:
    row: ModelVersion
    sheet_url: str | None
    made_by_job: int | None
    measured_by_job: Job | None = None  # a GAN's evaluate job, while its figures are pending


def loss_chart(losses: list[list[float]]) -> LossChart | None:
    """The chart of ``metrics["losses"]`` ([step, d_loss, g_loss] rows), or None under 2."""
    rows = [r for r in losses if len(r) >= 3]
    if len(rows) < 2:
        return None
    values = [v for r in rows for v in (r[1], r[2])]
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or 0.5
    low, high = low - pad, high + pad
    first, last = rows[0][0], rows[-1][0]

    def points(col: int) -> str:
        return " ".join(
            f"{(r[0] - first) / ((last - first) or 1) * CHART_W:.1f},"
            f"{(high - r[col]) / (high - low) * CHART_H:.1f}"
            for r in rows
        )

    return LossChart(
        points(1), points(2), low, high, int(first), int(last), rows[-1][1], rows[-1][2]
    )


def list_jobs(session: Session) -> tuple[list[Job], bool]:
    """The newest jobs first, and whether any of them is queued or running."""
    jobs = submit.list_jobs(session)
    return jobs, any(job.status in submit.ACTIVE for job in jobs)


def job_view(session: Session, settings: Settings, job_id: int) -> JobView:
    job = submit.get(session, job_id)
    metrics: dict[str, Any] = job.metrics or {}
    samples_url = None
    if "samples_step" in metrics and live_samples_path(settings, job_id).is_file():
        samples_url = (
            f"/jobs/{job_id}/samples.png?step={metrics['samples_step']}&attempt={job.attempts}"
        )
    made = session.scalar(select(ModelVersion).where(ModelVersion.job_id == job_id))
    who = session.get(User, job.created_by_id) if job.created_by_id else None
    return JobView(
        job=job,
        kind_name=KIND_NAMES.get(job.kind, job.kind),
        active=job.status in submit.ACTIVE,
        chart=loss_chart(metrics.get("losses") or []),
        samples_url=samples_url,
        model=made,
        started_by=who.username if who else None,
    )


def cancel(session: Session, settings: Settings, job_id: int) -> JobView:
    """Cancel the job (or ask its worker to stop), and its view after that."""
    submit.cancel(session, job_id)
    return job_view(session, settings, job_id)


def live_samples_path(settings: Settings, job_id: int) -> Path:
    return settings.data_dir / "jobs" / str(job_id) / "samples.png"


def live_samples_file(session: Session, settings: Settings, job_id: int) -> Path:
    """The sample grid a training GAN job last wrote."""
    submit.get(session, job_id)
    path = live_samples_path(settings, job_id)
    if not path.is_file():
        raise NotFound(f"job {job_id} has no sample grid (yet)")
    return path


def sheet_path(row: ModelVersion) -> Path:
    return Path(row.checkpoint_path).with_suffix(".png")


def sample_sheet_file(session: Session, model_id: int) -> Path:
    """The sample sheet PNG next to a GAN version's checkpoint."""
    row = model_versions.get_version(session, model_id)
    path = sheet_path(row)
    if row.kind != "gan" or not path.is_file():
        raise NotFound(f"{row.kind} version {row.version} has no sample sheet")
    return path


def model_cards(session: Session) -> dict[str, list[ModelCard]]:
    """Every version, grouped by kind (GANs first), the current one first, then newest."""
    cards: dict[str, list[ModelCard]] = {"gan": [], "classifier": []}
    for row in model_versions.list_versions(session):
        has_sheet = row.kind == "gan" and sheet_path(row).is_file()
        sheet = f"/models/{row.id}/sheet.png" if has_sheet else None
        card = ModelCard(row, sheet, row.job_id, _evaluate_job(session, row))
        cards.setdefault(row.kind, []).append(card)
    for group in cards.values():
        group.sort(key=lambda c: (not c.row.is_current, -c.row.version))
    return cards


def _evaluate_job(session: Session, row: ModelVersion) -> Job | None:
    """The evaluate job its training queued, for a GAN whose figures are not in yet."""
    if row.kind != "gan" or "c2st_accuracy" in (row.metrics or {}) or row.job_id is None:
        return None
    trained = session.get(Job, row.job_id)
    job_id = (trained.result or {}).get("evaluate_job") if trained else None
    return session.get(Job, int(job_id)) if job_id is not None else None


def promote(session: Session, model_id: int) -> dict[str, list[ModelCard]]:
    """Make the version current for its kind; the cards after that."""
    model_versions.promote(session, model_id)
    return model_cards(session)
