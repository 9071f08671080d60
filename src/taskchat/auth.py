"""JWT verification and minting.

Identity comes only from a verified token: the user id is the `sub` claim of a token
whose signature, algorithm, expiry, issuer and audience all check out.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio.to_thread
import jwt

from taskchat.config import HMAC_ALGORITHMS, Settings
from taskchat.context import Identity
from taskchat.errors import ProblemError, TaskchatError
from taskchat.text import problem_in

VERIFIED_CACHE_SIZE = 4096
"""Verified tokens remembered per process."""

VERIFIED_CACHE_SECONDS = 300.0
"""The longest a verified token is remembered (less if it expires sooner)."""


class AuthError(ProblemError):
    """A request's credentials were missing or did not verify; the detail says which."""

    status = 401
    code = "unauthorized"

    def __init__(self, reason: str) -> None:
        super().__init__(reason, headers={"WWW-Authenticate": "Bearer"})


RevocationCheck = Callable[[Identity], Awaitable[bool]]
"""Whether a verified token was revoked since it was issued (its subject's data deleted)."""


class TokenVerifier:
    """Verifies bearer tokens with a pinned algorithm list."""

    def __init__(self, settings: Settings, *, revoked: RevocationCheck | None = None) -> None:
        """`revoked`, if given, is asked about every token `verify_async` accepts (never
        remembered here: a revocation must take effect at once, on every replica; see
        accounts/revocations.py)."""
        self._settings = settings
        self._revoked = revoked
        # Settings only admit HMAC algorithms with a secret and asymmetric ones with JWKS:
        # mixing them would let a public key serve as an HMAC secret (algorithm confusion).
        algorithms = settings.accepted_algorithms
        if any(a.lower() == "none" for a in algorithms):  # pragma: no cover - refused above
            raise TaskchatError("JWT_ALGORITHMS must not contain 'none'")
        if settings.jwt_jwks_url and any(a in HMAC_ALGORITHMS for a in algorithms):
            raise TaskchatError("HMAC algorithms cannot be used with JWT_JWKS_URL")
        self._verified: OrderedDict[str, tuple[Identity, float]] = OrderedDict()
        self._jwks: jwt.PyJWKClient | None = None
        if settings.jwt_jwks_url:
            self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True)
        self.algorithms = algorithms

    async def verify_async(self, token: str) -> Identity:
        """`verify`, remembering verified tokens, without blocking the event loop, then
        the revocation check.

        The cache is only touched here, on the event loop's thread.
        """
        identity = await self._verified_identity(token)
        if self._revoked is not None and await self._revoked(identity):
            raise AuthError("token revoked: its account or data was deleted; sign in again")
        return identity

    async def _verified_identity(self, token: str) -> Identity:
        cached = self._verified.get(token)
        now = time.time()
        if cached is not None:
            identity, until = cached
            if now < until:
                self._verified.move_to_end(token)
                return identity
            del self._verified[token]
        if self._jwks is None:
            identity = self.verify(token)  # HMAC only: no I/O
        else:
            # PyJWKClient fetches keys over blocking HTTP when its cache lacks the key id.
            identity = await anyio.to_thread.run_sync(self.verify, token)
        exp = identity.claims.get("exp")
        if isinstance(exp, int | float):
            # The same bytes verify the same way until they expire; re-checked at least
            # every few minutes anyway, so a rotated-out JWKS key stops working soon.
            self._verified[token] = (identity, min(float(exp), now + VERIFIED_CACHE_SECONDS))
            if len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return identity

    def verify(self, token: str) -> Identity:
        """Return the identity in `token`, or raise AuthError saying why not (no cache)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        if header.get("alg") not in self.algorithms:
            raise AuthError("token algorithm not accepted")
        key: Any
        if self._jwks is not None:
            try:
                key = self._jwks.get_signing_key_from_jwt(token).key
            except jwt.PyJWKClientError:
                raise AuthError("token signing key not found") from None
        else:
            key = self._settings.effective_jwt_secret
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
                leeway=10,
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.InvalidAudienceError:
            raise AuthError("token audience not accepted") from None
        except jwt.InvalidIssuerError:
            raise AuthError("token issuer not accepted") from None
        except jwt.InvalidSignatureError:
            raise AuthError("token signature invalid") from None
        except jwt.MissingRequiredClaimError as error:
            raise AuthError(f"token lacks the {error.claim!r} claim") from None
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        sub = claims.get("sub")
        # The subject is the key of every row the user owns: it must be storable text.
        if not isinstance(sub, str) or not sub or len(sub) > 255 or problem_in(sub):
            raise AuthError("token subject invalid")
        return Identity(user_id=sub, claims=claims)


def mint_token(
    settings: Settings,
    *,
    sub: str,
    name: str | None = None,
    ttl_seconds: int | None = None,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """Mint an HS256 token that this backend accepts (development and tests)."""
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": sub,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds or settings.jwt_ttl_seconds),
        "jti": secrets.token_hex(8),
    }
    if name:
        claims["name"] = name
    claims.update(extra_claims or {})
    return jwt.encode(claims, settings.effective_jwt_secret, algorithm="HS256")


def bearer_token(authorization: str | None) -> str:
    """The token in an `Authorization: Bearer <token>` header value."""
    if not authorization:
        raise AuthError("missing Authorization header (expected 'Bearer <token>')")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Authorization header must be 'Bearer <token>'")
    return token.strip()
