"""The development mailbox: e-mails go to Redis for a short time, so that tests and
developers can read a confirmation code (``wallet dev-mail``). Refused in production.

Boxes are keyed by a digest of the address, never the address itself."""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

from notifications.channels import devbox

__all__ = ["DevMailbox", "dev_mail", "read_dev_mail"]


def _key(address: str) -> str:
    return "dev:mail:" + hashlib.sha256(address.strip().lower().encode()).hexdigest()[:32]


class DevMailbox:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def send(self, address: str, subject: str, text: str, *, reference: str) -> None:
        await devbox.keep(self._redis, _key(address), {"subject": subject, "text": text, "reference": reference})


async def read_dev_mail(redis: aioredis.Redis, address: str) -> list[dict[str, object]]:
    """E-mails the development mailbox holds for ``address``, newest first."""
    return list(await devbox.read(redis, _key(address)))


dev_mail = devbox.box_command(
    "dev-mail",
    box="mailbox",
    argument="address",
    read_for=read_dev_mail,
    in_use=lambda s: not s.mail.api_url,
    line=lambda m: f"{m['subject']}\n    " + str(m["text"]).replace("\n", "\n    "),
)
