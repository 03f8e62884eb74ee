"""The app on the test's own event loop: its lifespan, and httpx clients that call it over ASGI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

import httpx
from asgi_lifespan import LifespanManager
from litestar import Litestar

__all__ = ["ASGIApp", "asgi", "client_of", "lifespan"]

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


def asgi(app: Litestar) -> ASGIApp:
    """The app as httpx and asgi-lifespan type an ASGI app.

    Litestar types its ``__call__`` with its own precise scope and event types, the clients
    with plain mappings; the callable is the same, only the two spellings of its type differ.
    """
    return cast(ASGIApp, app)


def lifespan(app: Litestar, timeout: float = 30) -> LifespanManager:
    """The app's real start-up and shutdown around a block."""
    return LifespanManager(asgi(app), startup_timeout=timeout, shutdown_timeout=timeout)


def client_of(app: Litestar, address: tuple[str, int] = ("127.0.0.1", 50000)) -> httpx.AsyncClient:
    """A client whose requests reach ``app`` from ``address`` (the peer the app sees)."""
    transport = httpx.ASGITransport(app=asgi(app), client=address)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
