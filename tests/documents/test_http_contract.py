"""HTTP details a client relies on: Cache-Control, Allow on 405, HEAD, problems under /schema."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from tests.accounts.conftest import NHUNG, Person, add_person, register, sign_in
from tests.documents.conftest import Citizen, issue, presentation_proof
from wallet_api.accounts.orgs import create_client, create_officer, upsert_org

#: Routes whose answers may be cached declare it with their own Cache-Control (public data).
CACHEABLE = {
    "/.well-known/jwks.json",
    "/.well-known/jwt-vc-issuer/issuers/{org_id:str}",
    "/status-lists/{list_id:uuid}",
    "/v1/document-types",
    "/v1/document-types/{doc_type:str}/schema",
    "/mdoc/iaca-certificates",
    "/issuers/{org_id:str}/iaca.pem",
    "/issuers/{org_id:str}/iaca/{file_name:str}",
    "/openid4vp/verifier-ca.pem",
    "/.well-known/openid-credential-issuer",
    "/.well-known/oauth-authorization-server",
}


def _concrete(path: str) -> str:
    def fill(m: re.Match[str]) -> str:
        kind = m.group(2) or "str"
        return {"uuid": str(uuid.uuid4()), "int": "1"}.get(kind, "x")

    return re.sub(r"\{(\w+)(?::(\w+))?\}", fill, path)


async def test_every_route_without_its_own_cache_policy_answers_no_store(
    app: Litestar, client: httpx.AsyncClient
) -> None:
    checked = 0
    for route in app.routes:
        if route.path.startswith("/schema"):
            continue
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler) or handler.http_methods == {"OPTIONS"}:
                continue
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                r = await client.request(method, _concrete(route.path), json={} if method != "GET" else None)
                assert "cache-control" in r.headers, (method, route.path)
                if route.path not in CACHEABLE or r.status_code >= 400:
                    assert r.headers["cache-control"] == "no-store", (method, route.path, r.status_code)
                checked += 1
    assert checked > 80


async def test_token_responses_are_no_store(client: httpx.AsyncClient, redis: aioredis.Redis, db: asyncpg.Pool) -> None:
    phone = await register(client, redis, await add_person(db, Person(**NHUNG.__dict__)))
    r = await sign_in(client, phone)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    refreshed = await client.post("/v1/auth/refresh", json={"refresh_token": r.json()["refresh_token"]})
    assert refreshed.status_code == 200 and refreshed.headers["cache-control"] == "no-store"
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"})
    assert me.status_code == 200 and me.headers["cache-control"] == "no-store"

    async with db.acquire() as conn:
        await upsert_org(conn, "welfare-hn", "welfare", "Sở LĐTBXH Hà Nội", provinces=["001"])
        secret = await create_client(conn, "hn-payments", "welfare-hn", ["payments:manage"])
        _, password = await create_officer(conn, "welfare-hn", "maker.hn", "Lê Thị Hà", ["welfare_maker"])
    form = {"grant_type": "client_credentials", "client_id": "hn-payments", "client_secret": secret}
    token = await client.post("/oauth2/token", data=form)
    assert token.status_code == 200 and token.headers["cache-control"] == "no-store"
    assert token.headers.get("pragma") is None or token.headers["pragma"] == "no-cache"
    officer = await client.post("/v1/officers/sign-in", json={"username": "maker.hn", "password": password})
    assert officer.status_code == 200 and officer.headers["cache-control"] == "no-store"


async def test_verified_fields_are_no_store_on_both_paths(
    client: httpx.AsyncClient, make_org: Any, make_citizen: Any
) -> None:
    issuer = await make_org("csgt", "issuer", types=["driving_licence"], scopes={"documents:issue"})
    verifier = await make_org("hotel-sen", "verifier", scopes={"documents:verify"})
    holder: Citizen = await make_citizen()
    doc = await issue(client, issuer)
    for extra in ({}, {"Idempotency-Key": "k-1"}):  # the direct path, then Litestar's route
        proof = presentation_proof(holder, doc["id"], ["full_name"])
        shown = await client.post(
            f"/v1/me/documents/{doc['id']}/presentations", headers=holder.headers, json={"proof": proof}
        )
        assert shown.status_code == 201 and shown.headers["cache-control"] == "no-store"
        r = await client.post("/v1/verifications", headers={**verifier, **extra}, json={"payload": shown.json()["url"]})
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"


async def test_405_names_the_allowed_methods(client: httpx.AsyncClient) -> None:
    r = await client.delete("/health/live")
    assert r.status_code == 405
    assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "OPTIONS"}
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_head_on_published_keys_and_status_lists(
    client: httpx.AsyncClient, make_org: Any, make_citizen: Any, db: asyncpg.Pool
) -> None:
    issuer = await make_org("csgt", "issuer", types=["driving_licence"], scopes={"documents:issue"})
    holder: Citizen = await make_citizen()
    doc = await issue(client, issuer)
    await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=holder.headers)
    list_id = await db.fetchval("SELECT id FROM status_lists LIMIT 1")
    for path in ("/.well-known/jwks.json", f"/status-lists/{list_id}"):
        got = await client.get(path)
        head = await client.head(path)
        assert (got.status_code, head.status_code) == (200, 200), path
        assert head.content == b""
        assert head.headers["content-length"] == str(len(got.content))
        for name in ("content-type", "cache-control", "etag"):
            assert head.headers.get(name) == got.headers.get(name), (path, name)


async def test_unknown_schema_documents_are_problems(client: httpx.AsyncClient) -> None:
    for path in ("/schema/nowhere", "/schema/openapi.yaml.bak", "/schema/x.json"):
        r = await client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("application/problem+json"), path
        assert r.json()["type"].endswith("/not-found")
