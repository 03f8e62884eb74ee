"""One connected app's stream of messages: catch-up from PostgreSQL, then live from Redis.

Both transports (Server-Sent Events and WebSocket) use :func:`feed`. It subscribes to the
account's channel, and waits for Redis to confirm it, *before* reading the inbox, so an
entry committed in between arrives live (and is not sent twice: ids sent during catch-up
are remembered). ``after`` is the last inbox id the app has (SSE ``Last-Event-ID``,
WebSocket ``since``); without it, the feed starts with what happens from now on. A
``ready`` frame follows the catch-up: from then on the subscription is live.

Ids are inbox ids. They usually rise, but two batches committed by two workers may reach
the app out of order; the app keys entries by id, so a duplicate after a reconnect is
harmless while a gap is not, and the feed is built to err on the side of duplicates.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio
import asyncpg
import msgspec
from litestar.channels import ChannelsPlugin

from notifications import store
from notifications.metrics import REALTIME_MESSAGES
from notifications.realtime import RESYNC, RealtimeSubscriber, channel_for

__all__ = ["CATCH_UP_LIMIT", "HEARTBEAT_SECONDS", "Frame", "feed"]

#: Entries replayed on reconnect; beyond this the app is told to reload its inbox.
CATCH_UP_LIMIT = 500
HEARTBEAT_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class Frame:
    """One message to the app; ``id`` is None for transient messages and heartbeats."""

    event: str
    data: dict[str, Any]
    id: int | None = None


async def _catch_up(db: asyncpg.Pool, account_id: uuid.UUID, after: int, sent: set[int]) -> AsyncIterator[Frame]:
    language = await store.account_language(db, account_id)
    rows = await store.catch_up(db, account_id, after, CATCH_UP_LIMIT + 1)
    if len(rows) > CATCH_UP_LIMIT:
        # Too much to replay: the app reloads its inbox page by page instead.
        latest = await store.latest_id(db, account_id)
        yield Frame("inbox.resync", {"latest_id": latest}, id=latest)
        return
    for row in rows:
        sent.add(row["id"])
        yield Frame("notification", msgspec.to_builtins(store.view_of(row, language)), id=row["id"])


async def feed(
    db: asyncpg.Pool, channels: ChannelsPlugin, account_id: uuid.UUID, after: int | None
) -> AsyncGenerator[Frame | None, None]:
    """Frames for the app, and None when a heartbeat is due. Runs until cancelled."""
    channel = channel_for(account_id)
    subscriber = await channels.subscribe(channel)
    assert isinstance(subscriber, RealtimeSubscriber)
    sent: set[int] = set()
    try:
        # The baseline for a resynchronisation after a Redis outage, if nothing arrives before.
        last = after if after is not None else await store.latest_id(db, account_id)
        if after is not None:
            async for frame in _catch_up(db, account_id, after, sent):
                last = frame.id if frame.id is not None else last
                yield frame
        # Subscribed and caught up: from here on the app misses nothing while connected.
        yield Frame("ready", {"latest_id": last})
        while True:
            raw = await subscriber.next_message(HEARTBEAT_SECONDS)
            if raw is None:
                yield None
                continue
            if raw == RESYNC:
                # Redis was lost for a while: whatever was published meanwhile is in the inbox.
                async for frame in _catch_up(db, account_id, last, sent):
                    last = max(last, frame.id or 0)
                    yield frame
                continue
            message = json.loads(raw)
            message_id = message.get("id")
            if message_id is not None:
                if message_id in sent:
                    continue
                last = max(last, message_id)
            REALTIME_MESSAGES.labels("sent").inc()
            yield Frame(message["event"], message["data"], id=message_id)
    finally:
        # Unsubscribe even when the connection's task is being cancelled (client gone),
        # or this process would stay subscribed to the account's channel.
        with anyio.CancelScope(shield=True):
            await channels.unsubscribe(subscriber, channel)
