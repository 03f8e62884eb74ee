"""Issuer and token keys exist and are published from the start; a key no process can read is never made."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from documents.issuer_keys import ISSUER_KEY_PURPOSE, ISSUER_KEYS
from tests.documents.conftest import Citizen, issue
from tests.support.asgi import lifespan
from tests.support.cli import run_wallet
from wallet_api.app import create_app
from wallet_api.auth.tokens import TOKEN_KEY_PURPOSE
from wallet_api.keys import DatabaseKeyProvider
from wallet_api.settings import Settings


async def _active_kids(db: asyncpg.Pool, purpose: str, owner: str | None) -> list[str]:
    rows = await db.fetch(
        "SELECT kid FROM signing_keys WHERE purpose = $1 AND owner IS NOT DISTINCT FROM $2 AND active", purpose, owner
    )
    return [r["kid"] for r in rows]


async def test_a_new_issuers_key_is_published_before_its_first_signature(
    client: httpx.AsyncClient, make_org: Any, db: asyncpg.Pool
) -> None:
    await make_org("sgtvt-hn", "issuer", types=["driving_licence"])
    meta = await client.get("/.well-known/jwt-vc-issuer/issuers/sgtvt-hn")
    assert meta.status_code == 200
    keys = meta.json()["jwks"]["keys"]
    assert len(keys) == 1 and keys[0]["kid"] in await _active_kids(db, ISSUER_KEY_PURPOSE, "sgtvt-hn")
    jwks = await client.get("/.well-known/jwks.json")
    published = {k["kid"] for k in jwks.json()["keys"]}
    assert keys[0]["kid"] in published
    assert set(await _active_kids(db, TOKEN_KEY_PURPOSE, None)) <= published
    # Complete sets may be cached; the key an issuer signs with is the one published.
    assert jwks.headers["cache-control"] == meta.headers["cache-control"] == "public, max-age=300"


async def test_start_up_makes_every_required_key_once_across_processes(
    settings: Settings, make_org: Any, db: asyncpg.Pool
) -> None:
    for org in ("tinh-a", "tinh-b", "tinh-c"):
        await make_org(org, "issuer", types=["vehicle_registration"])
    # Three API processes start at once against a database where these issuers have no key.
    apps = [create_app(settings) for _ in range(3)]
    async with lifespan(apps[0]), lifespan(apps[1]), lifespan(apps[2]):
        for org in ("tinh-a", "tinh-b", "tinh-c"):
            assert len(await _active_kids(db, ISSUER_KEY_PURPOSE, org)) == 1
        assert len(await _active_kids(db, TOKEN_KEY_PURPOSE, None)) == 1


async def test_concurrent_ensures_make_one_key_per_issuer(settings: Settings, make_org: Any, db: asyncpg.Pool) -> None:
    await make_org("tinh-d", "issuer")
    providers = [DatabaseKeyProvider(db, settings.kek_bytes(), [ISSUER_KEYS]) for _ in range(4)]
    assert all(await asyncio.gather(*(p.ensure_published() for p in providers)))
    assert len(await _active_kids(db, ISSUER_KEY_PURPOSE, "tinh-d")) == 1


async def test_rotate_key_without_the_deployments_kek_is_refused(
    settings: Settings,
    app: Any,
    client: httpx.AsyncClient,
    issuer: Any,
    holder: Citizen,
    db: asyncpg.Pool,
    tmp_path: Path,
) -> None:
    doc = await issue(client, issuer)
    before = await _active_kids(db, ISSUER_KEY_PURPOSE, "csgt")
    # No WALLET_KEK: the command would make itself a development KEK under its own data dir.
    result = await asyncio.to_thread(run_wallet, settings, tmp_path, "documents", "rotate-key", "csgt")
    assert result.returncode != 0
    assert "WALLET_KEK" in result.stderr
    assert await _active_kids(db, ISSUER_KEY_PURPOSE, "csgt") == before
    r = await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=holder.headers)
    assert r.status_code == 200, r.text


async def test_a_key_wrapped_under_another_kek_is_a_clear_problem_not_a_500(
    settings: Settings, app: Any, client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    good = await _active_kids(db, ISSUER_KEY_PURPOSE, "csgt")
    # What the old `rotate-key` run without WALLET_KEK left behind: csgt's active key under a foreign KEK.
    foreign = DatabaseKeyProvider(db, secrets.token_bytes(32))
    await db.execute(
        "UPDATE signing_keys SET active = false, retired_at = now() WHERE purpose = $1 AND owner = $2 AND active",
        ISSUER_KEY_PURPOSE,
        "csgt",
    )
    try:
        await db.execute(
            "INSERT INTO signing_keys (kid, purpose, owner, public_jwk, private_key_enc) VALUES ($1, $2, $3, $4, $5)",
            "foreign-kek-key",
            ISSUER_KEY_PURPOSE,
            "csgt",
            {"kty": "EC", "kid": "foreign-kek-key"},
            os.urandom(12) + foreign._aead.encrypt(os.urandom(12), b"not ours", b"foreign-kek-key"),
        )
        app.state.services.keys.forget_cached()
        r = await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=holder.headers)
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["type"].endswith("/signing-key-unavailable")
    finally:
        await db.execute("DELETE FROM signing_keys WHERE kid = 'foreign-kek-key'")
        await db.execute("UPDATE signing_keys SET active = true, retired_at = NULL WHERE kid = $1", good[0])
        app.state.services.keys.forget_cached()


async def test_a_partial_key_set_is_not_to_be_cached(
    app: Any, client: httpx.AsyncClient, make_org: Any, db: asyncpg.Pool
) -> None:
    """When a required key cannot be made (here: the stored keys are under another KEK), the
    set served lacks it and says no-store, so a verifier asks again instead of keeping it."""
    await make_org("tinh-e", "issuer")
    foreign = DatabaseKeyProvider(db, secrets.token_bytes(32))
    await db.execute(
        "INSERT INTO signing_keys (kid, purpose, owner, public_jwk, private_key_enc, active) "
        "VALUES ('foreign-newest', 'test-foreign', NULL, $1, $2, false)",
        {"kty": "EC", "kid": "foreign-newest"},
        os.urandom(12) + foreign._aead.encrypt(os.urandom(12), b"not ours", b"foreign-newest"),
    )
    try:
        r = await client.get("/.well-known/jwks.json")
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        meta = await client.get("/.well-known/jwt-vc-issuer/issuers/tinh-e")
        assert meta.json()["jwks"]["keys"] == [] and meta.headers["cache-control"] == "no-store"
    finally:
        await db.execute("DELETE FROM signing_keys WHERE kid = 'foreign-newest'")
    r = await client.get("/.well-known/jwks.json")
    assert r.headers["cache-control"] == "public, max-age=300"
