"""The JWT matrix, through real HTTP: every bad token is a 401 with a reason."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from taskchat.auth import AuthError, TokenVerifier, bearer_token
from taskchat.config import Settings
from tests.support.fake_openai import FakeOpenAI
from tests.support.jwks import jwks_served
from tests.support.live import LiveServer
from tests.support.protocol import create_thread
from tests.support.settings import TEST_SECRET, make_settings
from tests.support.tokens import TokenFor


def claims(subject: str, /, **overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "sub": subject,
        "iss": "taskchat",
        "aud": "taskchat",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def _part(data: dict[str, Any] | bytes) -> str:
    raw = (
        data
        if isinstance(data, bytes)
        else json.dumps(data, default=lambda d: int(d.timestamp())).encode()
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any]) -> str:
    return f"{_part({'alg': 'none', 'typ': 'JWT'})}.{_part(payload)}."


def hmac_with_public_key(payload: dict[str, Any], kid: str | None = None) -> str:
    """HS256 signed with the RSA public key as the secret (PyJWT refuses to make one)."""
    header: dict[str, Any] = {"alg": "HS256", "typ": "JWT"}
    if kid:
        header["kid"] = kid
    signing_input = f"{_part(header)}.{_part(payload)}"
    signature = hmac.new(RSA_PEM, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_part(signature)}"


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def bad_tokens(sub: str) -> dict[str, tuple[str | None, str]]:
    """name -> (Authorization header value, expected reason fragment)."""
    return {
        "missing": (None, "missing Authorization"),
        "not bearer": (f"Basic {jwt.encode(claims(sub), TEST_SECRET)}", "Bearer"),
        "empty bearer": ("Bearer", "Bearer"),
        "malformed": ("Bearer not.a.jwt", "malformed"),
        "garbage": ("Bearer abc", "malformed"),
        "expired": (
            "Bearer "
            + jwt.encode(claims(sub, exp=datetime.now(UTC) - timedelta(minutes=5)), TEST_SECRET),
            "expired",
        ),
        "wrong iss": ("Bearer " + jwt.encode(claims(sub, iss="evil"), TEST_SECRET), "issuer"),
        "wrong aud": ("Bearer " + jwt.encode(claims(sub, aud="other"), TEST_SECRET), "audience"),
        "wrong key": (
            "Bearer " + jwt.encode(claims(sub), secrets.token_hex(32)),
            "signature",
        ),
        "alg none": ("Bearer " + unsigned(claims(sub)), "algorithm"),
        "no exp": ("Bearer " + jwt.encode(claims(sub, exp=None), TEST_SECRET), "'exp'"),
        "no sub": ("Bearer " + jwt.encode(claims(sub, sub=None), TEST_SECRET), "'sub'"),
        "NUL in sub": (
            "Bearer " + jwt.encode(claims(sub, sub=sub + "\x00"), TEST_SECRET),
            "subject",
        ),
        "lone surrogate in sub": (
            "Bearer " + jwt.encode(claims(sub, sub=sub + "\ud800"), TEST_SECRET),
            "subject",
        ),
        "RS256 to an HS256 server": (
            "Bearer " + jwt.encode(claims(sub), RSA_KEY, algorithm="RS256"),
            "algorithm",
        ),
        "HS256 signed with the public key": (
            "Bearer " + hmac_with_public_key(claims(sub)),
            "signature",
        ),
    }


@pytest.mark.parametrize("case", list(bad_tokens("x")))
async def test_bad_tokens_are_401_with_a_reason_and_touch_nothing(
    client: httpx.AsyncClient,
    token_for: TokenFor,
    new_user: Callable[[], str],
    fake_model: FakeOpenAI,
    case: str,
) -> None:
    user = new_user()
    header, reason = bad_tokens(user)[case]
    headers = {"Authorization": header} if header is not None else {}
    response = await client.post("/chatkit", json=create_thread("hi"), headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["error"] == "unauthorized"
    assert reason in body["detail"]
    assert fake_model.requests == []
    listed = await client.post(
        "/chatkit",
        json={"type": "threads.list", "params": {}},
        headers={"Authorization": f"Bearer {token_for(user)}"},
    )
    assert listed.status_code == 200 and listed.json()["data"] == []


async def test_a_good_token_passes(client: httpx.AsyncClient, token_for: TokenFor) -> None:
    response = await client.post(
        "/chatkit",
        json={"type": "threads.list", "params": {}},
        headers={"Authorization": f"Bearer {token_for('someone')}"},
    )
    assert response.status_code == 200


def test_bearer_header_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    with pytest.raises(AuthError):
        bearer_token("Token abc")


# JWKS: an identity provider's public keys served on loopback --------------------


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[LiveServer]:
    with jwks_served(RSA_KEY, "key-1") as server:
        yield server


def jwks_settings(database_url: str, server: LiveServer) -> Settings:
    return make_settings(
        database_url,
        jwt_secret=None,
        jwt_jwks_url=f"{server.url}/jwks.json",
        jwt_algorithms=["RS256"],
    )


def test_jwks_verifies_tokens_of_the_identity_provider(
    database_url: str, jwks_server: LiveServer
) -> None:
    verifier = TokenVerifier(jwks_settings(database_url, jwks_server))
    assert verifier.algorithms == ["RS256"]
    token = jwt.encode(claims("idp-user"), RSA_KEY, algorithm="RS256", headers={"kid": "key-1"})
    assert verifier.verify(token).user_id == "idp-user"


def test_jwks_refuses_hmac_tokens_and_unknown_keys(
    database_url: str, jwks_server: LiveServer
) -> None:
    verifier = TokenVerifier(jwks_settings(database_url, jwks_server))
    # Signing with the public key as an HMAC secret is the classic confusion attack.
    confused = hmac_with_public_key(claims("x"), kid="key-1")
    with pytest.raises(AuthError, match="algorithm"):
        verifier.verify(confused)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    unknown = jwt.encode(claims("x"), other, algorithm="RS256", headers={"kid": "key-2"})
    with pytest.raises(AuthError, match="key"):
        verifier.verify(unknown)
    forged = jwt.encode(claims("x"), other, algorithm="RS256", headers={"kid": "key-1"})
    with pytest.raises(AuthError, match="signature"):
        verifier.verify(forged)
