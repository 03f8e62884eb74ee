"""E-mail: notices to an address the citizen gave and confirmed with a code, for the
categories where they turned e-mail on (off by default everywhere).

``WALLET_MAIL_API_URL`` selects the transactional mail service (``http.py``, its contract
documented there and in docs/notifications.md); without it development and tests use the
local mailbox (``local.py``, read with ``wallet dev-mail``), and production fails every send
as unavailable. Texts are in ``template.json``: a notice's e-mail holds only its fixed push
title, a confirmation e-mail only the code.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import asyncpg
import httpx
import redis.asyncio as aioredis

from notifications import addresses
from notifications.channels.base import Channel, ChannelPlugin, Contact, Destination, Message
from notifications.channels.email.http import HttpMailer
from notifications.channels.email.local import DevMailbox, dev_mail
from notifications.templates import Language
from wallet_api.kernel import SendUnavailable, Settings

__all__ = ["PLUGIN", "EmailChannel", "normalise_address"]

_NAME = "email"
_LOCAL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class Mailer(Protocol):
    async def send(self, address: str, subject: str, text: str, *, reference: str) -> None: ...


@cache
def _texts() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((Path(__file__).parent / "template.json").read_text(encoding="utf-8"))
    return loaded


def normalise_address(raw: str) -> str | None:
    """``local@domain`` with the domain lower-cased (and in its ASCII form), or None."""
    local, at, domain = raw.strip().rpartition("@")
    if not at or not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    try:
        ascii_domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return None
    address = f"{local}@{ascii_domain}"
    return address if len(address) <= 254 else None


class _Unconfigured:
    async def send(self, address: str, subject: str, text: str, *, reference: str) -> None:
        raise SendUnavailable("mail service not configured")


class EmailChannel:
    name = _NAME

    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer

    def reach(self, contact: Contact) -> list[Destination]:
        address = contact.addresses.get(_NAME)
        return [Destination(None, address)] if address else []

    async def send(self, to: Destination, message: Message) -> None:
        text = _texts()["notice"][message.language]
        title = message.text.push
        await self._mailer.send(
            to.address,
            text["subject"].format(title=title),
            text["text"].format(title=title),
            reference=message.reference,
        )

    async def forget(self, conn: asyncpg.Connection, gone: Sequence[tuple[uuid.UUID, Destination]]) -> None:
        await addresses.forget(conn, _NAME, [(account, to.address) for account, to in gone])

    def normalise(self, raw: str) -> str | None:
        return normalise_address(raw)

    async def send_code(self, address: str, code: str, language: Language, *, reference: str) -> None:
        text = _texts()["code"][language]
        await self._mailer.send(address, text["subject"], text["text"].format(code=code), reference=reference)

    async def aclose(self) -> None:
        return None


def _build(settings: Settings, http: httpx.AsyncClient, redis: aioredis.Redis) -> Channel:
    mailer: Mailer
    if settings.mail.api_url:
        mailer = HttpMailer(http, settings.mail.api_url, settings.mail.api_token, settings.mail.from_address)
    elif settings.env == "production":
        mailer = _Unconfigured()
    else:
        mailer = DevMailbox(redis)
    return EmailChannel(mailer)


PLUGIN = ChannelPlugin(name=_NAME, preference=_NAME, build=_build, default=False, commands=[dev_mail])
