"""Adapter for a real population registry over HTTPS.

Protocol (JSON, bearer token)::

    GET  {base}/persons/{person_id}           200 person | 404
    GET  {base}/persons/{person_id}/children  200 {"children": [person, ...]}
    POST {base}/persons/lookup  {"person_ids": [...]}  200 {"persons": [person, ...]}  (those it has;
         at most 1,000 numbers per request)

A person has the fields of :class:`Person` (dates as ISO ``YYYY-MM-DD``). Anything other
than 200/404, or no answer, raises :class:`RegistryUnavailable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from wallet_api.accounts.registry.base import Person, RegistryUnavailable

__all__ = ["HttpRegistry"]

#: Person numbers per bulk lookup request.
LOOKUP_CHUNK = 1000


class HttpRegistry:
    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str, *, timeout: float = 3.0) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout

    async def _get(self, path: str, json: Any = None) -> Any | None:
        """GET ``path``, or POST ``json`` to it."""
        try:
            r = await self._http.request(
                "GET" if json is None else "POST",
                self._base + path,
                json=json,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
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

    async def lookup_many(self, person_ids: Sequence[str]) -> dict[str, Person]:
        asked = set(person_ids)
        wanted = sorted(asked)
        found: dict[str, Person] = {}
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            body = await self._get("/persons/lookup", {"person_ids": wanted[start : start + LOOKUP_CHUNK]})
            try:
                people = [Person.from_mapping(p) for p in (body or {})["persons"]]
            except (KeyError, TypeError, ValueError) as exc:
                raise RegistryUnavailable("registry answered with an unexpected person list") from exc
            found.update((p.person_id, p) for p in people if p.person_id in asked)
        return found
