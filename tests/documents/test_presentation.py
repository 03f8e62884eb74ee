"""Showing documents by QR, online and offline, and verifying them: every refusal, the access log."""

from __future__ import annotations

import asyncio
import base64
import io
import time
from typing import Any

import asyncpg
import httpx
import PIL.Image
import pytest
import redis.asyncio as aioredis
import zxingcpp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from documents.base45 import b45decode, b45encode
from documents.issuer_keys import lookup_issuer_key, lookup_issuer_key_prefix, rotate_issuer_key
from documents.offline import check_offline, kid_prefix, open_offline
from documents.presentation import code_keys
from documents.sdjwt import CredentialError
from tests.documents.conftest import Citizen, issue, licence_claims, presentation_proof
from wallet_api.keys.jose import b64url_encode


def read_qr(png_base64: str) -> str:
    """Decode a QR image with zxing-cpp, a reader independent of the encoder that drew it."""
    image = PIL.Image.open(io.BytesIO(base64.b64decode(png_base64)))
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    return str(found[0].text)


async def online(client: httpx.AsyncClient, holder: Citizen, doc_id: str, fields: list[str], **kw: Any) -> Any:
    r = await client.post(
        f"/v1/me/documents/{doc_id}/presentations",
        headers=holder.headers,
        json={"proof": presentation_proof(holder, doc_id, fields, **kw)},
    )
    return r


async def offline(client: httpx.AsyncClient, holder: Citizen, doc_id: str, fields: list[str]) -> Any:
    r = await client.post(
        f"/v1/me/documents/{doc_id}/offline-presentations",
        headers=holder.headers,
        json={"proof": presentation_proof(holder, doc_id, fields, mode="offline")},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def verify(client: httpx.AsyncClient, headers: dict[str, str], payload: str) -> httpx.Response:
    return await client.post("/v1/verifications", headers=headers, json={"payload": payload})


def slug(r: httpx.Response) -> str:
    assert r.headers["content-type"].startswith("application/problem+json"), r.text
    return str(r.json()["type"]).rsplit("/", 1)[-1]


async def test_online_code_reveals_only_the_chosen_fields(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    r = await online(client, holder, doc["id"], ["classes", "age_over_18"])
    assert r.status_code == 201, r.text
    body = r.json()
    assert len(body["code"]) == 32  # 192 bits of base64url
    assert body["fields"] == ["classes", "age_over_18"]
    assert read_qr(body["qr_png"]) == body["url"] == f"http://testserver/v/{body['code']}"
    assert body["qr_svg"].startswith("<svg")
    checked = await verify(client, verifier, read_qr(body["qr_png"]))
    assert checked.status_code == 200, checked.text
    result = checked.json()
    assert result["fields"] == {"classes": licence_claims()["classes"], "age_over_18": True}
    assert result["status"] == "valid" and result["holder_level"] == 2
    assert result["issuer"] == {"id": "csgt", "name": "Cục Cảnh sát giao thông"}
    assert result["valid_until"] == "2035-06-10"
    assert result["labels"]["classes"] == {"vi": "Hạng", "en": "Classes"}
    log = (await client.get("/v1/me/access-log", headers=holder.headers)).json()["entries"]
    assert [(e["verifier_name"], e["fields"], e["channel"], e["outcome"]) for e in log] == [
        ("Khách sạn Sen", ["classes", "age_over_18"], "online", "valid")
    ]
    viewed = await db.fetch(
        "SELECT key, payload FROM outbox WHERE topic = 'document.viewed' AND consumer = 'notifications.inbox'"
    )
    assert [(r["key"], r["payload"]) for r in viewed] == [
        (
            doc["id"],
            {
                "account_id": holder.account_id,
                "document_id": doc["id"],
                "doc_type": "driving_licence",
                "verifier_org_id": "hotel-sen",
                "verifier_name": "Khách sạn Sen",
                "fields": ["classes", "age_over_18"],
                "channel": "online",
                "outcome": "valid",
            },
        )
    ]


async def test_groups_are_completed_and_unknown_fields_refused(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    doc = await issue(client, issuer)
    r = await online(client, holder, doc["id"], ["full_name"])
    assert r.json()["fields"] == ["full_name", "photo_ref"]
    r = await online(client, holder, doc["id"], ["full_name", "salary"])
    assert r.status_code == 422


async def test_code_is_burnt_on_use_and_a_replay_is_named(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any
) -> None:
    doc = await issue(client, issuer)
    url = (await online(client, holder, doc["id"], ["points"])).json()["url"]
    assert (await verify(client, verifier, url)).status_code == 200
    again = await verify(client, verifier, url)
    assert (again.status_code, slug(again)) == (409, "code-replayed")


async def test_a_code_presented_many_times_at_once_is_accepted_once(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, make_org: Any
) -> None:
    """Verifications arriving together are burnt in one Redis script: still one winner per code."""
    doc = await issue(client, issuer)
    code = (await online(client, holder, doc["id"], ["points"])).json()["code"]
    mine = (await online(client, holder, doc["id"], ["points"], verifier_org_id="hotel-sen")).json()["code"]
    other = await make_org("bank-z", "verifier", scopes={"documents:verify"})
    answers = await asyncio.gather(
        *(verify(client, verifier, code) for _ in range(8)),
        verify(client, other, mine),
        verify(client, verifier, mine),
    )
    assert sorted(a.status_code for a in answers[:8]) == [200] + [409] * 7
    assert {slug(a) for a in answers[:8] if a.status_code == 409} == {"code-replayed"}
    # The code meant for one verifier is refused to the other and still works for its own.
    assert (answers[8].status_code, slug(answers[8])) == (403, "wrong-verifier")
    assert answers[9].status_code == 200


async def test_expired_and_unknown_codes(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, redis: aioredis.Redis
) -> None:
    doc = await issue(client, issuer)
    code = (await online(client, holder, doc["id"], ["points"])).json()["code"]
    await redis.delete(code_keys(code)[0])  # what Redis does after 3 minutes
    r = await verify(client, verifier, code)
    assert (r.status_code, slug(r)) == (410, "code-expired")
    r = await verify(client, verifier, "A" * 32)
    assert (r.status_code, slug(r)) == (404, "code-unknown")
    r = await verify(client, verifier, "not a code")
    assert (r.status_code, slug(r)) == (400, "malformed-payload")


async def test_code_ttl_is_three_minutes(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, redis: aioredis.Redis
) -> None:
    doc = await issue(client, issuer)
    code = (await online(client, holder, doc["id"], ["points"])).json()["code"]
    assert 170 <= await redis.ttl(code_keys(code)[0]) <= 180
    # Only a digest of the code is in Redis.
    assert not [k async for k in redis.scan_iter(f"*{code}*")]


async def test_a_code_for_one_verifier_is_refused_to_another_and_survives(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, make_org: Any
) -> None:
    doc = await issue(client, issuer)
    code = (await online(client, holder, doc["id"], ["points"], verifier_org_id="hotel-sen")).json()["code"]
    other = await make_org("bank-x", "verifier", scopes={"documents:verify"})
    r = await verify(client, other, code)
    assert (r.status_code, slug(r)) == (403, "wrong-verifier")
    assert (await verify(client, verifier, code)).status_code == 200


async def test_verifier_officer_may_verify_but_a_citizen_may_not(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, mint: Any, db: asyncpg.Pool
) -> None:
    await db.execute("INSERT INTO organisations (id, kind, name) VALUES ('csgt-hn', 'police', 'CSGT Hà Nội')")
    officer = await mint(
        kind="officer",
        subject="7f1c4a2e-0000-4000-8000-000000000001",
        org_id="csgt-hn",
        roles=frozenset({"verifier_agent"}),
    )
    doc = await issue(client, issuer)
    url = (await online(client, holder, doc["id"], ["points"])).json()["url"]
    r = await verify(client, holder.headers, url)
    assert (r.status_code, slug(r)) == (403, "not-a-verifier")
    assert (await verify(client, officer, url)).status_code == 200


@pytest.mark.parametrize(("action", "expected"), [("suspend", "document-suspended"), ("revoke", "document-revoked")])
async def test_suspended_and_revoked_documents_are_refused_online_and_offline(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, action: str, expected: str
) -> None:
    doc = await issue(client, issuer)
    url = (await online(client, holder, doc["id"], ["points"])).json()["url"]
    qr = (await offline(client, holder, doc["id"], ["points"]))["payload"]
    await client.post(f"/v1/agency/documents/{doc['id']}/{action}", headers=issuer, json={"reason": "court order"})
    for payload in (url, qr):
        r = await verify(client, verifier, payload)
        assert (r.status_code, slug(r)) == (422, expected)
    log = (await client.get("/v1/me/access-log", headers=holder.headers)).json()["entries"]
    assert {e["outcome"] for e in log} == {expected} and all(e["fields"] == [] for e in log)
    # A suspended or revoked document cannot be shown at all.
    r = await online(client, holder, doc["id"], ["points"])
    assert r.status_code == 409


async def test_expired_document_is_refused(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    url = (await online(client, holder, doc["id"], ["points"])).json()["url"]
    await db.execute("UPDATE documents SET valid_until = '2020-01-01' WHERE id = $1::uuid", doc["id"])
    r = await verify(client, verifier, url)
    assert (r.status_code, slug(r)) == (422, "document-expired")


async def test_device_proof_is_required_and_cannot_be_replayed(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, make_citizen: Any
) -> None:
    doc = await issue(client, issuer)
    proof = presentation_proof(holder, doc["id"], ["points"], jti="j" * 20)
    first = await client.post(
        f"/v1/me/documents/{doc['id']}/presentations", headers=holder.headers, json={"proof": proof}
    )
    assert first.status_code == 201
    again = await client.post(
        f"/v1/me/documents/{doc['id']}/presentations", headers=holder.headers, json={"proof": proof}
    )
    assert (again.status_code, slug(again)) == (409, "device-proof-replayed")
    stale = presentation_proof(holder, doc["id"], ["points"], iat=int(time.time()) - 600)
    r = await client.post(f"/v1/me/documents/{doc['id']}/presentations", headers=holder.headers, json={"proof": stale})
    assert (r.status_code, slug(r)) == (401, "device-proof")
    stranger = await make_citizen(person_id="079301000001")
    foreign = presentation_proof(stranger, doc["id"], ["points"])
    r = await client.post(
        f"/v1/me/documents/{doc['id']}/presentations", headers=holder.headers, json={"proof": foreign}
    )
    assert (r.status_code, slug(r)) == (401, "device-proof")


async def test_full_driving_licence_fits_qr_version_15_at_level_m(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any
) -> None:
    from documents.types import get_type

    lic = get_type("driving_licence")
    assert lic is not None
    doc = await issue(client, issuer)
    body = await offline(client, holder, doc["id"], list(lic.disclosable))
    assert body["qr_version"] <= 15
    assert body["payload"].startswith("VN2:")
    assert read_qr(body["qr_png"]) == body["payload"]
    r = await verify(client, verifier, read_qr(body["qr_png"]))
    assert r.status_code == 200, r.text
    fields = r.json()["fields"]
    assert {k: v for k, v in fields.items() if k != "age_over_18"} == licence_claims()
    assert r.json()["kind"] == "offline"


async def test_offline_payload_verifies_with_keys_only(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    body = await offline(client, holder, doc["id"], ["full_name", "classes"])
    envelope = open_offline(body["payload"])
    key = await lookup_issuer_key_prefix(db, kid_prefix(envelope))
    claims = check_offline(envelope, key, now=int(time.time()))
    assert set(claims.fields) == {"full_name", "photo_ref", "classes"}
    assert claims.exp - claims.iat <= 24 * 3600
    with pytest.raises(CredentialError) as exc:
        check_offline(envelope, key, now=claims.exp + 3600)
    assert exc.value.slug == "expired"
    assert b45decode(b45encode(b"\x00\xffVN")) == b"\x00\xffVN"


async def test_base45_matches_an_independent_implementation() -> None:
    import base45  # type: ignore[import-not-found,unused-ignore]

    for data in (b"", b"A", b"AB", b"Hello!!", bytes(range(256))):
        assert b45encode(data) == base45.b45encode(data).decode()
        assert b45decode(base45.b45encode(data).decode()) == data


async def test_flipping_any_byte_of_an_offline_payload_fails(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    payload = (await offline(client, holder, doc["id"], ["classes", "expiry_date", "full_name"]))["payload"]
    key = await lookup_issuer_key_prefix(db, kid_prefix(open_offline(payload)))
    now = int(time.time())
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:abc~\x00é"

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(payload) - 1), st.sampled_from(alphabet))
    def flipped_fails(pos: int, char: str) -> None:
        if payload[pos] == char:
            return
        mutated = payload[:pos] + char + payload[pos + 1 :]
        with pytest.raises(CredentialError):
            verify_with_cached_key(mutated)

    def verify_with_cached_key(text: str) -> None:
        envelope = open_offline(text)
        found = key if kid_prefix(envelope) == kid_prefix(open_offline(payload)) else None
        check_offline(envelope, found, now=now)

    flipped_fails()


async def test_offline_payload_after_key_rotation_and_unknown_kid(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, db: asyncpg.Pool, app: Any
) -> None:
    doc = await issue(client, issuer)
    before = (await offline(client, holder, doc["id"], ["points"]))["payload"]
    await rotate_issuer_key(db, app.state.services.keys, "csgt")
    after = (await offline(client, holder, doc["id"], ["points"]))["payload"]
    assert kid_prefix(open_offline(before)) != kid_prefix(open_offline(after))
    for payload in (before, after):
        assert (await verify(client, verifier, payload)).status_code == 200
    # A key that is no longer published is an unknown issuer.
    await db.execute("UPDATE signing_keys SET publish_until = now() - interval '1 second' WHERE NOT active")
    from documents.issuer_keys import forget_cached_keys

    forget_cached_keys()
    r = await verify(client, verifier, before)
    assert (r.status_code, slug(r)) == (422, "unknown-issuer")
    assert await lookup_issuer_key(db, "unknown") is None


async def test_tampered_offline_payload_is_named(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any
) -> None:
    doc = await issue(client, issuer)
    payload = (await offline(client, holder, doc["id"], ["points"]))["payload"]
    i = len(payload) // 2
    mutated = payload[:i] + ("0" if payload[i] != "0" else "1") + payload[i + 1 :]
    r = await verify(client, verifier, mutated)
    assert (r.status_code, slug(r)) == (422, "tampered")


async def test_rate_limit_per_verifier(
    client: httpx.AsyncClient, verifier: Any, app: Any, redis: aioredis.Redis, make_org: Any
) -> None:
    import time as _time

    limit = app.state.services.settings.documents.verify_rate_per_minute
    window = int(_time.time()) // 60
    await redis.set(f"doc:verify-rate:client:hotel-sen-client:{window}", limit)
    await redis.set(f"doc:verify-rate:client:hotel-sen-client:{window + 1}", limit)
    r = await verify(client, verifier, "A" * 32)
    assert (r.status_code, slug(r)) == (429, "rate-limited") and int(r.headers["retry-after"]) >= 1
    other = await make_org("bank-y", "verifier", scopes={"documents:verify"})
    assert (await verify(client, other, "A" * 32)).status_code == 404


async def test_code_url_opened_by_a_camera_explains_without_revealing(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any
) -> None:
    doc = await issue(client, issuer)
    url = (await online(client, holder, doc["id"], ["points"])).json()["url"]
    page = await client.get(url.removeprefix("http://testserver"))
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert (await client.get("/v/" + "B" * 32)).text == page.text
    # Opening the page does not burn the code.
    assert (await verify(client, verifier, url)).status_code == 200


async def test_a_device_cannot_mint_codes_without_limit(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, redis: aioredis.Redis
) -> None:
    doc = await issue(client, issuer)
    window = int(time.time()) // 60
    for w in (window, window + 1):
        await redis.set(f"doc:present-rate:{holder.device_id}:{w}", 30)
    r = await online(client, holder, doc["id"], ["points"])
    assert (r.status_code, slug(r)) == (429, "rate-limited")


async def test_verified_claims_never_stay_in_the_idempotency_store(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any, db: asyncpg.Pool
) -> None:
    # Issue 14, item 1: a verification's answer is the holder's personal data; with a key, only
    # the request's fingerprint is kept and a retry runs again (the code is single use).
    doc = await issue(client, issuer)
    code = (await online(client, holder, doc["id"], ["full_name", "date_of_birth"])).json()
    key = {**verifier, "Idempotency-Key": "verify-1"}
    first = await client.post("/v1/verifications", headers=key, json={"payload": code["url"]})
    assert first.status_code == 200, first.text
    retry = await client.post("/v1/verifications", headers=key, json={"payload": code["url"]})
    assert retry.status_code != 200 and "Nguyễn Văn Hùng" not in retry.text
    offline_qr = await offline(client, holder, doc["id"], ["full_name"])
    stored = await db.fetch("SELECT state, headers, body FROM idempotency_keys")
    assert [r["state"] for r in stored] == ["rerun"] and stored[0]["body"] is None
    keyed = await client.post(
        f"/v1/me/documents/{doc['id']}/offline-presentations",
        headers={**holder.headers, "Idempotency-Key": "qr-1"},
        json={"proof": presentation_proof(holder, doc["id"], ["full_name"], mode="offline")},
    )
    assert keyed.status_code == 201
    bodies = await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE body IS NOT NULL")
    assert bodies == 0 and offline_qr["payload"] not in str(await db.fetch("SELECT * FROM idempotency_keys"))


async def test_a_presentation_request_signed_in_der_is_accepted(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    """Android and iOS sign in DER; the JWS form is raw r || s. Both are accepted for device keys."""
    doc = await issue(client, issuer)
    raw_proof = presentation_proof(holder, doc["id"], ["full_name"])
    head, body, _ = raw_proof.split(".")
    der = holder.key.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    r = await client.post(
        f"/v1/me/documents/{doc['id']}/presentations",
        headers=holder.headers,
        json={"proof": f"{head}.{body}.{b64url_encode(der)}"},
    )
    assert r.status_code == 201, r.text
    # A signature in neither form is refused with both forms named.
    r = await client.post(
        f"/v1/me/documents/{doc['id']}/presentations",
        headers=holder.headers,
        json={"proof": f"{head}.{body}.{b64url_encode(der + bytes(1))}"},
    )
    assert r.status_code == 401
    assert "DER" in r.json()["detail"] and "r||s" in r.json()["detail"]


async def test_a_code_for_a_mistyped_verifier_is_refused_not_made_unusable(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, verifier: Any
) -> None:
    doc = await issue(client, issuer)
    r = await online(client, holder, doc["id"], ["points"], verifier_org_id="hotel-sem")
    assert (r.status_code, slug(r)) == (422, "unknown-verifier")
    r = await online(client, holder, doc["id"], ["points"], verifier_org_id="hotel-sen\u0000")
    assert r.status_code == 400
    assert (await online(client, holder, doc["id"], ["points"], verifier_org_id="hotel-sen")).status_code == 201
