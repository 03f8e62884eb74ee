"""What the push channels (``fcm``, ``apns``) share: the message, the channel, the local box.

A push message carries no personal data: a fixed title per kind of notice, the inbox
entry's id and its category. The app fetches the entry over our API. A device is reached
on the platform it registered its token with; a token the platform calls unregistered is
cleared from the device (only if it still holds that token: the app may have registered a
fresh one meanwhile).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import httpx
import redis.asyncio as aioredis

from notifications.channels import devbox
from notifications.channels.base import Channel, ChannelPlugin, Contact, Destination, Message
from wallet_api.kernel import SendUnavailable, Settings

__all__ = ["DevPushSink", "PushChannel", "PushMessage", "PushSender", "push_plugin", "read_dev_push"]

_DEV_KEY = "dev:push:{token}"

_FORGET_TOKENS = """
UPDATE devices v SET push_token = NULL
FROM unnest($1::uuid[], $2::text[]) AS g(device_id, token)
WHERE v.id = g.device_id AND v.push_token = g.token
"""


@dataclass(frozen=True, slots=True)
class PushMessage:
    title: str
    notification_id: int
    category: str

    def data(self) -> dict[str, str]:
        """The custom keys both platforms carry (FCM requires string values)."""
        return {"notification_id": str(self.notification_id), "category": self.category}


class PushSender(Protocol):
    async def send(self, token: str, message: PushMessage) -> None: ...

    async def aclose(self) -> None: ...


class PushChannel:
    preference = "push"

    def __init__(self, name: str, sender: PushSender) -> None:
        self.name = name
        self._sender = sender

    def reach(self, contact: Contact) -> list[Destination]:
        return [Destination(d.id, d.token) for d in contact.devices if d.platform == self.name]

    async def send(self, to: Destination, message: Message) -> None:
        push = PushMessage(title=message.text.push, notification_id=message.notification_id, category=message.category)
        await self._sender.send(to.address, push)

    async def forget(self, conn: asyncpg.Connection, gone: Sequence[tuple[uuid.UUID, Destination]]) -> None:
        await conn.execute(_FORGET_TOKENS, [d.device_id for _, d in gone], [d.address for _, d in gone])

    async def aclose(self) -> None:
        await self._sender.aclose()


class DevPushSink:
    """Development and tests only: messages go to Redis, readable with :func:`read_dev_push`."""

    def __init__(self, redis: aioredis.Redis, platform: str) -> None:
        self._redis = redis
        self._platform = platform

    async def send(self, token: str, message: PushMessage) -> None:
        record = {"platform": self._platform, "title": message.title, "data": message.data()}
        await devbox.keep(self._redis, _DEV_KEY.format(token=token), record)

    async def aclose(self) -> None:
        return None


class _Unconfigured:
    def __init__(self, platform: str) -> None:
        self._platform = platform

    async def send(self, token: str, message: PushMessage) -> None:
        raise SendUnavailable(f"{self._platform} gateway not configured")

    async def aclose(self) -> None:
        return None


async def read_dev_push(redis: aioredis.Redis, token: str) -> list[dict[str, object]]:
    """Messages the development box holds for ``token``, newest first."""
    return list(await devbox.read(redis, _DEV_KEY.format(token=token)))


def push_plugin(name: str, real: Callable[[Settings, httpx.AsyncClient], PushSender | None]) -> ChannelPlugin:
    """The plugin of a push platform whose adapter ``real`` builds (None: not configured)."""

    def build(settings: Settings, http: httpx.AsyncClient, redis: aioredis.Redis) -> Channel:
        sender = real(settings, http)
        if sender is None:
            sender = _Unconfigured(name) if settings.env == "production" else DevPushSink(redis, name)
        return PushChannel(name, sender)

    return ChannelPlugin(name=name, preference=PushChannel.preference, build=build, default=True)
