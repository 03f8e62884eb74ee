"""Errors of the protocol endpoints, in the protocol's own format.

OAuth 2.0 (RFC 6749 §5.2) and OpenID4VCI (§8.3.1) clients read ``{"error": ..., "error_description": ...}``
with ``Cache-Control: no-store``, not RFC 9457 problems; a resource error (RFC 6750 §3, RFC 9449 §7.1)
also names itself in ``WWW-Authenticate``. The token, nonce, credential and offer endpoints
raise :class:`ProtocolError`; their router turns it into that answer.

Error codes used (the OpenID4VCI 1.0 spellings):

* token endpoint: ``invalid_request``, ``invalid_grant``, ``unsupported_grant_type``,
  ``invalid_dpop_proof``, ``use_dpop_nonce``, ``invalid_client``;
* credential endpoint: ``invalid_token`` (401, with ``WWW-Authenticate: DPoP``),
  ``invalid_dpop_proof`` (401), ``invalid_credential_request``, ``unknown_credential_configuration``,
  ``unknown_credential_identifier``, ``invalid_proof``, ``invalid_nonce``, ``credential_request_denied``.
"""

from __future__ import annotations

from typing import Any, cast

import redis.asyncio as aioredis
from litestar import Request, Response

from wallet_api.kernel import LeasedWindowLimiter, Scope, Settings, caller_source

__all__ = [
    "NO_STORE",
    "ProtocolError",
    "invalid_token",
    "oversized_request_response",
    "protocol_error_response",
    "within_limit",
]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class ProtocolError(Exception):
    """An OAuth / OpenID4VCI error answer: ``error`` code, description, status, extra headers."""

    def __init__(self, error: str, description: str, *, status: int = 400, headers: dict[str, str] | None = None):
        super().__init__(description)
        self.error = error
        # error_description is ASCII without '"' or '\\' (RFC 6749 §5.2).
        self.description = "".join(c for c in description if 0x20 <= ord(c) <= 0x7E and c not in '"\\')
        self.status = status
        self.headers = headers or {}


def invalid_token(description: str, *, error: str = "invalid_token") -> ProtocolError:
    """A refused access token or DPoP proof at a protected resource: 401 naming the DPoP scheme."""
    challenge = f'DPoP error="{error}", error_description="{description}", algs="ES256"'
    return ProtocolError(error, description, status=401, headers={"WWW-Authenticate": challenge})


async def within_limit(
    limiter: LeasedWindowLimiter, redis: aioredis.Redis, request: Request[Any, Any, Any], settings: Settings
) -> str:
    """Count one call of the caller's address; 429 ``temporarily_unavailable`` with
    ``Retry-After`` over the limit (OAuth has no code of its own for it). Returns the address."""
    source = caller_source(cast(Scope, request.scope), settings.trusted_proxies)
    wait = await limiter.acquire(redis, source)
    if wait:
        raise ProtocolError(
            "temporarily_unavailable",
            "Too many requests from this address.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    return source


def protocol_error_response(_: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, str]]:
    assert isinstance(exc, ProtocolError)
    return Response(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers={**NO_STORE, **exc.headers},
        media_type="application/json",
    )


def oversized_request_response(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, str]]:
    """A body over the route's limit, refused by Litestar before it is read: still 413, but
    in OAuth's format like every other refusal of these endpoints (a wallet reads ``error``)."""
    refused = ProtocolError("invalid_request", "The request body is larger than this endpoint accepts.", status=413)
    return protocol_error_response(request, refused)
