"""The Redis client: one per process. Redis holds only what may be lost."""

from __future__ import annotations

import redis.asyncio as aioredis

__all__ = ["Redis", "create_redis"]

Redis = aioredis.Redis


def create_redis(url: str, *, max_connections: int = 256) -> aioredis.Redis:
    # A blocking pool: under a burst, a caller beyond ``max_connections`` waits for a free
    # connection. redis-py's default pool raises MaxConnectionsError at once past 100
    # concurrent commands, which turned load peaks into errors.
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=2.0,
        decode_responses=False,
        socket_timeout=2.0,
        socket_connect_timeout=2.0,
        health_check_interval=30,
    )
    return aioredis.Redis.from_pool(pool)  # owns the pool: aclose() closes it
