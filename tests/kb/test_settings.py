"""Production settings refuse to start unsafe and pass the deploy check."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOOD_KEY = "k" * 20 + "Q7x!p2Zr9sLm4Vb8Nc3Ht6Yw1Ej5Ud0" + "a" * 10


def run_manage(*args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KB_")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_settings_production_refuses_to_start_without_secret_key():
    result = run_manage("check", KB_DEBUG="0", KB_ALLOWED_HOSTS="kb.example.com")
    assert result.returncode != 0
    assert "KB_SECRET_KEY" in result.stderr


def test_settings_production_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", KB_DEBUG="0", KB_SECRET_KEY=GOOD_KEY)
    assert result.returncode != 0
    assert "KB_ALLOWED_HOSTS" in result.stderr


def test_settings_bad_boolean_is_a_clear_error():
    result = run_manage("check", KB_DEBUG="maybe")
    assert result.returncode != 0
    assert "KB_DEBUG must be" in result.stderr


def test_settings_bad_rate_limit_is_a_clear_error():
    result = run_manage("check", KB_API_RATE_FINDINGS="fast")
    assert result.returncode != 0
    assert "KB_API_RATE_FINDINGS must be a count per period" in result.stderr


def test_settings_production_passes_deploy_check_without_warnings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        KB_DEBUG="0",
        KB_SECRET_KEY=GOOD_KEY,
        KB_ALLOWED_HOSTS="kb.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
