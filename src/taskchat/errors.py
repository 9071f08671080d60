"""The root of Taskchat's own exceptions, and the errors that carry an answer for a client."""

from __future__ import annotations

from collections.abc import Mapping


class TaskchatError(Exception):
    """Base class of every error Taskchat raises on purpose."""


class ProblemError(TaskchatError):
    """An error with an answer for the client: an HTTP status, a stable code, a sentence.

    Routes and the services under them raise these; one handler (`api/errors.py`) turns
    each into `{"error": <code>, "detail": <sentence>}`. A subclass fixes `status` and
    `code`; a single raise can override either.
    """

    status: int = 400
    """The HTTP status of the answer."""

    code: str = "bad_request"
    """A stable, machine-readable name of the problem (the answer's `error`)."""

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        """What went wrong, in a sentence a person can act on."""
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})
        """Extra response headers (Retry-After, WWW-Authenticate, ...)."""


class ResourceNotFoundError(ProblemError):
    """The thing asked for does not exist, or belongs to someone else (never said which)."""

    status = 404
    code = "not_found"


class UnsupportedError(ProblemError):
    """The client asked for something this server does not offer."""

    status = 400
    code = "unsupported"
