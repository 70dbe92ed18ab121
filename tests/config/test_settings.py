"""Settings from the environment, read in fresh processes as a server would read them."""

from __future__ import annotations

import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRINT = "from django.conf import settings as s; print(s.DEBUG); print(s.SECRET_KEY)"
# Settings only (no apps): a fraction of a second a process.
READ = f"import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; {PRINT}"


def bare_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a first run: nothing of Concordance's or Django's set."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "CONCORDANCE_"))
    }
    return {**env, "CONCORDANCE_VAR_DIR": str(var_dir), **extra}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def settings_of(env: dict[str, str]) -> tuple[str, str]:
    result = run(env, "-c", READ)
    assert result.returncode == 0, result.stderr
    debug, key = result.stdout.split()
    return debug, key


def test_a_first_run_has_debug_off_and_a_private_key_kept_in_the_var_dir(tmp_path: Path) -> None:
    debug, key = settings_of(bare_env(tmp_path))
    assert debug == "False"
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == key and len(key) >= 50
    assert settings_of(bare_env(tmp_path)) == ("False", key)  # kept, not made anew


def test_debug_is_on_only_when_asked_and_nonsense_is_refused(tmp_path: Path) -> None:
    assert settings_of(bare_env(tmp_path, DJANGO_DEBUG="1"))[0] == "True"
    assert settings_of(bare_env(tmp_path, DJANGO_DEBUG="0"))[0] == "False"
    result = run(bare_env(tmp_path, DJANGO_DEBUG="maybe"), "-c", READ)
    assert result.returncode != 0 and "DJANGO_DEBUG='maybe': use 1 or 0" in result.stderr


def test_the_environment_key_wins_and_no_key_file_is_made(tmp_path: Path) -> None:
    assert settings_of(bare_env(tmp_path, DJANGO_SECRET_KEY="k" * 60))[1] == "k" * 60
    assert not (tmp_path / "secret_key").exists()


def test_a_database_server_without_a_key_fails_loudly(tmp_path: Path) -> None:
    env = bare_env(tmp_path, DATABASE_URL="postgres://concordance@127.0.0.1:5432/concordance")
    result = run(env, "-c", READ)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DATABASE_URL names a database server" in result.stderr
    assert not (tmp_path / "secret_key").exists()


def documented_production_env() -> dict[str, str]:
    """The `# NAME=value` lines of .env.example's "Production behind HTTPS" block."""
    text = (ROOT / ".env.example").read_text()
    block = text.split("# Production behind HTTPS", 1)[1].split("\n\n", 1)[0]
    env = dict(re.findall(r"^# ([A-Z_]+)=(.+)$", block, flags=re.MULTILINE))
    assert {"DJANGO_SECURE_SSL_REDIRECT", "DJANGO_SECURE_HSTS_SECONDS", "DJANGO_CSRF_COOKIE_SECURE"} <= set(
        env
    )
    return env


def test_check_deploy_is_clean_with_the_documented_production_env(tmp_path: Path) -> None:
    env = bare_env(
        tmp_path,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="study.example.org",
        DATABASE_URL="postgres://concordance@127.0.0.1:5432/concordance",  # not connected to
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        **documented_production_env(),
    )
    collect = run(env, "manage.py", "collectstatic", "--noinput", "--verbosity", "0")
    assert collect.returncode == 0, collect.stderr
    after = run(env, "manage.py", "check", "--deploy")
    assert after.returncode == 0, after.stderr
    assert "System check identified no issues (0 silenced)." in after.stdout
    assert "WARNING" not in after.stderr + after.stdout
    # and the settings are what the variables say
    show = (
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)"
    )
    shown = run(env, "-c", f"import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'config.settings'; {show}")
    proxy = "('HTTP_X_FORWARDED_PROTO', 'https')\n"
    assert shown.stdout.split(maxsplit=4) == ["True", "31536000", "True", "True", proxy]


def test_a_malformed_proxy_header_is_refused(tmp_path: Path) -> None:
    result = run(bare_env(tmp_path, DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto"), "-c", READ)
    assert result.returncode != 0 and "expected HEADER,value" in result.stderr
