"""Datasets and their patches: counts per label and split, the gallery, patch images."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import Invalid, NotFound
from app.services.datasets import rendering
from app.tables import SPLITS, Dataset, ModelVersion, Patch

GALLERY_PAGE_SIZE = 48


@dataclass
class DatasetOverview:
    """A dataset with its patch counts: ``counts[label][split]``."""

    id: int
    name: str
    kind: str
    patch_size: int
    created_at: datetime
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(sum(by_split.values()) for by_split in self.counts.values())

    def split_total(self, split: str) -> int:
        return sum(by_split.get(split, 0) for by_split in self.counts.values())


@dataclass
class GalleryPage:
    dataset: Dataset
    tiles: list[GalleryTile]
    page: int
    pages: int
    total: int


@dataclass(frozen=True)
class GalleryTile:
    id: int
    label_code: str
    split: str
    padded_pixels: int


def list_datasets(session: Session) -> list[DatasetOverview]:
    """Every dataset, newest first, with its counts."""
    overviews = {
        d.id: DatasetOverview(d.id, d.name, d.kind, d.patch_size, d.created_at)
        for d in session.scalars(select(Dataset).order_by(Dataset.created_at.desc(), Dataset.id))
    }
    query = select(Patch.dataset_id, Patch.label_code, Patch.split, func.count()).group_by(
        Patch.dataset_id, Patch.label_code, Patch.split
    )
    for dataset_id, label, split, n in session.execute(query):
        counts = overviews[dataset_id].counts
        counts.setdefault(label, defaultdict(int))[split] += n
    return list(overviews.values())


def generating_versions(session: Session) -> dict[int, ModelVersion]:
    """The GAN version each generated dataset came from, by dataset id (datasets whose
    version was deleted, and real ones, are absent)."""
    query = select(Dataset.id, ModelVersion).join(
        ModelVersion, ModelVersion.id == Dataset.model_version_id
    )
    return {dataset_id: version for dataset_id, version in session.execute(query)}


def get_dataset(session: Session, dataset_id: int) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None:
        raise NotFound(f"no dataset {dataset_id}")
    return dataset


def gallery_page(
    session: Session,
    dataset_id: int,
    label: str | None = None,
    split: str | None = None,
    page: int = 1,
) -> GalleryPage:
    """One page of a dataset's patches (without pixels), filtered by label and split."""
    dataset = get_dataset(session, dataset_id)
    if split and split not in SPLITS:
        raise Invalid(f"split must be one of {', '.join(SPLITS)}")
    where = [Patch.dataset_id == dataset_id]
    if label:
        where.append(Patch.label_code == label)
    if split:
        where.append(Patch.split == split)
    total = session.scalar(select(func.count()).select_from(Patch).where(*where)) or 0
    pages = max(1, math.ceil(total / GALLERY_PAGE_SIZE))
    page = min(max(page, 1), pages)
    query = (
        select(Patch.id, Patch.label_code, Patch.split, Patch.padded_pixels)
        .where(*where)
        .order_by(Patch.id)
        .offset((page - 1) * GALLERY_PAGE_SIZE)
        .limit(GALLERY_PAGE_SIZE)
    )
    tiles = [GalleryTile(*row) for row in session.execute(query)]
    return GalleryPage(dataset, tiles, page, pages, total)


def patch_png(session: Session, patch_id: int, window: str) -> bytes:
    """A patch rendered in a window preset (``lung`` or ``mediastinal``)."""
    if window not in rendering.WINDOWS:
        raise Invalid(f"window must be one of {', '.join(rendering.WINDOWS)}")
    patch = session.get(Patch, patch_id)
    if patch is None:
        raise NotFound(f"no patch {patch_id}")
    return rendering.patch_png(patch.pixels, patch.height, patch.width, window)
