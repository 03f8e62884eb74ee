"""Adapter for a real population registry over HTTPS.

Protocol (JSON, bearer token)::

    GET {base}/persons/{person_id}           200 person | 404
    GET {base}/persons/{person_id}/children  200 {"children": [person, ...]}

A person has the fields of :class:`Person` (dates as ISO ``YYYY-MM-DD``). Anything other
than 200/404, or no answer, raises :class:`RegistryUnavailable`.
"""

from __future__ import annotations

from typing import Any

import httpx

from wallet_api.accounts.registry.base import Person, RegistryUnavailable

__all__ = ["HttpRegistry"]


class HttpRegistry:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, *, timeout: float = 3.0) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    async def _get(self, path: str) -> Any | None:
        try:
            r = await self._http.get(
                self._base + path, headers={"Authorization": f"Bearer {self._token}"}, timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise RegistryUnavailable(type(exc).__name__) from exc
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise RegistryUnavailable(f"registry answered {r.status_code}")
        try:
            return r.json()
        except ValueError as exc:
            raise RegistryUnavailable("registry answered with invalid JSON") from exc

    async def lookup(self, person_id: str) -> Person | None:
        body = await self._get(f"/persons/{person_id}")
        if body is None:
            return None
        try:
            return Person.from_mapping(body)
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryUnavailable("registry answered with an unexpected person record") from exc

    async def children_of(self, person_id: str) -> list[Person]:
        body = await self._get(f"/persons/{person_id}/children")
        if body is None:
            return []
        try:
            return [Person.from_mapping(c) for c in body["children"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise RegistryUnavailable("registry answered with an unexpected children list") from exc
