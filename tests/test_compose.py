"""docker-compose.yml describes the scaled topology (no Docker engine runs here to start it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
APP_SERVICES = ("migrate", "web", "worker")
SECRETS = ("LUNGSIGN_SECRET_KEY", "LUNGSIGN_PSEUDONYM_KEY")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def test_services_and_health_checks() -> None:
    services = _compose()["services"]
    assert {"web", "worker", "postgres", "redis", "migrate"} <= set(services)
    for name in ("web", "postgres", "redis"):
        assert "healthcheck" in services[name], f"{name} has no health check"
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    for name in ("web", "worker"):
        condition = services[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name
    assert services["migrate"]["command"] == ["lungsign", "init"]
    assert services["worker"]["command"][:2] == ["lungsign", "worker"]
    assert services["web"]["command"][:2] == ["lungsign", "serve"]
    assert "0.0.0.0" in services["web"]["command"]
    assert "--no-worker" in services["web"]["command"]  # jobs run in the worker service only
    assert "profiles" not in services["worker"]  # `docker compose up` starts the worker


def test_the_gpu_override_reserves_a_gpu_for_the_worker_only() -> None:
    gpu = yaml.safe_load((ROOT / "docker-compose.gpu.yml").read_text())["services"]
    assert set(gpu) == {"worker"}
    (device,) = gpu["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert device["capabilities"] == ["gpu"] and device["count"] == 1


def test_app_services_share_the_data_volume_and_scaled_urls() -> None:
    compose = _compose()
    assert "lungsign-data" in compose["volumes"]
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert "lungsign-data:/data" in service["volumes"], name
        env = service["environment"]
        assert env["LUNGSIGN_DATA_DIR"] == "/data"
        assert env["LUNGSIGN_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert env["LUNGSIGN_REDIS_URL"].startswith("redis://redis:")
        for backend in ("postgres", "redis"):
            assert service["depends_on"][backend]["condition"] == "service_healthy", name


def test_secrets_must_come_from_the_environment() -> None:
    services = _compose()["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        for key in SECRETS:
            assert env[key].startswith("${") and ":?" in env[key], f"{name}: {key} not required"
    assert ":?" in services["postgres"]["environment"]["POSTGRES_PASSWORD"]


def _compose_cli() -> list[str] | None:
    """`docker compose` (the plugin) or `docker-compose`, whichever this machine has."""
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_itself_accepts_the_file() -> None:
    cli = _compose_cli()
    if cli is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed to validate with")
    env = dict(
        os.environ, POSTGRES_PASSWORD="pw", LUNGSIGN_SECRET_KEY="s", LUNGSIGN_PSEUDONYM_KEY="p"
    )
    for key in ("COMPOSE_PROFILES", "COMPOSE_FILE"):
        env.pop(key, None)
    run = [*cli, "-f", str(COMPOSE), "-f", str(ROOT / "docker-compose.gpu.yml"), "config"]
    result = subprocess.run(run, env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "LUNGSIGN_SECRET_KEY: s" in result.stdout or '"s"' in result.stdout
    missing = {k: v for k, v in env.items() if k != "LUNGSIGN_SECRET_KEY"}
    refused = subprocess.run(run, env=missing, cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode != 0 and "LUNGSIGN_SECRET_KEY" in refused.stderr
