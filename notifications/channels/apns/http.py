"""Apple Push Notification service over HTTP/2 with token-based (ES256) authentication.

Each request is ``POST /3/device/{device token}`` on an HTTP/2 connection (APNs speaks
nothing else, so the client is built with HTTP/1.1 off), with a provider token: a JWT
signed with the team's .p8 key, reused for 50 minutes (Apple refuses tokens older than an
hour and throttles renewals more often than every 20 minutes).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt

from notifications.channels.base import retry_after_of
from notifications.channels.push import PushMessage
from wallet_api.kernel import RecipientGone, SendRejected, SendUnavailable

__all__ = ["ApnsGateway"]

_TOKEN_TTL = 50 * 60
#: Reasons (HTTP 400/410) meaning the device token will never work again for this app.
_GONE = {"Unregistered", "BadDeviceToken", "DeviceTokenNotForTopic"}
_REFRESH = {"ExpiredProviderToken", "InvalidProviderToken"}


class ApnsGateway:
    def __init__(self, *, key_pem: str, key_id: str, team_id: str, topic: str, endpoint: str) -> None:
        self._key = key_pem
        self._key_id = key_id
        self._team_id = team_id
        self._topic = topic
        self._endpoint = endpoint.rstrip("/")
        self._http = httpx.AsyncClient(http1=False, http2=True, timeout=httpx.Timeout(10.0, connect=5.0))
        self._token: str | None = None
        self._token_at = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _provider_token(self, *, refresh: bool = False) -> str:
        async with self._lock:
            if refresh or self._token is None or time.time() - self._token_at > _TOKEN_TTL:
                self._token_at = time.time()
                self._token = jwt.encode(
                    {"iss": self._team_id, "iat": int(self._token_at)},
                    self._key,
                    algorithm="ES256",
                    headers={"kid": self._key_id},
                )
            return self._token

    def _body(self, message: PushMessage) -> dict[str, Any]:
        return {"aps": {"alert": {"title": message.title}, "sound": "default"}, **message.data()}

    async def send(self, token: str, message: PushMessage) -> None:
        body = self._body(message)
        for attempt in (1, 2):
            provider = await self._provider_token(refresh=attempt == 2)
            headers = {
                "authorization": f"bearer {provider}",
                "apns-topic": self._topic,
                "apns-push-type": "alert",
                "apns-priority": "10",
                "apns-expiration": str(int(time.time()) + 24 * 3600),
            }
            try:
                r = await self._http.post(f"{self._endpoint}/3/device/{token}", json=body, headers=headers)
            except httpx.HTTPError as exc:
                raise SendUnavailable(f"apns {type(exc).__name__}") from exc
            if r.status_code == 200:
                return
            try:
                reason = str(r.json().get("reason", ""))
            except ValueError:
                reason = ""
            if r.status_code == 403 and reason in _REFRESH and attempt == 1:
                continue
            text = f"apns {r.status_code} {reason}".strip()
            if r.status_code == 410 or reason in _GONE:
                raise RecipientGone(text)
            if r.status_code in (429, 500, 503) or r.status_code == 403:
                raise SendUnavailable(text, retry_after=retry_after_of(r))
            raise SendRejected(text)
        raise SendUnavailable("apns provider token refused after refresh")
