"""SMS to the account's phone: notices (when the citizen chose SMS for a category, and the
security notices) and, through the same sender, accounts' one-time codes.

``WALLET_SMS_GATEWAY_URL`` selects the HTTP gateway (``http.py``); without it development
and tests use the local box (``local.py``, read with ``wallet dev-sms``), and production
fails every send as unavailable (and refuses to start: the setting is required there).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg
import httpx
import redis.asyncio as aioredis

from notifications.channels.base import Channel, ChannelPlugin, Contact, Destination, Message
from notifications.channels.sms.http import HttpSmsGateway
from notifications.channels.sms.local import DevSmsSink, dev_sms
from wallet_api.kernel import SendUnavailable, Settings, SmsSender

__all__ = ["PLUGIN", "SmsChannel", "sms_sender"]


class _Unconfigured:
    async def send(self, phone: str, text: str, *, reference: str) -> None:
        raise SendUnavailable("sms gateway not configured")


def sms_sender(settings: Settings, http: httpx.AsyncClient, redis: aioredis.Redis) -> SmsSender:
    """The SMS sender of these settings (one per process, shared with one-time codes)."""
    if settings.sms.url:
        return HttpSmsGateway(http, settings.sms.url, settings.sms.token)
    if settings.env == "production":
        return _Unconfigured()
    return DevSmsSink(redis)


class SmsChannel:
    name = "sms"

    def __init__(self, sender: SmsSender) -> None:
        self.sender = sender

    def reach(self, contact: Contact) -> list[Destination]:
        return [Destination(None, contact.phone)] if contact.phone else []

    async def send(self, to: Destination, message: Message) -> None:
        text = message.text.sms or f"VNeID: {message.text.push}"
        await self.sender.send(to.address, text, reference=message.reference)

    async def forget(self, conn: asyncpg.Connection, gone: Sequence[tuple[uuid.UUID, Destination]]) -> None:
        # The phone is the account's (accounts/): the citizen changes it there, with a code.
        return None

    async def aclose(self) -> None:
        return None


def _build(settings: Settings, http: httpx.AsyncClient, redis: aioredis.Redis) -> Channel:
    return SmsChannel(sms_sender(settings, http, redis))


PLUGIN = ChannelPlugin(name="sms", preference="sms", build=_build, commands=[dev_sms])
