"""A transactional mail service over HTTP.

Contract (docs/notifications.md, E-mail): ``POST {WALLET_MAIL_API_URL}`` with
``Authorization: Bearer {WALLET_MAIL_API_TOKEN}``, ``Idempotency-Key: {reference}`` and the
JSON body ``{"from", "to", "subject", "text", "reference"}`` (plain text, UTF-8). A 2xx means
accepted for delivery; 404 or 410 means the mailbox does not exist (recipient gone: the
address is unconfirmed); 401, 403, 408, 429 and 5xx are retried (after ``Retry-After`` when
given); any other 4xx refuses that message for good.
"""

from __future__ import annotations

import httpx

from notifications.channels.base import post_json

__all__ = ["HttpMailer"]


class HttpMailer:
    def __init__(self, http: httpx.AsyncClient, url: str, token: str, sender: str) -> None:
        self._http = http
        self._url = url
        self._token = token
        self._from = sender

    async def send(self, address: str, subject: str, text: str, *, reference: str) -> None:
        body = {"from": self._from, "to": address, "subject": subject, "text": text, "reference": reference}
        await post_json(self._http, self._url, self._token, body, service="mail service", seconds=10.0)
