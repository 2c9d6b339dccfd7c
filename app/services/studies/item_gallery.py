"""The results' patch gallery: per study item, how many readers judged it and how many
called it real; the generated patches that fooled the most readers and the real patches
most often called generated (pure, from judgment records)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.services.studies.records import JudgmentRecord, gan_versions

GALLERY_SIZE = 24


@dataclass(frozen=True)
class ItemTally:
    """One study item's judgments: N readers judged it, JUDGED_REAL of them called it real."""

    item: int
    patch_id: int
    source: str
    label: str
    model_version: str  # empty for real patches
    judged_real: int
    n: int

    @property
    def judged_generated(self) -> int:
        return self.n - self.judged_real

    @property
    def share_real(self) -> float:
        return self.judged_real / self.n

    @property
    def share_generated(self) -> float:
        return self.judged_generated / self.n


@dataclass(frozen=True)
class ItemGallery:
    """Both rankings under the filters, the filters' choices and how many items matched."""

    fooling: list[ItemTally]  # generated, highest judged-real share first
    doubted: list[ItemTally]  # real, highest judged-generated share first
    n_generated: int
    n_real: int
    gan: str
    label: str
    gan_choices: list[str]
    label_choices: list[str]


def tallies(records: Iterable[JudgmentRecord]) -> list[ItemTally]:
    """Each judged item's counts, in item order."""
    by_item: dict[int, tuple[JudgmentRecord, int, int]] = {}
    for r in records:
        first, real, n = by_item.get(r.item, (r, 0, 0))
        by_item[r.item] = (first, real + (r.verdict == "real"), n + 1)
    return [
        ItemTally(item, r.patch_id, r.source, r.true_label, r.model_version, real, n)
        for item, (r, real, n) in sorted(by_item.items())
    ]


def item_gallery(
    records: list[JudgmentRecord], gan: str = "", label: str = "", size: int = GALLERY_SIZE
) -> ItemGallery:
    """The rankings of RECORDS' items, kept to GAN version GAN (generated patches; real ones
    have none) and true label LABEL when given. Ties: more readers first, then item order."""
    counted = [t for t in tallies(records) if not label or t.label == label]
    generated = [
        t for t in counted if t.source == "generated" and (not gan or t.model_version == gan)
    ]
    real = [t for t in counted if t.source == "real"]
    generated.sort(key=lambda t: (-t.share_real, -t.n, t.item))
    real.sort(key=lambda t: (-t.share_generated, -t.n, t.item))
    return ItemGallery(
        fooling=generated[:size],
        doubted=real[:size],
        n_generated=len(generated),
        n_real=len(real),
        gan=gan,
        label=label,
        gan_choices=gan_versions(records),
        label_choices=sorted({r.true_label for r in records}),
    )
