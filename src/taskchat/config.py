"""Settings for the Taskchat backend, read from the environment and `.env`."""

from __future__ import annotations

import secrets
import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32

LOCAL_SECRET_FILE = Path(".local/jwt-secret")
"""Where development keeps its random signing secret when JWT_SECRET is unset."""

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


def local_dev_secret(path: Path = LOCAL_SECRET_FILE) -> str:
    """A random secret for this checkout, made on first use (never a published default)."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    path.write_text(secret)
    path.chmod(0o600)
    return secret


class ExternalMCPServer(BaseModel):
    """An MCP server the agent may use besides the built-in tasks tools."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    """Short name, shown to the user if the server is unavailable."""

    url: str | None = None
    """Streamable-HTTP endpoint (for example https://tools.example/mcp)."""

    headers: dict[str, str] = Field(default_factory=dict)
    """HTTP headers sent to `url` (for example an Authorization header)."""

    command: str | None = None
    """Or: a program to start and talk to over stdio."""

    args: list[str] = Field(default_factory=list)
    """Arguments of `command`."""

    env: dict[str, str] = Field(default_factory=dict)
    """Extra environment of `command`."""

    connect_timeout_seconds: float | None = Field(default=None, gt=0)
    """Overrides MCP_CONNECT_TIMEOUT_SECONDS for this server."""

    call_timeout_seconds: float | None = Field(default=None, gt=0)
    """Overrides MCP_CALL_TIMEOUT_SECONDS for this server."""

    confirm_tools: list[str] = Field(default_factory=list)
    """This server's tools that never run straight from the model: the person confirms each
    call first (Delete / Keep), like the built-in delete_task."""

    @model_validator(mode="after")
    def _one_transport(self) -> ExternalMCPServer:
        if (self.url is None) == (self.command is None):
            raise ValueError(f"MCP server {self.name!r} needs exactly one of 'url' or 'command'")
        return self


class Settings(BaseSettings):
    """Every setting of the backend. Each one is documented in `.env.example`."""

    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", frozen=True
    )

    environment: Literal["development", "production", "test"] = "development"
    """Where this runs. Production requires JWT_SECRET or JWT_JWKS_URL; development
    without JWT_SECRET signs with a random secret kept in .local/jwt-secret."""

    database_url: str = "postgresql+asyncpg://taskchat:taskchat@localhost:5432/taskchat"
    """SQLAlchemy URL of the PostgreSQL database (asyncpg driver)."""

    database_pool_size: int = Field(default=10, ge=1, le=500)
    """Connections the pools hold at most, per process, besides the overflow: half of them
    for the chat's one-statement round trips (db/drivers.py), the rest for the other
    queries. A few are opened at start-up, the rest when needed."""

    database_max_overflow: int = Field(default=10, ge=0, le=500)
    """Extra connections allowed above the pool size under load."""

    jwt_secret: str | None = None
    """Shared secret for HS256 tokens. Required unless JWT_JWKS_URL is set."""

    jwt_jwks_url: str | None = None
    """JWKS URL of an identity provider; tokens are then verified with its public keys."""

    jwt_algorithms: list[str] | None = None
    """Accepted signing algorithms; default HS256 with a secret, RS256 and ES256 with JWKS."""

    jwt_issuer: str = "taskchat"
    """Required `iss` claim."""

    jwt_audience: str = "taskchat"
    """Required `aud` claim."""

    jwt_ttl_seconds: int = Field(default=3600, ge=60, le=60 * 60 * 24 * 30)
    """Lifetime of tokens minted by `taskchat token`."""

    model_provider: Literal["openai", "openai_compatible"] = "openai"
    """`openai` uses the Responses API; `openai_compatible` uses chat completions."""

    model_name: str = "gpt-4.1-mini"
    """Model name sent to the provider."""

    title_model_name: str | None = None
    """Model that names new threads (a few words after the first message); MODEL_NAME if
    unset. A small, fast model is enough."""

    openai_api_key: str | None = None
    """API key for OpenAI, or for the OpenAI-compatible provider."""

    model_base_url: str | None = None
    """Base URL of an OpenAI-compatible provider (for example http://localhost:11434/v1)."""

    model_timeout_seconds: float = Field(default=60.0, gt=0)
    """Timeout of one model request."""

    model_max_retries: int = Field(default=2, ge=0, le=10)
    """Retries of the OpenAI client on 429/5xx before the turn fails."""

    model_turn_timeout_seconds: float = Field(default=90.0, gt=0)
    """The most one turn may spend on its model calls, retries and tool rounds included;
    what arrived by then is kept, marked as cut off."""

    chat_turns_per_minute: int = Field(default=20, ge=0)
    """Streamed chat requests (turns) a user may start a minute, across replicas (0: off)."""

    chat_concurrent_streams: int = Field(default=3, ge=0)
    """Answers a user may have streaming at once, across replicas (0: off)."""

    history_items: int = Field(default=30, ge=1, le=1000)
    """How many of the thread's latest items are sent to the model each turn."""

    cors_origins: list[str] = Field(default_factory=list)
    """Origins allowed to call the backend from a browser directly (the proxy needs none)."""

    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    """Largest accepted /chatkit request body."""

    max_message_chars: int = Field(default=20_000, ge=1)
    """Longest accepted user message."""

    attachment_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, le=50 * 1024 * 1024)
    """Largest file a user may attach (413 above); the frontend reads it too."""

    attachment_quota_bytes: int = Field(default=100 * 1024 * 1024, ge=0)
    """Bytes of attachments one user may keep stored, all threads together (0: no quota)."""

    attachment_text_chars: int = Field(default=20_000, ge=100, le=1_000_000)
    """How many characters of an attached text file the model reads; the rest is cut."""

    auth_rate_limit_account: str = "5/minute"
    """Failed sign-ins allowed per account from one address (limits syntax: "5/minute")."""

    auth_rate_limit_account_total: str = "100/hour"
    """Failed sign-ins allowed per account from all addresses together; past it, only
    addresses the account signed in from before may try."""

    auth_queue_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """How long a sign-in waits for a password-hashing slot before a 503 (under a flood)."""

    auth_rate_limit_address: str = "20/minute"
    """Sign-in and registration attempts allowed per client address."""

    forwarded_allow_ips: str = "127.0.0.1"
    """Proxies whose X-Forwarded-* headers are believed (comma-separated, or *): the client
    address (X-Forwarded-For), the scheme, and the app's origin for attachment URLs."""

    public_url: str = "http://127.0.0.1:8000"
    """The backend's URL as clients reach it directly: the tasks MCP endpoint is
    {PUBLIC_URL}/mcp, and attachment URLs handed to a caller that is not a trusted proxy
    start with it."""

    mcp_allowed_hosts: list[str] = Field(default_factory=list)
    """Extra Host header values accepted at /mcp (DNS-rebinding protection): "backend:8000"."""

    mcp_servers: list[ExternalMCPServer] = Field(default_factory=list)
    """External MCP servers as a JSON list (docs/tools.md, "External MCP servers")."""

    mcp_connect_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    """How long a turn waits for an MCP server to connect before going on without it."""

    mcp_call_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    """How long one MCP tool call may take."""

    approval_timeout_seconds: int = Field(default=3600, ge=10, le=7 * 24 * 3600)
    """How long a tool call waiting for the person's confirmation may still be confirmed."""

    workers: int = Field(default=1, ge=1, le=64)
    """Worker processes of `taskchat serve` (its --workers option overrides it)."""

    shutdown_grace_seconds: float = Field(default=30.0, ge=0, le=3600)
    """On SIGTERM, how long running chat streams may go on before they are cut."""

    metrics_token: str | None = None
    """Bearer token GET /metrics requires. Unset: /metrics is open in development and test,
    and off (404) in production."""

    api_docs: bool | None = None
    """Serve /docs, /redoc and /openapi.json. Unset: on outside production, off in it."""

    log_format: Literal["auto", "json", "text"] = "auto"
    """json (one object a line), text, or auto: text in development, json otherwise."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Level of taskchat's own logs (libraries log at WARNING and above)."""

    sdk_seams: Literal["on", "off"] = "on"
    """Taskchat's cheaper stand-ins for pieces of the SDKs' code paths (docs/sdk-seams.md):
    on, or off to run on the SDKs' own code, to compare behaviour after an SDK upgrade."""

    @field_validator(
        "auth_rate_limit_account", "auth_rate_limit_account_total", "auth_rate_limit_address"
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError('must look like "5/minute" or "100/hour"') from None
        return value

    @field_validator("metrics_token")
    @classmethod
    def _long_token(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 24:
            raise ValueError("must be at least 24 characters (try: openssl rand -hex 24)")
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if value.startswith("postgresql://") or value.startswith("postgres://"):
            return "postgresql+asyncpg://" + value.split("://", 1)[1]
        if not value.startswith("postgresql+asyncpg://"):
            raise ValueError("must be a postgresql:// or postgresql+asyncpg:// URL")
        return value

    @model_validator(mode="after")
    def _secrets(self) -> Settings:
        if self.jwt_jwks_url is None:
            if self.jwt_secret is None:
                if self.environment == "production":
                    raise ValueError("JWT_SECRET or JWT_JWKS_URL must be set in production")
            elif self.environment == "production" and len(self.jwt_secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"JWT_SECRET must be a random string of at least {MIN_SECRET_LENGTH} "
                    "characters in production (try: openssl rand -hex 32)"
                )
        if self.jwt_algorithms is not None:
            allowed = ASYMMETRIC_ALGORITHMS if self.jwt_jwks_url else HMAC_ALGORITHMS
            wrong = [a for a in self.jwt_algorithms if a not in allowed]
            if wrong or not self.jwt_algorithms:
                kind = (
                    "asymmetric algorithms (RS256, ES256, ...) with JWT_JWKS_URL"
                    if self.jwt_jwks_url
                    else "HMAC algorithms (HS256, HS384, HS512) with JWT_SECRET"
                )
                raise ValueError(f"JWT_ALGORITHMS must list only {kind}; refused: {wrong}")
        if self.model_provider == "openai_compatible" and not self.model_base_url:
            raise ValueError("MODEL_BASE_URL must be set when MODEL_PROVIDER=openai_compatible")
        return self

    @property
    def accepted_algorithms(self) -> list[str]:
        """The signing algorithms tokens may use."""
        if self.jwt_algorithms:
            return list(self.jwt_algorithms)
        return ["RS256", "ES256"] if self.jwt_jwks_url else ["HS256"]

    @property
    def effective_jwt_secret(self) -> str:
        """The HMAC secret: JWT_SECRET, or outside production this checkout's own."""
        if self.jwt_secret:
            return self.jwt_secret
        if self.environment == "production":  # pragma: no cover - refused at validation
            raise ValueError("JWT_SECRET is not set")
        return local_dev_secret()

    @property
    def docs_enabled(self) -> bool:
        """Whether the API docs are served (API_DOCS, or the environment's default)."""
        return self.api_docs if self.api_docs is not None else self.environment != "production"

    @property
    def model_configured(self) -> bool:
        """Whether a chat turn can reach a model at all."""
        if self.model_provider == "openai_compatible":
            return self.model_base_url is not None
        return bool(self.openai_api_key)


def format_settings_error(error: ValidationError) -> str:
    """One line per problem, naming the environment variable."""
    return "\n".join(_describe(problem) for problem in error.errors())


def _describe(problem: ErrorDetails) -> str:
    message = str(problem["msg"]).removeprefix("Value error, ")
    name = "_".join(str(part) for part in problem["loc"]).upper()
    if name:
        return f"invalid setting {name}: {message}"
    # A check across settings (the model validator) has no field of its own; its sentence
    # begins with the variable it is about ("MODEL_BASE_URL must be set when ..."), or names
    # several ("JWT_SECRET or JWT_JWKS_URL must ...").
    first, _, rest = message.partition(" ")
    if first.lower() in Settings.model_fields and not rest.startswith("or "):
        return f"invalid setting {first}: {rest}"
    return f"invalid settings: {message}"


def load_settings() -> Settings:
    """Read the settings, or exit with one clear line per problem."""
    try:
        return Settings()
    except ValidationError as error:
        print(format_settings_error(error), file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
