"""Settings: clear start-up errors, refused secrets, sensible defaults."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from taskchat.config import Settings, format_settings_error, local_dev_secret


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_development_without_a_secret_signs_with_a_random_one_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = settings(environment="development")
    secret = config.effective_jwt_secret
    assert len(secret) == 64 and secret == local_dev_secret()
    assert (tmp_path / ".local" / "jwt-secret").stat().st_mode & 0o777 == 0o600
    assert not config.model_configured
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    assert settings(environment="development").effective_jwt_secret != secret


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"jwt_algorithms": ["RS256"]}, "HMAC algorithms"),
        ({"jwt_algorithms": ["none"]}, "HMAC algorithms"),
        ({"jwt_jwks_url": "https://idp.example/jwks", "jwt_algorithms": ["HS256"]}, "asymmetric"),
    ],
)
def test_algorithms_that_do_not_fit_the_key_kind_stop_start_up(
    values: dict[str, object], fragment: str
) -> None:
    with pytest.raises(ValidationError) as error:
        settings(jwt_secret="s" * 40, **values)
    message = format_settings_error(error.value)
    assert "JWT_ALGORITHMS" in message and fragment in message


def test_algorithm_defaults_follow_the_key_kind() -> None:
    assert settings(jwt_secret="s" * 40).accepted_algorithms == ["HS256"]
    jwks = settings(jwt_jwks_url="https://idp.example/jwks")
    assert jwks.accepted_algorithms == ["RS256", "ES256"]


@pytest.mark.parametrize("secret", [None, "short"])
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


def test_compatible_provider_needs_a_base_url_and_the_error_names_it() -> None:
    with pytest.raises(ValidationError) as error:
        settings(model_provider="openai_compatible")
    assert format_settings_error(error.value) == (
        "invalid setting MODEL_BASE_URL: must be set when MODEL_PROVIDER=openai_compatible"
    )


@pytest.mark.parametrize(
    ("values", "line"),
    [
        (
            {"environment": "production", "jwt_secret": None},
            "invalid settings: JWT_SECRET or JWT_JWKS_URL must be set in production",
        ),
        (
            {"environment": "production", "jwt_secret": "short"},
            "invalid setting JWT_SECRET: must be a random string of at least",
        ),
    ],
)
def test_an_error_about_several_settings_names_them_never_settings(
    values: dict[str, object], line: str
) -> None:
    with pytest.raises(ValidationError) as error:
        settings(**values)
    message = format_settings_error(error.value)
    assert message.startswith(line) and "setting settings" not in message


@pytest.mark.parametrize(
    ("bad", "line"),
    [
        ({"DATABASE_POOL_SIZE": "lots"}, "invalid setting DATABASE_POOL_SIZE:"),
        ({"MODEL_PROVIDER": "openai_compatible"}, "invalid setting MODEL_BASE_URL: must be set"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(
    bad: dict[str, str], line: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "JWT", "MODEL"))}
    env.update(bad)
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
    assert lines[0].startswith(line)
    assert "Traceback" not in result.stderr


def test_env_example_itself_is_a_valid_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(__file__).resolve().parents[1]
    (tmp_path / ".env").write_text((root / ".env.example").read_text())
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    config = Settings()
    assert config.environment == "development" and config.mcp_servers == []


def test_a_short_metrics_token_stops_start_up() -> None:
    with pytest.raises(ValidationError) as error:
        settings(metrics_token="short")
    assert "invalid setting METRICS_TOKEN: must be at least 24 characters" in (
        format_settings_error(error.value)
    )


def test_api_docs_default_to_off_in_production_only() -> None:
    assert settings().docs_enabled
    production = settings(environment="production", jwt_secret="s" * 40)
    assert not production.docs_enabled
    assert settings(environment="production", jwt_secret="s" * 40, api_docs=True).docs_enabled
