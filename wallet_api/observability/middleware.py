"""The outermost ASGI layer: request id in and out, per-route metrics, and the default
``Cache-Control: no-store`` (wallet_api/cache_control.py).

It wraps Litestar's whole handler stack (not only matched routes), so 404 and 405
responses also carry ``X-Request-ID`` and are counted.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any

from wallet_api.asgi import ASGIApp, Message, Receive, Scope, Send
from wallet_api.cache_control import no_store_by_default
from wallet_api.observability.context import request_id_var
from wallet_api.observability.metrics import HTTP_LATENCY, HTTP_REQUESTS

__all__ = ["RequestContextMiddleware"]

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEADER = b"x-request-id"

# The metric children of each (route, method, status), found once: ``labels()`` takes a
# lock and builds its key on every call, about 3 µs a request. Bounded: a client may
# send any method to an unmatched path.
_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_MAX_CHILDREN = 2048


def _metrics(route: str, method: str, status: int) -> tuple[Any, Any]:
    key = (route, method, status)
    found = _children.get(key)
    if found is None:
        if len(_children) >= _MAX_CHILDREN:
            _children.clear()
        found = _children[key] = (HTTP_REQUESTS.labels(route, method, str(status)), HTTP_LATENCY.labels(route, method))
    return found


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == _HEADER:
                candidate = value.decode("latin-1")
                if _VALID_REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        if request_id is None:
            request_id = os.urandom(16).hex()
        token = request_id_var.set(request_id)
        raw_id = request_id.encode()
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = no_store_by_default(message.get("headers", ()))
                headers.append((_HEADER, raw_id))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
            if scope["type"] == "http":
                requests, latency = _metrics(scope.get("path_template") or "unmatched", scope["method"], status)
                requests.inc()
                latency.observe(time.perf_counter() - started)
