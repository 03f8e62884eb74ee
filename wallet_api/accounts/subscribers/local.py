"""The subscriber database's local implementation: the ``mobile_subscribers`` table."""

from __future__ import annotations

import asyncpg

__all__ = ["LocalSubscriberRegistry"]


class LocalSubscriberRegistry:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def is_registered_to(self, phone: str, person_id: str) -> bool:
        found = await self._pool.fetchval(
            "SELECT 1 FROM mobile_subscribers WHERE phone = $1 AND person_id = $2", phone, person_id
        )
        return found is not None
