"""GET /metrics: Prometheus text format, for a scraper holding METRICS_TOKEN.

Without a token configured it is served only outside production: the counts name routes,
outcomes and error kinds, which are nobody else's business.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from taskchat.api.deps import ServicesDep
from taskchat.auth import AuthError
from taskchat.errors import ResourceNotFoundError

router = APIRouter()


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request, services: ServicesDep) -> Response:
    """This process's metrics."""
    settings = services.settings
    if settings.metrics_token is None:
        if settings.environment == "production":
            raise ResourceNotFoundError("Metrics are off in production until METRICS_TOKEN is set.")
    else:
        expected = f"Bearer {settings.metrics_token}".encode()
        given = request.headers.get("authorization", "").encode()
        # Compared in constant time, so the token cannot be guessed from response times.
        if not hmac.compare_digest(given, expected):
            raise AuthError("metrics need 'Authorization: Bearer <METRICS_TOKEN>'")
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
