"""The Redis client: one per process. Redis holds only what may be lost."""

from __future__ import annotations

import hashlib
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

__all__ = ["LuaScript", "Redis", "create_redis"]

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


class LuaScript:
    """A Lua script run by its SHA1 (``EVALSHA``), falling back to ``EVAL`` when Redis lacks it.

    Redis keeps scripts it has seen in a cache (lost on restart or ``SCRIPT FLUSH``); the
    fallback sends the body once, which also puts it back in the cache.
    """

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        # SHA1 is how Redis names scripts; nothing here depends on its strength.
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, redis: aioredis.Redis, keys: tuple[str, ...], *args: Any) -> Any:
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await redis.eval(self.source, len(keys), *keys, *args)
