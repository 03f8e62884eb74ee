"""The development SMS box: texts go to Redis for a short time, so that tests and developers
can read a one-time code (``wallet dev-sms``). Refused in production."""

from __future__ import annotations

import re

import redis.asyncio as aioredis

from notifications.channels import devbox

__all__ = ["DevSmsSink", "dev_sms", "read_dev_sms"]

_DEV_KEY = "dev:sms:{phone}"
_MOBILE = re.compile(r"^(?:\+?84|0)([35789][0-9]{8})$")


class DevSmsSink:
    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def send(self, phone: str, text: str, *, reference: str) -> None:
        await devbox.keep(self._redis, _DEV_KEY.format(phone=phone), {"text": text, "reference": reference})


async def read_dev_sms(redis: aioredis.Redis, phone: str) -> list[dict[str, object]]:
    """Messages the development box holds for ``phone``, newest first."""
    return list(await devbox.read(redis, _DEV_KEY.format(phone=phone)))


def phone_forms(raw: str) -> list[str]:
    """The keys a message to ``raw`` may be kept under: as typed, E.164 and national form."""
    compact = re.sub(r"[\s.()-]", "", raw)
    found = _MOBILE.match(compact)
    if found is None:
        return [compact]
    return list(dict.fromkeys([compact, "+84" + found.group(1), "0" + found.group(1)]))


async def _read_any_form(redis: aioredis.Redis, phone: str) -> list[dict[str, object]]:
    return [m for form in phone_forms(phone) for m in await read_dev_sms(redis, form)]


dev_sms = devbox.box_command(
    "dev-sms",
    box="SMS sink",
    argument="phone",
    read_for=_read_any_form,
    in_use=lambda s: not s.sms.url,
    line=lambda m: str(m["text"]),
)
