"""clip_item_images: re-render stored item PNGs from HU clipped to −1024…1024

Studies opened before commit 0323138 store PNGs of their real patches' unclipped HU (−2048
outside the scanner's field is darker in the lung window than any generated pixel can be):
every stored image is rendered again, in batches, from its patch with the current rendering.

The rendering is a frozen copy, not an import of app code: this revision must keep doing
what it does today when the app's rendering or module layout changes later.
Downgrade does nothing: the unclipped images were the blinding leak, and the clipped ones
are what the app at 0008 renders for a newly opened study anyway.

Revision ID: 0009
Revises: 0008
"""

import io
from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
from alembic import op
from PIL import Image

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 200  # study items per round trip (each with one PNG per window)
READER_HU = (-1024, 1024)  # models.hu.GAN_WINDOW
WINDOWS = {"lung": (1500.0, -600.0), "mediastinal": (350.0, 40.0)}  # name → (width, level)

study_items = sa.table("study_items", sa.column("id"), sa.column("patch_id"))
patches = sa.table(
    "patches",
    sa.column("id"),
    sa.column("pixels", sa.LargeBinary),
    sa.column("height"),
    sa.column("width"),
)
item_images = sa.table(
    "item_images",
    sa.column("study_item_id"),
    sa.column("window"),
    sa.column("png", sa.LargeBinary),
)


def reader_png(pixels: bytes, height: int, width: int, window: str) -> bytes:
    """The item PNG as app.services.studies.images renders it at this revision."""
    hu = np.clip(np.frombuffer(pixels, dtype="<i2"), *READER_HU).astype("<i2")
    window_width, level = WINDOWS[window]
    scaled = (hu.reshape(height, width).astype(np.float64) - (level - window_width / 2.0)) * (
        255.0 / window_width
    )
    gray = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(gray)).save(
        buffer, format="PNG", compress_level=0, optimize=False
    )
    return buffer.getvalue()


def upgrade() -> None:
    bind = op.get_bind()
    store = (
        item_images.update()
        .where(
            item_images.c.study_item_id == sa.bindparam("item"),
            item_images.c.window == sa.bindparam("shown_in"),
        )
        .values(png=sa.bindparam("rendered"))
    )
    last = 0
    while True:
        ids = bind.scalars(
            sa.select(item_images.c.study_item_id)
            .where(item_images.c.study_item_id > last)
            .group_by(item_images.c.study_item_id)
            .order_by(item_images.c.study_item_id)
            .limit(BATCH)
        ).all()
        if not ids:
            return
        rows = bind.execute(
            sa.select(
                item_images.c.study_item_id,
                item_images.c.window,
                patches.c.pixels,
                patches.c.height,
                patches.c.width,
            )
            .join(study_items, study_items.c.id == item_images.c.study_item_id)
            .join(patches, patches.c.id == study_items.c.patch_id)
            .where(item_images.c.study_item_id.in_(ids))
        )
        bind.execute(
            store,
            [
                {
                    "item": item,
                    "shown_in": window,
                    "rendered": reader_png(pixels, height, width, window),
                }
                for item, window, pixels, height, width in rows
            ],
        )
        last = ids[-1]


def downgrade() -> None:
    pass
