"""What every import source produces: patch candidates, bad items, and the summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

ProgressCallback = Callable[[int, int], None]  # (files done, files in all)
MAX_REPORTED_ERRORS = 1000  # bad items listed in a summary; the rest are only counted


@dataclass(frozen=True)
class BadItem:
    """A file (path relative to DIR) or a CSV row (``annotations.csv:17``) that was skipped."""

    item: str
    reason: str


@dataclass(frozen=True)
class Candidate:
    """One patch ready to store, with its provenance (None where it does not apply)."""

    item: str
    label_code: str
    patient_key: str
    height: int
    width: int
    pixels: bytes  # little-endian int16, row-major
    content_hash: str
    padded_pixels: int = 0
    series_uid: str | None = None
    sop_uid: str | None = None
    roi_x: int | None = None
    roi_y: int | None = None
    roi_width: int | None = None
    roi_height: int | None = None


CandidateSink = Callable[[Candidate], None]  # takes each candidate as it is cut


@dataclass
class ImportSummary:
    """The result of one import, as ``--json`` prints it."""

    dataset: str
    imported: int = 0
    already_present: int = 0  # candidates whose content hash the dataset already holds
    errors: list[BadItem] = field(default_factory=list)
    errors_not_listed: int = 0  # bad items past the first MAX_REPORTED_ERRORS

    @property
    def skipped(self) -> int:
        """Bad items (listed or not) plus candidates that added nothing."""
        return len(self.errors) + self.errors_not_listed + self.already_present

    def keep_first_errors(self, limit: int = MAX_REPORTED_ERRORS) -> None:
        """List only the first LIMIT bad items (in their order) and count the others: a
        file with two million bad rows gives a summary of a few hundred KB, not 133 MB."""
        self.errors_not_listed += max(0, len(self.errors) - limit)
        del self.errors[limit:]

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "imported": self.imported,
            "skipped": self.skipped,
            "already_present": self.already_present,
            "errors": [asdict(error) for error in self.errors],
            "errors_not_listed": self.errors_not_listed,
        }
