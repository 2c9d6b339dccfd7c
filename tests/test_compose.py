"""docker-compose.yml describes the scaled topology (no Docker engine runs here to start it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def test_services_and_health_checks() -> None:
    services = _compose()["services"]
    assert {"web", "postgres", "redis", "migrate"} <= set(services)
    for name in ("web", "postgres", "redis"):
        assert "healthcheck" in services[name], f"{name} has no health check"
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_app_services_share_the_data_volume_and_scaled_urls() -> None:
    services = _compose()["services"]
    for name in ("web", "migrate"):
        service = services[name]
        assert "lungsign-data:/data" in service["volumes"]
        env = service["environment"]
        assert env["LUNGSIGN_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["LUNGSIGN_REDIS_URL"].startswith("redis://redis:")
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_secrets_must_come_from_the_environment() -> None:
    env = _compose()["services"]["web"]["environment"]
    for key in ("LUNGSIGN_SECRET_KEY", "LUNGSIGN_PSEUDONYM_KEY"):
        assert env[key].startswith("${") and ":?" in env[key], f"{key} is not required from env"
