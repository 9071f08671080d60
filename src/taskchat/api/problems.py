"""JSON error answers with a reason a person can act on."""

from __future__ import annotations

from fastapi.responses import JSONResponse


def problem(
    status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    """`{"error": <code>, "detail": <sentence>}` with `status`."""
    return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)
