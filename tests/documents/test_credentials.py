"""SD-JWT VC credentials: format, interop with an independent implementation, status lists, keys."""

from __future__ import annotations

import json
import zlib
from typing import Any

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwcrypto.jwk import JWK
from sd_jwt.holder import SDJWTHolder
from sd_jwt.verifier import SDJWTVerifier

from documents.issuer_keys import lookup_issuer_key, rotate_issuer_key
from documents.sdjwt import CredentialError, check_sd_jwt, verify_sd_jwt
from documents.statuslist import status_at
from tests.documents.conftest import Citizen, issue, licence_claims
from wallet_api.keys.jose import b64url_decode


def _parts(jws: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = jws.split("~")[0].split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(body))


async def _credential(client: httpx.AsyncClient, citizen: Citizen, document_id: str) -> str:
    r = await client.get(f"/v1/me/documents/{document_id}/credential", headers=citizen.headers)
    assert r.status_code == 200, r.text
    return str(r.json()["credential"])


async def _issuer_jwks(client: httpx.AsyncClient, org: str) -> list[dict[str, Any]]:
    r = await client.get(f"/.well-known/jwt-vc-issuer/issuers/{org}")
    assert r.status_code == 200
    return list(r.json()["jwks"]["keys"])


async def test_credential_is_a_holder_bound_sd_jwt_vc(client: httpx.AsyncClient, issuer: Any, holder: Citizen) -> None:
    doc = await issue(client, issuer)
    sd_jwt = await _credential(client, holder, doc["id"])
    header, payload = _parts(sd_jwt)
    assert header["typ"] == "dc+sd-jwt" and header["alg"] == "ES256" and header["kid"]
    assert payload["iss"] == "http://testserver/issuers/csgt"
    assert payload["vct"].endswith("/driving_licence/v1")
    assert payload["cnf"]["jwk"]["x"] == (await holder_jwk(holder))["x"]
    assert payload["status"]["status_list"]["uri"].startswith("http://testserver/status-lists/")
    # No document field is in the clear: all are disclosures.
    assert not set(payload) & set(licence_claims())
    assert len(payload["_sd"]) % 16 == 0
    # The same device asking again gets the same credential.
    assert await _credential(client, holder, doc["id"]) == sd_jwt


async def holder_jwk(citizen: Citizen) -> dict[str, Any]:
    return dict(json.loads(JWK.from_pyca(citizen.key.public_key()).export_public()))


async def test_independent_implementation_verifies_our_credential_and_we_verify_its_presentation(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    sd_jwt = await _credential(client, holder, doc["id"])
    keys = {k["kid"]: k for k in await _issuer_jwks(client, "csgt")}

    def issuer_key(iss: str, header: dict[str, Any]) -> JWK:
        assert iss == "http://testserver/issuers/csgt"
        return JWK.from_json(json.dumps(keys[header["kid"]]))

    # The holder (OpenWallet Foundation's sd-jwt library) discloses two fields with a key-binding JWT.
    wallet = SDJWTHolder(sd_jwt)
    device_key = JWK.from_pyca(holder.key)
    wallet.create_presentation(
        {"classes": True, "expiry_date": True}, nonce="n-123", aud="https://police.example", holder_key=device_key
    )
    presentation = wallet.sd_jwt_presentation
    checked = SDJWTVerifier(presentation, issuer_key, expected_aud="https://police.example", expected_nonce="n-123")
    claims = checked.get_verified_payload()
    assert claims["expiry_date"] == "2035-06-10" and claims["classes"][1]["code"] == "B"
    assert "full_name" not in claims and "licence_number" not in claims

    ours = await verify_sd_jwt(
        presentation, lambda kid: lookup_issuer_key(db, kid), audience="https://police.example", nonce="n-123"
    )
    assert ours.key_bound and set(ours.claims) == {"classes", "expiry_date"}
    with pytest.raises(CredentialError) as exc:
        await verify_sd_jwt(
            presentation, lambda kid: lookup_issuer_key(db, kid), audience="https://other", nonce="n-123"
        )
    assert exc.value.slug == "holder-binding"


async def test_flipping_any_byte_of_a_credential_fails_verification(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    sd_jwt = await _credential(client, holder, doc["id"])
    key = await lookup_issuer_key(db, _parts(sd_jwt)[0]["kid"])
    assert check_sd_jwt(sd_jwt, key).claims["full_name"] == "Nguyễn Văn Hùng"
    raw = sd_jwt.encode("ascii")

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(raw) - 1), st.integers(1, 255))
    def flipped_fails(pos: int, delta: int) -> None:
        mutated = bytearray(raw)
        mutated[pos] = (mutated[pos] + delta) % 256
        # A trailing "~" turned into nothing else but an empty key-binding slot is the only no-op.
        with pytest.raises(CredentialError):
            check_sd_jwt(mutated.decode("latin-1"), key)

    flipped_fails()


async def test_disclosing_a_field_set_never_leaks_another(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    sd_jwt = await _credential(client, holder, doc["id"])
    key = await lookup_issuer_key(db, _parts(sd_jwt)[0]["kid"])
    all_fields = sorted(check_sd_jwt(sd_jwt, key).claims)

    @settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sets(st.sampled_from(all_fields)))
    def only_chosen(chosen: set[str]) -> None:
        wallet = SDJWTHolder(sd_jwt)
        wallet.create_presentation({f: True for f in chosen})
        presentation = wallet.sd_jwt_presentation
        assert set(check_sd_jwt(presentation, key).claims) == chosen
        # The presentation carries exactly the chosen disclosures, and the signed part no field at all.
        carried = {json.loads(b64url_decode(p))[1] for p in presentation.split("~")[1:-1]}
        assert carried == chosen
        assert not set(_parts(presentation)[1]) & set(all_fields)

    only_chosen()


async def test_status_list_follows_suspend_reinstate_revoke(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    doc = await issue(client, issuer)
    sd_jwt = await _credential(client, holder, doc["id"])
    ref = _parts(sd_jwt)[1]["status"]["status_list"]
    path = ref["uri"].removeprefix("http://testserver")

    async def status() -> int:
        r = await client.get(path)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/statuslist+jwt")
        assert "max-age=" in r.headers["cache-control"]
        header, payload = _parts(r.text)
        assert header["typ"] == "statuslist+jwt" and payload["sub"] == ref["uri"]
        assert payload["status_list"]["bits"] == 2
        return status_at(zlib.decompress(b64url_decode(payload["status_list"]["lst"])), ref["idx"])

    assert await status() == 0
    first = await client.get(path)
    cached = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert cached.status_code == 304
    await client.post(f"/v1/agency/documents/{doc['id']}/suspend", headers=issuer, json={"reason": "check"})
    assert await status() == 2
    changed = await client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert changed.status_code == 200
    await client.post(f"/v1/agency/documents/{doc['id']}/reinstate", headers=issuer, json={})
    assert await status() == 0
    await client.post(f"/v1/agency/documents/{doc['id']}/revoke", headers=issuer, json={"reason": "withdrawn"})
    assert await status() == 1
    r = await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=holder.headers)
    assert r.status_code == 410 and r.json()["type"].endswith("/document-revoked")


async def test_status_indices_are_random_and_distinct(
    client: httpx.AsyncClient, issuer: Any, make_citizen: Any, db: asyncpg.Pool
) -> None:
    citizens = [await make_citizen(person_id=f"00109001{i:04d}") for i in range(12)]
    for c in citizens:
        doc = await issue(client, issuer, holder_id=c.person_id, claims=licence_claims(licence_number=c.person_id))
        await _credential(client, c, doc["id"])
    idx = [r["status_idx"] for r in await db.fetch("SELECT status_idx FROM credentials ORDER BY issued_at")]
    assert len(set(idx)) == 12
    assert idx != sorted(idx) and max(idx) > 1000


async def test_update_revokes_the_old_credential_and_mints_a_fresh_one(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    old = await _credential(client, holder, doc["id"])
    await client.put(f"/v1/agency/documents/{doc['id']}", headers=issuer, json={"claims": licence_claims(points=7)})
    new = await _credential(client, holder, doc["id"])
    assert new != old
    statuses = await db.fetch("SELECT version, status FROM credentials ORDER BY version")
    assert [(r["version"], r["status"]) for r in statuses] == [(1, 1), (2, 0)]
    key = await lookup_issuer_key(db, _parts(new)[0]["kid"])
    assert check_sd_jwt(new, key).claims["points"] == 7


async def test_a_new_device_gets_a_fresh_credential_and_the_unbound_one_is_revoked(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool, mint: Any
) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    from wallet_api.keys.provider import public_jwk

    doc = await issue(client, issuer)
    await _credential(client, holder, doc["id"])
    await db.execute("UPDATE devices SET revoked_at = now() WHERE id = $1::uuid", holder.device_id)
    r = await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=holder.headers)
    assert r.status_code == 403 and r.json()["type"].endswith("/device-not-bound")
    key = ec.generate_private_key(ec.SECP256R1())
    device = await db.fetchval(
        "INSERT INTO devices (account_id, name, public_jwk) VALUES ($1::uuid, 'new', $2) RETURNING id",
        holder.account_id,
        public_jwk(key.public_key()),
    )
    phone = Citizen(
        holder.account_id,
        str(device),
        holder.person_id,
        key,
        await mint(kind="citizen", subject=holder.account_id, level=2, device_id=str(device)),
    )
    fresh = await _credential(client, phone, doc["id"])
    assert _parts(fresh)[1]["cnf"]["jwk"]["x"] == public_jwk(key.public_key())["x"]
    assert await db.fetchval("SELECT status FROM credentials WHERE device_id = $1::uuid", holder.device_id) == 1


async def test_someone_else_cannot_fetch_my_credential(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, make_citizen: Any
) -> None:
    doc = await issue(client, issuer)
    other = await make_citizen(person_id="079301000001")
    r = await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=other.headers)
    assert r.status_code == 404


async def test_rotated_key_stays_published_and_valid_for_old_credentials(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, make_citizen: Any, db: asyncpg.Pool, app: Any
) -> None:
    doc = await issue(client, issuer)
    old = await _credential(client, holder, doc["id"])
    old_kid = _parts(old)[0]["kid"]
    await rotate_issuer_key(db, app.state.services.keys, "csgt")
    other = await make_citizen(person_id="079301000001")
    doc2 = await issue(client, issuer, holder_id=other.person_id)
    new = await _credential(client, other, doc2["id"])
    new_kid = _parts(new)[0]["kid"]
    assert new_kid != old_kid
    published = {k["kid"] for k in await _issuer_jwks(client, "csgt")}
    assert {old_kid, new_kid} <= published
    assert old_kid in {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert check_sd_jwt(old, await lookup_issuer_key(db, old_kid)).claims
    # The old key is kept exactly until its last credential expires (end of 2035-06-10 in Vietnam).
    until = await db.fetchval("SELECT publish_until FROM signing_keys WHERE kid = $1", old_kid)
    assert until.isoformat() == "2035-06-10T17:00:00+00:00"


async def test_unknown_kid_is_refused(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    sd_jwt = await _credential(client, holder, doc["id"])
    with pytest.raises(CredentialError) as exc:
        check_sd_jwt(sd_jwt, None)
    assert exc.value.slug == "unknown-issuer"
    assert await lookup_issuer_key(db, "no-such-kid") is None
