"""The compose file is valid (no Docker engine runs here: Debian's docker-compose checks it)."""

from __future__ import annotations

import os
import re
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
        # compose prefers the process environment to the env file: only the file speaks here
        env={k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
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


def test_https_settings_and_host_names_pass_from_env_file_to_web_and_worker(tmp_path: Path) -> None:
    result = compose_config(
        tmp_path,
        "DJANGO_SECRET_KEY=test-secret\nDJANGO_ALLOWED_HOSTS=study.example.org\n"
        "DJANGO_SECURE_SSL_REDIRECT=1\nDJANGO_SECURE_HSTS_SECONDS=3600\n"
        "DJANGO_SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO,https\n",
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for name in ("web", "worker"):
        env = services[name]["environment"]
        assert env["DJANGO_DEBUG"] == "0"
        # the healthcheck asks for 127.0.0.1; the site's own name comes from .env
        assert env["DJANGO_ALLOWED_HOSTS"].split(",")[:3] == ["127.0.0.1", "localhost", "study.example.org"]
        assert env["DJANGO_SECURE_SSL_REDIRECT"] == "1" and env["DJANGO_SECURE_HSTS_SECONDS"] == "3600"
        assert env["DJANGO_SECURE_PROXY_SSL_HEADER"] == "HTTP_X_FORWARDED_PROTO,https"
    # without them, the defaults: no redirect, no HSTS
    plain = yaml.safe_load(compose_config(tmp_path, "DJANGO_SECRET_KEY=test-secret\n").stdout)
    assert plain["services"]["web"]["environment"]["DJANGO_SECURE_SSL_REDIRECT"] == "0"
    # the web service refuses to start on errors of `check --deploy` (static files not collected)
    web = plain["services"]["web"]["command"]
    web = web if isinstance(web, str) else " ".join(web)
    assert web.index("check --deploy --fail-level ERROR") < web.index("migrate") < web.index("gunicorn")


def test_the_image_collects_static_files_at_build_outside_the_var_volume() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    env = dict(re.findall(r"\b([A-Z_]+)=(\S+)", dockerfile.split("\nENV ", 1)[1].split("\nWORKDIR", 1)[0]))
    static_root, var_dir = env["DJANGO_STATIC_ROOT"], env["CONCORDANCE_VAR_DIR"]
    assert not static_root.startswith(var_dir.rstrip("/") + "/")  # a volume would keep old files
    assert dockerfile.index("COPY . .") < dockerfile.index("manage.py collectstatic --noinput")
    compose = (ROOT / "docker-compose.yml").read_text()
    assert f"concordance-var:{var_dir}" in compose and static_root not in compose
    assert "DJANGO_DEBUG=1" not in dockerfile
