"""Liveness."""

from fastapi import APIRouter

router = APIRouter()


@router.get("/healthz", tags=["health"])
def healthz() -> dict[str, str]:
    """Liveness: the trivial endpoint benchmarks compare against."""
    return {"status": "ok"}
