"""The job kinds check GAN patch sizes without importing torch: their copy of the sizes must
stay the GAN's own."""

from app.jobs import kinds
from models import gan


def test_the_sizes_checked_at_submission_are_the_gans() -> None:
    assert kinds.IMAGE_SIZES == gan.IMAGE_SIZES
