"""Reads the bearer token, if any, into ``scope["user"]``; the route's guards decide.

A present but invalid token is refused at once (401), even on public routes: a client
holding a broken token should learn it now, not act anonymously by accident.
"""

from __future__ import annotations

from typing import Any

from wallet_api.asgi import ASGIApp, Receive, Scope, Send
from wallet_api.auth.tokens import InvalidToken, TokenService
from wallet_api.problems import Unauthorized, problem_response

__all__ = ["BearerTokenMiddleware"]


class BearerTokenMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope["user"] = None
        token = _bearer(scope)
        if token is not None:
            tokens: TokenService = scope["litestar_app"].state.services.tokens
            try:
                scope["user"] = await tokens.verify(token)
            except InvalidToken as exc:
                response = problem_response(Unauthorized(f"The access token is not valid ({exc})."))
                await response.to_asgi_response(app=None, request=None)(scope, receive, send)  # type: ignore[arg-type]
                return
        await self.app(scope, receive, send)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            raw = str(value.decode("latin-1"))
            scheme, _, credentials = raw.partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
            return None
    if scope["type"] == "websocket":
        # Browsers cannot set headers on a WebSocket; the app sends the token as a subprotocol.
        for proto in _subprotocols(scope):
            if proto.startswith("bearer."):
                return proto.removeprefix("bearer.")
    return None


def _subprotocols(scope: Scope) -> list[str]:
    value: Any = scope.get("subprotocols") or []
    return [str(p) for p in value]
