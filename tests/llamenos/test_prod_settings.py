"""Production settings: refusing to start without required variables, and a clean check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]

FULL_PROD_ENV = {
    "SECRET_KEY": "x" * 20 + "-prod-secret-key-with-enough-entropy-QWERTYUIOP1234567890",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/llamenos",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "NUMBER_HASH_PEPPER": "prod-pepper-for-the-test",
    "PUBLIC_BASE_URL": "https://hotline.example.org",
    "ALLOWED_HOSTS": "hotline.example.org",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base_env = {
        key: value
        for key, value in os.environ.items()
        if key not in FULL_PROD_ENV
        and not key.endswith("_FILE")
        and not key.startswith(("DJANGO_", "PYTEST"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base_env, "DJANGO_SETTINGS_MODULE": "llamenos.settings.prod", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("missing", sorted(FULL_PROD_ENV))
def test_startup_refuses_and_names_a_missing_required_variable(missing):
    env = {key: value for key, value in FULL_PROD_ENV.items() if key != missing}
    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "required environment variable(s) not set: " + missing in result.stderr


def test_plain_http_public_url_is_refused():
    result = run_manage("check", env={**FULL_PROD_ENV, "PUBLIC_BASE_URL": "http://hotline.example.org"})
    assert result.returncode != 0
    assert "PUBLIC_BASE_URL must be an https:// URL" in result.stderr


def test_secrets_may_come_from_files(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(FULL_PROD_ENV["SECRET_KEY"] + "\n")
    env = {key: value for key, value in FULL_PROD_ENV.items() if key != "SECRET_KEY"}
    result = run_manage("check", env={**env, "SECRET_KEY_FILE": str(secret_file)})
    assert result.returncode == 0, result.stderr


def test_check_deploy_is_clean_with_a_full_environment():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=FULL_PROD_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_cannot_enable_the_emulator():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.TELEPHONY_EMULATOR_ENABLED)",
        env={**FULL_PROD_ENV, "TELEPHONY_EMULATOR_ENABLED": "true"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def _database_settings(env: dict[str, str]) -> str:
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['CONN_MAX_AGE'], d.get('OPTIONS', {}).get('pool'))",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_database_connections_come_from_djangos_pool_by_default():
    # With CONN_MAX_AGE 0 and no pool, every request would open a connection of its own.
    pooled = "django.db.backends.postgresql 0 {'min_size': 2, 'max_size': 16, 'timeout': 10}"
    assert _database_settings(FULL_PROD_ENV) == pooled
    assert "'max_size': 4," in _database_settings({**FULL_PROD_ENV, "DB_POOL_MAX_SIZE": "4"})


def test_the_pool_can_be_turned_off():
    assert (
        _database_settings({**FULL_PROD_ENV, "DB_POOL_MAX_SIZE": "0"})
        == "django.db.backends.postgresql 0 None"
    )
