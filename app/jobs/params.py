"""Job parameters, one model per kind, named as the CLI's options in snake case.

Checked when a job is created (a 422 naming the parameter, nothing queued) and stored
normalised in the job row, so the worker and the de-duplication key see the same values.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.text_rules import SafeName

Seed = Field(default=0, ge=0, le=2**31 - 1)
Name = Field(min_length=1, max_length=120)


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImportParams(Params):
    dataset: SafeName = Name
    upload: str = Field(pattern=r"^[0-9a-f]{32}\.zip$")  # a file under data_dir/uploads


class TrainGanParams(Params):
    dataset: SafeName = Name
    epochs: int | None = Field(default=None, ge=1, le=100_000)
    steps: int | None = Field(default=None, ge=1, le=1_000_000)  # instead of epochs
    seed: int = Seed


class GenerateParams(Params):
    gan: int = Field(ge=1, le=2**31 - 1)
    per_label: int = Field(ge=1, le=10_000)
    dataset: SafeName = Name
    seed: int = Seed
    drop_near_copies: bool = False


class TrainClassifierParams(Params):
    dataset: SafeName = Name
    mode: Literal["real-only", "gan-pretrain", "mixed"] = "real-only"
    # a fixed generated set (its GAN may have seen test patients); None: one GAN per fold
    generated: str | None = Field(default=None, min_length=1, max_length=120)
    folds: int = Field(default=5, ge=2, le=20)
    train_fraction: float = Field(default=1.0, ge=0.01, le=1.0)
    gan_steps: int = Field(default=1600, ge=1, le=1_000_000)  # each per-fold GAN's steps
    per_label: int = Field(default=100, ge=1, le=10_000)  # patches per label each fold's GAN makes
    seed: int = Seed


class EvaluateParams(Params):
    model: int = Field(ge=1, le=2**31 - 1)
    dataset: SafeName = Name
    kind: Literal["classifier", "gan"] = "classifier"


class MachineReaderParams(Params):
    study: int = Field(ge=1, le=2**31 - 1)
    seed: int = Seed
