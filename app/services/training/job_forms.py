"""The admin's "start a job" form: which kinds it offers, the choices and defaults each kind's
fields get from the installation (datasets, model versions), and the form → job params step.

Field names are the job params' names (the CLI's options in snake case); an empty field is
left out so the kind's own default applies. ``submit.create`` validates what comes out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.jobs.kinds import IMAGE_SIZES
from app.tables import Dataset, ModelVersion

FORM_KINDS = {
    "train_gan": "Train a GAN",
    "generate": "Generate patches",
    "train_classifier": "Train a classifier",
    "evaluate": "Evaluate a model",
}
FIELDS = {
    "train_gan": ("dataset", "epochs", "steps", "seed"),
    "generate": ("gan", "per_label", "dataset", "seed", "drop_near_copies"),
    "train_classifier": (
        "dataset",
        "mode",
        "generated",
        "folds",
        "train_fraction",
        "gan_steps",
        "per_label",
        "seed",
    ),
    "evaluate": ("model", "dataset"),
}
CHECKBOXES = {"drop_near_copies"}
MODES = ("real-only", "gan-pretrain", "mixed")


@dataclass
class JobForm:
    """What the form template needs: the kind, the values shown and the choices offered."""

    kind: str
    values: dict[str, str]
    real_datasets: list[Dataset] = field(default_factory=list)
    gan_datasets: list[Dataset] = field(default_factory=list)  # real, of a size the GAN takes
    generated_datasets: list[Dataset] = field(default_factory=list)
    all_datasets: list[Dataset] = field(default_factory=list)
    gans: list[ModelVersion] = field(default_factory=list)
    models: list[ModelVersion] = field(default_factory=list)
    error: str | None = None

    @property
    def title(self) -> str:
        return FORM_KINDS[self.kind]


def check_kind(kind: str) -> str:
    if kind not in FORM_KINDS:
        raise NotFound(f"no job form for {kind!r}; kinds: {', '.join(FORM_KINDS)}")
    return kind


def job_form(
    session: Session, kind: str, typed: dict[str, str] | None = None, error: str | None = None
) -> JobForm:
    """The form for KIND with its defaults, or with the values TYPED (after a refusal)."""
    check_kind(kind)
    datasets = list(session.scalars(select(Dataset).order_by(Dataset.created_at.desc())))
    versions = list(
        session.scalars(
            select(ModelVersion).order_by(
                ModelVersion.kind, ModelVersion.is_current.desc(), ModelVersion.version.desc()
            )
        )
    )
    form = JobForm(
        kind=kind,
        values={},
        real_datasets=[d for d in datasets if d.kind == "real"],
        generated_datasets=[d for d in datasets if d.kind == "generated"],
        all_datasets=datasets,
        gans=[v for v in versions if v.kind == "gan"],
        models=versions,
        error=error,
    )
    form.gan_datasets = [d for d in form.real_datasets if d.patch_size in IMAGE_SIZES]
    form.values = defaults(form) if typed is None else typed
    return form


def defaults(form: JobForm) -> dict[str, str]:
    """Sensible first values: the newest fitting dataset, the current (or newest) GAN."""
    real = form.real_datasets[0].name if form.real_datasets else ""
    if form.kind == "train_gan":
        first = form.gan_datasets[0].name if form.gan_datasets else ""
        return {"dataset": first, "epochs": "", "steps": "", "seed": "0"}
    if form.kind == "generate":
        gan = form.gans[0].version if form.gans else None
        name = _free_name(f"gan-v{gan}-generated", form.all_datasets) if gan else ""
        return {
            "gan": str(gan or ""),
            "per_label": "200",
            "dataset": name,
            "seed": "0",
            "drop_near_copies": "on",
        }
    if form.kind == "train_classifier":  # leak-free: one GAN per fold, no fixed set
        return {
            "dataset": real,
            "mode": "gan-pretrain",
            "generated": "",
            "folds": "5",
            "train_fraction": "1.0",
            "gan_steps": "1600",
            "per_label": "100",
            "seed": "0",
        }
    model = f"{form.models[0].kind}:{form.models[0].version}" if form.models else ""
    return {"model": model, "dataset": real}


def _free_name(base: str, datasets: list[Dataset]) -> str:
    taken = {d.name for d in datasets}
    return next(n for n in (base, *(f"{base}-{i}" for i in range(2, 1000))) if n not in taken)


def typed_values(kind: str, form: Any) -> dict[str, str]:
    """The form's fields for KIND as typed (strings), to show again after a refusal."""
    values = {name: str(form.get(name) or "").strip() for name in FIELDS[check_kind(kind)]}
    for name in CHECKBOXES & set(values):
        values[name] = "on" if values[name] else ""
    return values


def params_from(kind: str, values: dict[str, str]) -> dict[str, Any]:
    """Job params from the typed VALUES: empty fields left out, checkboxes as booleans,
    ``model`` ("gan:3") split into ``kind`` and ``model``, no ``generated`` for real-only."""
    params: dict[str, Any] = {k: v for k, v in values.items() if v and k not in CHECKBOXES}
    for name in CHECKBOXES & set(values):
        params[name] = values[name] == "on"
    if kind == "evaluate" and ":" in params.get("model", ""):
        params["kind"], params["model"] = params["model"].split(":", 1)
    if kind == "train_classifier" and params.get("mode", "real-only") == "real-only":
        params.pop("generated", None)
    return params
