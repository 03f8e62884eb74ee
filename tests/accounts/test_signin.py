"""Device-bound sign-in: single-use challenges, signatures, refresh rotation, step-up."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from tests.accounts.conftest import Person, Phone, register, sign_in, step_up
from wallet_api.accounts.device_keys import challenge_key


async def _challenge(client: httpx.AsyncClient, phone: Phone, purpose: str = "sign-in") -> dict[str, str]:
    r = await client.post("/v1/auth/challenges", json={"device_id": phone.device_id, "purpose": purpose})
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


async def test_device_signature_signs_in(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> None:
    phone = await register(client, redis, nhung)
    r = await sign_in(client, phone)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "Bearer" and body["level"] == 1
    assert body["refresh_token"].startswith("cwr_")
    assert (await client.get("/v1/me", headers=phone.headers)).status_code == 200


async def test_access_token_carries_account_not_id_number(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    import jwt

    phone = await register(client, redis, nhung)
    claims = jwt.decode(phone.access_token or "", options={"verify_signature": False})
    assert claims["sub"] == phone.account_id and claims["dev"] == phone.device_id and claims["lvl"] == 1
    assert nhung.person_id not in (phone.access_token or "")
    assert jwt.get_unverified_header(phone.access_token or "")["kid"]


async def test_replayed_challenge_is_refused(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> None:
    phone = await register(client, redis, nhung)
    c = await _challenge(client, phone)
    body = {"device_id": phone.device_id, "challenge": c["challenge"], "signature": phone.sign(c["sign"])}
    assert (await client.post("/v1/auth/sign-in", json=body)).status_code == 200
    again = await client.post("/v1/auth/sign-in", json=body)
    assert again.status_code == 401
    assert again.json()["type"].endswith("/invalid-challenge")


async def test_expired_challenge_is_refused(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> None:
    phone = await register(client, redis, nhung)
    c = await _challenge(client, phone)
    assert phone.device_id is not None
    await redis.delete(challenge_key(c["challenge"], phone.device_id))  # what the TTL does after 60 s
    r = await client.post(
        "/v1/auth/sign-in",
        json={"device_id": phone.device_id, "challenge": c["challenge"], "signature": phone.sign(c["sign"])},
    )
    assert r.status_code == 401
    assert r.json()["type"].endswith("/invalid-challenge")


async def test_challenge_ttl_is_short(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> None:
    phone = await register(client, redis, nhung)
    c = await _challenge(client, phone)
    assert phone.device_id is not None
    assert 0 < await redis.ttl(challenge_key(c["challenge"], phone.device_id)) <= 60


async def test_challenge_for_another_device_is_refused(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person, minh: Person
) -> None:
    a = await register(client, redis, nhung)
    b = await register(client, redis, minh)
    c = await _challenge(client, a)
    r = await client.post(
        "/v1/auth/sign-in", json={"device_id": b.device_id, "challenge": c["challenge"], "signature": b.sign(c["sign"])}
    )
    assert r.status_code == 401


async def test_step_up_challenge_cannot_sign_in(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    c = await _challenge(client, phone, "step-up")
    r = await client.post(
        "/v1/auth/sign-in",
        json={"device_id": phone.device_id, "challenge": c["challenge"], "signature": phone.sign(c["sign"])},
    )
    assert r.status_code == 401


async def test_wrong_key_signature_is_refused(client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person) -> None:
    phone = await register(client, redis, nhung)
    c = await _challenge(client, phone)
    thief = Phone()
    r = await client.post(
        "/v1/auth/sign-in",
        json={"device_id": phone.device_id, "challenge": c["challenge"], "signature": thief.sign(c["sign"])},
    )
    assert r.status_code == 401
    assert r.json()["type"].endswith("/sign-in-failed")


async def test_unknown_device_is_refused(client: httpx.AsyncClient) -> None:
    ghost = Phone(device_id="6f1d8a4e-1b7c-4e0a-9d67-2f3a8b5c9e01")
    r = await sign_in(client, ghost)
    assert r.status_code == 401


async def test_repeated_bad_signatures_lock_the_device(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    thief = Phone()
    for _ in range(10):
        c = await _challenge(client, phone)
        r = await client.post(
            "/v1/auth/sign-in",
            json={"device_id": phone.device_id, "challenge": c["challenge"], "signature": thief.sign(c["sign"])},
        )
        assert r.status_code == 401
    r = await sign_in(client, phone)
    assert r.status_code == 429
    assert r.json()["type"].endswith("/locked-out")
    assert int(r.headers["retry-after"]) > 0


async def test_refresh_rotates_and_reuse_revokes_the_family(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    first = phone.refresh_token
    r = await client.post("/v1/auth/refresh", json={"refresh_token": first})
    assert r.status_code == 200
    second = r.json()["refresh_token"]
    assert second != first
    # The thief replays the old token: refused, and the whole family dies …
    r = await client.post("/v1/auth/refresh", json={"refresh_token": first})
    assert r.status_code == 401
    assert r.json()["type"].endswith("/invalid-refresh-token")
    # … including the legitimate holder's newer token.
    r = await client.post("/v1/auth/refresh", json={"refresh_token": second})
    assert r.status_code == 401
    assert await db.fetchval("SELECT revoked_why FROM refresh_families") == "reuse"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'session.refresh_reuse'") == 1
    # Signing in again with the device works.
    assert (await sign_in(client, phone)).status_code == 200


async def test_concurrent_use_of_one_refresh_token_rotates_once_and_revokes_the_family(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    body = {"refresh_token": phone.refresh_token}
    replies = await asyncio.gather(*(client.post("/v1/auth/refresh", json=body) for _ in range(4)))
    assert sorted(r.status_code for r in replies) == [200, 401, 401, 401]
    assert await db.fetchval("SELECT count(*) FROM refresh_tokens") == 2  # the first and one successor
    assert await db.fetchval("SELECT revoked_why FROM refresh_families") == "reuse"
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'session.refresh_reuse'") == 1


async def test_refresh_tokens_are_stored_hashed(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    stored = [bytes(r["token_hash"]) for r in await db.fetch("SELECT token_hash FROM refresh_tokens")]
    assert stored and all(len(h) == 32 for h in stored)
    assert (phone.refresh_token or "").encode() not in b"".join(stored)


async def test_refresh_does_not_make_a_session_fresh(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    import jwt

    phone = await register(client, redis, nhung)
    await db.execute("UPDATE refresh_families SET auth_time = now() - interval '1 hour'")
    r = await client.post("/v1/auth/refresh", json={"refresh_token": phone.refresh_token})
    claims = jwt.decode(r.json()["access_token"], options={"verify_signature": False})
    assert claims["iat"] - claims["auth_time"] >= 3590


async def test_step_up_gives_a_fresh_auth_time(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, mint: Any
) -> None:
    phone = await register(client, redis, nhung)
    # An old session (device signed long ago) cannot revoke a device …
    stale = await mint(
        kind="citizen", subject=phone.account_id, level=1, device_id=phone.device_id, auth_time=1_600_000_000
    )
    r = await client.delete(f"/v1/devices/{phone.device_id}", headers=stale)
    assert r.status_code == 401
    assert r.json()["type"].endswith("/step-up-required")
    # … until it steps up with a fresh device signature.
    phone.access_token = stale["Authorization"].split()[1]
    await step_up(client, phone)
    r = await client.get("/v1/devices", headers=phone.headers)
    assert r.status_code == 200
    r = await client.delete(f"/v1/devices/{phone.device_id}", headers=phone.headers)
    assert r.status_code == 204


async def test_step_up_with_another_devices_signature_fails(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    c = await _challenge(client, phone, "step-up")
    r = await client.post(
        "/v1/auth/step-up",
        json={"challenge": c["challenge"], "signature": Phone().sign(c["sign"])},
        headers=phone.headers,
    )
    assert r.status_code == 401


async def test_sign_out_everywhere_ends_every_refresh_family(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    old_refresh = phone.refresh_token
    await sign_in(client, phone)
    r = await client.post("/v1/auth/sign-out-everywhere", headers=phone.headers)
    assert r.status_code == 204
    for token in (old_refresh, phone.refresh_token):
        assert (await client.post("/v1/auth/refresh", json={"refresh_token": token})).status_code == 401


async def test_sign_out_ends_this_device_session(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    assert (await client.post("/v1/auth/sign-out", headers=phone.headers)).status_code == 204
    r = await client.post("/v1/auth/refresh", json={"refresh_token": phone.refresh_token})
    assert r.status_code == 401


async def test_old_refresh_families_are_purged(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    from types import SimpleNamespace

    from wallet_api.accounts.sessions import purge_old_sessions

    phone = await register(client, redis, nhung)
    await sign_in(client, phone)
    await db.execute(
        """UPDATE refresh_families SET revoked_at = now() - interval '8 days'
           WHERE id = (SELECT id FROM refresh_families ORDER BY created_at LIMIT 1)"""
    )
    assert await purge_old_sessions(SimpleNamespace(pool=db)) == 1  # type: ignore[arg-type]
    assert await db.fetchval("SELECT count(*) FROM refresh_families") == 1
    assert (await client.post("/v1/auth/refresh", json={"refresh_token": phone.refresh_token})).status_code == 200


async def test_challenges_per_device_are_limited(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    statuses = [
        (await client.post("/v1/auth/challenges", json={"device_id": phone.device_id})).status_code for _ in range(31)
    ]
    assert statuses[:30] == [200] * 30 and statuses[30] == 429
