"""The compose file is valid (no Docker engine runs here: Debian's docker-compose checks it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose_config(tmp_path: Path, env: str) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / ".env"
    env_file.write_text(env)
    docker_compose = shutil.which("docker-compose")
    if docker_compose is None:
        pytest.fail("docker-compose is not installed (bin/services installs it)")
    return subprocess.run(
        [docker_compose, "--env-file", str(env_file), "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_compose_is_valid_and_complete(tmp_path: Path) -> None:
    result = compose_config(tmp_path, "DJANGO_SECRET_KEY=test-secret\n")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert set(services) == {"web", "worker", "postgres", "redis"}
    # One image for web and worker; every service has a healthcheck; data in named volumes.
    assert services["web"]["image"] == services["worker"]["image"]
    assert all("healthcheck" in s for s in services.values())
    assert (
        "gunicorn" in " ".join(services["web"]["command"])
        if isinstance(services["web"]["command"], list)
        else "gunicorn" in services["web"]["command"]
    )
    assert set(config["volumes"]) == {"postgres-data", "concordance-var"}
    env = services["worker"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://") and env["CELERY_BROKER_URL"].startswith("redis://")
    assert env["DJANGO_SECRET_KEY"] == "test-secret"


def test_compose_refuses_to_start_without_a_secret(tmp_path: Path) -> None:
    result = compose_config(tmp_path, "")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
