"""A worker's context over the test's own pool and clients, with the service's declared domain services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from wallet_api.domains import load_domains
from wallet_api.services import ServiceFactory, Services
from wallet_api.settings import Settings
from wallet_api.worker_context import WorkerContext


def worker_context(
    settings: Settings,
    pool: asyncpg.Pool,
    redis: aioredis.Redis,
    http: httpx.AsyncClient,
    *,
    worker_id: str = "test-worker",
    services: Mapping[ServiceFactory[Any], object] | None = None,
) -> WorkerContext:
    """What ``wallet worker`` hands its consumers and loops; ``services`` replaces some (a local provider).

    Close it with ``await ctx.services.aclose()`` (the pool and clients stay the test's).
    """
    factories = [f for d in load_domains() for f in d.services]
    built = Services(settings, pool, redis, http, factories=factories, replacing=services)
    return WorkerContext(built, worker_id)
