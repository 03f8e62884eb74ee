"""The Redis client: one per process. Redis holds only what may be lost.

``create_redis`` returns redis-py's asyncio client with one addition, ``scripts``: a single
pipelined connection on which the Lua scripts of the hot paths (challenges, lockouts, rate
limits, verification codes) run. Everything else goes through redis-py's pool.
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
from typing import Any, cast

import hiredis
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

__all__ = ["LuaScript", "Redis", "ScriptChannel", "create_redis"]


class ScriptChannel:
    """One connection shared by every caller of this process, for commands that answer at once.

    Redis answers the commands of a connection in the order it received them, so concurrent
    callers can share one connection: each writes its command and is handed the next reply
    in turn. A call through redis-py's pool costs about 55 µs of client CPU (checkout under a
    condition, a timeout object, the retry wrapper, stream reader); here it is one write and
    one future, about 4 µs (measured with 16 concurrent callers, see docs/benchmarks.md).

    Only single commands that never block belong here: no ``BLPOP``, ``MULTI`` or pub/sub,
    which would hold the connection for everyone. A reply later than ``timeout`` fails every
    waiting call with ``TimeoutError`` and drops the connection (its remaining replies could
    no longer be matched); a lost connection fails them with ``ConnectionError``. Either is
    what redis-py raises, so callers see the same errors (503 at the API), and the next call
    connects again.
    """

    def __init__(
        self,
        *,
        path: str | None = None,
        host: str = "localhost",
        port: int = 6379,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 2.0,
    ) -> None:
        self._path, self._host, self._port = path, host, port
        self._setup: list[tuple[Any, ...]] = []
        if password:
            self._setup.append(("AUTH", username, password) if username else ("AUTH", password))
        if db:
            self._setup.append(("SELECT", db))
        self._timeout = timeout
        self._conn: _Pipelined | None = None
        self._connecting = asyncio.Lock()

    async def execute(self, *args: Any) -> Any:
        conn = self._conn
        if conn is None or conn.closed:
            conn = await self._connect()
        return await conn.request(hiredis.pack_command(args))

    async def _connect(self) -> _Pipelined:
        async with self._connecting:
            if self._conn is not None and not self._conn.closed:
                return self._conn
            loop = asyncio.get_running_loop()
            try:
                async with asyncio.timeout(self._timeout):
                    if self._path:
                        _, conn = await loop.create_unix_connection(lambda: _Pipelined(self._timeout), self._path)
                    else:
                        _, conn = await loop.create_connection(
                            lambda: _Pipelined(self._timeout), self._host, self._port
                        )
                    for command in self._setup:
                        await conn.request(hiredis.pack_command(tuple(a for a in command if a is not None)))
            except (OSError, TimeoutError) as exc:
                raise RedisConnectionError(f"Redis is unreachable ({exc!r})") from exc
            self._conn = conn
            return conn

    async def aclose(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _Pipelined(asyncio.Protocol):
    def __init__(self, timeout: float) -> None:
        self._reader = hiredis.Reader(replyError=ResponseError)
        #: Futures of the commands written and not yet answered, oldest first, with deadlines.
        self._waiting: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self._timeout = timeout
        self._transport: asyncio.Transport | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not subclasses of asyncio.Transport, only alike.
        self._transport = cast(asyncio.Transport, transport)

    def request(self, command: bytes) -> asyncio.Future[Any]:
        if self.closed or self._transport is None:
            raise RedisConnectionError("Connection to Redis lost")
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._waiting.append((future, loop.time() + self._timeout))
        self._transport.write(command)
        if self._watchdog is None:
            self._watchdog = loop.call_later(self._timeout, self._check_deadline)
        return future

    def data_received(self, data: bytes) -> None:
        self._reader.feed(data)
        try:
            while (reply := self._reader.gets()) is not False:
                future, _ = self._waiting.popleft()
                if future.done():  # its caller was cancelled; the reply is still theirs
                    continue
                if isinstance(reply, ResponseError):
                    future.set_exception(NoScriptError(str(reply)) if str(reply).startswith("NOSCRIPT") else reply)
                else:
                    future.set_result(reply)
        except (hiredis.ProtocolError, IndexError):
            self._fail(RedisConnectionError("Redis sent a reply nobody asked for or that does not parse"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(RedisConnectionError(f"Connection to Redis lost ({exc!r})"))

    def _check_deadline(self) -> None:
        self._watchdog = None
        if not self._waiting:
            return
        loop = asyncio.get_running_loop()
        deadline = self._waiting[0][1]
        if loop.time() >= deadline:
            self._fail(RedisTimeoutError("Timeout reading from Redis"))
        else:
            self._watchdog = loop.call_at(deadline, self._check_deadline)

    def _fail(self, error: Exception) -> None:
        self.closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self._waiting:
            future, _ = self._waiting.popleft()
            if not future.done():
                future.set_exception(error)
        if self._transport is not None:
            self._transport.abort()

    def close(self) -> None:
        self._fail(RedisConnectionError("Redis client closed"))


class Redis(aioredis.Redis):
    """redis-py's client plus ``scripts``, the pipelined connection for Lua scripts."""

    scripts: ScriptChannel | None = None

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        if self.scripts is not None:
            await self.scripts.aclose()
        await super().aclose(close_connection_pool)


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
    kw = pool.connection_kwargs
    # TLS (rediss://) is left to redis-py: scripts then run through the pool as before.
    if pool.connection_class in (aioredis.Connection, aioredis.UnixDomainSocketConnection):
        client.scripts = ScriptChannel(
            path=kw.get("path"),
            host=kw.get("host", "localhost"),
            port=int(kw.get("port", 6379)),
            db=int(kw.get("db") or 0),
            username=kw.get("username"),
            password=kw.get("password"),
            timeout=2.0,
        )
    return client


class LuaScript:
    """A Lua script run by its SHA1 (``EVALSHA``), falling back to ``EVAL`` when Redis lacks it.

    Redis keeps scripts it has seen in a cache (lost on restart or ``SCRIPT FLUSH``); the
    fallback sends the body once, which also puts it back in the cache. Scripts run on the
    client's ``scripts`` connection when it has one (the app's), else through the pool.
    """

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        # SHA1 is how Redis names scripts; nothing here depends on its strength.
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(self, redis: aioredis.Redis, keys: tuple[str, ...], *args: Any) -> Any:
        channel = redis.scripts if isinstance(redis, Redis) else None
        if channel is not None:
            try:
                return await channel.execute("EVALSHA", self.sha, len(keys), *keys, *args)
            except NoScriptError:
                return await channel.execute("EVAL", self.source, len(keys), *keys, *args)
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await redis.eval(self.source, len(keys), *keys, *args)
