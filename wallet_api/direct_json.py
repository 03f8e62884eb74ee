"""A route-level middleware for the hottest JSON routes: their ordinary requests skip the framework's parsing.

Under load, a JSON ``@post`` route spends most of its CPU in Litestar's per-request
machinery — the kwargs and signature models that decode and re-validate ``data``, and the
response object built from the answer — about 45 µs a request on this machine against
20 µs for the same work as below (and 0.6 ms of CPU for a whole sign-in). A route that
lists :data:`DIRECT_JSON` in its ``middleware`` stays an ordinary Litestar route (routing,
OpenAPI, guards, the app's middleware, exception handlers and request id all as for any
route), but a request whose body decodes into the route's ``data`` type is answered here,
by calling the route's own handler function with that ``data``:

* the route's guards run (as ``authorize_connection`` runs them), its body limit applies, its answer is
  encoded with its own status and encoders and sent as Litestar sends a JSON answer;
* an exception from the handler is answered by the route's exception handlers, here, as
  Litestar's innermost layer would: inside the app's middleware (idempotency sees the
  same answer), with the same problem body;
* anything else — a guard that refuses, a body that does not decode strictly, no
  ``Content-Length`` or one above the limit — goes on to Litestar's own handling of the
  same route (the body already read is replayed to it), so every such request gets exactly
  the framework's answer.

The route's handler must take exactly ``request`` and ``data`` and return an encodable
value (not a ``Response``; no response headers, cookies, hooks, cache or DTOs on the route):
it is the one function both ways call, and a route that asks for more is refused at its
first request rather than answered differently.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, cast

import msgspec
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.exceptions import HTTPException, ImproperlyConfiguredException
from litestar.handlers import HTTPRouteHandler
from litestar.response.base import ASGIResponse
from litestar.serialization import encode_json, get_serializer
from litestar.types import Middleware, Serializer

from wallet_api import jsonbody
from wallet_api.asgi import ASGIApp, Message, Receive, Scope, Send

__all__ = ["DIRECT_JSON", "DirectJson", "content_length", "read_body"]


@dataclass(frozen=True, slots=True)
class _Route:
    """What serving one route directly needs, read once from its handler."""

    handler: HTTPRouteHandler
    data: type[Any]
    limit: float
    status: int
    content_type: bytes
    serializer: Serializer
    request_class: type[Request[Any, Any, Any]]
    guarded: bool

    @classmethod
    def of(cls, handler: HTTPRouteHandler) -> _Route:
        parameters = handler.parsed_fn_signature.parameters
        answer = handler.parsed_fn_signature.return_type.annotation
        if set(parameters) != {"request", "data"} or handler.http_methods != {"POST"}:
            raise ImproperlyConfiguredException(f"DirectJson serves POST routes taking (request, data): {handler}")
        # What Litestar would add to the answer and this layer does not: refused rather than missed.
        extras = (
            (inspect.isclass(answer) and issubclass(answer, Response | ASGIResponse))
            or handler.media_type != MediaType.JSON
            or handler.resolve_response_headers()
            or handler.resolve_response_cookies()
            or handler.resolve_before_request()
            or any(getattr(layer, "after_request", None) for layer in handler.ownership_layers)
            or handler.resolve_after_response()
            or handler.cache
            or handler.resolve_return_dto()
            or handler.resolve_data_dto()
        )
        if extras:
            raise ImproperlyConfiguredException(f"DirectJson serves plain JSON answers only: {handler}")
        return cls(
            handler=handler,
            data=parameters["data"].annotation,
            limit=handler.resolve_request_max_body_size() or float("inf"),
            status=handler.status_code,
            content_type=MediaType.JSON.value.encode(),
            serializer=get_serializer(handler.resolve_type_encoders()),
            request_class=handler.resolve_request_class(),
            guarded=bool(handler.resolve_guards()),
        )


class DirectJson:
    """Route-level middleware (``@post(..., middleware=[DIRECT_JSON])``); see the module's docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Litestar builds one middleware stack per route handler: one route per instance.
        self.route: _Route | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.route or self._prepare(scope["route_handler"])
        length = content_length(scope)
        if length is None or length > route.limit:
            await self.app(scope, receive, send)  # Litestar applies the limit and answers 413
            return
        body, receive = await read_body(receive, route.limit)
        request = route.request_class(cast(Any, scope), cast(Any, receive))
        if body is None or (route.guarded and not await _admitted(route.handler, request)):
            await self.app(scope, receive, send)  # the body is replayed; Litestar answers
            return
        try:
            data = jsonbody.decode(body, route.data)
        except (msgspec.DecodeError, jsonbody.JsonTooDeep):
            # Not strictly well-formed: the same route through Litestar says how.
            await self.app(scope, receive, send)
            return
        except Exception as exc:
            await _answer_problem(route, request, exc, scope, receive, send)
            return
        try:
            answer = await route.handler.fn(request=request, data=data)
        except Exception as exc:
            await _answer_problem(route, request, exc, scope, receive, send)
            return
        # What Litestar's ASGIResponse sends for a JSON answer, without building one.
        payload = encode_json(answer, route.serializer)
        headers = [(b"content-type", route.content_type), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": route.status, "headers": headers})
        await send({"type": "http.response.body", "body": payload, "more_body": False})

    def _prepare(self, handler: HTTPRouteHandler) -> _Route:
        self.route = _Route.of(handler)
        return self.route


async def read_body(receive: Receive, limit: float) -> tuple[bytes | None, Receive]:
    """The whole body (None if the client left or sent more than ``limit``), and a ``receive`` that replays it."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    size = 0
    body: bytes | None = None
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            break
        if not message.get("more_body", False):
            body = b"".join(chunks)
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return body, replay


#: What a route lists in its ``middleware`` (Litestar's type for it is narrower than plain ASGI).
DIRECT_JSON = cast(Middleware, DirectJson)


async def _admitted(handler: HTTPRouteHandler, request: Request[Any, Any, Any]) -> bool:
    """The route's guards, as ``authorize_connection`` runs them but handed the route itself:
    Litestar hands each guard a ``copy`` of the handler (~7 µs per guard on this machine, on
    every verification), which our guards never read, let alone change."""
    try:
        for guard in handler.resolve_guards():
            await guard(request, handler)  # type: ignore[misc]
    except Exception:
        return False
    return True


def content_length(scope: Scope) -> int | None:
    """The request's declared ``Content-Length``; None when it has none or it is not a number."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _answer_problem(
    route: _Route, request: Request[Any, Any, Any], exc: Exception, scope: Scope, receive: Receive, send: Send
) -> None:
    """Answer ``exc`` with the route's exception handlers, as Litestar's innermost layer does."""
    handlers = route.handler.resolve_exception_handlers()
    handler = handlers.get(exc.status_code) if isinstance(exc, HTTPException) else None
    handler = handler or next((handlers[c] for c in type(exc).__mro__ if c in handlers), None)
    if handler is None:
        raise exc
    response = handler(request, exc)
    await response.to_asgi_response(app=None, request=request)(cast(Any, scope), cast(Any, receive), cast(Any, send))
