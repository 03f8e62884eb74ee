"""Level-1 registration: matched against the registry, OTP to the phone, first device bound."""

from __future__ import annotations

from datetime import date

import asyncpg
import httpx
import redis.asyncio as aioredis

from tests.accounts.conftest import (
    Person,
    Phone,
    add_person,
    complete_with_a_guess,
    last_code,
    register,
    start_registration,
)

# Each refusal must look exactly like success to the caller: 202, same message, no hint.


async def _refused_silently(client: httpx.AsyncClient, redis: aioredis.Redis, person: Person, **override: str) -> None:
    r = await start_registration(client, person, **override)
    assert r.status_code == 202
    assert set(r.json()) == {"id", "expires_in", "message"}
    phone = override.get("phone", person.phone)
    assert await last_code(redis, phone) is None
    # Completing with any code fails like a wrong code.
    r2 = await complete_with_a_guess(client, r.json()["id"])
    assert r2.status_code == 401
    assert r2.json()["type"].endswith("/invalid-code")


async def test_registration_binds_the_first_device_and_signs_in(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    me = await client.get("/v1/me", headers=phone.headers)
    assert me.status_code == 200
    body = me.json()
    assert body["level"] == 1 and body["state"] == "active"
    assert body["full_name"] == nhung.full_name
    assert body["payout_locked_until"] is None
    stored = await db.fetchrow("SELECT person_id, phone, password_hash FROM accounts")
    assert stored["phone"] == "+84912000001"
    assert stored["password_hash"].startswith("$argon2id$")


async def test_names_match_without_diacritics_or_case(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    r = await start_registration(client, nhung, full_name="  NGUYEN thi hong   nhung ")
    assert r.status_code == 202
    assert await last_code(redis, nhung.phone) is not None


async def test_unknown_person_is_refused_silently(client: httpx.AsyncClient, redis: aioredis.Redis) -> None:
    ghost = Person("001195999999", "Nguyễn Văn Ma", date(1995, 1, 1), "female", "+84912999999")
    await _refused_silently(client, redis, ghost)


async def test_wrong_name_is_refused_silently(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> None:
    await _refused_silently(client, redis, nhung, full_name="Nguyễn Thị Lan")


async def test_wrong_birth_date_is_refused_silently(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    await _refused_silently(client, redis, nhung, date_of_birth="1995-04-22")


async def test_deceased_person_is_refused_silently(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool
) -> None:
    dead = await add_person(db, Person("046138009753", "Phạm Thị Lan", date(1938, 11, 30), status="deceased"))
    await _refused_silently(client, redis, dead)


async def test_child_under_14_is_refused_silently(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool
) -> None:
    child = await add_person(db, Person("001317002468", "Trần Ngọc Bảo Anh", date(2017, 6, 15), phone="+84912000009"))
    await _refused_silently(client, redis, child)


async def test_existing_account_is_refused_silently_and_owner_is_told_to_recover(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    await register(client, redis, nhung)
    await redis.delete(f"dev:sms:{nhung.phone}")
    r = await start_registration(client, nhung)
    assert r.status_code == 202
    from notifications.channels.sms.local import read_dev_sms

    texts = [str(m["text"]) for m in await read_dev_sms(redis, nhung.phone)]
    assert len(texts) == 1 and "Khôi phục" in texts[0]


async def test_malformed_or_inconsistent_id_numbers_are_422(client: httpx.AsyncClient, nhung: Person) -> None:
    for bad in ("00119500421", "999195004211", "001295004211", "001194004211", "001195004211x"):
        r = await start_registration(client, nhung, person_id=bad)
        assert r.status_code == 422, bad
        assert r.json()["type"].endswith("/validation")


async def test_malformed_phone_is_422(client: httpx.AsyncClient, nhung: Person) -> None:
    r = await start_registration(client, nhung, phone="+1 555 0100")
    assert r.status_code == 422


async def test_wrong_code_counts_and_the_code_dies_after_five_tries(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    r = await start_registration(client, nhung)
    reg_id = r.json()["id"]
    code = await last_code(redis, nhung.phone)
    wrong = "000000" if code != "000000" else "111111"
    device = Phone()
    body = {
        "password": "a long password",
        "device": device.device_body(),
        "signature": device.sign(f"citizen-wallet:bind:{reg_id}"),
    }
    for _ in range(5):
        r = await client.post(f"/v1/registrations/{reg_id}/complete", json={**body, "code": wrong})
        assert r.status_code == 401
    # Five failures also lock the person out of further codes for a while …
    r = await client.post(f"/v1/registrations/{reg_id}/complete", json={**body, "code": code})
    assert r.status_code == 429
    assert r.json()["type"].endswith("/locked-out")
    # … and even once the lock is gone, that code is dead.
    for key in await redis.keys("{lk:otp:*"):
        await redis.delete(key)
    r = await client.post(f"/v1/registrations/{reg_id}/complete", json={**body, "code": code})
    assert r.status_code == 401


async def test_device_must_prove_its_key(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> None:
    r = await start_registration(client, nhung)
    reg_id = r.json()["id"]
    code = await last_code(redis, nhung.phone)
    device, other = Phone(), Phone()
    r = await client.post(
        f"/v1/registrations/{reg_id}/complete",
        json={
            "code": code,
            "password": "a long password",
            "device": device.device_body(),
            "signature": other.sign(f"citizen-wallet:bind:{reg_id}"),
        },
    )
    assert r.status_code == 401
    assert r.json()["type"].endswith("/bad-device-signature")
    # The code was not burnt by the bad signature.
    r = await client.post(
        f"/v1/registrations/{reg_id}/complete",
        json={
            "code": code,
            "password": "a long password",
            "device": device.device_body(),
            "signature": device.sign(f"citizen-wallet:bind:{reg_id}"),
        },
    )
    assert r.status_code == 201


async def test_private_key_material_is_refused(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> None:
    r = await start_registration(client, nhung)
    reg_id = r.json()["id"]
    device = Phone()
    jwk = {**device.jwk, "d": "AAAA"}
    r = await client.post(
        f"/v1/registrations/{reg_id}/complete",
        json={
            "code": "123456",
            "password": "a long password",
            "device": {"public_jwk": jwk, "name": "x"},
            "signature": device.sign(f"citizen-wallet:bind:{reg_id}"),
        },
    )
    assert r.status_code == 422


async def test_registration_attempts_per_person_are_limited(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    statuses = [(await start_registration(client, nhung)).status_code for _ in range(6)]
    assert statuses[:5] == [202] * 5
    assert statuses[5] == 429
