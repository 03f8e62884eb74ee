"""The Redis client (one per process) and the one way Lua scripts are loaded and run.

Redis holds only what may be lost. Every command, scripts included, goes through redis-py's
pool, over TCP, a Unix socket or TLS (``rediss://``) alike, so the tests run the path
production takes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

__all__ = ["LuaScript", "create_redis"]


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
    client = aioredis.Redis(connection_pool=pool)
    client.auto_close_connection_pool = True  # owns the pool: aclose() closes it (as ``from_pool`` does)
    return client


class LuaScript:
    """A Lua script run by its SHA1 (``EVALSHA``), falling back to ``EVAL`` when Redis lacks it.

    Scripts live next to the code that runs them, as a string or as a ``.lua`` file beside
    the module (:meth:`beside`). Redis keeps scripts it has seen in a cache (lost on
    restart or ``SCRIPT FLUSH``); the fallback sends the body once, which also puts it back
    in the cache, so no script needs loading at start.
    """

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        # SHA1 is how Redis names scripts; nothing here depends on its strength.
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    @classmethod
    def beside(cls, module_file: str, name: str) -> LuaScript:
        """The script in the file ``name`` next to the module ``module_file`` (its ``__file__``)."""
        return cls((Path(module_file).parent / name).read_text(encoding="utf-8"))

    async def __call__(self, redis: aioredis.Redis, keys: tuple[str, ...] | list[str], *args: Any) -> Any:
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await redis.eval(self.source, len(keys), *keys, *args)
