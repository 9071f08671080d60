"""Settings: clear start-up errors, refused secrets, sensible defaults."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from taskchat.config import DEV_SECRET, Settings, format_settings_error


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_development_defaults_start_without_secrets() -> None:
    config = settings(environment="development")
    assert config.effective_jwt_secret == DEV_SECRET
    assert not config.model_configured


@pytest.mark.parametrize("secret", [None, DEV_SECRET, "short"])
def test_production_refuses_missing_default_or_short_secrets(secret: str | None) -> None:
    with pytest.raises(ValidationError) as error:
        settings(environment="production", jwt_secret=secret)
    assert "JWT_SECRET" in format_settings_error(error.value)


def test_production_accepts_a_long_random_secret_or_a_jwks_url() -> None:
    settings(environment="production", jwt_secret="x" * 8 + os.urandom(16).hex())
    settings(environment="production", jwt_jwks_url="https://idp.example/jwks.json")


def test_a_plain_postgres_url_gets_the_async_driver() -> None:
    config = settings(database_url="postgresql://u:p@h:5432/d")
    assert config.database_url == "postgresql+asyncpg://u:p@h:5432/d"


def test_compatible_provider_needs_a_base_url() -> None:
    with pytest.raises(ValidationError) as error:
        settings(model_provider="openai_compatible")
    assert "MODEL_BASE_URL" in format_settings_error(error.value)


def test_a_bad_setting_stops_start_up_with_one_line_naming_it() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "JWT", "MODEL"))}
    env["DATABASE_POOL_SIZE"] = "lots"
    result = subprocess.run(
        [sys.executable, "-m", "taskchat.cli", "token", "--sub", "a"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd="/",
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("invalid setting DATABASE_POOL_SIZE:")
    assert "Traceback" not in result.stderr
