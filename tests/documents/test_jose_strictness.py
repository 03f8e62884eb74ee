"""SD-JWT credentials, key-binding proofs, status lists and the device's presentation requests
are read by the one JOSE module: every flawed token is refused by each, as by access tokens
(tests/foundation/test_jose.py). Each flawed token is otherwise right, signed with the genuine key."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar

from documents.issuer_keys import IssuerKey, issuer_signing_key, lookup_issuer_key, lookup_issuer_key_prefix
from documents.offline import OfflineClaims, check_offline, kid_prefix, open_offline
from documents.sdjwt import CredentialError, check_sd_jwt
from documents.verifier import OfflineVerifier, StatusUnknown
from tests.documents.conftest import Citizen, issue, presentation_proof
from tests.support.jose_flaws import Sign, flawed_jws, genuine
from wallet_api.keys.jose import b64url_decode, b64url_encode, raw_signature

_FLAWED = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _parts(jws: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = jws.split(".")
    return json.loads(b64url_decode(head)), json.loads(b64url_decode(body))


def _device_signer(citizen: Citizen) -> Sign:
    return lambda data: raw_signature(citizen.key.sign(data, ec.ECDSA(hashes.SHA256())))


async def _issuer_signer(app: Litestar, db: asyncpg.Pool) -> Sign:
    return (await issuer_signing_key(db, app.state.services.keys, "csgt")).sign_es256


@pytest.fixture
async def document(client: httpx.AsyncClient, issuer: Any) -> str:
    """One document for all the examples of a test (they share its tables)."""
    return str((await issue(client, issuer))["id"])


@pytest.fixture
async def credential(client: httpx.AsyncClient, document: str, holder: Citizen) -> str:
    r = await client.get(f"/v1/me/documents/{document}/credential", headers=holder.headers)
    assert r.status_code == 200, r.text
    return str(r.json()["credential"])


def _refused(presentation: str, key: Any, **kw: Any) -> bool:
    try:
        check_sd_jwt(presentation, key, **kw)
    except CredentialError:
        return True
    return False


@_FLAWED
@given(data=st.data())
async def test_a_flawed_issuer_signature_refuses_the_credential(
    app: Litestar, db: asyncpg.Pool, credential: str, data: st.DataObject
) -> None:
    jws, rest = credential.split("~", 1)
    header, payload = _parts(jws)
    key, sign = await lookup_issuer_key(db, header["kid"]), await _issuer_signer(app, db)
    assert not _refused(f"{genuine(header, payload, sign)}~{rest}", key)
    assert _refused(f"{data.draw(flawed_jws(header, payload, sign))}~{rest}", key)


@_FLAWED
@given(data=st.data())
async def test_a_flawed_key_binding_proof_refuses_the_presentation(
    db: asyncpg.Pool, credential: str, holder: Citizen, data: st.DataObject
) -> None:
    key = await lookup_issuer_key(db, _parts(credential.split("~", 1)[0])[0]["kid"])
    header = {"alg": "ES256", "typ": "kb+jwt"}
    sd_hash = b64url_encode(hashlib.sha256(credential.encode()).digest())
    payload = {"iat": int(time.time()), "aud": "hotel-sen", "nonce": "n-1", "sd_hash": sd_hash}
    sign, bound = _device_signer(holder), {"audience": "hotel-sen", "nonce": "n-1"}
    assert not _refused(credential + genuine(header, payload, sign), key, **bound)
    assert _refused(credential + data.draw(flawed_jws(header, payload, sign)), key, **bound)


async def test_a_presentation_request_built_like_the_flawed_ones_but_without_a_flaw_is_accepted(
    client: httpx.AsyncClient, document: str, holder: Citizen
) -> None:
    header, payload = _parts(presentation_proof(holder, document, ["full_name"]))
    proof = genuine(header, payload, _device_signer(holder))
    r = await client.post(f"/v1/me/documents/{document}/presentations", headers=holder.headers, json={"proof": proof})
    assert r.status_code == 201, r.text


@_FLAWED
@given(data=st.data())
async def test_a_flawed_presentation_request_is_refused_through_http(
    client: httpx.AsyncClient, document: str, holder: Citizen, data: st.DataObject
) -> None:
    header, payload = _parts(presentation_proof(holder, document, ["full_name"]))
    # Device signatures may be DER (phones sign so): a DER signature is no flaw here.
    proof = data.draw(flawed_jws(header, payload, _device_signer(holder), device=True))
    r = await client.post(f"/v1/me/documents/{document}/presentations", headers=holder.headers, json={"proof": proof})
    assert r.status_code == 401, r.text


@pytest.fixture
async def status_list(
    client: httpx.AsyncClient, app: Litestar, db: asyncpg.Pool, document: str, holder: Citizen
) -> tuple[OfflineClaims, dict[str, IssuerKey], dict[str, Any], dict[str, Any], Sign]:
    """An offline code's claims and issuer keys, and its status list's header, payload and signer."""
    r = await client.post(
        f"/v1/me/documents/{document}/offline-presentations",
        headers=holder.headers,
        json={"proof": presentation_proof(holder, document, ["full_name"], mode="offline")},
    )
    assert r.status_code == 201, r.text
    envelope = open_offline(r.json()["payload"])
    key = await lookup_issuer_key_prefix(db, kid_prefix(envelope))
    assert key is not None
    claims = check_offline(envelope, key, now=int(time.time()))
    header, payload = _parts((await client.get(f"/status-lists/{claims.status_list_id}")).text)
    return claims, {key.kid: key}, header, payload, await _issuer_signer(app, db)


@_FLAWED
@given(data=st.data())
async def test_a_flawed_status_list_is_not_believed(
    status_list: tuple[OfflineClaims, dict[str, IssuerKey], dict[str, Any], dict[str, Any], Sign],
    tmp_path: Path,
    data: st.DataObject,
) -> None:
    claims, keys, header, payload, sign = status_list

    def status_with(list_token: str) -> tuple[int, int]:
        verifier = OfflineVerifier("http://testserver", tmp_path / uuid.uuid4().hex, fetch=None)
        path = verifier.cache / "status" / f"{claims.status_list_id}.jwt"
        path.parent.mkdir(parents=True)
        path.write_text(list_token)
        return verifier.status(claims, keys)

    assert status_with(genuine(header, payload, sign))[0] == 0
    with pytest.raises(StatusUnknown):
        status_with(data.draw(flawed_jws(header, payload, sign)))
