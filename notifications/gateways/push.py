"""The push gateway interface, its errors, and the development sink.

Errors a gateway raises (the delivery worker decides what to do with each)::

    PushError                 any failure to hand a message to the platform
    ├── PushUnavailable       transient (5xx, 429, timeouts): retry with backoff
    ├── PushRejected          the request can never succeed as sent: dead-letter at once
    └── PushTokenGone         the platform says the device token is no longer valid:
                              forget the token, skip the delivery

A push message carries no personal data: a fixed title per kind of notice, the inbox
entry's id and its category. The app fetches the entry over our API.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis

__all__ = [
    "DevPushSink",
    "PushError",
    "PushGateway",
    "PushMessage",
    "PushRejected",
    "PushTokenGone",
    "PushUnavailable",
    "read_dev_push",
]

_DEV_KEY = "dev:push:{token}"
_DEV_TTL_SECONDS = 900


@dataclass(frozen=True, slots=True)
class PushMessage:
    title: str
    notification_id: int
    category: str

    def data(self) -> dict[str, str]:
        """The custom keys both platforms carry (FCM requires string values)."""
        return {"notification_id": str(self.notification_id), "category": self.category}


class PushError(Exception):
    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PushUnavailable(PushError):
    """The platform could not take the message now; try again later."""


class PushRejected(PushError):
    """The platform refused this message for good (bad payload or configuration)."""


class PushTokenGone(PushError):
    """The device token is unregistered or invalid: the app was removed or reinstalled."""


class PushGateway(Protocol):
    async def send(self, token: str, message: PushMessage) -> None:
        """Hand ``message`` to the platform for the device with ``token``; raise a PushError if not."""
        ...


class DevPushSink:
    """Development and tests only: messages go to Redis, readable with :func:`read_dev_push`."""

    def __init__(self, redis: aioredis.Redis, platform: str) -> None:
        self._redis = redis
        self._platform = platform

    async def send(self, token: str, message: PushMessage) -> None:
        key = _DEV_KEY.format(token=token)
        record = {"platform": self._platform, "title": message.title, "data": message.data(), "at": time.time()}
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, json.dumps(record, ensure_ascii=False))
            pipe.ltrim(key, 0, 49)
            pipe.expire(key, _DEV_TTL_SECONDS)
            await pipe.execute()


async def read_dev_push(redis: aioredis.Redis, token: str) -> list[dict[str, object]]:
    """Messages the development sink holds for ``token``, newest first."""
    raw = await redis.lrange(_DEV_KEY.format(token=token), 0, -1)
    return [json.loads(m) for m in raw]
