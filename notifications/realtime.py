"""Real-time messages to the open app, through Litestar channels on Redis pub/sub.

Every API process runs a :class:`RealtimePlugin`: Litestar's ``ChannelsPlugin`` with the
Redis pub/sub backend, subscribed to ``notifications:{account_id}`` for each account that
has a connection open on that process. Any process (an API process, a worker) publishes
with :func:`publish_realtime` and Redis fans the message out to whichever API processes
hold a connection for that account.

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
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Sequence
from typing import Any

import redis.asyncio as aioredis
from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.channels.subscriber import Subscriber
from litestar.config.app import AppConfig
from litestar.plugins import InitPlugin
from redis.exceptions import RedisError

from notifications.metrics import REALTIME_MESSAGES

__all__ = ["RESYNC", "RealtimePlugin", "RealtimeSubscriber", "channel_for", "publish_realtime", "publish_realtime_many"]

log = logging.getLogger(__name__)

#: Sent to local subscribers after a Redis outage: "catch up from the inbox".
RESYNC = b'{"resync":true}'
_BACKLOG = 1000


def channel_for(account_id: uuid.UUID | str) -> str:
    return f"notifications:{account_id}"


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
                pipe.publish(channel_for(account_id), message)
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


class _ResilientRedisBackend(ChannelsBackend):
    """Litestar's Redis pub/sub backend on a connection of its own, made when the app starts.

    The connection is separate from the app's Redis client because a subscribed connection
    blocks on reads and must not have the client's short socket timeout. A Redis outage ends
    the inner stream; we wait, let redis-py reconnect and re-subscribe, and tell every
    local subscriber to resynchronise from PostgreSQL.
    """

    def __init__(self) -> None:
        self._redis: aioredis.Redis | None = None
        self._inner: RedisChannelsPubSubBackend | None = None
        self._channels: set[str] = set()

    def connect(self, url: str) -> None:
        self._redis = aioredis.from_url(url, socket_connect_timeout=2.0, health_check_interval=30)
        self._inner = RedisChannelsPubSubBackend(redis=self._redis)

    @property
    def inner(self) -> RedisChannelsPubSubBackend:
        if self._inner is None:
            raise RuntimeError("realtime backend used before the app started")
        return self._inner

    async def on_startup(self) -> None:
        await self.inner.on_startup()

    async def on_shutdown(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.inner.on_shutdown()
        if self._redis is not None:
            await self._redis.aclose()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        await self.inner.publish(data, channels)

    async def subscribe(self, channels: Iterable[str]) -> None:
        channels = list(channels)
        self._channels.update(channels)
        await self.inner.subscribe(channels)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        channels = list(channels)
        self._channels.difference_update(channels)
        with contextlib.suppress(RedisError, OSError):
            await self.inner.unsubscribe(channels)

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        while True:
            try:
                async for channel, data in self.inner.stream_events():
                    yield channel, data
            except (RedisError, OSError) as exc:
                log.warning("realtime subscription lost; resubscribing", extra={"error": type(exc).__name__})
                await asyncio.sleep(1.0)
                for channel in list(self._channels):
                    yield channel, RESYNC

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        return []  # history comes from the PostgreSQL inbox, never from Redis


class RealtimePlugin(InitPlugin):
    """Adds a ``channels`` dependency (a ChannelsPlugin on Redis pub/sub) to the app.

    One instance may serve several apps (tests build more than one): each app gets its own
    ChannelsPlugin and Redis connection, made from ``app.state.settings`` at startup.
    """

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        backend = _ResilientRedisBackend()
        channels = ChannelsPlugin(
            backend=backend,
            arbitrary_channels_allowed=True,
            subscriber_class=RealtimeSubscriber,
            subscriber_max_backlog=_BACKLOG,
            subscriber_backlog_strategy="dropleft",
        )

        @contextlib.asynccontextmanager
        async def connect(app: Litestar) -> AsyncIterator[None]:
            backend.connect(app.state.settings.redis_url)
            yield

        # Runs after the app's own lifespan (which sets app.state.settings) and before the
        # ChannelsPlugin's, which ``channels.on_app_init`` appends next.
        app_config.lifespan.append(connect)
        return channels.on_app_init(app_config)
