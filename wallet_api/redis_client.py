"""The Redis client: one per process. Redis holds only what may be lost."""

from __future__ import annotations

import redis.asyncio as aioredis

__all__ = ["Redis", "create_redis"]

Redis = aioredis.Redis


def create_redis(url: str) -> aioredis.Redis:
    return aioredis.from_url(
        url,
        decode_responses=False,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=30,
    )
