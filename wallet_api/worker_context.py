"""What a background worker hands to consumers and loops: shared clients, one per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from wallet_api.settings import Settings

__all__ = ["WorkerContext"]


@dataclass
class WorkerContext:
    settings: Settings
    pool: asyncpg.Pool
    redis: aioredis.Redis
    http: httpx.AsyncClient
    worker_id: str
    #: Per-domain services built lazily from the clients above (providers, gateways, ...).
    services: dict[str, Any] = field(default_factory=dict)
