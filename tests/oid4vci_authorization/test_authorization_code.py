"""The authorization code flow end to end over HTTP: PAR with PKCE, DPoP and wallet attestation,
the page, the citizen's approval in the app, the code, the token, a credential."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import asyncpg
import httpx

from tests.documents.conftest import Citizen
from tests.oid4vci_authorization.conftest import Approved, flow_in, handle_in, open_page, rows
from tests.oid4vci_authorization.wallet import ISSUER, REDIRECT_URI, Wallet, jws, query_of
from wallet_api.keys.provider import public_jwk


async def test_the_authorization_server_metadata_advertises_par_pkce_and_attestation(
    client: httpx.AsyncClient,
) -> None:
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["pushed_authorization_request_endpoint"] == f"{ISSUER}/openid4vci/par"
    assert metadata["require_pushed_authorization_requests"] is True
    assert metadata["authorization_endpoint"] == f"{ISSUER}/openid4vci/authorize"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "authorization_code" in metadata["grant_types_supported"]
    assert "attest_jwt_client_auth" in metadata["token_endpoint_auth_methods_supported"]


async def test_a_push_answers_a_single_use_request_uri(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, db: asyncpg.Pool
) -> None:
    r = await wallet.push(client)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")
    assert body["expires_in"] == 60
    # Only digests are stored: the request_uri's secret is nowhere in the row.
    stored = await db.fetchrow("SELECT * FROM vci_authorizations")
    assert body["request_uri"].rsplit(":", 1)[1] not in json.dumps({k: str(v) for k, v in stored.items()})
    assert stored["attested_by"] == "https://provider.example"
    assert (await open_page(client, wallet, body["request_uri"])).status_code == 200
    again = await open_page(client, wallet, body["request_uri"])
    assert again.status_code == 400
    assert "đã được dùng" in again.text


async def test_the_whole_flow_gives_a_dpop_bound_token_and_a_credential(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, licence_holder: Citizen, approved: Approved
) -> None:
    back = await approved(wallet, licence_holder, state="xyz")
    assert back["state"] == "xyz" and back["iss"] == ISSUER
    r = await wallet.token(client, back["code"])
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["token_type"] == "DPoP"
    assert token["authorization_details"] == [
        {
            "type": "openid_credential",
            "credential_configuration_id": "driving_licence_sd_jwt",
            "credential_identifiers": [licence_holder.licence_id],  # type: ignore[attr-defined]
        }
    ]
    credential = await _credential(client, wallet, token, licence_holder.licence_id)  # type: ignore[attr-defined]
    assert credential.status_code == 200, credential.text
    assert credential.json()["credentials"][0]["credential"].count("~") >= 2


async def _credential(
    client: httpx.AsyncClient, wallet: Wallet, token: dict[str, Any], identifier: str
) -> httpx.Response:
    """One credential for the wallet's own key: a fresh nonce, a key proof, a DPoP-bound request."""
    nonce = (await client.post("/openid4vci/nonce")).json()["c_nonce"]
    holder = wallet.instance
    proof = jws(
        holder,
        {"typ": "openid4vci-proof+jwt", "jwk": public_jwk(holder.public_key())},
        {"aud": ISSUER, "iat": int(time.time()), "nonce": nonce},
    )
    return await client.post(
        "/openid4vci/credential",
        headers={
            "Authorization": f"DPoP {token['access_token']}",
            "DPoP": _dpop_for(wallet, "/openid4vci/credential", token["access_token"]),
        },
        json={"credential_identifier": identifier, "proofs": {"jwt": [proof]}},
    )


def _dpop_for(wallet: Wallet, path: str, access_token: str) -> str:
    import base64
    import hashlib

    ath = base64.urlsafe_b64encode(hashlib.sha256(access_token.encode()).digest()).rstrip(b"=").decode()
    claims = {
        "htm": "POST",
        "htu": ISSUER + path,
        "iat": int(time.time()),
        "jti": secrets.token_urlsafe(16),
        "ath": ath,
    }
    return jws(wallet.dpop_key, {"typ": "dpop+jwt", "jwk": public_jwk(wallet.dpop_key.public_key())}, claims)


async def test_an_unattested_wallet_may_push_when_attestation_is_not_required(
    client: httpx.AsyncClient, trusting: Any, licence_holder: Citizen, approved: Approved
) -> None:
    wallet = Wallet(client_id="wallet-without-attestation")
    back = await approved(wallet, licence_holder)
    r = await wallet.token(client, back["code"])
    assert r.status_code == 200, r.text


# --- PAR refusals: OAuth errors, nothing stored ------------------------------------------


async def _refused(client: httpx.AsyncClient, wallet: Wallet, db: asyncpg.Pool, error: str, **over: Any) -> None:
    r = await wallet.push(client, **over)
    assert r.status_code in (400, 401), r.text
    assert r.json()["error"] == error, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert await rows(db) == 0


async def test_pkce_plain_is_refused(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, db: asyncpg.Pool
) -> None:
    await _refused(client, wallet, db, "invalid_request", code_challenge_method="plain", code_challenge="x" * 43)
    await _refused(client, wallet, db, "invalid_request", code_challenge_method=None)
    await _refused(client, wallet, db, "invalid_request", code_challenge="too-short")


async def test_bad_authorization_requests_are_refused_in_oauth_format(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, db: asyncpg.Pool
) -> None:
    await _refused(client, wallet, db, "unsupported_response_type", response_type="token")
    await _refused(client, wallet, db, "invalid_request", redirect_uri="javascript:alert(1)")
    await _refused(client, wallet, db, "invalid_request", redirect_uri="http://evil.example/cb")
    await _refused(client, wallet, db, "invalid_request", redirect_uri=None)
    await _refused(client, wallet, db, "invalid_request", request_uri="urn:ietf:params:oauth:request_uri:x")
    await _refused(
        client,
        wallet,
        db,
        "invalid_authorization_details",
        authorization_details=json.dumps([{"type": "openid_credential", "credential_configuration_id": "passport"}]),
    )
    await _refused(client, wallet, db, "invalid_request", authorization_details=None)
    await _refused(client, wallet, db, "invalid_scope", authorization_details=None, scope="everything")


async def test_a_forged_attestation_is_an_invalid_client(
    client: httpx.AsyncClient, trusting: Any, db: asyncpg.Pool
) -> None:
    from tests.oid4vci_authorization.wallet import Provider

    wallet = Wallet()
    wallet.attestation = Provider().attest(wallet.client_id, wallet.instance)  # an untrusted provider
    await _refused(client, wallet, db, "invalid_client")


async def test_a_pop_signed_by_another_key_or_for_another_audience_is_refused(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, db: asyncpg.Pool
) -> None:
    assert wallet.attestation is not None
    other = Wallet()
    forged = other.pop(iss=wallet.client_id)  # signed by a key the attestation does not name
    await _refused(client, wallet, db, "invalid_client", headers={"OAuth-Client-Attestation-PoP": forged})
    await _refused(
        client,
        wallet,
        db,
        "invalid_client",
        headers={"OAuth-Client-Attestation-PoP": wallet.pop(aud="https://x.example")},
    )
    await _refused(
        client,
        wallet,
        db,
        "invalid_client",
        headers={"OAuth-Client-Attestation-PoP": wallet.pop(iat=int(time.time()) - 3600)},
    )


async def test_a_replayed_pop_is_refused(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, db: asyncpg.Pool
) -> None:
    pop = wallet.pop()
    first = await wallet.push(client, headers={"OAuth-Client-Attestation-PoP": pop})
    assert first.status_code == 201
    again = await wallet.push(client, headers={"OAuth-Client-Attestation-PoP": pop})
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    assert await rows(db) == 1


async def test_an_attestation_for_another_client_id_is_refused(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, db: asyncpg.Pool
) -> None:
    await _refused(client, wallet, db, "invalid_client", client_id="https://other-wallet.example")


async def test_when_required_a_missing_attestation_or_pop_is_an_invalid_client(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, db: asyncpg.Pool
) -> None:
    trusting(openid4vci_attestation_required=True)
    bare = Wallet()
    await _refused(client, bare, db, "invalid_client")
    assert wallet.attestation is not None
    only_attestation = {"OAuth-Client-Attestation": wallet.attestation}
    r = await client.post(
        "/openid4vci/par",
        data=wallet.par_form(),
        headers={"DPoP": wallet.dpop("POST", f"{ISSUER}/openid4vci/par"), **only_attestation},
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert (await wallet.push(client)).status_code == 201


# --- the page ------------------------------------------------------------------------------


async def test_a_request_uri_for_another_client_or_expired_shows_an_error_page_and_no_redirect(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, db: asyncpg.Pool
) -> None:
    request_uri = (await wallet.push(client)).json()["request_uri"]
    other = await client.get(
        "/openid4vci/authorize", params={"client_id": "https://other.example", "request_uri": request_uri}
    )
    assert other.status_code == 400 and "location" not in other.headers
    await db.execute("UPDATE vci_authorizations SET request_expires_at = now() - interval '1 second'")
    expired = await open_page(client, wallet, request_uri)
    assert expired.status_code == 400 and "location" not in expired.headers
    assert await db.fetchval("SELECT opened_at FROM vci_authorizations") is None


async def test_the_page_shows_the_wallet_the_documents_and_an_app_link(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet
) -> None:
    page = await open_page(client, wallet, (await wallet.push(client)).json()["request_uri"])
    assert "Ví Mẫu" in page.text and "https://provider.example" in page.text
    assert "Giấy phép lái xe" in page.text
    assert "<svg" in page.text
    assert f"{ISSUER}/openid4vci/approve/{handle_in(page)}" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    status = await client.get(f"/openid4vci/authorize/{flow_in(page)}/status")
    assert status.json() == {"status": "pending"}
    # Another browser (no cookie) learns nothing and gets no code.
    async with httpx.AsyncClient(transport=client._transport, base_url=ISSUER) as stranger:
        assert (await stranger.get(f"/openid4vci/authorize/{flow_in(page)}/status")).json() == {"status": "unknown"}
        assert (await stranger.get(f"/openid4vci/authorize/{flow_in(page)}/continue")).status_code == 400


# --- the citizen's decision ---------------------------------------------------------------


async def _page(client: httpx.AsyncClient, wallet: Wallet) -> httpx.Response:
    return await open_page(client, wallet, (await wallet.push(client)).json()["request_uri"])


async def test_the_app_sees_which_wallet_asks_for_which_of_my_documents(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, licence_holder: Citizen
) -> None:
    page = await _page(client, wallet)
    r = await client.get(f"/v1/me/authorizations/{handle_in(page)}", headers=licence_holder.headers)
    assert r.status_code == 200, r.text
    view = r.json()
    assert view["client_id"] == wallet.client_id and view["verified"] is True
    assert view["redirect_to"] == "wallet.example"
    assert [d["id"] for d in view["documents"]] == [licence_holder.licence_id]  # type: ignore[attr-defined]
    assert view["requested"][0]["credential_configuration_id"] == "driving_licence_sd_jwt"


async def test_a_denied_approval_sends_access_denied_to_the_wallet(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, licence_holder: Citizen, db: asyncpg.Pool
) -> None:
    page = await _page(client, wallet)
    r = await client.post(f"/v1/me/authorizations/{handle_in(page)}/deny", headers=licence_holder.headers)
    assert r.status_code == 200
    back = await client.get(f"/openid4vci/authorize/{flow_in(page)}/continue")
    assert back.status_code == 303
    query = query_of(back.headers["location"])
    assert back.headers["location"].startswith(REDIRECT_URI)
    assert query["error"] == "access_denied" and "code" not in query and query["state"]
    assert await db.fetchval("SELECT count(*) FROM audit_log WHERE action = 'oid4vci.authorization_denied'") == 1


async def test_another_citizen_can_neither_see_nor_approve_a_claimed_request(
    client: httpx.AsyncClient,
    trusting: Any,
    wallet: Wallet,
    licence_holder: Citizen,
    make_citizen: Any,
    db: asyncpg.Pool,
) -> None:
    page = await _page(client, wallet)
    handle = handle_in(page)
    assert (await client.get(f"/v1/me/authorizations/{handle}", headers=licence_holder.headers)).status_code == 200
    other = await make_citizen("001090099999")
    seen = await client.get(f"/v1/me/authorizations/{handle}", headers=other.headers)
    assert seen.status_code == 404 and seen.json()["type"].endswith("/authorization-unknown")
    approve = await client.post(
        f"/v1/me/authorizations/{handle}/approve",
        headers=other.headers,
        json={"document_ids": [licence_holder.licence_id]},  # type: ignore[attr-defined]
    )
    assert approve.status_code == 404
    assert await db.fetchval("SELECT decision FROM vci_authorizations") is None


async def test_only_my_own_documents_of_a_requested_type_can_be_approved(
    client: httpx.AsyncClient,
    trusting: Any,
    wallet: Wallet,
    licence_holder: Citizen,
    make_citizen: Any,
    issuer: dict[str, str],
    db: asyncpg.Pool,
) -> None:
    from tests.documents.conftest import issue

    someone_else = await make_citizen("001090099999")
    theirs = await issue(client, issuer, holder_id=someone_else.person_id)
    mine_other_type = await issue(client, issuer, doc_type="chip_id_card")
    page = await _page(client, wallet)
    for document_id in (theirs["id"], mine_other_type["id"], "00000000-0000-0000-0000-000000000000"):
        r = await client.post(
            f"/v1/me/authorizations/{handle_in(page)}/approve",
            headers=licence_holder.headers,
            json={"document_ids": [document_id]},
        )
        assert r.status_code == 422, r.text
        assert r.json()["type"].endswith("/documents-not-approvable")
    assert await db.fetchval("SELECT decision FROM vci_authorizations") is None


async def test_a_level_one_citizen_is_told_how_to_reach_level_two_and_claims_nothing(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, make_citizen: Any, db: asyncpg.Pool
) -> None:
    citizen = await make_citizen(level=1)
    page = await _page(client, wallet)
    r = await client.get(f"/v1/me/authorizations/{handle_in(page)}", headers=citizen.headers)
    assert r.status_code == 403 and r.json()["type"].endswith("/identification-level")
    assert await db.fetchval("SELECT account_id FROM vci_authorizations") is None


async def test_approving_needs_a_fresh_device_signature(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, licence_holder: Citizen, mint: Any, db: asyncpg.Pool
) -> None:
    stale = await mint(
        kind="citizen",
        subject=licence_holder.account_id,
        level=2,
        device_id=licence_holder.device_id,
        auth_time=int(time.time()) - 3600,
    )
    page = await _page(client, wallet)
    r = await client.post(
        f"/v1/me/authorizations/{handle_in(page)}/approve",
        headers=stale,
        json={"document_ids": [licence_holder.licence_id]},  # type: ignore[attr-defined]
    )
    assert r.status_code == 401 and r.json()["type"].endswith("/step-up-required")
    assert await db.fetchval("SELECT decision FROM vci_authorizations") is None


async def test_an_approval_too_late_sends_access_denied(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, licence_holder: Citizen, db: asyncpg.Pool
) -> None:
    page = await _page(client, wallet)
    await db.execute("UPDATE vci_authorizations SET approval_expires_at = now() - interval '1 second'")
    r = await client.post(
        f"/v1/me/authorizations/{handle_in(page)}/approve",
        headers=licence_holder.headers,
        json={"document_ids": [licence_holder.licence_id]},  # type: ignore[attr-defined]
    )
    assert r.status_code == 404
    back = await client.get(f"/openid4vci/authorize/{flow_in(page)}/continue")
    assert query_of(back.headers["location"])["error"] == "access_denied"


# --- the token endpoint --------------------------------------------------------------------


async def _token_refused(
    client: httpx.AsyncClient, wallet: Wallet, code: str, error: str, status: int = 400, **over: Any
) -> None:
    r = await wallet.token(client, code, **over)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error


async def test_a_wrong_verifier_changes_nothing_and_the_right_one_then_works(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, licence_holder: Citizen, approved: Approved
) -> None:
    code = (await approved(wallet, licence_holder))["code"]
    await _token_refused(client, wallet, code, "invalid_grant", code_verifier=secrets.token_urlsafe(48))
    await _token_refused(client, wallet, code, "invalid_request", code_verifier=None)
    assert (await wallet.token(client, code)).status_code == 200


async def test_a_code_is_redeemed_once(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, licence_holder: Citizen, approved: Approved
) -> None:
    code = (await approved(wallet, licence_holder))["code"]
    assert (await wallet.token(client, code)).status_code == 200
    await _token_refused(client, wallet, code, "invalid_grant")


async def test_a_code_for_another_client_or_redirect_uri_is_refused(
    client: httpx.AsyncClient, trusting: Any, licence_holder: Citizen, approved: Approved
) -> None:
    wallet = Wallet(client_id="wallet-a")
    code = (await approved(wallet, licence_holder))["code"]
    await _token_refused(client, wallet, code, "invalid_grant", client_id="wallet-b")
    await _token_refused(client, wallet, code, "invalid_grant", redirect_uri="https://wallet.example/other")
    assert (await wallet.token(client, code)).status_code == 200


async def test_the_code_is_bound_to_the_dpop_key_of_the_push(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, licence_holder: Citizen, approved: Approved
) -> None:
    code = (await approved(wallet, licence_holder))["code"]
    thief = Wallet(client_id=wallet.client_id, verifier=wallet.verifier, attestation=wallet.attestation)
    thief.instance = wallet.instance
    await _token_refused(client, thief, code, "invalid_grant")


async def test_an_expired_code_is_refused(
    client: httpx.AsyncClient,
    trusting: Any,
    wallet: Wallet,
    licence_holder: Citizen,
    approved: Approved,
    db: asyncpg.Pool,
) -> None:
    code = (await approved(wallet, licence_holder))["code"]
    await db.execute("UPDATE vci_authorizations SET code_expires_at = now() - interval '1 second'")
    await _token_refused(client, wallet, code, "invalid_grant")


async def test_a_wallet_attested_at_par_must_attest_at_the_token_endpoint(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, licence_holder: Citizen, approved: Approved
) -> None:
    code = (await approved(wallet, licence_holder))["code"]
    attestation, wallet.attestation = wallet.attestation, None
    await _token_refused(client, wallet, code, "invalid_client", 401)
    wallet.attestation = attestation
    pop = wallet.pop()
    headers = {"OAuth-Client-Attestation-PoP": pop}
    assert (await wallet.token(client, code, headers=headers)).status_code == 200


async def test_a_licence_asked_for_as_sd_jwt_and_mdoc_gets_an_identifier_for_each_and_an_mdoc(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, licence_holder: Citizen, approved: Approved
) -> None:
    both = json.dumps(
        [
            {"type": "openid_credential", "credential_configuration_id": "driving_licence_sd_jwt"},
            {"type": "openid_credential", "credential_configuration_id": "driving_licence_mdoc"},
        ]
    )
    back = await approved(wallet, licence_holder, authorization_details=both)
    token = (await wallet.token(client, back["code"])).json()
    licence = licence_holder.licence_id  # type: ignore[attr-defined]
    assert token["authorization_details"] == [
        {
            "type": "openid_credential",
            "credential_configuration_id": "driving_licence_sd_jwt",
            "credential_identifiers": [licence],
        },
        {
            "type": "openid_credential",
            "credential_configuration_id": "driving_licence_mdoc",
            "credential_identifiers": [f"{licence}:mdoc"],
        },
    ]
    mdoc = await _credential(client, wallet, token, f"{licence}:mdoc")
    assert mdoc.status_code == 200, mdoc.text
    assert "~" not in mdoc.json()["credentials"][0]["credential"]  # base64url IssuerSigned, not an SD-JWT


async def test_rows_are_purged_a_day_after_their_push(
    client: httpx.AsyncClient, trusting: Any, wallet: Wallet, db: asyncpg.Pool
) -> None:
    from openid4vci.authorization.store import purge_expired

    await wallet.push(client)
    await wallet.push(client)
    oldest = await db.fetchval("SELECT id FROM vci_authorizations LIMIT 1")
    await db.execute("UPDATE vci_authorizations SET pushed_at = now() - interval '25 hours' WHERE id = $1", oldest)
    assert await purge_expired(db) == 1
    assert await rows(db) == 1
