"""A new phone: password + SMS code to the registered number, notification, payout cooling-off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from tests.accounts.conftest import Person, Phone, last_code, register, register_phone, sign_in


async def _bind(
    client: httpx.AsyncClient, redis: aioredis.Redis, p: Person, phone: Phone, password: str | None = None
) -> httpx.Response:
    await redis.delete(f"dev:sms:{p.phone}")
    r = await client.post(
        "/v1/device-bindings",
        json={"person_id": p.person_id, "phone": p.phone, "password": password or p.password},
    )
    assert r.status_code == 202
    binding_id = r.json()["id"]
    code = await last_code(redis, p.phone) or "000000"
    return await client.post(
        f"/v1/device-bindings/{binding_id}/complete",
        json={
            "code": code,
            "device": phone.device_body(),
            "signature": phone.sign(f"citizen-wallet:bind:{binding_id}"),
        },
    )


async def test_new_phone_binds_with_password_and_code_and_payouts_cool_off(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    old = await register(client, redis, nhung)
    new = Phone(name="iPhone 15")
    r = await _bind(client, redis, nhung, new)
    assert r.status_code == 201, r.text
    new.take(r.json())
    assert new.account_id == old.account_id and new.device_id != old.device_id
    me = (await client.get("/v1/me", headers=new.headers)).json()
    locked = datetime.fromisoformat(me["payout_locked_until"])
    assert locked > datetime.now(UTC) + timedelta(hours=71)
    # The other devices are told (through the outbox, if notifications consume the topic).
    consumers = await db.fetchval("SELECT count(*) FROM outbox WHERE topic = 'account.device_bound'")
    from wallet_api.outbox import consumers_for

    assert consumers == len(consumers_for("account.device_bound"))
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'device.bound'") == 1
    # Both devices can sign in; the list shows both.
    assert (await sign_in(client, old)).status_code == 200
    names = {d["name"] for d in (await client.get("/v1/devices", headers=new.headers)).json()}
    assert names == {"Pixel 8", "iPhone 15"}


async def test_wrong_password_sends_no_code_and_answers_the_same(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    await register(client, redis, nhung)
    await redis.delete(f"dev:sms:{nhung.phone}")
    r = await client.post(
        "/v1/device-bindings", json={"person_id": nhung.person_id, "phone": nhung.phone, "password": "wrong password"}
    )
    assert r.status_code == 202
    assert await last_code(redis, nhung.phone) is None
    r2 = await client.post(
        "/v1/device-bindings", json={"person_id": "001195999999", "phone": nhung.phone, "password": "wrong password"}
    )
    assert r2.status_code == 202 and set(r2.json()) == set(r.json())


async def test_wrong_passwords_lock_binding_for_that_person(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    await register(client, redis, nhung)
    body = {"person_id": nhung.person_id, "phone": nhung.phone, "password": "wrong password"}
    for _ in range(5):
        assert (await client.post("/v1/device-bindings", json=body)).status_code == 202
    r = await client.post("/v1/device-bindings", json={**body, "password": nhung.password})
    assert r.status_code == 429 and r.json()["type"].endswith("/locked-out")


async def test_binding_to_another_phone_number_sends_nothing(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    await register(client, redis, nhung)
    r = await client.post(
        "/v1/device-bindings", json={"person_id": nhung.person_id, "phone": "+84987654321", "password": nhung.password}
    )
    assert r.status_code == 202
    assert await last_code(redis, "+84987654321") is None


async def test_rename_and_revoke_devices(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> None:
    old = await register(client, redis, nhung)
    new = Phone(name="iPhone 15")
    new.take((await _bind(client, redis, nhung, new)).json())
    r = await client.patch(f"/v1/devices/{old.device_id}", json={"name": "Old Pixel"}, headers=new.headers)
    assert r.status_code == 204 or r.status_code == 200
    # Lost phone: the new one (freshly signed) revokes it; its refresh token and sign-in stop working.
    r = await client.delete(f"/v1/devices/{old.device_id}", headers=new.headers)
    assert r.status_code == 204
    assert (await client.post("/v1/auth/refresh", json={"refresh_token": old.refresh_token})).status_code == 401
    assert (await sign_in(client, old)).status_code == 401
    listed = (await client.get("/v1/devices", headers=new.headers)).json()
    assert [(d["name"], d["current"]) for d in listed] == [("iPhone 15", True)]


async def test_pairing_a_second_phone_needs_a_fresh_signature_and_is_single_use(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, mint: Any
) -> None:
    old = await register(client, redis, nhung)
    stale = await mint(kind="citizen", subject=old.account_id, level=1, device_id=old.device_id, auth_time=1)
    assert (await client.post("/v1/devices/pairings", headers=stale)).status_code == 401
    r = await client.post("/v1/devices/pairings", headers=old.headers)
    assert r.status_code == 201
    pairing_id = r.json()["id"]
    new = Phone(name="Tablet")
    body = {"device": new.device_body(), "signature": new.sign(f"citizen-wallet:bind:{pairing_id}")}
    r = await client.post(f"/v1/devices/pairings/{pairing_id}/complete", json=body)
    assert r.status_code == 201
    new.take(r.json())
    assert new.account_id == old.account_id
    assert await db.fetchval("SELECT payout_locked_until > now() FROM accounts") is True
    again = await client.post(f"/v1/devices/pairings/{pairing_id}/complete", json=body)
    assert again.status_code == 401 and again.json()["type"].endswith("/invalid-pairing")


async def test_changing_phone_needs_the_new_numbers_code_and_cools_off_payouts(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    await register_phone(db, "+84987654321", nhung.person_id)  # her second SIM
    r = await client.post("/v1/me/phone", json={"phone": "0987 654 321"}, headers=phone.headers)
    assert r.status_code == 202
    change_id = r.json()["id"]
    code = await last_code(redis, "+84987654321")
    assert code is not None
    wrong = "000000" if code != "000000" else "111111"
    r = await client.post(f"/v1/me/phone/{change_id}/confirm", json={"code": wrong}, headers=phone.headers)
    assert r.status_code == 401
    r = await client.post(f"/v1/me/phone/{change_id}/confirm", json={"code": code}, headers=phone.headers)
    assert r.status_code == 200
    assert r.json()["phone_hint"].endswith("321") and r.json()["payout_locked_until"]
    assert await db.fetchval("SELECT phone FROM accounts") == "+84987654321"
