"""A family for guardianship tests: a child under 14 whose mother and father the registry
records, both parents registered in the app and raised to level 2 by a police officer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from tests.accounts.conftest import MINH, NHUNG, Person, Phone, add_person, register, sign_in
from wallet_api.auth.principal import Principal

POLICE = Principal(kind="officer", subject="7d3c0f8e-0000-4000-8000-000000000001", org_id="police-hanoi",
                   roles=frozenset({"police_officer"}))  # fmt: skip


@dataclass
class Family:
    mum: Phone
    dad: Phone
    child: Person


async def family_at_level_2(client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, mint: Any) -> Family:
    mother = await add_person(db, Person(**NHUNG.__dict__))
    father = await add_person(db, Person(**MINH.__dict__))
    born = date(2017, 6, 15)
    child = Person("001317002468", "Trần Ngọc Bảo Anh", born, father_id=father.person_id, mother_id=mother.person_id)
    await add_person(db, child)
    phones = []
    for parent in (mother, father):
        phone = await register(client, redis, parent)
        r = await client.post(
            "/v1/identity/level-2",
            json={"person_id": parent.person_id, "chip_card_checked": True, "biometrics_checked": True},
            headers=await mint(POLICE),
        )
        assert r.status_code == 200, r.text
        assert (await sign_in(client, phone)).status_code == 200  # a level-2 token
        phones.append(phone)
    return Family(mum=phones[0], dad=phones[1], child=child)


async def link(client: httpx.AsyncClient, parent: Phone, child: Person) -> httpx.Response:
    return await client.post("/v1/me/children", json={"person_id": child.person_id}, headers=parent.headers)


async def children(client: httpx.AsyncClient, parent: Phone) -> list[dict[str, Any]]:
    r = await client.get("/v1/me/children", headers=parent.headers)
    assert r.status_code == 200, r.text
    listed: list[dict[str, Any]] = r.json()
    return listed
