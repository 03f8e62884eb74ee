"""Idempotency keys never keep tokens or personal data, and never replay a session (issue 14, item 1).

The review captured a sign-in with its ``Idempotency-Key``, replayed it from a second client
behind the same address and got the live session; a replayed refresh returned the
successor token without tripping reuse detection. Routes whose answers carry secrets or
personal data keep only the request's fingerprint: a retry runs the route again, and the
single-use input it spends (challenge, code, refresh token) makes that harmless.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from litestar import Litestar

from tests.accounts.conftest import Person, Phone, add_person, last_code, register
from tests.support.asgi import client_of
from wallet_api.accounts.orgs import create_client, create_officer, upsert_org

PERSON = Person("001090012345", "Nguyễn Văn Hùng", date(1990, 5, 17))


async def _store_text(db: asyncpg.Pool) -> str:
    """Everything the idempotency store holds, as one text to search."""
    rows = await db.fetch("SELECT principal, key, state, status, headers::text AS h, body FROM idempotency_keys")
    return "\n".join(
        f"{r['principal']} {r['key']} {r['state']} {r['status']} {r['h']} {(r['body'] or b'').decode('latin-1')}"
        for r in rows
    )


def _second_client(app: Litestar) -> httpx.AsyncClient:
    """Another app on another phone behind the same carrier NAT: same address, another port."""
    return client_of(app, ("127.0.0.1", 50001))


async def test_a_captured_sign_in_replayed_from_the_same_address_gives_no_session(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await add_person(db, PERSON)
    phone = await register(client, redis, PERSON)
    c = (await client.post("/v1/auth/challenges", json={"device_id": phone.device_id})).json()
    body = {"device_id": phone.device_id, "challenge": c["challenge"], "signature": phone.sign(c["sign"])}
    key = {"Idempotency-Key": "sign-in-1"}
    first = await client.post("/v1/auth/sign-in", json=body, headers=key)
    assert first.status_code == 200, first.text
    families = await db.fetchval("SELECT count(*) FROM refresh_families")

    async with _second_client(app) as attacker:
        replay = await attacker.post("/v1/auth/sign-in", json=body, headers=key)
    assert replay.status_code == 401, replay.text
    assert replay.json()["type"].endswith("/invalid-challenge")
    assert "access_token" not in replay.text
    assert await db.fetchval("SELECT count(*) FROM refresh_families") == families  # no second session
    stored = await _store_text(db)
    assert first.json()["access_token"] not in stored and first.json()["refresh_token"] not in stored
    assert "anonymous:127.0.0.1" not in stored  # not scoped by the shared address


async def test_a_replayed_refresh_trips_reuse_detection(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await add_person(db, PERSON)
    phone = await register(client, redis, PERSON)
    body = {"refresh_token": phone.refresh_token}
    key = {"Idempotency-Key": "refresh-1"}
    first = await client.post("/v1/auth/refresh", json=body, headers=key)
    assert first.status_code == 200, first.text
    successor = first.json()["refresh_token"]

    replay = await client.post("/v1/auth/refresh", json=body, headers=key)
    assert replay.status_code == 401
    assert replay.json()["type"].endswith("/invalid-refresh-token")
    assert successor not in replay.text
    # The replay presented a spent token: the family is revoked, successor included.
    assert await db.fetchval("SELECT revoked_why FROM refresh_families") == "reuse"
    again = await client.post("/v1/auth/refresh", json={"refresh_token": successor})
    assert again.status_code == 401
    assert successor not in await _store_text(db)


async def test_registration_and_binding_keep_no_code_id_or_token(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await add_person(db, PERSON)
    body = {
        "person_id": PERSON.person_id,
        "full_name": PERSON.full_name,
        "date_of_birth": PERSON.date_of_birth.isoformat(),
        "phone": PERSON.phone,
    }
    started = await client.post("/v1/registrations", json=body, headers={"Idempotency-Key": "reg-1"})
    assert started.status_code == 202
    reg_id = started.json()["id"]
    code = await last_code(redis, PERSON.phone)
    assert code is not None
    phone = Phone()
    done = await client.post(
        f"/v1/registrations/{reg_id}/complete",
        json={
            "code": code,
            "password": PERSON.password,
            "device": phone.device_body(),
            "signature": phone.sign(f"citizen-wallet:bind:{reg_id}"),
        },
        headers={"Idempotency-Key": "reg-2"},
    )
    assert done.status_code == 201, done.text
    stored = await _store_text(db)
    for secret in (reg_id, done.json()["access_token"], done.json()["refresh_token"], PERSON.person_id):
        assert secret not in stored
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE state = 'rerun'") == 2


async def test_oauth2_and_officer_tokens_are_not_kept(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await upsert_org(conn, "hotel-sen", "verifier", "Khách sạn Sen")
        secret = await create_client(conn, "hotel-sen-desk", "hotel-sen", ["documents:verify"])
        await create_officer(conn, "hotel-sen", "lan.nguyen", "Nguyễn Thị Lan", ["verifier_agent"], password="pw-1")
    assert secret is not None
    form = {"grant_type": "client_credentials", "client_id": "hotel-sen-desk", "client_secret": secret}
    token = await client.post("/oauth2/token", data=form, headers={"Idempotency-Key": "tok-1"})
    officer = await client.post(
        "/v1/officers/sign-in", json={"username": "lan.nguyen", "password": "pw-1"}, headers={"Idempotency-Key": "o-1"}
    )
    assert token.status_code == officer.status_code == 200
    stored = await _store_text(db)
    assert token.json()["access_token"] not in stored and officer.json()["access_token"] not in stored
    # A retry authenticates again (the caller holds the credential it sends), it does not replay.
    again = await client.post("/oauth2/token", data=form, headers={"Idempotency-Key": "tok-1"})
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "false"
    assert again.json()["access_token"] != token.json()["access_token"]


async def test_anonymous_keys_belong_to_the_request_not_the_address(client: httpx.AsyncClient, app: Litestar) -> None:
    # Two apps behind one address pick the same key for different requests: neither is
    # refused as a reuse, and neither sees the other's answer.
    first = await client.post(
        "/v1/auth/challenges", json={"device_id": str(uuid.uuid4())}, headers={"Idempotency-Key": "same"}
    )
    async with _second_client(app) as other:
        second = await other.post(
            "/v1/auth/challenges", json={"device_id": str(uuid.uuid4())}, headers={"Idempotency-Key": "same"}
        )
    assert first.status_code == second.status_code == 200
    assert first.json()["challenge"] != second.json()["challenge"]


# Routes whose answers may be stored: none carries a token, a one-time code or id, or personal
# data. A new POST route must be added here or declare ``NOT_REPLAYED``.
_REPLAYED = {
    "/v1/auth/sign-out",
    "/v1/auth/sign-out-everywhere",
    "/v1/identity/level-2",
    "/v1/identity/deaths",
    "/v1/agency/documents",
    "/v1/agency/documents/bulk",
    "/v1/agency/documents/bulk-file",
    "/v1/agency/documents/{document_id:uuid}/suspend",
    "/v1/agency/documents/{document_id:uuid}/reinstate",
    "/v1/agency/documents/{document_id:uuid}/revoke",
    "/v1/admin/wallet-links/{link_id:uuid}/review",
    "/v1/programmes",
    "/v1/programmes/{programme_id:uuid}/batches",
    "/v1/programmes/{programme_id:uuid}/enrolments/rule",
    "/v1/programmes/{programme_id:uuid}/enrolments",
    "/v1/batches/{batch_id:uuid}/approve",
    "/v1/batches/{batch_id:uuid}/cancel",
    "/v1/batches/{batch_id:uuid}/release",
    "/v1/reconciliations",
    "/v1/providers/{provider:str}/payout-events",
    "/v1/notifications/{notification_id:int}/read",
    "/v1/notifications/read-all",
}
_TOKEN_ANSWERS = {"SessionView", "TokenView"}


def _post_routes(app: Litestar) -> list[tuple[str, Any]]:
    return [
        (route.path, handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if "POST" in (handler.http_methods or ()) and not route.path.startswith("/_probe")
    ]


def test_every_post_route_decides_whether_its_answer_may_be_stored(app: Litestar) -> None:
    from wallet_api.idempotency import replays

    undecided = [path for path, h in _post_routes(app) if replays(h.opt) and path not in _REPLAYED]
    assert undecided == [], f"declare NOT_REPLAYED or list as replayable: {undecided}"


def test_no_token_issuing_route_is_replayed(app: Litestar) -> None:
    from wallet_api.idempotency import replays

    for path, handler in _post_routes(app):
        answer = getattr(handler.parsed_fn_signature.return_type.annotation, "__name__", "")
        if answer in _TOKEN_ANSWERS or path in ("/oauth2/token", "/v1/verifications"):
            assert not replays(handler.opt), path


async def test_starting_registration_twice_with_one_key_runs_twice(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    # The pending id is a capability (with the code it opens an account): never replayed.
    await add_person(db, PERSON)
    body = {
        "person_id": PERSON.person_id,
        "full_name": PERSON.full_name,
        "date_of_birth": PERSON.date_of_birth.isoformat(),
        "phone": PERSON.phone,
    }
    key = {"Idempotency-Key": "reg-again"}
    first = await client.post("/v1/registrations", json=body, headers=key)
    second = await client.post("/v1/registrations", json=body, headers=key)
    assert first.status_code == second.status_code == 202
    assert second.headers["idempotent-replayed"] == "false"
    assert first.json()["id"] != second.json()["id"]
    changed = await client.post("/v1/registrations", json={**body, "phone": "+84987654321"}, headers=key)
    assert changed.status_code == 202  # anonymous: another request is another key's owner


async def test_the_janitor_removes_kept_fingerprints_too(
    client: httpx.AsyncClient, db: asyncpg.Pool, settings: Any
) -> None:
    from tests.support.workers import worker_context
    from wallet_api.janitor import JANITOR

    r = await client.post(
        "/v1/auth/challenges", json={"device_id": str(uuid.uuid4())}, headers={"Idempotency-Key": "k"}
    )
    assert r.status_code == 200
    await db.execute("UPDATE idempotency_keys SET created_at = now() - interval '2 days'")
    ctx = worker_context(settings, db, None, None, worker_id="t")  # type: ignore[arg-type]
    assert await JANITOR.run_once(ctx) == 1
    assert await db.fetchval("SELECT count(*) FROM idempotency_keys") == 0
