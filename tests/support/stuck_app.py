"""An ASGI app whose shutdown never ends: what ``wallet serve`` must still stop (test_serve_stop)."""

from __future__ import annotations

import asyncio

from litestar import Litestar, get

__all__ = ["create_app"]


@get("/health/live", sync_to_thread=False)
def live() -> dict[str, str]:
    return {"status": "ok"}


async def _never_done(_: Litestar) -> None:
    await asyncio.Event().wait()


def create_app() -> Litestar:
    return Litestar([live], on_shutdown=[_never_done])
