"""Reading ``annotations.csv``: one finding per row, bad rows reported by line number."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from app.errors import Invalid
from app.services.datasets.labels import LabelResolver
from app.services.ingest.types import BadItem

ANNOTATIONS = "annotations.csv"
REFERENCE_COLUMNS = ("sop_instance_uid", "path")


@dataclass(frozen=True, slots=True)
class Finding:
    """A ROI on one slice, referenced by SOP Instance UID or by a path relative to DIR."""

    item: str  # "annotations.csv:17"
    uid: str | None
    path: str | None
    x: int
    y: int
    label_code: str
    width: int | None = None
    height: int | None = None


def read_annotations(
    csv_path: Path, labels: LabelResolver, max_rows: int
) -> tuple[list[Finding], list[BadItem]]:
    """Parse every row; a file without the needed columns, or with more than MAX_ROWS rows,
    raises ``Invalid``."""
    findings: list[Finding] = []
    errors: list[BadItem] = []
    for line, row in read_rows(csv_path, _check_columns, max_rows):
        item = f"{ANNOTATIONS}:{line}"
        try:
            findings.append(_finding(item, row, labels))
        except Invalid as exc:
            errors.append(BadItem(item, str(exc)))
    return findings, errors


def read_rows(
    csv_path: Path, check_columns: Callable[[Sequence[str]], None], max_rows: int
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) pairs with lower-case, stripped column names and values.

    Streamed row by row, and refused (``Invalid``) at row MAX_ROWS + 1 before that row is
    parsed further: a huge CSV costs the rows up to the limit, never the whole file. A field
    longer than ``csv.field_size_limit()`` (128 KiB) is refused by ``csv`` itself.
    """
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            check_columns(reader.fieldnames or [])
            for count, raw in enumerate(reader):
                if count == max_rows:
                    raise Invalid(
                        f"{csv_path.name} has more than {max_rows} rows (the limit, "
                        "LUNGSIGN_MAX_IMPORT_ROWS); split it into several imports"
                    )
                row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
                yield count + 2, row  # line 1 is the header
    except (UnicodeDecodeError, csv.Error) as exc:
        raise Invalid(f"{csv_path.name} is not a readable UTF-8 CSV file ({exc})") from None


def count_rows(csv_path: Path, max_rows: int) -> int:
    """The rows of CSV_PATH (for progress), counted without keeping them; at most MAX_ROWS + 1."""
    with csv_path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        return sum(1 for _, _ in zip(range(max_rows + 1), reader, strict=False))


def _check_columns(fieldnames: Sequence[str]) -> None:
    columns = {name.strip().lower() for name in fieldnames}
    missing = [name for name in ("x", "y", "label") if name not in columns]
    if not columns.intersection(REFERENCE_COLUMNS):
        missing.append("sop_instance_uid or path")
    if missing:
        raise Invalid(f"{ANNOTATIONS} lacks the column(s): {', '.join(missing)}")


def _finding(item: str, row: dict[str, str], labels: LabelResolver) -> Finding:
    uid = row.get("sop_instance_uid") or None
    path = None if uid else relative_path(row.get("path", ""))
    if not uid and not path:
        raise Invalid("no sop_instance_uid or path")
    if not row.get("label"):
        raise Invalid("no label")
    return Finding(
        item=item,
        uid=uid,
        path=path,
        x=_coordinate(row, "x"),
        y=_coordinate(row, "y"),
        label_code=labels.resolve(row["label"]),
        width=_size(row, "width"),
        height=_size(row, "height"),
    )


def relative_path(text: str) -> str | None:
    if not text:
        return None
    path = PurePosixPath(text.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts:
        raise Invalid(f"path {text!r} must be relative to DIR and stay inside it")
    return str(path)


def _number(row: dict[str, str], column: str) -> float:
    text = row.get(column, "")
    try:
        value = float(text)
    except ValueError:
        raise Invalid(f"{column} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise Invalid(f"{column} {text!r} is not a number")
    return value


def _coordinate(row: dict[str, str], column: str) -> int:
    """Pixel coordinates; fractions round to the nearest pixel (halves up)."""
    return math.floor(_number(row, column) + 0.5)


def _size(row: dict[str, str], column: str) -> int | None:
    if not row.get(column):
        return None
    value = math.floor(_number(row, column) + 0.5)
    if value <= 0:
        raise Invalid(f"{column} must be positive")
    return value
