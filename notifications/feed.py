"""One connected app's stream of messages: catch-up from PostgreSQL, then live from Redis.

Both transports (Server-Sent Events and WebSocket) use :func:`feed`. It subscribes to the
account's channel, and waits for Redis to confirm it, *before* reading the inbox, so an
entry committed in between arrives live. ``after`` is the last ``seq`` the app has (SSE
``Last-Event-ID``, WebSocket ``since``); without it, the feed starts with what happens from
now on. A ``ready`` frame follows the catch-up: from then on the subscription is live.

Frame ids are the entries' ``seq`` and the feed sends them in strictly increasing order.
``seq`` is per account in commit order (notifications/store.py), so when seq ``s`` is
committed every smaller one is too. Live messages can still arrive out of order (two
workers publish after their own commits); a message that skips ahead of the last sent
``seq`` makes the feed read the missing entries from the inbox first, and one at or below
it was already sent. An app that resumes from the last id it received therefore misses
nothing.
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


async def _catch_up(db: asyncpg.Pool, account_id: uuid.UUID, after: int) -> AsyncIterator[Frame]:
    language = await store.account_language(db, account_id)
    rows = await store.catch_up(db, account_id, after, CATCH_UP_LIMIT + 1)
    if len(rows) > CATCH_UP_LIMIT:
        # Too much to replay: the app reloads its inbox page by page instead.
        latest = await store.latest_seq(db, account_id)
        yield Frame("inbox.resync", {"latest_seq": latest}, id=latest)
        return
    for row in rows:
        yield Frame("notification", msgspec.to_builtins(store.view_of(row, language)), id=row["seq"])


async def feed(
    db: asyncpg.Pool, channels: ChannelsPlugin, account_id: uuid.UUID, after: int | None
) -> AsyncGenerator[Frame | None, None]:
    """Frames for the app, and None when a heartbeat is due. Runs until cancelled."""
    channel = channel_for(account_id)
    subscriber = await channels.subscribe(channel)
    assert isinstance(subscriber, RealtimeSubscriber)
    try:
        latest = await store.latest_seq(db, account_id)
        if after is not None and after > latest:
            # A cursor this inbox never gave (another account's, or a stale app): start from
            # now and have the app reload its inbox, rather than skip what comes next.
            yield Frame("inbox.resync", {"latest_seq": latest}, id=latest)
            after = None
        # The newest seq the app has: nothing at or below it is sent again.
        last = after if after is not None else latest
        if after is not None:
            async for frame in _catch_up(db, account_id, after):
                last = max(last, frame.id or 0)
                yield frame
        # Subscribed and caught up: from here on the app misses nothing while connected.
        yield Frame("ready", {"latest_seq": last})
        while True:
            raw = await subscriber.next_message(HEARTBEAT_SECONDS)
            if raw is None:
                yield None
                continue
            if raw == RESYNC:
                # Redis was lost for a while: whatever was published meanwhile is in the inbox.
                async for frame in _catch_up(db, account_id, last):
                    last = max(last, frame.id or 0)
                    yield frame
                continue
            message = json.loads(raw)
            seq = message.get("id")
            if seq is not None:
                if seq <= last:
                    continue  # sent already (live or in a catch-up)
                if seq > last + 1:
                    # Possibly a gap (another worker's entry not published yet, or never):
                    # everything up to ``seq`` is committed, so read it in order.
                    async for frame in _catch_up(db, account_id, last):
                        last = max(last, frame.id or 0)
                        yield frame
                    continue
                last = seq
            REALTIME_MESSAGES.labels("sent").inc()
            yield Frame(message["event"], message["data"], id=seq)
    finally:
        # Unsubscribe even when the connection's task is being cancelled (client gone),
        # or this process would stay subscribed to the account's channel.
        with anyio.CancelScope(shield=True):
            await channels.unsubscribe(subscriber, channel)
