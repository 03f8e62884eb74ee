"""The verifier page's OpenID4VP requests, in-process: what the page asks the verifier service
for (the request object a wallet reads), CSRF, bad choices, and the API's own authorisation
(only a registered verifier's officers; one organisation never reads another's request)."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import redis.asyncio as aioredis

from tests.consoles.test_pages import _signed_in
from tests.consoles.test_sessions import PASSWORD
from tests.documents.test_verifier_openid4vp import wallet_reads
from wallet_api.accounts.orgs import create_officer


async def _verifiers(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        for org in ("hotel", "bank"):
            await conn.execute("INSERT INTO organisations (id, kind, name) VALUES ($1, 'verifier', $1)", org)
            await create_officer(conn, org, f"{org}.officer", "V", ["verifier_agent"], password=PASSWORD)


async def _ask(client: httpx.AsyncClient, csrf: str | None, **body: Any) -> httpx.Response:
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return await client.post("/verify/presentation-requests", json=body, headers=headers)


async def test_the_page_asks_for_exactly_the_chosen_claims(client: httpx.AsyncClient, db: asyncpg.Pool) -> None:
    await _verifiers(db)
    csrf = await _signed_in(client, "verify", "hotel.officer")
    r = await _ask(client, csrf, document_type="chip_id_card", claims=["date_of_birth", "full_name"])
    assert r.status_code == 201, r.text
    created = r.json()
    # The name travels with the photo reference (the type's disclosure group): both are asked.
    assert [c["name"] for c in created["asked"]] == ["full_name", "date_of_birth", "photo_ref"]
    assert created["authorization_request"].startswith("openid4vp://?client_id=x509_san_dns")
    request = await wallet_reads(client, created["authorization_request"])
    assert request["response_mode"] == "direct_post.jwt"
    assert request["client_metadata"]["client_name"] == "hotel"
    (query,) = request["dcql_query"]["credentials"]
    assert query["meta"] == {"vct_values": ["https://citizenwallet.vn/credentials/chip_id_card/v1"]}
    assert [c["path"] for c in query["claims"]] == [["full_name"], ["date_of_birth"], ["photo_ref"]]
    assert "claim_sets" not in query
    status = await client.get(
        f"/verify/presentation-requests/{created['transaction_id']}", headers={"X-CSRF-Token": csrf}
    )
    assert status.json() == {"state": "pending", "request_fetched": True}


async def test_the_portrait_is_asked_for_only_if_the_document_has_one(
    client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    await _verifiers(db)
    csrf = await _signed_in(client, "verify", "hotel.officer")
    r = await _ask(client, csrf, document_type="driving_licence", claims=["portrait", "licence_number"])
    assert r.status_code == 201, r.text
    (query,) = (await wallet_reads(client, r.json()["authorization_request"]))["dcql_query"]["credentials"]
    ids = {c["path"][0]: c["id"] for c in query["claims"]}
    assert query["claim_sets"] == [[ids["licence_number"], ids["portrait"]], [ids["licence_number"]]]


async def test_without_the_csrf_token_or_with_bad_choices_no_request_is_made(
    client: httpx.AsyncClient, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    await _verifiers(db)
    csrf = await _signed_in(client, "verify", "hotel.officer")
    r = await _ask(client, None, document_type="chip_id_card", claims=["full_name"])
    assert r.status_code == 403 and r.json()["type"].endswith("/csrf-token")
    bad: list[tuple[dict[str, Any], str]] = [
        ({"document_type": "passport", "claims": ["full_name"]}, "document_type"),
        ({"document_type": "chip_id_card", "claims": []}, "claims"),
        ({"document_type": "chip_id_card", "claims": ["salary"]}, "salary"),
        ({"document_type": "chip_id_card", "claims": ["full_name"], "extra": 1}, "body"),
    ]
    for body, key in bad:
        r = await _ask(client, csrf, **body)
        assert r.status_code == 422, r.text
        assert [e["key"] for e in r.json()["errors"]] == [key], r.text
    assert [key async for key in redis.scan_iter(match="vp:*")] == []


async def test_only_a_registered_verifiers_officer_asks_and_reads_its_own_requests(
    client: httpx.AsyncClient, db: asyncpg.Pool
) -> None:
    await _verifiers(db)
    csrf = await _signed_in(client, "verify", "hotel.officer")
    created = (await _ask(client, csrf, document_type="chip_id_card", claims=["age_over_18"])).json()
    # Another verifier's officer does not learn whether the request exists.
    csrf = await _signed_in(client, "verify", "bank.officer")
    r = await client.get(f"/verify/presentation-requests/{created['transaction_id']}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 404, r.text
    # An organisation no longer registered as a verifier asks for nothing.
    await db.execute("UPDATE organisations SET disabled_at = now() WHERE id = 'bank'")
    r = await _ask(client, csrf, document_type="chip_id_card", claims=["age_over_18"])
    assert r.status_code == 422 and r.json()["type"].endswith("/unknown-verifier"), r.text
    # Without a session: the sign-in, not a request.
    client.cookies.clear()
    r = await _ask(client, csrf, document_type="chip_id_card", claims=["age_over_18"])
    assert r.status_code == 401
