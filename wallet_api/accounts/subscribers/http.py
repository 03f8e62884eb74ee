"""Adapter for a real subscriber database over HTTPS.

Protocol (JSON, bearer token)::

    POST {base}/subscriber-checks  {"phone": "+84…", "person_id": "…"}  200 {"registered": true|false}

The question carries both halves, so the database answers yes or no and never hands out
who owns a number. Anything other than 200 with a boolean, or no answer, raises
:class:`SubscriberRegistryUnavailable`.
"""

from __future__ import annotations

import httpx

from wallet_api.accounts.subscribers.base import SubscriberRegistryUnavailable

__all__ = ["HttpSubscriberRegistry"]


class HttpSubscriberRegistry:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, *, timeout: float = 3.0) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/subscriber-checks"
        self._token = token
        self._timeout = timeout

    async def is_registered_to(self, phone: str, person_id: str) -> bool:
        try:
            r = await self._http.post(
                self._url,
                json={"phone": phone, "person_id": person_id},
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise SubscriberRegistryUnavailable(type(exc).__name__) from exc
        if r.status_code != 200:
            raise SubscriberRegistryUnavailable(f"subscriber database answered {r.status_code}")
        try:
            registered = r.json()["registered"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SubscriberRegistryUnavailable("subscriber database answered with an unexpected body") from exc
        if not isinstance(registered, bool):
            raise SubscriberRegistryUnavailable("subscriber database answered with an unexpected body")
        return registered
