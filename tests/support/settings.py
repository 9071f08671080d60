"""Settings for the apps the tests start: a test secret, the test database, the scripted model."""

from __future__ import annotations

import secrets
from typing import Any

from taskchat.config import Settings
from tests.support.fake_openai import TITLE_MODEL, FakeOpenAI

TEST_SECRET = secrets.token_hex(32)
"""The JWT secret of every app in this test run (random per run)."""

SCRIPTED_MODEL: dict[str, Any] = {
    "model_provider": "openai_compatible",
    "model_name": "scripted-model",
    "title_model_name": TITLE_MODEL,
    "openai_api_key": "test-key",
    "model_max_retries": 0,
    "model_timeout_seconds": 10,
    # Every test signs in from 127.0.0.1: the per-address limit is tested on its own.
    "auth_rate_limit_address": "10000/minute",
}
"""Settings for the scripted model server (add its `model_base_url`)."""


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Test settings on `database_url`, read from nothing but these arguments."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "jwt_secret": TEST_SECRET,
        "database_pool_size": 20,
        # Title calls go to their own script (FakeOpenAI.titles), not to the turns' replies.
        "title_model_name": TITLE_MODEL,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def scripted_settings(database_url: str, fake_model: FakeOpenAI, **overrides: Any) -> Settings:
    """Settings whose model is the scripted chat-completions server, plus `overrides`."""
    values: dict[str, Any] = {
        "model_provider": "openai_compatible",
        "model_base_url": fake_model.base_url,
        "model_max_retries": 0,
    }
    values.update(overrides)
    return make_settings(database_url, **values)
