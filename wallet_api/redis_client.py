"""The Redis client (one per process) and the one way Lua scripts are loaded and run.

Redis holds only what may be lost. Every command, scripts included, goes through redis-py
(its pool, its protocol, its TLS for ``rediss://``), so the tests run the path production
takes. The scripts of the hot paths (challenges, lockouts, rate limits, verification codes)
that callers run at the same moment go to Redis together in one redis-py pipeline: a pool
checkout per script cost the sign-in route a quarter of its CPU.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from wallet_api.batching import Batcher

__all__ = ["LuaScript", "Redis", "create_redis"]

#: One script call: the script, its keys, its arguments.
_Call = tuple["LuaScript", Sequence[str], tuple[Any, ...]]


class Redis(aioredis.Redis):
    """redis-py's client plus ``scripts``: script calls made at the same moment, sent in one pipeline."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scripts: Batcher[_Call, Any] = Batcher(self._run_scripts)

    async def _run_scripts(self, calls: list[_Call]) -> list[Any]:
        """Each call's reply, or the error Redis gave for that call alone (a failed batch raises)."""
        replies = await self._pipelined([("EVALSHA", script.sha, keys, args) for script, keys, args in calls])
        missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if missing:
            # Flushed or a new server: send those bodies once, which caches them again.
            again = await self._pipelined([("EVAL", calls[i][0].source, calls[i][1], calls[i][2]) for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    async def _pipelined(self, commands: list[tuple[str, str, Sequence[str], tuple[Any, ...]]]) -> list[Any]:
        async with self.pipeline(transaction=False) as pipe:
            for command, script, keys, args in commands:
                pipe.execute_command(command, script, len(keys), *keys, *args)
            return list(await pipe.execute(raise_on_error=False))


def create_redis(url: str, *, max_connections: int = 256) -> Redis:
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
    client = Redis(connection_pool=pool)
    client.auto_close_connection_pool = True  # owns the pool: aclose() closes it (as ``from_pool`` does)
    return client


class LuaScript:
    """A Lua script run by its SHA1 (``EVALSHA``), falling back to ``EVAL`` when Redis lacks it.

    Scripts live next to the code that runs them, as a string or as a ``.lua`` file beside
    the module (:meth:`beside`). Redis keeps scripts it has seen in a cache (lost on
    restart or ``SCRIPT FLUSH``); the fallback sends the body once, which also puts it back
    in the cache, so no script needs loading at start. On the app's client (:class:`Redis`)
    the calls of one moment share a pipeline; on any other client each goes alone.
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

    async def __call__(self, redis: aioredis.Redis, keys: Sequence[str], *args: Any) -> Any:
        if isinstance(redis, Redis):
            reply = await redis.scripts.submit((self, keys, args))
            if isinstance(reply, Exception):
                raise reply
            return reply
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await redis.eval(self.source, len(keys), *keys, *args)
