"""One connected app's stream of messages: catch-up from PostgreSQL, then live from Redis.

Both transports (Server-Sent Events and WebSocket) use :func:`feed`. It subscribes to the
account's channel, and waits for Redis to confirm it, *before* reading the inbox, so an
entry committed in between arrives live. ``after`` is the last ``seq`` the app has (SSE
``Last-Event-ID``, WebSocket ``since``); without it, the feed starts with what happens from
now on. A ``ready`` frame follows the catch-up: from then on the subscription is live.

A feed lives no longer than the session that opened it: it ends with a ``session.ended``
frame (``reason``: ``expired`` or ``revoked``) when the access token expires, when a
session-end signal for its device or account arrives (sign-out, sign-out-everywhere, device
revocation, a frozen account, a reused refresh token), or when the session is found dead
in PostgreSQL — checked once subscribed (so a revocation committed while the stream opened
is not missed) and again after every Redis outage (which may have swallowed a signal).

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
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import asyncpg
import msgspec
from litestar.channels import ChannelsPlugin

from notifications import store
from notifications.metrics import REALTIME_MESSAGES
from notifications.realtime import RESYNC, RealtimeSubscriber
from wallet_api.kernel import ended_device, realtime_channel

__all__ = ["CATCH_UP_LIMIT", "HEARTBEAT_SECONDS", "Frame", "StreamSession", "feed"]

#: Entries replayed on reconnect; beyond this the app is told to reload its inbox.
CATCH_UP_LIMIT = 500
HEARTBEAT_SECONDS = 15.0


@dataclass(frozen=True, slots=True)
class Frame:
    """One message to the app; ``id`` is None for transient messages and heartbeats."""

    event: str
    data: dict[str, Any]
    id: int | None = None


@dataclass(frozen=True, slots=True)
class StreamSession:
    """The session a stream belongs to: its device, when its token expires, and how to ask
    PostgreSQL whether it still lives."""

    device_id: str
    expires_at: float
    alive: Callable[[], Awaitable[bool]]


def _ended(reason: str) -> Frame:
    return Frame("session.ended", {"reason": reason})


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
    db: asyncpg.Pool, channels: ChannelsPlugin, account_id: uuid.UUID, after: int | None, session: StreamSession
) -> AsyncGenerator[Frame | None, None]:
    """Frames for the app, and None when a heartbeat is due. Runs until cancelled or the session ends."""
    channel = realtime_channel(account_id)
    subscriber = await channels.subscribe(channel)
    assert isinstance(subscriber, RealtimeSubscriber)
    try:
        # Subscribed first, checked second: a revocation committed after this check is
        # signalled after it too, so it reaches this subscription.
        if not await session.alive():
            yield _ended("revoked")
            return
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
            left = session.expires_at - time.time()
            if left <= 0:
                yield _ended("expired")
                return
            raw = await subscriber.next_message(min(HEARTBEAT_SECONDS, left))
            if raw is None:
                if time.time() < session.expires_at:
                    yield None
                continue
            if raw == RESYNC:
                # Redis was lost for a while: a session-end signal may have been lost with it,
                # and whatever was published meanwhile is in the inbox.
                if not await session.alive():
                    yield _ended("revoked")
                    return
                async for frame in _catch_up(db, account_id, last):
                    last = max(last, frame.id or 0)
                    yield frame
                continue
            message = json.loads(raw)
            is_end, device = ended_device(message)
            if is_end:
                if device is None or device == session.device_id:
                    yield _ended("revoked")
                    return
                continue
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
