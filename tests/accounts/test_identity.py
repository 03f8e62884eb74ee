"""Level 2 by a police officer, children under 14 via a parent, deaths freeze accounts."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from tests.accounts.conftest import Person, add_person, register, sign_in
from wallet_api.auth.principal import Principal

POLICE = Principal(kind="officer", subject="7d3c0f8e-0000-4000-8000-000000000001", org_id="police-hanoi",
                   roles=frozenset({"police_officer"}))  # fmt: skip
WELFARE = Principal(kind="officer", subject="7d3c0f8e-0000-4000-8000-000000000002", org_id="welfare-hanoi",
                    roles=frozenset({"welfare_maker"}))  # fmt: skip
CHECKED = {"chip_card_checked": True, "biometrics_checked": True}


async def test_police_officer_raises_an_account_to_level_2(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, mint: Any
) -> None:
    phone = await register(client, redis, nhung)
    r = await client.post(
        "/v1/identity/level-2", json={"person_id": nhung.person_id, **CHECKED}, headers=await mint(POLICE)
    )
    assert r.status_code == 200
    assert r.json() == {"account_id": phone.account_id, "level": 2}
    audit = await db.fetchrow("SELECT actor, action, subject FROM audit_log WHERE action = 'account.level_raised'")
    assert audit["actor"] == f"officer:{POLICE.subject}" and audit["subject"] == f"account:{phone.account_id}"
    event = await db.fetchrow("SELECT payload FROM outbox WHERE topic = 'account.level_raised'")
    assert event is None or event["payload"] == {"account_id": phone.account_id, "level": 2}
    # The next sign-in carries level 2.
    assert (await sign_in(client, phone)).json()["level"] == 2


async def test_level_2_needs_both_checks(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person, mint: Any
) -> None:
    await register(client, redis, nhung)
    r = await client.post(
        "/v1/identity/level-2",
        json={"person_id": nhung.person_id, "chip_card_checked": True, "biometrics_checked": False},
        headers=await mint(POLICE),
    )
    assert r.status_code == 400
    assert r.json()["type"].endswith("/in-person-check-incomplete")


async def test_only_police_officers_raise_levels(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person, mint: Any
) -> None:
    phone = await register(client, redis, nhung)
    for headers in (await mint(WELFARE), phone.headers, {}):
        r = await client.post("/v1/identity/level-2", json={"person_id": nhung.person_id, **CHECKED}, headers=headers)
        assert r.status_code in (401, 403)


async def test_parent_manages_a_child_under_14(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, mint: Any
) -> None:
    child = await add_person(
        db, Person("001317002468", "Trần Ngọc Bảo Anh", date(2017, 6, 15), mother_id=nhung.person_id)
    )
    teen = await add_person(db, Person("001308002469", "Trần Minh Khôi", date(2008, 1, 5), mother_id=nhung.person_id))
    phone = await register(client, redis, nhung)
    listed = (await client.get("/v1/me/children", headers=phone.headers)).json()
    assert [c["person_id"] for c in listed] == [child.person_id]  # the 18-year-old is not a minor
    # Linking needs level 2.
    r = await client.post("/v1/me/children", json={"person_id": child.person_id}, headers=phone.headers)
    assert r.status_code == 403
    await client.post(
        "/v1/identity/level-2", json={"person_id": nhung.person_id, **CHECKED}, headers=await mint(POLICE)
    )
    await sign_in(client, phone)
    r = await client.post("/v1/me/children", json={"person_id": child.person_id}, headers=phone.headers)
    assert r.status_code == 201
    assert r.json()["managed_by_me"] is True
    row = await db.fetchrow(
        """SELECT g.guardian_account_id, g.until FROM account_guardians g
           JOIN accounts a ON a.id = g.child_account_id WHERE a.person_id = $1""",
        child.person_id,
    )
    assert str(row["guardian_account_id"]) == phone.account_id and row["until"] == date(2031, 6, 15)
    # Linking twice is harmless; a 14+ child registers alone.
    assert (
        await client.post("/v1/me/children", json={"person_id": child.person_id}, headers=phone.headers)
    ).status_code == 201
    r = await client.post("/v1/me/children", json={"person_id": teen.person_id}, headers=phone.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("/child-too-old")


async def test_guardian_may_act_for_the_child_and_nobody_else(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, minh: Person
) -> None:
    import uuid

    from wallet_api.accounts.access import managed_account_ids, may_act_for

    await add_person(db, Person("001317002468", "Trần Ngọc Bảo Anh", date(2017, 6, 15), mother_id=nhung.person_id))
    mum = await register(client, redis, nhung)
    other = await register(client, redis, minh)
    await db.execute("UPDATE accounts SET level = 2")
    await sign_in(client, mum)
    child_id = uuid.UUID(
        (await client.post("/v1/me/children", json={"person_id": "001317002468"}, headers=mum.headers)).json()[
            "account_id"
        ]
    )
    mum_p = Principal(kind="citizen", subject=mum.account_id or "", level=2)
    other_p = Principal(kind="citizen", subject=other.account_id or "", level=1)
    assert await may_act_for(db, mum_p, child_id)
    assert not await may_act_for(db, other_p, child_id)
    assert await managed_account_ids(db, mum_p) == [uuid.UUID(mum.account_id), child_id]


async def test_a_reported_death_freezes_the_account(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, mint: Any
) -> None:
    phone = await register(client, redis, nhung)
    r = await client.post(
        "/v1/identity/deaths", json={"person_id": nhung.person_id, "died_on": "2026-01-02"}, headers=await mint(POLICE)
    )
    assert r.status_code == 200 and r.json()["state"] == "frozen"
    assert await db.fetchval("SELECT status FROM population WHERE person_id = $1", nhung.person_id) == "deceased"
    # Sessions end, sign-in is refused with a clear reason.
    assert (await client.post("/v1/auth/refresh", json={"refresh_token": phone.refresh_token})).status_code == 401
    r = await sign_in(client, phone)
    assert r.status_code == 403 and r.json()["type"].endswith("/account-frozen")
    # Reporting again changes nothing.
    r = await client.post(
        "/v1/identity/deaths", json={"person_id": nhung.person_id, "died_on": "2026-01-02"}, headers=await mint(POLICE)
    )
    assert r.status_code == 200
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'account.frozen'") == 1
