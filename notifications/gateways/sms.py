"""SMS gateway: one small interface, an HTTP adapter for a real gateway, a development sink.

Used for one-time codes (accounts) and for SMS notifications. The development sink keeps
the last messages per phone number in Redis for a short time, so that tests and
developers can read a code; it is refused in production.
"""

from __future__ import annotations

import json
import time
from typing import Protocol

import httpx
import redis.asyncio as aioredis

__all__ = ["DevSmsSink", "HttpSmsGateway", "SmsGateway", "SmsGatewayError", "read_dev_sms"]

_DEV_KEY = "dev:sms:{phone}"
_DEV_TTL_SECONDS = 900


class SmsGatewayError(Exception):
    """The gateway refused or did not answer; the caller may retry later."""


class SmsGateway(Protocol):
    async def send(self, phone: str, text: str, *, reference: str) -> None:
        """Send ``text`` to ``phone`` (E.164 or Vietnamese national format)."""
        ...


class HttpSmsGateway:
    """A real gateway: POST {to, text, reference} with a bearer token; 2xx means accepted."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str) -> None:
        self._http = http
        self._url = url
        self._token = token

    async def send(self, phone: str, text: str, *, reference: str) -> None:
        try:
            r = await self._http.post(
                self._url,
                json={"to": phone, "text": text, "reference": reference},
                headers={"Authorization": f"Bearer {self._token}", "Idempotency-Key": reference},
                timeout=5.0,
            )
        except httpx.HTTPError as exc:
            raise SmsGatewayError(type(exc).__name__) from exc
        if r.status_code >= 300:
            raise SmsGatewayError(f"gateway answered {r.status_code}")


class DevSmsSink:
    """Development and tests only: messages go to Redis, readable with :func:`read_dev_sms`."""

    def __init__(self, redis: aioredis.Redis) -> None:
        self._redis = redis

    async def send(self, phone: str, text: str, *, reference: str) -> None:
        key = _DEV_KEY.format(phone=phone)
        message = json.dumps({"text": text, "reference": reference, "at": time.time()}, ensure_ascii=False)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, message)
            pipe.ltrim(key, 0, 49)
            pipe.expire(key, _DEV_TTL_SECONDS)
            await pipe.execute()


async def read_dev_sms(redis: aioredis.Redis, phone: str) -> list[dict[str, object]]:
    """Messages the development sink holds for ``phone``, newest first."""
    raw = await redis.lrange(_DEV_KEY.format(phone=phone), 0, -1)
    return [json.loads(m) for m in raw]
