"""The Redis client (one per process) and the one way Lua scripts are loaded and run.

Redis holds only what may be lost. Every command, scripts included, goes through redis-py
(its pool, its protocol, its TLS for ``rediss://``), so the tests run the path production
takes. The scripts of the hot paths (challenges, lockouts, rate limits, verification codes)
that callers run at the same moment go to Redis together, pipelined on one redis-py
connection kept for them: a pool checkout per script or per batch made sign-in measurably
dearer (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from wallet_api.batching import Batcher

__all__ = ["LuaScript", "Redis", "create_redis", "pack_commands"]

#: One script call: the script, its keys, its arguments.
_Call = tuple["LuaScript", Sequence[str], tuple[Any, ...]]


class Redis(aioredis.Redis):
    """redis-py's client plus ``scripts``: script calls made at the same moment, sent together.

    The batches go one after another on one connection of the pool's own kind (TCP, Unix
    socket or TLS, with the pool's timeouts and credentials), kept for them: redis-py packs
    the commands and parses the replies, and no pool checkout is paid per batch.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pool = self.connection_pool
        # The batch as a whole is given the pool's socket timeout (one timer per batch rather
        # than one per write and per reply, which cost more than the rest of the round trip).
        self._script_timeout = float(pool.connection_kwargs.get("socket_timeout") or 2.0)
        self._script_connection = pool.connection_class(**{**pool.connection_kwargs, "socket_timeout": None})
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
        # The batcher runs one batch at a time, so the connection is never shared mid-batch.
        conn = self._script_connection
        packed = pack_commands(
            [(command, script, len(keys), *keys, *args) for command, script, keys, args in commands], conn
        )
        if conn.is_connected and await conn.can_read():
            # Between batches nothing may arrive but the end of the connection (Redis
            # restarted or closed it): connect again rather than fail this batch.
            await conn.disconnect()
        reused = conn.is_connected
        replies: list[Any] = []
        try:
            await self._exchange(packed, len(commands), replies)
        except RedisConnectionError:
            if not reused or replies:
                raise
            # The connection ended while idle and this loop has not seen it yet: nothing of
            # the batch reached a live server, so it goes once more on a new connection.
            await self._exchange(packed, len(commands), replies)
        return replies

    async def _exchange(self, packed: list[bytes], count: int, replies: list[Any]) -> None:
        """Send a batch and append its ``count`` replies; on any failure the connection is dropped."""
        conn = self._script_connection
        try:
            async with asyncio.timeout(self._script_timeout):
                await conn.send_packed_command(packed, check_health=False)
                for _ in range(count):
                    try:
                        replies.append(await conn.read_response())
                    except ResponseError as error:  # this command's own error; the next reply follows
                        replies.append(error)
        except BaseException as exc:
            # Lost, silent or interrupted: replies may still be on their way, so the
            # connection is dropped (redis-py connects again on the next batch).
            await conn.disconnect(nowait=True)
            if isinstance(exc, TimeoutError):
                raise RedisTimeoutError("Timeout reading from Redis") from exc
            raise

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await self._script_connection.disconnect()
        await super().aclose(close_connection_pool)


#: What hiredis packs exactly as redis-py's encoder does (UTF-8 text, bytes, ints, floats by repr).
_PLAIN = (str, bytes, int, float)


def pack_commands(commands: list[tuple[Any, ...]], conn: AbstractConnection) -> list[bytes]:
    """The commands in the wire protocol, packed by hiredis's C packer where that is the same.

    redis-py's asyncio connection packs in Python, ~4.7 µs per script call against ~0.7 µs
    for ``hiredis.pack_command`` (docs/benchmarks.md), and a sign-in sends two. The bytes
    are identical; anything else (a bool, which redis-py refuses, or a client with another
    encoding) goes through redis-py's own packer, errors included.
    """
    if (
        conn.encoder.encoding.lower().replace("-", "") == "utf8"
        and conn.encoder.encoding_errors == "strict"
        and all(type(arg) is not bool and isinstance(arg, _PLAIN) for command in commands for arg in command)
    ):
        return [b"".join(hiredis.pack_command(command) for command in commands)]
    return conn.pack_commands(commands)


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
