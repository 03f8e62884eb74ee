"""RFC 9457 problem details: every error this API returns.

Exception tree (each maps to one stable ``type`` URI under ``PROBLEM_BASE``)::

    Problem                      any error we raise on purpose
    ├── BadRequest         400   bad-request, or a domain-specific slug
    ├── ValidationFailed   422   validation (with ``errors``: field-level reasons)
    ├── Unauthorized       401   unauthorized
    ├── Forbidden          403   forbidden
    ├── NotFound           404   not-found
    ├── Conflict           409   conflict, or a domain-specific slug
    └── TooManyRequests    429   rate-limited (with ``Retry-After``)

Framework errors (Litestar's validation, 404 routing, 405, …) and unhandled exceptions
are translated by :func:`exception_handlers`. A 500 carries only the request id: never a
stack trace, never request data.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.exceptions import (
    MethodNotAllowedException as LitestarMethodNotAllowed,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from redis import exceptions as redis_exceptions

from wallet_api.observability.context import current_request_id

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_MEDIA_TYPE",
    "BadRequest",
    "Conflict",
    "Forbidden",
    "NotFound",
    "Problem",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "ValidationFailed",
    "exception_handlers",
    "problem_response",
    "problem_type",
]

PROBLEM_BASE = "https://citizenwallet.vn/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

log = logging.getLogger(__name__)


def problem_type(slug: str) -> str:
    return PROBLEM_BASE + slug


class Problem(Exception):
    """An error with a stable machine-readable type; subclasses fix the status."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"
    #: (status, slug, title) of every problem a subclass whose slug is chosen at run time can
    #: answer, for the OpenAPI document (wallet_api/openapi_problems.py); empty: its own.
    documented: tuple[tuple[int, str, str], ...] = ()

    def __init__(
        self,
        detail: str | None = None,
        *,
        slug: str | None = None,
        title: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or self.title)
        self.detail = detail
        if slug is not None:
            self.slug = slug
        if title is not None:
            self.title = title
        if status is not None:
            self.status = status
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": problem_type(self.slug), "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        request_id = current_request_id()
        if request_id:
            body["request_id"] = request_id
        return body


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"


class ValidationFailed(Problem):
    status, slug, title = 422, "validation", "The request is not valid"


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="citizen-wallet"'})
        super().__init__(detail, **kw)


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Not allowed"


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict with the current state"


class TooManyRequests(Problem):
    status, slug, title = 429, "rate-limited", "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 1, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, int(retry_after)))})
        super().__init__(detail, **kw)


class ServiceUnavailable(Problem):
    status, slug, title = 503, "service-unavailable", "Temporarily unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 5, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": str(max(1, int(retry_after)))})
        super().__init__(detail, **kw)


def problem_response(problem: Problem, request: Request[Any, Any, Any] | None = None) -> Response[Any]:
    return Response(
        content=problem.body(instance=request.url.path if request is not None else None),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def _validation_errors(extra: Any) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, dict):
                # Litestar puts the offending value nowhere we echo: only key, source and message.
                errors.append({k: item[k] for k in ("key", "source", "message") if k in item})
    return errors


def _handle_problem(request: Request[Any, Any, Any], exc: Problem) -> Response[Any]:
    return problem_response(exc, request)


def _handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    return problem_response(ValidationFailed(exc.detail or None, errors=_validation_errors(exc.extra)), request)


_STATUS_PROBLEMS: dict[int, type[Problem]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    429: TooManyRequests,
}


def _handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status >= 500:
        return _handle_unexpected(request, exc)
    cls = _STATUS_PROBLEMS.get(status)
    detail = exc.detail if exc.detail and exc.detail != _default_phrase(status) else None
    if isinstance(exc, LitestarMethodNotAllowed) or status == 405:
        problem: Problem = Problem(detail, slug="method-not-allowed", title="Method not allowed", status=405)
        # Litestar's router names the route's methods in a lower-case "allow" header.
        allow = next((v for k, v in (exc.headers or {}).items() if k.lower() == "allow"), None)
        if allow:
            problem.headers["Allow"] = allow
    elif cls is TooManyRequests:
        problem = TooManyRequests(detail)
        if exc.headers:
            problem.headers.update(exc.headers)
    elif cls is not None:
        problem = cls(detail)
    elif status == 413:
        problem = Problem(detail, slug="payload-too-large", title="Request body too large", status=413)
    elif status == 415:
        problem = Problem(detail, slug="unsupported-media-type", title="Unsupported media type", status=415)
    else:
        problem = Problem(detail, status=status)
    return problem_response(problem, request)


def _default_phrase(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The exception type and request id are enough to find it in the logs; the message
    # may carry personal data, so it is logged with the traceback but never returned.
    log.error("unhandled error", exc_info=exc, extra={"path_template": request.scope.get("path_template")})
    problem = Problem(
        "An unexpected error occurred. Quote the request id when reporting it.",
        slug="internal",
        title="Internal server error",
        status=HTTP_500_INTERNAL_SERVER_ERROR,
    )
    return problem_response(problem, request)


def _handle_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # Redis or PostgreSQL could not be reached: the client should retry, and nothing was
    # half done (every write is one transaction). Logged by type only, never the message.
    log.warning(
        "dependency unavailable",
        extra={"error": type(exc).__name__, "path_template": request.scope.get("path_template")},
    )
    return problem_response(ServiceUnavailable("A service we depend on is not answering; try again shortly."), request)


def _handle_nul(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # PostgreSQL stores no U+0000 in text or jsonb and refuses the whole statement (its
    # transaction rolls back, nothing is stored). Every text we bind comes from a valid
    # Python str, so these two refusals can only mean a NUL: the client sent one.
    return problem_response(
        BadRequest("Text must not contain the NUL character (U+0000).", slug="nul-character", title="NUL in text"),
        request,
    )


def exception_handlers() -> dict[type[Exception] | int, Any]:
    return {
        asyncpg.exceptions.CharacterNotInRepertoireError: _handle_nul,
        asyncpg.exceptions.UntranslatableCharacterError: _handle_nul,
        redis_exceptions.ConnectionError: _handle_unavailable,
        redis_exceptions.TimeoutError: _handle_unavailable,
        asyncpg.exceptions.ConnectionDoesNotExistError: _handle_unavailable,
        asyncpg.exceptions.CannotConnectNowError: _handle_unavailable,
        asyncpg.exceptions.TooManyConnectionsError: _handle_unavailable,
        ConnectionError: _handle_unavailable,  # the built-in one: refused or reset sockets
        Problem: _handle_problem,
        ValidationException: _handle_validation,
        NotAuthorizedException: _handle_http,
        PermissionDeniedException: _handle_http,
        NotFoundException: _handle_http,
        TooManyRequestsException: _handle_http,
        HTTPException: _handle_http,
        Exception: _handle_unexpected,
    }
