"""Idempotency keys: replay, conflict, concurrency, scoping."""

import asyncio

import asyncpg
import httpx

from tests.support.tokens import Mint


async def count(db: asyncpg.Pool) -> int:
    return int(await db.fetchval("SELECT count(*) FROM probe_things"))


async def test_replay_returns_the_stored_response_and_runs_once(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    headers = {"Idempotency-Key": "k-1"}
    first = await client.post("/_probe/things", json={"name": "a", "amount": 5}, headers=headers)
    second = await client.post("/_probe/things", json={"name": "a", "amount": 5}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert first.headers["idempotent-replayed"] == "false"
    assert second.headers["idempotent-replayed"] == "true"
    assert await count(db) == 1


async def test_same_key_different_body_is_refused(client: httpx.AsyncClient, db: asyncpg.Pool, mint: Mint) -> None:
    # An authenticated caller owns its keys; an anonymous key names one exact request.
    headers = {**(await mint(kind="citizen", subject="a")), "Idempotency-Key": "k-2"}
    await client.post("/_probe/things", json={"name": "a", "amount": 5}, headers=headers)
    r = await client.post("/_probe/things", json={"name": "a", "amount": 6}, headers=headers)
    assert r.status_code == 422
    assert r.json()["type"].endswith("/idempotency-key-reuse")
    assert await count(db) == 1


async def test_concurrent_requests_with_one_key_run_once(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    headers = {"Idempotency-Key": "k-3"}
    responses = await asyncio.gather(
        *(client.post("/_probe/things", json={"name": "c", "amount": 1}, headers=headers) for _ in range(8))
    )
    statuses = sorted(r.status_code for r in responses)
    assert await count(db) == 1
    assert set(statuses) <= {201, 409}
    assert statuses.count(201) >= 1
    for r in responses:
        if r.status_code == 409:
            assert r.json()["type"].endswith("/idempotency-in-progress")
            assert r.headers["retry-after"] == "1"


async def test_keys_are_scoped_to_the_caller(client: httpx.AsyncClient, db: asyncpg.Pool, mint: Mint) -> None:
    a = {**(await mint(kind="citizen", subject="a")), "Idempotency-Key": "same"}
    b = {**(await mint(kind="citizen", subject="b")), "Idempotency-Key": "same"}
    ra = await client.post("/_probe/things", json={"name": "a", "amount": 1}, headers=a)
    rb = await client.post("/_probe/things", json={"name": "b", "amount": 2}, headers=b)
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["id"] != rb.json()["id"]
    assert await count(db) == 2


async def test_errors_from_validation_are_stored_and_replayed(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "k-4"}
    first = await client.post("/_probe/things", json={"name": "a"}, headers=headers)
    second = await client.post("/_probe/things", json={"name": "a"}, headers=headers)
    assert first.status_code == second.status_code == 422
    assert second.headers["idempotent-replayed"] == "true"


async def test_server_errors_release_the_key(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    headers = {"Idempotency-Key": "k-5"}
    r = await client.post("/_probe/fail", headers=headers)
    assert r.status_code == 500
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'k-5'") == 0


async def test_invalid_key_is_refused(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    r = await client.post("/_probe/things", json={"name": "a", "amount": 1}, headers={"Idempotency-Key": "x" * 300})
    assert r.status_code == 422
    assert r.json()["type"].endswith("/idempotency-key-invalid")
    assert await count(db) == 0


async def test_posts_without_a_key_are_not_deduplicated(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    await client.post("/_probe/things", json={"name": "a", "amount": 1})
    await client.post("/_probe/things", json={"name": "a", "amount": 1})
    assert await count(db) == 2


async def test_a_stuck_claim_expires_and_can_be_retaken(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    # A process died mid-request long ago: its claim must not block the key forever.
    body = b'{"name":"s","amount":3}'
    first = await client.post(
        "/_probe/things", content=body, headers={"Idempotency-Key": "k-6", "content-type": "application/json"}
    )
    assert first.status_code == 201
    await db.execute(
        "UPDATE idempotency_keys SET state = 'in_progress', locked_until = now() - interval '1 minute'"
        " WHERE key = 'k-6'"
    )
    again = await client.post(
        "/_probe/things", content=body, headers={"Idempotency-Key": "k-6", "content-type": "application/json"}
    )
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "false"
