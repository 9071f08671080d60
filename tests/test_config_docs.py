"""Every backend setting is documented: named in docs/configuration.md and in .env.example."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pydantic import AliasChoices

from taskchat.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def env_names() -> list[str]:
    """The environment variable of each field of `Settings`, as pydantic-settings reads it."""
    prefix = Settings.model_config.get("env_prefix", "")
    names: list[str] = []
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, AliasChoices):
            alias = next((choice for choice in alias.choices if isinstance(choice, str)), None)
        names.append(alias if isinstance(alias, str) else prefix + name)
    return [name.upper() for name in names]


def undocumented(names: Iterable[str], docs: str, example: str) -> list[str]:
    """The names that the docs do not show as `NAME`, or that the example file does not set
    (a line `NAME=...`, or `# NAME=...` for one left commented out)."""
    return [
        name
        for name in names
        if f"`{name}`" not in docs
        or not re.search(rf"^(# )?{re.escape(name)}=", example, re.MULTILINE)
    ]


def test_every_setting_is_in_the_configuration_page_and_env_example() -> None:
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = env_names()
    assert "DATABASE_URL" in names and len(names) >= 40
    assert undocumented(names, docs, example) == []


def test_the_check_names_what_is_missing() -> None:
    docs = "| `LOG_LEVEL` | ... |\n| `DATABASE_URL` | ... |"
    example = "LOG_LEVEL=INFO\n# DATABASE_URL=postgresql://...\nMODEL_NAME=x\n"
    assert undocumented(["LOG_LEVEL", "DATABASE_URL"], docs, example) == []
    # MODEL_NAME is set in the example but not in the docs; LOG_FORMAT is in neither; and a
    # name that only appears inside another's value or comment does not count.
    assert undocumented(["MODEL_NAME", "LOG_FORMAT"], docs, example) == [
        "MODEL_NAME",
        "LOG_FORMAT",
    ]
    assert undocumented(["LOG_LEVEL"], docs, "# set LOG_LEVEL=INFO for quiet logs\n") == [
        "LOG_LEVEL"
    ]
