"""The access log under load and when Redis is gone (documents/access_log.py, documents/verification.py)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis

from documents.access_log import recorder_for
from documents.presentation import store_code
from tests.documents.conftest import Citizen, issue, licence_claims
from tests.documents.test_presentation import offline, online, slug, verify
from wallet_api.batching import Batchers


async def test_concurrent_verifications_are_each_logged_once(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, db: asyncpg.Pool, redis: aioredis.Redis
) -> None:
    """Group commit: forty verifications at once, forty log rows and forty events, none shared."""
    doc = await issue(client, issuer)
    codes = []
    for n in range(40):
        # Made as the presentation route makes them (a device may mint only a few a minute).
        fields = ["classes"] if n % 2 else ["full_name", "classes"]
        code = await store_code(
            redis,
            document_id=uuid.UUID(doc["id"]),
            fields=fields,
            account_id=holder.account_id,
            device_id=holder.device_id,
            verifier_org_id=None,
            ttl=180,
        )
        codes.append((code, fields))
    answers = await asyncio.gather(*(verify(client, verifier, code) for code, _ in codes))
    assert [a.status_code for a in answers] == [200] * 40
    for (_, fields), answer in zip(codes, answers, strict=True):
        assert set(fields) <= set(answer.json()["fields"])
    rows = await db.fetch(
        "SELECT fields, outcome, account_id::text FROM document_views WHERE document_id = $1", doc["id"]
    )
    assert len(rows) == 40 and {r["outcome"] for r in rows} == {"valid"}
    assert {r["account_id"] for r in rows} == {holder.account_id}
    assert sorted(len(r["fields"]) for r in rows) == sorted(len(a.json()["fields"]) for a in answers)
    events = await db.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'document.viewed' AND consumer = 'notifications.inbox'"
    )
    assert events == 40


async def test_one_bad_row_fails_alone(
    db: asyncpg.Pool, client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    """A verification that cannot be logged (its verifier is unknown) fails its own request, not the batch."""
    doc = await issue(client, issuer)
    # The columns the access-log statement needs from its read, for one document id per item.
    read = """SELECT r.n, d.id, d.doc_type, d.state, d.valid_until, NULL::smallint AS credential_status,
                     (SELECT id FROM accounts WHERE person_id = d.holder_id) AS holder_account_id,
                     r.org AS verifier_org_id, 'client:test' AS verifier, NULL AS verifier_name,
                     ARRAY['classes'] AS shown
              FROM unnest($3::uuid[], $4::text[]) WITH ORDINALITY AS r(doc, org, n) JOIN documents d ON d.id = r.doc"""
    recorder = recorder_for(Batchers(), db, "online", read)
    outcomes = await asyncio.gather(
        *(recorder.submit((doc["id"], None)) for _ in range(5)),
        recorder.submit((doc["id"], "no-such-verifier")),
        *(recorder.submit((doc["id"], None)) for _ in range(5)),
        return_exceptions=True,
    )
    failed = [o for o in outcomes if isinstance(o, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], asyncpg.ForeignKeyViolationError)
    assert outcomes.index(failed[0]) == 5
    assert {None if o is None else o["outcome"] for o in outcomes if not isinstance(o, BaseException)} == {"valid"}
    assert await db.fetchval("SELECT count(*) FROM document_views WHERE document_id = $1", doc["id"]) == 10
    events = await db.fetchval(
        "SELECT count(*) FROM outbox WHERE topic = 'document.viewed' AND consumer = 'notifications.inbox'"
    )
    assert events == 10


async def test_without_redis_offline_verification_works_and_online_says_unavailable(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, db: asyncpg.Pool, servers: Any
) -> None:
    if servers.redis is None:
        pytest.skip("needs the embedded Redis to stop it")
    doc = await issue(client, issuer)
    shown = await offline(client, holder, doc["id"], ["full_name", "classes"])
    code = (await online(client, holder, doc["id"], ["classes"])).json()["code"]
    servers.redis.stop()
    try:
        checked = await verify(client, verifier, shown["payload"])
        assert checked.status_code == 200, checked.text
        assert set(checked.json()["fields"]) >= {"full_name", "classes"}
        refused = await verify(client, verifier, code)
        assert (refused.status_code, slug(refused)) == (503, "service-unavailable")
        assert int(refused.headers["retry-after"]) >= 1
    finally:
        servers.redis.start()
    # Codes live only in Redis, which may lose them: the holder shows a new one.
    again = (await online(client, holder, doc["id"], ["classes"])).json()["code"]
    assert (await verify(client, verifier, again)).status_code == 200
    assert await db.fetchval("SELECT count(*) FROM document_views WHERE document_id = $1", doc["id"]) == 2


async def test_a_field_the_document_lacks_is_neither_shown_nor_logged(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, db: asyncpg.Pool
) -> None:
    """The log names exactly the fields the verifier saw: an asked field absent from the claims is left out."""
    claims = licence_claims()
    del claims["photo_ref"]
    doc = await issue(client, issuer, claims=claims)
    code = (await online(client, holder, doc["id"], ["classes", "photo_ref", "age_over_18"])).json()["code"]
    checked = await verify(client, verifier, code)
    assert checked.status_code == 200, checked.text
    shown = list(checked.json()["fields"])
    assert "photo_ref" not in shown and {"classes", "age_over_18"} <= set(shown)
    logged = await db.fetchval("SELECT fields FROM document_views WHERE document_id = $1", doc["id"])
    assert logged == shown
    event = await db.fetchval(
        "SELECT payload FROM outbox WHERE topic = 'document.viewed' AND consumer = 'notifications.inbox'"
    )
    assert event["fields"] == shown
