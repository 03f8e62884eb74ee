"""Organisations call as OAuth2 clients (private_key_jwt or secret); officers sign in with roles."""

from __future__ import annotations

import time
import uuid
from typing import Any

import asyncpg
import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from wallet_api.accounts.oauth import ASSERTION_TYPE
from wallet_api.accounts.orgs import create_client, create_officer, rotate_client, rotate_officer_password, upsert_org
from wallet_api.keys.provider import public_jwk

TOKEN_URL = "http://testserver/oauth2/token"


async def _org(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await upsert_org(conn, "verifier-bach-mai", "verifier", "Bệnh viện Bạch Mai")


def _assertion(key: ec.EllipticCurvePrivateKey, client_id: str, **over: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    claims.update(over)
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "k1"})


async def _with_key(db: asyncpg.Pool) -> ec.EllipticCurvePrivateKey:
    await _org(db)
    key = ec.generate_private_key(ec.SECP256R1())
    async with db.acquire() as conn:
        jwks = {"keys": [{**public_jwk(key.public_key()), "kid": "k1", "alg": "ES256"}]}
        assert await create_client(conn, "bach-mai", "verifier-bach-mai", ["documents:verify"], jwks=jwks) is None
    return key


async def _token(client: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await client.post("/oauth2/token", data={"grant_type": "client_credentials", **form})


async def test_private_key_jwt_gets_a_scoped_token(client: httpx.AsyncClient, db: asyncpg.Pool, app: Any) -> None:
    key = await _with_key(db)
    r = await _token(client, client_assertion_type=ASSERTION_TYPE, client_assertion=_assertion(key, "bach-mai"))
    assert r.status_code == 200, r.text
    principal = await app.state.services.tokens.verify(r.json()["access_token"])
    assert (principal.kind, principal.subject, principal.org_id) == ("client", "bach-mai", "verifier-bach-mai")
    assert principal.scopes == {"documents:verify"}


async def test_replayed_assertion_is_refused(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    key = await _with_key(db)
    assertion = _assertion(key, "bach-mai")
    form = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    assert (await _token(client, **form)).status_code == 200
    r = await _token(client, **form)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


async def test_bad_assertions_are_refused(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    key = await _with_key(db)
    other = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    for assertion in (
        _assertion(other, "bach-mai"),
        _assertion(key, "bach-mai", aud="https://elsewhere/token"),
        _assertion(key, "bach-mai", exp=now - 60),
        _assertion(key, "bach-mai", exp=now + 3600),
        _assertion(key, "bach-mai", sub="someone-else"),
    ):
        r = await _token(client, client_assertion_type=ASSERTION_TYPE, client_assertion=assertion)
        assert r.status_code == 401, assertion


async def test_secret_clients_and_rotation(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    await _org(db)
    async with db.acquire() as conn:
        secret = await create_client(conn, "bach-mai-2", "verifier-bach-mai", ["documents:verify"])
    assert secret
    stored = await db.fetchval("SELECT secret_hash FROM oauth_clients WHERE client_id = 'bach-mai-2'")
    assert secret not in stored and stored.startswith("sha256$")
    assert (await _token(client, client_id="bach-mai-2", client_secret=secret)).status_code == 200
    r = await client.post("/oauth2/token", data={"grant_type": "client_credentials"}, auth=("bach-mai-2", secret))
    assert r.status_code == 200
    async with db.acquire() as conn:
        new_secret = await rotate_client(conn, "bach-mai-2")
    assert (await _token(client, client_id="bach-mai-2", client_secret=secret)).status_code == 401
    assert (await _token(client, client_id="bach-mai-2", client_secret=new_secret or "")).status_code == 200


async def test_scopes_beyond_the_clients_are_refused(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    await _org(db)
    async with db.acquire() as conn:
        secret = await create_client(conn, "bach-mai-3", "verifier-bach-mai", ["documents:verify"])
    r = await _token(client, client_id="bach-mai-3", client_secret=secret or "", scope="payments:manage")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"


async def test_other_grants_are_refused(client: httpx.AsyncClient) -> None:
    r = await client.post("/oauth2/token", data={"grant_type": "password", "username": "a", "password": "b"})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


async def test_officer_signs_in_with_roles_and_rotation_ends_the_old_password(
    client: httpx.AsyncClient, db: asyncpg.Pool, app: Any
) -> None:
    async with db.acquire() as conn:
        await upsert_org(conn, "police-hanoi", "police", "Công an thành phố Hà Nội", provinces=["001"])
        officer_id, password = await create_officer(
            conn, "police-hanoi", "an.nguyen", "Nguyễn Văn An", ["police_officer"]
        )
    r = await client.post("/v1/officers/sign-in", json={"username": "an.nguyen", "password": password})
    assert r.status_code == 200
    p = await app.state.services.tokens.verify(r.json()["access_token"])
    assert (p.kind, p.subject, p.org_id, p.roles) == ("officer", officer_id, "police-hanoi", {"police_officer"})
    async with db.acquire() as conn:
        new_password = await rotate_officer_password(conn, "an.nguyen")
    assert (
        await client.post("/v1/officers/sign-in", json={"username": "an.nguyen", "password": password})
    ).status_code == 401
    assert (
        await client.post("/v1/officers/sign-in", json={"username": "an.nguyen", "password": new_password})
    ).status_code == 200
