"""The registry's local implementation: the ``population`` table (filled by ``wallet seed``)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from wallet_api.accounts.registry.base import Person

__all__ = ["LocalRegistry"]

_COLUMNS = """person_id, full_name, date_of_birth, sex, place_of_origin, residence_address,
              residence_province, status, died_on, father_id, mother_id"""


class LocalRegistry:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def lookup(self, person_id: str) -> Person | None:
        row = await self._pool.fetchrow(f"SELECT {_COLUMNS} FROM population WHERE person_id = $1", person_id)
        return Person.from_mapping(row) if row is not None else None

    async def children_of(self, person_id: str) -> list[Person]:
        rows = await self._pool.fetch(
            f"""SELECT {_COLUMNS} FROM population WHERE father_id = $1
                UNION SELECT {_COLUMNS} FROM population WHERE mother_id = $1
                ORDER BY date_of_birth""",
            person_id,
        )
        return [Person.from_mapping(r) for r in rows]

    async def lookup_many(self, person_ids: Sequence[str]) -> dict[str, Person]:
        # bpchar[] so that the comparison uses the primary key's own type (and index).
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM population WHERE person_id = ANY($1::bpchar[])", list(set(person_ids))
        )
        return {str(r["person_id"]): Person.from_mapping(r) for r in rows}
