"""A direct path for the hottest routes: the same route and answers with less per-request machinery.

Under load, ``POST /v1/verifications`` spent more of its CPU in Litestar's per-request work
(layers of middleware and exception handling, the copy of the route handler made for each
guard call, the kwargs model, the response object) than in verifying. A :class:`FastRoute`
names such a route's parts (its body type, who may call it, what it does) so that this layer
can serve the ordinary request (a valid bearer token, a well-formed body, no
``Idempotency-Key``) straight from the ASGI call. Everything else goes to Litestar, body
included, before anything happened: a missing or bad token, a body that does not decode,
a caller the guard refuses, an idempotent retry, get exactly Litestar's answers. A public
route (:class:`PublicFastRoute`: no guard, no token needed) is served directly only when
the request carries no ``Authorization`` header at all, so that a bad token still gets
the bearer-token middleware's refusal.

What stays the same either way:

* the route is a Litestar route too (it is in the OpenAPI document, and serves every
  request this layer hands over); :func:`install` refuses a fast route without one;
* the domain code is one function, called by both (``FastRoute.run``);
* errors raised by ``run`` are rendered by the app's own exception handlers (RFC 9457
  problem details with the request id), and the answer by Litestar's own encoder;
* this layer sits inside the request-id and metrics middleware, and sets the route
  template, so request ids, metrics and logs are those of the Litestar route.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from litestar import Litestar, Request
from litestar.datastructures import State
from litestar.middleware._internal.exceptions.middleware import get_exception_handler
from litestar.response.base import ASGIResponse
from litestar.serialization import encode_json, get_serializer

from wallet_api import jsonbody
from wallet_api.asgi import ASGIApp, Message, Receive, Scope, Send
from wallet_api.auth.principal import Principal
from wallet_api.auth.tokens import InvalidToken
from wallet_api.client_address import caller_source

__all__ = ["FastRoute", "PublicFastRoute", "install"]

#: Larger bodies go to Litestar, which applies the app's body-size limit.
_MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class FastRoute:
    """A Litestar route that may also be served directly (see the module's docstring)."""

    method: str
    path: str  # the route's full path; routes with path parameters are not supported
    body: type[msgspec.Struct]
    #: The route's guard as a predicate: False sends the request to Litestar, whose guard refuses it.
    allowed: Callable[[Principal], bool]
    run: Callable[[State, Principal, Any], Awaitable[Any]]
    status: int = 200


@dataclass(frozen=True)
class PublicFastRoute:
    """A public Litestar route (no guard) that may also be served directly."""

    method: str
    path: str  # the route's full path; routes with path parameters are not supported
    body: type[msgspec.Struct]
    #: Called with the app's state, the caller's source (``wallet_api/client_address.py``) and the body.
    run: Callable[[State, str, Any], Awaitable[Any]]
    status: int = 200


class _FastPath:
    def __init__(self, app: ASGIApp, litestar: Litestar, routes: Sequence[FastRoute | PublicFastRoute]) -> None:
        self.app = app
        self.litestar = litestar
        self.routes = {(r.method, r.path): r for r in routes}
        self.serializer = get_serializer(litestar.type_encoders)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get((scope.get("method", ""), scope["path"])) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        token = authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"idempotency-key":  # the idempotency middleware's business
                authorization = ""
                break
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            token = credentials.strip() if scheme.lower() == "bearer" else None
        body, replay = await _read_body(receive)
        principal: Principal | None = None
        work: Awaitable[Any] | None = None
        if isinstance(route, PublicFastRoute):
            # Any Authorization header (or an Idempotency-Key, which blanks it) goes to Litestar.
            data = _decode(body, route.body) if authorization is None else None
            if data is not None:
                state = self.litestar.state
                work = route.run(state, caller_source(scope, state.settings.trusted_proxies), data)
        else:
            principal = await self._principal(token) if token and body is not None else None
            data = _decode(body, route.body) if principal is not None and route.allowed(principal) else None
            if principal is not None and data is not None:
                work = route.run(self.litestar.state, principal, data)
        if work is None:
            await self.app(scope, replay, send)
            return
        scope["litestar_app"] = self.litestar
        scope["user"] = principal
        scope["path_template"] = route.path
        try:
            out = await work
        except Exception as exc:
            await self._problem(scope, replay, send, exc)
            return
        response = ASGIResponse(body=encode_json(out, self.serializer), status_code=route.status)
        await response(cast(Any, scope), cast(Any, replay), cast(Any, send))

    async def _principal(self, token: str) -> Principal | None:
        try:
            return cast(Principal, await self.litestar.state.tokens.verify(token))
        except InvalidToken:
            return None  # Litestar's bearer-token middleware answers it

    async def _problem(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        handler = get_exception_handler(self.litestar.exception_handlers, exc)
        if handler is None:
            raise exc
        request: Request[Any, Any, Any] = Request(cast(Any, scope), cast(Any, receive))
        response = handler(request, exc)
        await response.to_asgi_response(app=self.litestar, request=request)(cast(Any, scope), receive, send)  # type: ignore[arg-type]


async def _read_body(receive: Receive) -> tuple[bytes | None, Receive]:
    """The whole body (None if too large or the client left), and a ``receive`` that replays it."""
    chunks: list[bytes] = []
    size = 0
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            body = None
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if size > _MAX_BODY:
            body = None
            break
        if not message.get("more_body", False):
            body = b"".join(chunks)
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return body, replay


def _decode(body: bytes | None, kind: type[msgspec.Struct]) -> Any:
    if not body:
        return None
    try:
        return jsonbody.decode(body, kind)
    except (msgspec.DecodeError, jsonbody.JsonTooDeep):  # Litestar answers both in its own words
        return None


def install(app: Litestar, routes: Sequence[FastRoute | PublicFastRoute]) -> None:
    """Serve ``routes`` directly, inside the app's outermost layer (call before wrapping it)."""
    served = {(method, route.path) for route in app.routes for method in getattr(route, "methods", ())}
    for r in routes:
        if (r.method, r.path) not in served:
            raise RuntimeError(
                f"fast route {r.method} {r.path} has no Litestar route (it would miss the OpenAPI document)"
            )
    if routes:
        app.asgi_handler = cast(Any, _FastPath(cast(Any, app.asgi_handler), app, routes))
