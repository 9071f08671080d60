# Taskchat backend image: `taskchat serve` by default, `taskchat migrate` for the schema.
# Built by docker-compose.yml (the `migrate` and `backend` services); see
# docs/deployment.md. No secret is baked in: every setting comes from the
# environment at run time.

# uv, pinned: the same version that made uv.lock.
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

# ---------------------------------------------------------------------------------------
# Build stage: resolve nothing, install exactly what uv.lock says into /app/.venv.
FROM python:3.11-slim-bookworm AS build
COPY --from=uv /uv /bin/uv

# Compile bytecode now (the runtime user cannot write next to the sources); copy files
# out of uv's cache instead of hard-linking (the cache is a build-time mount); use the
# image's Python rather than downloading one.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# Dependencies first, in their own layer: they change less often than the code.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project

# Then the project itself. It stays an editable install pointing at /app/src, on purpose:
# `taskchat migrate` finds alembic.ini and migrations/ relative to
# src/taskchat/db/migrate.py, so /app must keep the repository's layout.
# (README.md is the package's readme in pyproject.toml: hatchling needs it to build.)
COPY README.md alembic.ini ./
COPY migrations ./migrations
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

# ---------------------------------------------------------------------------------------
# Runtime stage: the same Python image (the venv's interpreter symlink points into it),
# the app and its venv, no uv, no build tools.
FROM python:3.11-slim-bookworm AS runtime

# A fixed, unprivileged user; the code stays owned by root, so it cannot modify it.
RUN groupadd --system --gid 10001 taskchat \
    && useradd --system --no-log-init --uid 10001 --gid taskchat \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin taskchat

COPY --from=build /app /app

# ENVIRONMENT=production: the image refuses to start without a real JWT_SECRET (or
# JWT_JWKS_URL) instead of falling back to development defaults.
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production

WORKDIR /app
# Numeric, so the runtime can tell it is not root (e.g. Kubernetes runAsNonRoot).
USER 10001:10001
EXPOSE 8000

# Liveness: the process answers. (docker-compose.yml checks readiness, /readyz, instead:
# database reachable and migrated.) Slim images have no curl, hence Python's urllib; any
# non-2xx answer or connection error raises, which exits non-zero.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# Worker processes come from WORKERS (default 1); on SIGTERM the server drains for
# SHUTDOWN_GRACE_SECONDS.
CMD ["taskchat", "serve", "--host", "0.0.0.0", "--port", "8000"]
