"""The sign-in routes served directly (wallet_api/direct_json.py) answer as Litestar does.

A request whose body comes without ``Content-Length`` (streamed in chunks) is parsed by
Litestar itself, so the two ways can be compared on the same routes; here it also carries an
``Idempotency-Key``, so that the idempotency layer is on that side too. Ordinary requests
take the direct way.
"""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from tests.accounts.conftest import Person, Phone, register
from tests.documents.test_verification_fastpath import _same_headers, through_litestar


async def _sign_in(
    client: httpx.AsyncClient, phone: Phone, *, litestar: bool, signer: Phone | None = None
) -> tuple[httpx.Response, httpx.Response]:
    """A challenge and a sign-in, both direct or both through Litestar (an Idempotency-Key each)."""

    def post(path: str, body: dict[str, Any]) -> Any:
        return client.post(path, **through_litestar(body)) if litestar else client.post(path, json=body)

    challenge = await post("/v1/auth/challenges", {"device_id": phone.device_id})
    c = challenge.json()
    body = {"device_id": phone.device_id, "challenge": c["challenge"], "signature": (signer or phone).sign(c["sign"])}
    return challenge, await post("/v1/auth/sign-in", body)


def _problem(r: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = r.json()
    assert body.pop("request_id") == r.headers["x-request-id"]
    return body


async def test_a_sign_in_answers_the_same_on_both_paths(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    fast = await _sign_in(client, phone, litestar=False)
    slow = await _sign_in(client, phone, litestar=True)
    for a, b in zip(fast, slow, strict=True):
        assert a.status_code == b.status_code == 200, (a.text, b.text)
        _same_headers(a, b)
        assert a.json().keys() == b.json().keys()
    a, b = fast[1].json(), slow[1].json()
    for varying in ("access_token", "refresh_token"):
        assert a.pop(varying) != b.pop(varying)
    assert a == b and a["device_id"] == phone.device_id
    for session in (fast[1].json(), slow[1].json()):
        me = await client.get("/v1/me", headers={"Authorization": f"Bearer {session['access_token']}"})
        assert me.status_code == 200
        refreshed = await client.post("/v1/auth/refresh", json={"refresh_token": session["refresh_token"]})
        assert refreshed.status_code == 200


@pytest.mark.parametrize("case", ["forged", "revoked", "frozen", "unknown-device"])
async def test_a_refused_sign_in_is_the_same_problem_on_both_paths(
    client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool, nhung: Person, case: str
) -> None:
    phone = await register(client, redis, nhung)
    signer = Phone() if case == "forged" else None
    if case == "revoked":
        await db.execute("UPDATE devices SET revoked_at = now() WHERE id = $1::uuid", phone.device_id)
    if case == "frozen":
        await db.execute(
            "UPDATE accounts SET state = 'frozen', frozen_reason = 'deceased' WHERE id = $1::uuid", phone.account_id
        )
    if case == "unknown-device":
        phone = Phone(device_id=str(uuid.uuid4()))
    _, fast = await _sign_in(client, phone, litestar=False, signer=signer)
    _, slow = await _sign_in(client, phone, litestar=True, signer=signer)
    assert fast.status_code == slow.status_code == (403 if case == "frozen" else 401)
    _same_headers(fast, slow)
    assert _problem(fast) == _problem(slow)


async def test_a_used_challenge_is_the_same_problem_on_both_paths(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person
) -> None:
    phone = await register(client, redis, nhung)
    c = (await client.post("/v1/auth/challenges", json={"device_id": phone.device_id})).json()
    body = {"device_id": phone.device_id, "challenge": c["challenge"], "signature": phone.sign(c["sign"])}
    assert (await client.post("/v1/auth/sign-in", json=body)).status_code == 200
    fast = await client.post("/v1/auth/sign-in", json=body)
    slow = await client.post("/v1/auth/sign-in", **through_litestar(body))
    assert fast.status_code == slow.status_code == 401
    _same_headers(fast, slow)
    assert _problem(fast) == _problem(slow)
    assert _problem(fast)["type"].endswith("/invalid-challenge")


@pytest.mark.parametrize("body", [{}, {"device_id": "not-a-uuid"}, {"device_id": str(uuid.UUID(int=1)), "extra": 1}])
async def test_a_malformed_challenge_request_gets_litestars_answer(client: httpx.AsyncClient, body: Any) -> None:
    fast = await client.post("/v1/auth/challenges", json=body)
    slow = await client.post("/v1/auth/challenges", **through_litestar(body))
    assert fast.status_code == slow.status_code and 400 <= fast.status_code < 500
    _same_headers(fast, slow)
    assert _problem(fast) == _problem(slow)


async def test_a_bad_token_on_a_public_route_is_still_refused(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/v1/auth/challenges", json={"device_id": str(uuid.uuid4())}, headers={"Authorization": "Bearer not-a-token"}
    )
    assert r.status_code == 401 and r.json()["type"].endswith("/unauthorized")


async def test_without_redis_both_paths_say_unavailable_and_sign_in_works_again(
    client: httpx.AsyncClient, redis: aioredis.Redis, nhung: Person, servers: Any
) -> None:
    """Challenges live only in Redis: while it is down, either path answers 503 (never a 500)."""
    if servers.redis is None:
        pytest.skip("needs the embedded Redis to stop it")
    phone = await register(client, redis, nhung)
    c = (await client.post("/v1/auth/challenges", json={"device_id": phone.device_id})).json()
    body = {"device_id": phone.device_id, "challenge": c["challenge"], "signature": phone.sign(c["sign"])}
    servers.redis.stop()
    try:
        for path, payload in (("/v1/auth/challenges", {"device_id": phone.device_id}), ("/v1/auth/sign-in", body)):
            fast = await client.post(path, json=payload)
            slow = await client.post(path, **through_litestar(payload))
            assert fast.status_code == slow.status_code == 503, (path, fast.text, slow.text)
            assert int(fast.headers["retry-after"]) >= 1
            _same_headers(fast, slow)
            assert _problem(fast) == _problem(slow)
            assert _problem(fast)["type"].endswith("/service-unavailable")
    finally:
        servers.redis.start()
    _, again = await _sign_in(client, phone, litestar=False)
    assert again.status_code == 200, again.text
