"""The channel interface: how a notice leaves the app (push, SMS, e-mail, ...).

A channel answers three questions. *Who can it reach?* :meth:`Channel.reach` lists the
destinations it has for an account (each push device of its platform, the account's phone,
a confirmed e-mail address); the citizen's per-category choice of the channel's
``preference`` decides whether they are used. *Send*: :meth:`Channel.send` hands one message
to the real service or, in development, to a local box, and raises only the errors of
:mod:`wallet_api.outbound` (transient, rejected, recipient gone). *Forget*: after a
"recipient gone", :meth:`Channel.forget` drops that destination (a push token, an address).

Each channel is a folder under ``notifications/channels/`` whose ``__init__`` exports a
:class:`ChannelPlugin`; see docs/notifications.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import asyncpg
import httpx
import redis.asyncio as aioredis

from notifications.templates import Language, Rendered
from wallet_api.kernel import RecipientGone, SendFailed, SendRejected, SendUnavailable

if TYPE_CHECKING:
    import click

    from wallet_api.kernel import Settings

__all__ = [
    "AddressChannel",
    "Channel",
    "ChannelPlugin",
    "Contact",
    "Destination",
    "Device",
    "Message",
    "failure_for",
    "post_json",
    "retry_after_of",
]


@dataclass(frozen=True, slots=True)
class Device:
    """A bound device with a push token."""

    id: uuid.UUID
    platform: str
    token: str


@dataclass(frozen=True, slots=True)
class Contact:
    """What the channels may use to reach one account, read when a notice is fanned out
    and read again, fresh, when each delivery is sent."""

    account_id: uuid.UUID
    phone: str | None
    devices: tuple[Device, ...] = ()
    #: Addresses the citizen gave and confirmed, by channel name (e-mail).
    addresses: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Destination:
    #: The device of a per-device channel (push); None when the account itself is reached.
    device_id: uuid.UUID | None
    #: The push token, phone number or e-mail address.
    address: str


@dataclass(frozen=True, slots=True)
class Message:
    """One inbox entry as a channel sends it. Channels choose what to carry: the push title
    and the SMS text are written without personal data (notifications/templates.json)."""

    #: Stable per delivery: the service's idempotency key, so a retried send is one message.
    reference: str
    notification_id: int
    category: str
    language: Language
    text: Rendered


class Channel(Protocol):
    #: As in delivery rows, worker loops and metrics: the plugin's folder name.
    name: str

    def reach(self, contact: Contact) -> list[Destination]:
        """The destinations this channel has for the account (empty: it cannot reach them)."""
        ...

    async def send(self, to: Destination, message: Message) -> None:
        """Hand ``message`` over; raise a :class:`~wallet_api.outbound.SendFailed` if not."""
        ...

    async def forget(self, conn: asyncpg.Connection, gone: Sequence[tuple[uuid.UUID, Destination]]) -> None:
        """Drop destinations the service said no longer exist, by (account, destination)."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class AddressChannel(Protocol):
    """A channel whose address the citizen gives and confirms with a code (e-mail)."""

    def normalise(self, raw: str) -> str | None:
        """The address in the one form it is stored and compared in, or None if it is not one."""
        ...

    async def send_code(self, address: str, code: str, language: Language, *, reference: str) -> None:
        """Send the confirmation code to the address being confirmed."""
        ...


@dataclass(frozen=True)
class ChannelPlugin:
    #: The folder name; delivery rows and loops use it.
    name: str
    #: What the citizen turns on or off per category: both push platforms share ``push``.
    preference: str
    #: The channel for these settings: the real HTTP adapter when configured, else the local
    #: box in development and tests, else (production) one that fails as unavailable, so
    #: deliveries wait for configuration instead of being dropped.
    build: Callable[[Settings, httpx.AsyncClient, aioredis.Redis], Channel]
    #: Whether a category whose defaults do not name ``preference`` has it on.
    default: bool = False
    #: Commands added to the ``wallet`` CLI (reading a development box).
    commands: Sequence[click.Command] = ()


def retry_after_of(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None


async def post_json(
    http: httpx.AsyncClient, url: str, token: str, body: dict[str, str], *, service: str, seconds: float
) -> None:
    """POST ``body`` to a plain HTTP sending API (SMS, e-mail): bearer token, the body's
    ``reference`` as idempotency key, any non-2xx answer raised by :func:`failure_for`."""
    try:
        r = await http.post(
            url,
            json=body,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": body["reference"]},
            timeout=seconds,
        )
    except httpx.HTTPError as exc:
        raise SendUnavailable(f"{service} {type(exc).__name__}") from exc
    if r.status_code >= 300:
        raise failure_for(r, service)


def failure_for(response: httpx.Response, service: str) -> SendFailed:
    """The error for a non-2xx answer of a plain HTTP sending API (SMS, e-mail)."""
    reason = f"{service} answered {response.status_code}"
    status = response.status_code
    if status in (404, 410):
        return RecipientGone(reason)
    if status in (401, 403, 408, 425, 429) or status >= 500 or status < 400:
        # Timeouts, overload and our own credentials (which an operator can fix): retry.
        return SendUnavailable(reason, retry_after=retry_after_of(response))
    return SendRejected(reason)
