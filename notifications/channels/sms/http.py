"""A real SMS gateway over HTTP.

Contract: ``POST {WALLET_SMS_GATEWAY_URL}`` with ``Authorization: Bearer {token}``,
``Idempotency-Key: {reference}`` and the JSON body ``{"to", "text", "reference"}``. A 2xx
means accepted; 404 or 410 means the number is not in service (recipient gone); 401, 403,
408, 429 and 5xx are retried; any other 4xx is a refusal of that message.
"""

from __future__ import annotations

import httpx

from notifications.channels.base import post_json

__all__ = ["HttpSmsGateway"]


class HttpSmsGateway:
    def __init__(self, http: httpx.AsyncClient, url: str, token: str) -> None:
        self._http = http
        self._url = url
        self._token = token

    async def send(self, phone: str, text: str, *, reference: str) -> None:
        body = {"to": phone, "text": text, "reference": reference}
        await post_json(self._http, self._url, self._token, body, service="sms gateway", seconds=5.0)
