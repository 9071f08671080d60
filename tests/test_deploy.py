"""The compose stack runs the commands the other tests exercise outside Docker.

`taskchat migrate` and `taskchat serve` are run by tests/cli/test_cli.py and
tests/cli/test_serving.py; the frontend image's `node server.js` is the standalone server the
frontend tests start (`npm start`). This keeps the deployment files from drifting away
from what is tested.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# Compose refuses to render without its required secrets; these only fill the slots.
NOT_A_SECRET = "placeholder-for-rendering-only"


def _compose_config() -> dict[str, Any]:
    binary = Path(sys.executable).parent / "docker-compose"
    required = ("POSTGRES_PASSWORD", "TASKCHAT_DB_PASSWORD", "JWT_SECRET")
    env = {**os.environ, **dict.fromkeys(required, NOT_A_SECRET)}
    command = [str(binary), "--env-file", "/dev/null", "-f", "docker-compose.yml"]
    result = subprocess.run(
        [*command, "config", "--format", "json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_each_side_trusts_x_forwarded_for_only_from_the_proxy_in_front_of_it() -> None:
    config = _compose_config()
    [pool] = config["networks"]["default"]["ipam"]["config"]
    subnet = ipaddress.ip_network(pool["subnet"])
    gateway = ipaddress.ip_address(pool["gateway"])
    assert gateway in subnet
    services = config["services"]
    assert set(services["frontend"]["networks"]) == {"default"}
    assert "default" in services["backend"]["networks"]
    # The backend: only from the network the frontend calls it on, never from anyone (`*`).
    assert services["backend"]["environment"]["FORWARDED_ALLOW_IPS"] == str(subnet)
    # The frontend: only from the gateway, where a TLS proxy on the host comes from through
    # the loopback-published port.
    assert services["frontend"]["environment"]["TRUSTED_PROXIES"] == str(gateway)


def _cmd(dockerfile: Path) -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", dockerfile.read_text(), re.MULTILINE)
    assert match, f"no exec-form CMD in {dockerfile}"
    command: list[str] = json.loads(match.group(1))
    return command


def test_compose_runs_the_tested_commands() -> None:
    services = _compose_config()["services"]
    assert services["migrate"]["command"] == ["taskchat", "migrate"]
    assert services["backend"]["command"][:2] == ["taskchat", "serve"]
    assert "ports" not in services["backend"] and "ports" not in services["db"]
    [published] = services["frontend"]["ports"]
    assert published["target"] == 3000 and published["host_ip"] == "127.0.0.1"
    assert services["frontend"]["environment"]["BACKEND_URL"] == "http://backend:8000"
    assert services["backend"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    assert _cmd(ROOT / "Dockerfile")[:2] == ["taskchat", "serve"]
    assert _cmd(ROOT / "frontend" / "Dockerfile") == ["node", "server.js"]
    package = json.loads((ROOT / "frontend" / "package.json").read_text())
    assert package["scripts"]["start"] == "node .next/standalone/server.js"


def test_images_bake_in_no_secret() -> None:
    for dockerfile in (ROOT / "Dockerfile", ROOT / "frontend" / "Dockerfile"):
        text = dockerfile.read_text()
        for name in ("JWT_SECRET", "OPENAI_API_KEY", "PASSWORD", "DATABASE_URL"):
            assert not re.search(rf"^\s*(ENV|ARG)\b.*{name}", text, re.MULTILINE), (
                f"{name} in {dockerfile}"
            )
