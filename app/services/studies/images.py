"""Study item images, rendered once when a study opens and served as stored.

Every image is an 8-bit grayscale PNG written uncompressed (zlib level 0): for patches of
one size the files then have the same length and chunk layout byte for byte, so nothing
but the pixel values differs between real and generated items (compressed sizes would
track texture, which could hint at the source). Images and the viewer's HU
(``app.services.reading.access.item_hu``) are both made from ``reader_hu``.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.services.datasets.rendering import WINDOWS, window_to_uint8
from app.tables import ItemImage, Patch, Study, StudyItem
from models.hu import GAN_WINDOW

BATCH = 500

# The HU a reader is shown, as numbers or as images: the range generated patches are stored in
# (models.hu.GAN_WINDOW). Real patches can hold values outside it (bone above 1024, −2048 outside
# the scanner's field); shown unclipped, a read-out or a window reaching past it says "real".
READER_HU = (int(GAN_WINDOW.low), int(GAN_WINDOW.high))


def reader_hu(pixels: bytes) -> np.ndarray:
    """A stored patch (little-endian int16 bytes) as flat int16 HU clipped to READER_HU."""
    return np.clip(np.frombuffer(pixels, dtype="<i2"), *READER_HU).astype("<i2")


def blinded_png(gray: np.ndarray) -> bytes:
    """An uncompressed 8-bit grayscale PNG with no metadata chunks."""
    buffer = io.BytesIO()
    image = Image.fromarray(np.ascontiguousarray(gray, dtype=np.uint8))
    image.save(buffer, format="PNG", compress_level=0, optimize=False)
    return buffer.getvalue()


def render_items(session: Session, study: Study) -> None:
    """Store one PNG per study item and window preset of STUDY."""
    query = (
        select(StudyItem.id, Patch.pixels, Patch.height, Patch.width)
        .join(Patch, Patch.id == StudyItem.patch_id)
        .where(StudyItem.study_id == study.id)
        .execution_options(yield_per=BATCH)
    )
    rows: list[dict[str, object]] = []
    for item_id, pixels, height, width in session.execute(query):
        hu = reader_hu(pixels).reshape(height, width)
        for window in study.windows:
            png = blinded_png(window_to_uint8(hu, *WINDOWS[window]))
            rows.append({"study_item_id": item_id, "window": window, "png": png})
    for start in range(0, len(rows), BATCH):
        session.execute(insert(ItemImage), rows[start : start + BATCH])
