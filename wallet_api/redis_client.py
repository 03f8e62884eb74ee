"""The Redis client (one per process) and the one way Lua scripts are loaded and run.

Redis holds only what may be lost. Every command, scripts included, goes through redis-py
(its connections, its handshake, its reply parser, its TLS for ``rediss://``), so the
tests run the path production takes. The scripts of the hot paths (challenges, lockouts,
rate limits, verification codes) share one redis-py connection kept for them, pipelined:
each call is written at once and its reply handed back in turn, with no pool checkout, task
or timer per call (docs/benchmarks.md: a batch per call cost sign-in ~10 % of its CPU).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection, ConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["LuaScript", "Redis", "ScriptConnection", "create_redis", "pack_commands"]


class Redis(aioredis.Redis):
    """redis-py's client plus ``scripts``, the pipelined connection its Lua scripts run on."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scripts = ScriptConnection(self.connection_pool)

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await self.scripts.aclose()
        await super().aclose(close_connection_pool)


class ScriptConnection:
    """One redis-py connection shared by every script caller of the process, pipelined.

    Redis answers a connection's commands in the order it received them, so concurrent
    callers share it: each call is written at once (redis-py's ``send_packed_command``)
    and one reader task hands the replies (redis-py's ``read_response``) to the callers in
    turn. The connection is of the pool's own kind (TCP, Unix socket or TLS, with its
    credentials and handshake). Under load most script calls arrive alone, so what a call
    costs alone is what counts: a write and a future, as on the hand-written connection
    this replaced, instead of a batch with its own task and timer.

    A script's error reply fails only its caller. A reply later than the pool's socket
    timeout fails every waiting call with redis-py's ``TimeoutError`` and drops the
    connection (its remaining replies could no longer be matched); a lost connection fails
    them with ``ConnectionError``; the next call connects again. Only commands that answer
    at once belong here: no ``BLPOP``, ``MULTI`` or pub/sub, which would hold everyone up.
    """

    def __init__(self, pool: ConnectionPool) -> None:
        timeout = pool.connection_kwargs.get("socket_timeout")
        self._timeout = float(timeout or 2.0)
        # Without a socket timeout redis-py writes and reads with no timer of its own: the
        # deadline of the oldest call is kept here, by one watchdog for all of them.
        self._conn: AbstractConnection = pool.connection_class(**{**pool.connection_kwargs, "socket_timeout": None})
        self._plain = _packs_like_redis_py(self._conn)
        #: Calls written and not yet answered, oldest first: their futures and deadlines.
        self._waiting: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: asyncio.Task[None] | None = None
        self._live = False
        self._connecting = asyncio.Lock()
        self._watchdog: asyncio.TimerHandle | None = None
        self._timed_out = False
        #: Replies read so far, and whether none came since the connection was last idle.
        self._replies = 0
        self._quiet = False

    async def call(self, command: tuple[Any, ...]) -> Any:
        """The reply to ``command`` (an error reply is returned, not raised)."""
        packed = hiredis.pack_command(command) if self._plain and _PLAIN.issuperset(map(type, command)) else None
        for attempt in (1, 2):
            loop = asyncio.get_running_loop()
            fresh = not (self._live and self._loop is loop and self._conn.is_connected) and await self._connect(loop)
            # A call on a reused connection with nothing else in flight since it was idle:
            # if that connection turns out to have ended meanwhile (Redis restarted, not yet
            # seen by this loop), nothing of it reached a live server and it is sent again.
            resendable, replies = self._quiet and not fresh, self._replies
            future = loop.create_future()
            self._waiting.append((future, loop.time() + self._timeout))
            if self._watchdog is None:
                self._watchdog = loop.call_later(self._timeout, self._check_deadline)
            try:
                # No await before the bytes are queued on the connected writer, so the
                # commands go out in the order of ``_waiting``.
                await self._conn.send_packed_command(
                    packed if packed is not None else self._conn.pack_command(*command), check_health=False
                )
            except BaseException as exc:
                self._live = False  # redis-py drops the connection when a write fails or is interrupted
                future.cancel()
                if attempt == 2 or not resendable or not isinstance(exc, RedisConnectionError):
                    raise
                continue
            try:
                return await future
            except RedisConnectionError:  # the reader failed the connection and every call on it
                if attempt == 2 or not resendable or self._replies != replies:
                    raise
        raise AssertionError("unreachable")

    async def _connect(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Connect unless another caller just did; True if this call connected."""
        if self._loop is not loop:
            # First use, or use from another event loop: a worker forked after its parent used
            # the connection, or a loop that closed. What the old loop held is abandoned.
            self._loop, self._connecting = loop, asyncio.Lock()
            self._live, self._reader, self._watchdog = False, None, None
            self._waiting.clear()
        async with self._connecting:
            if self._live:
                return False
            if self._reader is not None:
                await asyncio.wait({self._reader})  # the last connection's reader has failed its calls
            self._timed_out = False
            with contextlib.suppress(OSError, RuntimeError):
                # redis-py connects only a disconnected connection (in a forked child it
                # drops the inherited socket without closing the parent's).
                await self._conn.disconnect(nowait=True)
            try:
                # The handshake's replies are read without a socket timeout too (see __init__).
                async with asyncio.timeout(self._timeout):
                    await self._conn.connect()  # type: ignore[no-untyped-call]
            except TimeoutError as exc:
                await self._conn.disconnect(nowait=True)
                raise RedisTimeoutError("Timeout connecting to Redis") from exc
            self._live, self._quiet = True, False
            self._reader = loop.create_task(self._read())
            return True

    async def _read(self) -> None:
        conn = self._conn
        error: Exception
        try:
            while True:
                try:
                    reply = await conn.read_response()
                except ResponseError as refused:  # this call's own error; the next reply follows
                    reply = refused
                if not self._waiting:
                    raise RedisConnectionError("Redis sent a reply nobody asked for")
                future, _ = self._waiting.popleft()
                self._replies += 1
                self._quiet = not self._waiting
                if not future.done():  # else its caller was cancelled; the reply was still theirs
                    future.set_result(reply)
        except asyncio.CancelledError:
            timed_out = self._timed_out
            error = RedisTimeoutError("Timeout reading from Redis") if timed_out else RedisConnectionError("closed")
        except (RedisConnectionError, RedisTimeoutError) as exc:
            error = exc
        except Exception as exc:
            error = RedisConnectionError(f"Redis script connection failed ({exc!r})")
        self._fail(error)
        await conn.disconnect(nowait=True)

    def _fail(self, error: Exception) -> None:
        """The connection is done: every call waiting on it fails with ``error``."""
        self._live = False
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)

    def _check_deadline(self) -> None:
        self._watchdog = None
        if not self._waiting:
            return
        loop = asyncio.get_running_loop()
        deadline = self._waiting[0][1]
        if loop.time() < deadline:
            self._watchdog = loop.call_at(deadline, self._check_deadline)
        else:
            # The waiting calls fail now, not when the reader has unwound; the reader then
            # drops the connection, whose late replies could no longer be matched.
            self._timed_out = True
            self._fail(RedisTimeoutError("Timeout reading from Redis"))
            if self._reader is not None:
                self._reader.cancel()

    async def aclose(self) -> None:
        self._live = False
        if self._reader is not None and self._loop is asyncio.get_running_loop():
            self._reader.cancel()
            await asyncio.wait({self._reader})
        self._reader = None
        with contextlib.suppress(OSError, RuntimeError):
            await self._conn.disconnect()


def _packs_like_redis_py(conn: AbstractConnection) -> bool:
    """Whether hiredis's packer gives this connection's bytes (UTF-8 text with strict errors)."""
    encoder = conn.encoder
    return bool(encoder.encoding.lower().replace("-", "") == "utf8" and encoder.encoding_errors == "strict")


#: What hiredis packs exactly as redis-py's encoder does (UTF-8 text, bytes, ints, floats by
#: repr): these types themselves, not subclasses (a bool, an enum) that redis-py treats otherwise.
_PLAIN = frozenset((str, bytes, int, float))


def pack_commands(commands: list[tuple[Any, ...]], conn: AbstractConnection) -> list[bytes]:
    """The commands in the wire protocol, packed by hiredis's C packer where that is the same.

    redis-py's asyncio connection packs in Python, ~4.7 µs per script call against ~0.7 µs
    for ``hiredis.pack_command`` (docs/benchmarks.md), and a sign-in sends two. The bytes
    are identical; anything else (a bool, which redis-py refuses, or a client with another
    encoding) goes through redis-py's own packer, errors included.
    """
    if _packs_like_redis_py(conn) and all(_PLAIN.issuperset(map(type, command)) for command in commands):
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
    the calls run on its pipelined :class:`ScriptConnection`; on any other client through
    redis-py's pool.
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
            reply = await redis.scripts.call(("EVALSHA", self.sha, len(keys), *keys, *args))
            if isinstance(reply, NoScriptError):
                reply = await redis.scripts.call(("EVAL", self.source, len(keys), *keys, *args))
            if isinstance(reply, Exception):
                raise reply
            return reply
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await redis.eval(self.source, len(keys), *keys, *args)
