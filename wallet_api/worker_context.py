"""What a background worker hands to its consumers and loops: the process's services and its name."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from wallet_api.services import ServiceFactory, Services
from wallet_api.settings import Settings

__all__ = ["BackgroundLoop", "WorkerContext"]


@dataclass(frozen=True)
class WorkerContext:
    #: Built once per worker process (wallet_api/services.py); a domain's own services come
    #: from it by their factory, e.g. ``ctx.services.get(PROVIDERS)``.
    services: Services
    #: This worker's name in the outbox's and the payments' leases.
    worker_id: str

    def replaced(
        self, *, settings: Settings | None = None, services: Mapping[ServiceFactory[Any], object] | None = None
    ) -> WorkerContext:
        """This worker with other settings or some domain services replaced (tests)."""
        return WorkerContext(self.services.replaced(settings=settings, services=services), self.worker_id)

    # The kernel's clients, read this often enough to be one attribute away.
    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def pool(self) -> asyncpg.Pool:
        return self.services.pool

    @property
    def redis(self) -> aioredis.Redis:
        return self.services.redis

    @property
    def http(self) -> httpx.AsyncClient:
        return self.services.http


@dataclass(frozen=True)
class BackgroundLoop:
    """Periodic work that is not an outbox topic (payment dispatch, schedules, expiry)."""

    name: str
    #: Does one unit of work and returns how much it did; 0 means "idle, wait a bit".
    run_once: Callable[[WorkerContext], Awaitable[int]]
    idle_interval: float = 1.0
