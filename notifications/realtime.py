"""Real-time messages to the open app, through Litestar channels on Redis pub/sub.

Every API process runs a :class:`RealtimePlugin`: Litestar's ``ChannelsPlugin`` on our
Redis pub/sub backend (one subscribed connection per process), subscribed to
``notifications:{account_id}`` for each account that has a connection open on that
process. Any process (an API process, a worker) publishes with :func:`publish_realtime`
and Redis fans the message out to whichever API processes hold a connection for that
account.

Redis keeps no history here, on purpose: a message published while nobody listens is
gone. What a client missed comes from the PostgreSQL inbox when it reconnects
(``Last-Event-ID`` / ``since``), and if this process loses its Redis connection every
local subscriber is told to catch up from PostgreSQL the same way once it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from typing import Any

import redis.asyncio as aioredis
from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.subscriber import Subscriber
from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from notifications.metrics import REALTIME_MESSAGES
from wallet_api.kernel import realtime_channel

__all__ = [
    "RESYNC",
    "RealtimePlugin",
    "RealtimeSubscriber",
    "publish_realtime",
    "publish_realtime_many",
]

log = logging.getLogger(__name__)

#: Sent to local subscribers after a Redis outage: "catch up from the inbox".
RESYNC = b'{"resync":true}'
_BACKLOG = 1000


def encode_message(event: str, data: dict[str, Any], *, message_id: int | None = None) -> bytes:
    return json.dumps({"id": message_id, "event": event, "data": data}, ensure_ascii=False, default=str).encode()


async def publish_realtime(
    redis: aioredis.Redis, account_id: uuid.UUID | str, event: str, data: dict[str, Any]
) -> None:
    """Send ``data`` as ``event`` to every app of ``account_id`` that is connected now.

    For transient state the app shows while open (e.g. "your wallet link is being
    checked"); it is not stored, so a client that is not connected never sees it. Anything
    the citizen must not miss belongs in the inbox (publish an outbox event instead).
    Best effort: a Redis failure is logged, never raised.
    """
    await publish_realtime_many(redis, [(account_id, encode_message(event, data))])


async def publish_realtime_many(redis: aioredis.Redis, messages: Sequence[tuple[uuid.UUID | str, bytes]]) -> None:
    """Publish pre-encoded messages in one round trip (the notifications consumer's batches)."""
    if not messages:
        return
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for account_id, message in messages:
                pipe.publish(realtime_channel(account_id), message)
            await pipe.execute()
    except (RedisError, OSError) as exc:
        log.warning("realtime publish failed", extra={"count": len(messages), "error": type(exc).__name__})
        return
    REALTIME_MESSAGES.labels("published").inc(len(messages))


class RealtimeSubscriber(Subscriber):
    """A subscriber that can wait for its next message with a timeout (for heartbeats)."""

    async def next_message(self, wait: float) -> bytes | None:
        """The next message, or None when ``wait`` seconds pass first."""
        try:
            item: bytes | None = await asyncio.wait_for(self._queue.get(), wait)
        except TimeoutError:
            return None
        self._queue.task_done()
        if item is None:  # unsubscribed
            raise asyncio.CancelledError
        return item


class _RedisPubSubBackend(ChannelsBackend):
    """Litestar channels on Redis pub/sub, over exactly one Redis connection per process.

    Why not Litestar's ``RedisChannelsPubSubBackend``: it hands each SUBSCRIBE to redis-py's
    ``PubSub`` from the request's own task, and ``PubSub`` connects lazily on its first
    command. When many streams open at once, every one of them finds "not connected yet" and
    takes a connection of its own from the client's pool: the subscriptions land on
    connections nobody reads (those streams never receive anything), and once the pool's
    default limit of 100 connections is used up every further stream fails with
    ``MaxConnectionsError``. That is what capped one process at about 100 streams.

    Here the connection is made once, when the app starts (a per-process keeper channel
    keeps it in subscribed mode), so no stream ever takes a connection: a stream costs one
    channel on the shared connection and a queue in memory, nothing from a bounded pool.
    The dedicated client allows two connections (this one, and one for ``publish``); a
    third would be a bug and fails loudly. SUBSCRIBE/UNSUBSCRIBE are written in call order
    under a lock; one task (Litestar's subscriber worker, through :meth:`stream_events`)
    reads. :meth:`subscribe` returns once Redis has confirmed the subscription, so a feed
    that then reads the inbox cannot miss a message published in between.

    If the connection drops, redis-py reconnects and re-subscribes every channel; whatever
    was published meanwhile is lost, so every local subscriber is told to resynchronise
    from PostgreSQL (:data:`RESYNC`).
    """

    #: How long a subscription may wait for Redis to confirm it.
    CONFIRM_SECONDS = 10.0
    #: Longest wait for a message before the reader loops (and health-checks the connection).
    READ_SECONDS = 5.0

    def __init__(self) -> None:
        self._redis: aioredis.Redis | None = None
        self._pubsub: PubSub | None = None
        self._lock = asyncio.Lock()
        self._channels: set[str] = set()
        self._pending: dict[str, deque[asyncio.Future[None]]] = {}
        self._keeper = f"realtime:process:{uuid.uuid4()}"
        self._reconnected = False

    def connect(self, url: str) -> None:
        self._redis = aioredis.from_url(url, socket_connect_timeout=2.0, health_check_interval=30, max_connections=2)

    @property
    def redis(self) -> aioredis.Redis:
        if self._redis is None:
            raise RuntimeError("realtime backend used before the app started")
        return self._redis

    async def _ensure_connected(self) -> PubSub:
        """The subscribed connection; made (and the keeper channel subscribed) on first use."""
        if self._pubsub is not None and self._pubsub.connection is not None:
            return self._pubsub
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self.redis.pubsub()
            if self._pubsub.connection is None:
                await self._pubsub.subscribe(self._keeper)
                assert self._pubsub.connection is not None
                self._pubsub.connection.register_connect_callback(self._on_reconnect)
        return self._pubsub

    def _on_reconnect(self, _connection: Any) -> None:
        # Called by redis-py on every later connect of our connection (it re-subscribes).
        self._reconnected = True

    async def on_startup(self) -> None:
        try:
            await self._ensure_connected()
        except (RedisError, OSError) as exc:
            # Not fatal: the reader keeps trying, and streams fail until Redis is back.
            log.warning("realtime: Redis not reachable at startup", extra={"error": type(exc).__name__})

    async def on_shutdown(self) -> None:
        for waiters in self._pending.values():
            for waiter in waiters:
                waiter.cancel()
        self._pending.clear()
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for channel in set(channels):
                pipe.publish(channel, data)
            await pipe.execute()

    async def subscribe(self, channels: Iterable[str]) -> None:
        channels = list(channels)
        pubsub = await self._ensure_connected()
        loop = asyncio.get_running_loop()
        waiters = [loop.create_future() for _ in channels]
        async with self._lock:
            for channel, waiter in zip(channels, waiters, strict=True):
                self._pending.setdefault(channel, deque()).append(waiter)
            self._channels.update(channels)
            try:
                await pubsub.subscribe(*channels)
            except BaseException:
                self._forget(channels, waiters)
                raise
        try:
            async with asyncio.timeout(self.CONFIRM_SECONDS):
                await asyncio.gather(*waiters)
        except BaseException:
            self._forget(channels, waiters)
            raise

    def _forget(self, channels: list[str], waiters: list[asyncio.Future[None]]) -> None:
        for channel, waiter in zip(channels, waiters, strict=True):
            queue = self._pending.get(channel)
            if queue is not None and waiter in queue:
                queue.remove(waiter)
                if not queue:
                    del self._pending[channel]

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        channels = list(channels)
        async with self._lock:
            self._channels.difference_update(channels)
            if self._pubsub is not None and self._pubsub.connection is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(*channels)

    def _confirmed(self, channel: str) -> None:
        queue = self._pending.get(channel)
        while queue:
            waiter = queue.popleft()
            if not waiter.done():
                waiter.set_result(None)
                break
        if queue is not None and not queue:
            del self._pending[channel]

    def _resync(self) -> list[tuple[str, bytes]]:
        self._reconnected = False
        # Subscriptions waiting for a confirmation are re-made by the reconnection.
        for channel in list(self._pending):
            self._confirmed(channel)
        return [(channel, RESYNC) for channel in self._channels]

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        while True:
            try:
                pubsub = await self._ensure_connected()
                message = await pubsub.get_message(timeout=self.READ_SECONDS)
            except (RedisError, OSError) as exc:
                log.warning("realtime subscription lost; reconnecting", extra={"error": type(exc).__name__})
                await asyncio.sleep(1.0)
                with contextlib.suppress(RedisError, OSError):
                    async with self._lock:
                        if self._pubsub is not None and self._pubsub.connection is not None:
                            await self._pubsub.connect()  # reconnects and re-subscribes every channel
                self._reconnected = True
                continue
            if self._reconnected:
                for item in self._resync():
                    yield item
            if message is None:
                continue
            kind = message["type"]
            channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
            if kind == "message":
                yield channel, message["data"]
            elif kind == "subscribe":
                self._confirmed(channel)

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        return []  # history comes from the PostgreSQL inbox, never from Redis


class RealtimePlugin(InitPlugin):
    """Adds a ``channels`` dependency (a ChannelsPlugin on Redis pub/sub) to the app.

    One instance may serve several apps (tests build more than one): each app gets its own
    ChannelsPlugin and Redis connection, made from ``app.state.services.settings`` at startup.
    """

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        backend = _RedisPubSubBackend()
        channels = ChannelsPlugin(
            backend=backend,
            arbitrary_channels_allowed=True,
            subscriber_class=RealtimeSubscriber,
            subscriber_max_backlog=_BACKLOG,
            subscriber_backlog_strategy="dropleft",
        )

        @contextlib.asynccontextmanager
        async def connect(app: Litestar) -> AsyncIterator[None]:
            backend.connect(app.state.services.settings.redis_url)
            yield

        # Runs after the app's own lifespan (which sets app.state.services.settings) and before the
        # ChannelsPlugin's, which ``channels.on_app_init`` appends next.
        app_config.lifespan.append(connect)
        return channels.on_app_init(app_config)
