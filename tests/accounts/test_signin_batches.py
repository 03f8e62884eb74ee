"""Concurrent sign-ins share PostgreSQL statements (one device read and one session insert per
batch): each sign-in still gets its own answer, and one bad sign-in fails alone."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from tests.accounts.conftest import Person, Phone, register
from wallet_api.accounts.sessions import NewSession, session_store
from wallet_api.accounts.signin import _DEVICES
from wallet_api.batching import Batchers
from wallet_api.keys.provider import jwk_thumbprint


async def _extra_phone(db: asyncpg.Pool, account_id: str) -> Phone:
    """Another bound phone of ``account_id`` (written straight to the table, as a binding would)."""
    phone = Phone(account_id=account_id)
    phone.device_id = str(
        await db.fetchval(
            "INSERT INTO devices (account_id, name, public_jwk) VALUES ($1, 'spare', $2) RETURNING id",
            uuid.UUID(account_id),
            {**phone.jwk, "kid": jwk_thumbprint(phone.jwk)},
        )
    )
    return phone


async def _challenge(client: httpx.AsyncClient, phone: Phone) -> dict[str, str]:
    r = await client.post("/v1/auth/challenges", json={"device_id": phone.device_id})
    assert r.status_code == 200
    return r.json()  # type: ignore[no-any-return]


async def test_concurrent_sign_ins_each_get_their_own_answer(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, minh: Person
) -> None:
    first = await register(client, redis, nhung)
    assert first.account_id is not None
    good = [first, *[await _extra_phone(db, first.account_id) for _ in range(5)]]
    forged = [await _extra_phone(db, first.account_id) for _ in range(3)]
    revoked = [await _extra_phone(db, first.account_id) for _ in range(2)]
    frozen = [await register(client, redis, minh)]
    assert frozen[0].account_id is not None
    frozen.append(await _extra_phone(db, frozen[0].account_id))
    await db.execute("UPDATE devices SET revoked_at = now() WHERE id = ANY($1::uuid[])", [p.device_id for p in revoked])
    await db.execute(
        "UPDATE accounts SET state = 'frozen', frozen_reason = 'officer' WHERE id = $1::uuid", frozen[0].account_id
    )
    existing = await db.fetchval("SELECT array_agg(id) FROM refresh_families")

    phones = good + forged + revoked + frozen
    challenges = [await _challenge(client, p) for p in phones]
    thief = Phone()
    bodies = [
        {
            "device_id": p.device_id,
            "challenge": c["challenge"],
            "signature": (thief if p in forged else p).sign(c["sign"]),
        }
        for p, c in zip(phones, challenges, strict=True)
    ]
    replies = await asyncio.gather(*(client.post("/v1/auth/sign-in", json=b) for b in bodies))

    for phone, reply in zip(phones, replies, strict=True):
        if phone in good:
            assert reply.status_code == 200, reply.text
            body = reply.json()
            assert body["device_id"] == phone.device_id and body["account_id"] == first.account_id
            phone.take(body)
        elif phone in frozen:
            assert reply.status_code == 403 and reply.json()["type"].endswith("/account-frozen")
        else:
            assert reply.status_code == 401 and reply.json()["type"].endswith("/sign-in-failed")
    # A session (refresh family) for each good sign-in, on its own device, and none for the others.
    families = await db.fetch("SELECT device_id FROM refresh_families WHERE id <> ALL($1::uuid[])", existing)
    assert sorted(str(f["device_id"]) for f in families) == sorted(str(p.device_id) for p in good)
    # Each phone's refresh token is its own: it rotates into a session of the same device.
    for phone in good:
        r = await client.post("/v1/auth/refresh", json={"refresh_token": phone.refresh_token})
        assert r.status_code == 200 and r.json()["device_id"] == phone.device_id


async def test_one_batch_reads_each_device_into_its_own_answer(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    assert phone.account_id is not None and phone.device_id is not None
    other = await _extra_phone(db, phone.account_id)
    reader = Batchers().row_reader(db, _DEVICES)
    ids = [uuid.UUID(phone.device_id), uuid.uuid4(), uuid.UUID(str(other.device_id)), uuid.UUID(phone.device_id)]
    rows = await asyncio.gather(*(reader.submit((i,)) for i in ids))
    assert rows[1] is None
    assert [r["public_jwk"]["x"] for r in (rows[0], rows[2], rows[3]) if r] == [
        phone.jwk["x"],
        other.jwk["x"],
        phone.jwk["x"],
    ]


async def test_a_session_that_cannot_be_stored_fails_alone(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    assert phone.account_id is not None and phone.device_id is not None
    account, device = uuid.UUID(phone.account_id), uuid.UUID(phone.device_id)
    await db.execute("UPDATE refresh_families SET revoked_at = now() WHERE account_id = $1", account)
    store = session_store(Batchers(), db)
    sessions = [NewSession(account, device, 1_700_000_000, 30) for _ in range(3)]
    sessions.insert(1, NewSession(account, uuid.uuid4(), 1_700_000_000, 30))  # no such device
    outcomes = await asyncio.gather(*(store.submit(s) for s in sessions), return_exceptions=True)

    assert isinstance(outcomes[1], asyncpg.ForeignKeyViolationError)
    tokens = [o for i, o in enumerate(outcomes) if i != 1]
    assert all(isinstance(t, str) and t.startswith("cwr_") for t in tokens) and len(set(tokens)) == 3
    assert await db.fetchval("SELECT count(*) FROM refresh_families WHERE revoked_at IS NULL") == 3
    for token in tokens:
        r = await client.post("/v1/auth/refresh", json={"refresh_token": token})
        assert r.status_code == 200 and r.json()["device_id"] == phone.device_id


@pytest.mark.parametrize("stale", [True, False])
async def test_last_seen_is_written_at_most_once_a_minute_per_device(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, stale: bool
) -> None:
    phone = await register(client, redis, nhung)
    assert phone.account_id is not None and phone.device_id is not None
    before = "now() - interval '2 minutes'" if stale else "now() - interval '10 seconds'"
    seen = await db.fetchval(
        f"UPDATE devices SET last_seen_at = {before} WHERE id = $1::uuid RETURNING last_seen_at", phone.device_id
    )
    store = session_store(Batchers(), db)
    new = NewSession(uuid.UUID(phone.account_id), uuid.UUID(phone.device_id), 1_700_000_000, 30)
    await asyncio.gather(*(store.submit(new) for _ in range(3)))  # one batch naming the device three times
    after = await db.fetchval("SELECT last_seen_at FROM devices WHERE id = $1::uuid", phone.device_id)
    assert (after > seen) is stale
