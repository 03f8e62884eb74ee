"""OpenID4VCI 1.0 from the wallet's side: metadata, offer, token with tx_code and DPoP, batch.

Credentials are checked by the OpenWallet Foundation's ``sd-jwt`` library (independent of
ours) with the issuer keys published in the SD-JWT VC issuer metadata, and by the status
list a verifier would fetch.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier

from documents.mdoc import check_issuer_signed, trusted_roots
from documents.statuslist import decode_list, status_at
from tests.documents.conftest import Citizen, issue
from tests.openid4vci.wallet import ISSUER, PRE_AUTHORIZED, Wallet, public_jwk, thumbprint
from wallet_api.keys.jose import b64url_decode


def payload_of(sd_jwt: str) -> dict[str, Any]:
    return dict(json.loads(b64url_decode(sd_jwt.split("~")[0].split(".")[1])))


async def offer_from_app(client: httpx.AsyncClient, holder: Citizen, *document_ids: str) -> dict[str, Any]:
    r = await client.post("/v1/me/credential-offers", headers=holder.headers, json={"document_ids": list(document_ids)})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def verified_by_reference(client: httpx.AsyncClient, sd_jwt: str) -> dict[str, Any]:
    """The claims the ``sd-jwt`` reference verifier reads, with keys from the issuer metadata."""
    r = await client.get("/.well-known/jwt-vc-issuer/issuers/csgt")
    keys = {k["kid"]: k for k in r.json()["jwks"]["keys"]}

    def issuer_key(iss: str, header: dict[str, Any]) -> JWK:
        assert iss == f"{ISSUER}/issuers/csgt"
        return JWK.from_json(json.dumps(keys[header["kid"]]))

    return dict(SDJWTVerifier(sd_jwt, issuer_key).get_verified_payload())


async def statuses(client: httpx.AsyncClient, credentials: list[str]) -> list[int]:
    found = []
    for sd_jwt in credentials:
        ref = payload_of(sd_jwt)["status"]["status_list"]
        r = await client.get(ref["uri"].removeprefix(ISSUER))
        token = r.text
        lst = json.loads(b64url_decode(token.split(".")[1]))["status_list"]["lst"]
        found.append(status_at(decode_list(lst), ref["idx"]))
    return found


async def issued_batch(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, count: int, *, mdoc: bool = False
) -> tuple[dict[str, Any], list[str]]:
    """A licence issued, offered from the app, redeemed by a wallet and fetched as a batch."""
    doc, _, credentials = await issued_batch_with_keys(client, issuer, holder, count, mdoc=mdoc)
    return doc, credentials


async def issued_batch_with_keys(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, count: int, *, mdoc: bool = False
) -> tuple[dict[str, Any], list[ec.EllipticCurvePrivateKey], list[str]]:
    """As :func:`issued_batch`, with the holder keys the credentials are bound to."""
    doc = await issue(client, issuer)
    made = await offer_from_app(client, holder, doc["id"])
    wallet = Wallet(client)
    token = await wallet.redeem(made["offer"], made["tx_code"])
    keys, r = await wallet.batch(token["access_token"], doc["id"] + (":mdoc" if mdoc else ""), count)
    assert r.status_code == 200, r.text
    return doc, keys, [c["credential"] for c in r.json()["credentials"]]


async def test_issuer_metadata_offers_every_document_type_as_sd_jwt_vc(client: httpx.AsyncClient) -> None:
    r = await client.get("/.well-known/openid-credential-issuer")
    assert r.status_code == 200
    meta = r.json()
    assert meta["credential_issuer"] == ISSUER
    assert meta["credential_endpoint"] == f"{ISSUER}/openid4vci/credential"
    assert meta["nonce_endpoint"] == f"{ISSUER}/openid4vci/nonce"
    assert meta["batch_credential_issuance"] == {"batch_size": 10}
    licence = meta["credential_configurations_supported"]["driving_licence_sd_jwt"]
    assert licence["format"] == "dc+sd-jwt" and licence["scope"] == "driving_licence_sd_jwt"
    assert licence["vct"] == "https://citizenwallet.vn/credentials/driving_licence/v1"
    assert licence["cryptographic_binding_methods_supported"] == ["jwk"]
    assert licence["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == ["ES256"]
    assert {d["locale"] for d in licence["credential_metadata"]["display"]} == {"vi", "en"}
    assert ["classes"] in [c["path"] for c in licence["credential_metadata"]["claims"]]
    assert len(meta["credential_configurations_supported"]) >= 6


async def test_authorization_server_metadata_names_the_token_endpoint_and_dpop(client: httpx.AsyncClient) -> None:
    meta = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert meta["issuer"] == ISSUER and meta["token_endpoint"] == f"{ISSUER}/openid4vci/token"
    assert PRE_AUTHORIZED in meta["grant_types_supported"]
    assert meta["dpop_signing_alg_values_supported"] == ["ES256"]
    assert meta["pre-authorized_grant_anonymous_access_supported"] is True


async def test_nonce_is_fresh_and_not_cached(client: httpx.AsyncClient) -> None:
    wallet = Wallet(client)
    assert await wallet.nonce() != await wallet.nonce()


async def test_holder_offers_a_document_and_another_wallet_gets_a_batch(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    doc = await issue(client, issuer)
    made = await offer_from_app(client, holder, doc["id"])
    assert made["offer"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert made["tx_code"].isdigit() and len(made["tx_code"]) == 6 and made["qr_png"]
    wallet = Wallet(client)
    offer = await wallet.offer(made["offer"])
    assert offer["credential_issuer"] == ISSUER
    assert offer["credential_configuration_ids"] == ["driving_licence_sd_jwt", "driving_licence_mdoc"]
    assert offer["grants"][PRE_AUTHORIZED]["tx_code"]["length"] == 6
    assert offer["grants"]["authorization_code"] == {}

    token = await wallet.redeem(made["offer"], made["tx_code"])
    assert token["token_type"] == "DPoP"
    assert token["authorization_details"] == [
        {
            "type": "openid_credential",
            "credential_configuration_id": "driving_licence_sd_jwt",
            "credential_identifiers": [doc["id"]],
        },
        {
            "type": "openid_credential",
            "credential_configuration_id": "driving_licence_mdoc",
            "credential_identifiers": [f"{doc['id']}:mdoc"],
        },
    ]
    keys, r = await wallet.batch(token["access_token"], doc["id"], 3)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    credentials = [c["credential"] for c in r.json()["credentials"]]
    assert len(credentials) == 3
    for key, sd_jwt in zip(keys, credentials, strict=True):
        claims = await verified_by_reference(client, sd_jwt)
        assert claims["full_name"] == "Nguyễn Văn Hùng" and claims["classes"][1]["code"] == "B"
        assert claims["cnf"]["jwk"] == public_jwk(key)
    rows = await db.fetch(
        "SELECT device_id, holder_jkt, format, batch_id FROM credentials WHERE document_id = $1", doc["id"]
    )
    assert len(rows) == 3 and {r["device_id"] for r in rows} == {None}
    assert {r["holder_jkt"] for r in rows} == {thumbprint(public_jwk(k)) for k in keys}
    assert len({r["batch_id"] for r in rows}) == 1 and {r["format"] for r in rows} == {"dc+sd-jwt"}
    # The app's own credential endpoint still mints its device-bound credential beside them.
    own = await client.get(f"/v1/me/documents/{doc['id']}/credential", headers=holder.headers)
    assert (
        own.status_code == 200 and payload_of(own.json()["credential"])["cnf"]["jwk"]["x"] != public_jwk(keys[0])["x"]
    )


async def test_a_batch_is_unlinkable_distinct_positions_salts_and_digests(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    _doc, credentials = await issued_batch(client, issuer, holder, 10)
    payloads = [payload_of(c) for c in credentials]
    assert len({p["status"]["status_list"]["idx"] for p in payloads}) == 10
    digests = [d for p in payloads for d in p["_sd"]]
    assert len(set(digests)) == len(digests)
    salts = [json.loads(b64url_decode(d))[0] for c in credentials for d in c.split("~")[1:-1]]
    assert len(set(salts)) == len(salts)
    # Nothing of the moment of issue either: iat is the day's start, as for every credential that day.
    assert {p["iat"] % 86400 for p in payloads} == {0}


async def test_revoking_the_document_revokes_every_credential_of_the_batch(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    doc, credentials = await issued_batch(client, issuer, holder, 4)
    assert await statuses(client, credentials) == [0, 0, 0, 0]
    r = await client.post(f"/v1/agency/documents/{doc['id']}/suspend", headers=issuer, json={"reason": "check"})
    assert r.status_code == 200
    assert await statuses(client, credentials) == [2, 2, 2, 2]
    r = await client.post(f"/v1/agency/documents/{doc['id']}/revoke", headers=issuer, json={"reason": "lost"})
    assert r.status_code == 200
    assert await statuses(client, credentials) == [1, 1, 1, 1]


async def test_an_update_revokes_the_batch_of_the_older_version(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    from tests.documents.conftest import licence_claims

    doc, credentials = await issued_batch(client, issuer, holder, 2)
    r = await client.put(
        f"/v1/agency/documents/{doc['id']}", headers=issuer, json={"claims": licence_claims(points=10)}
    )
    assert r.status_code == 200, r.text
    assert await statuses(client, credentials) == [1, 1]


async def test_by_configuration_id_when_the_token_names_one_document_of_that_type(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    licence = await issue(client, issuer)
    card = await issue(client, issuer, doc_type="chip_id_card")
    made = await offer_from_app(client, holder, licence["id"], card["id"])
    wallet = Wallet(client)
    token = await wallet.redeem(made["offer"], made["tx_code"])
    assert {d["credential_configuration_id"] for d in token["authorization_details"]} == {
        "driving_licence_sd_jwt",
        "driving_licence_mdoc",
        "chip_id_card_sd_jwt",
    }
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.openid4vci.wallet import key_proof

    key = ec.generate_private_key(ec.SECP256R1())
    body = {
        "credential_configuration_id": "chip_id_card_sd_jwt",
        "proofs": {"jwt": [key_proof(key, await wallet.nonce())]},
    }
    r = await wallet.credential(token["access_token"], body)
    assert r.status_code == 200, r.text
    assert payload_of(r.json()["credentials"][0]["credential"])["vct"].endswith("/chip_id_card/v1")


async def test_the_driving_licence_comes_as_a_batch_of_mdocs_too(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    meta = (await client.get("/.well-known/openid-credential-issuer")).json()
    mdl = meta["credential_configurations_supported"]["driving_licence_mdoc"]
    assert mdl["format"] == "mso_mdoc" and mdl["doctype"] == "org.iso.18013.5.1.mDL"
    assert mdl["credential_signing_alg_values_supported"] == [-7]
    doc, keys, mdocs = await issued_batch_with_keys(client, issuer, holder, 3, mdoc=True)
    roots = await trusted_roots(db, refresh=True)
    checked = [check_issuer_signed(b64url_decode(c), roots=roots) for c in mdocs]
    assert [d.device_jwk for d in checked] == [public_jwk(k) for k in keys]
    assert {d.issuer_org_id for d in checked} == {"csgt"}
    assert {d.namespaces["org.iso.18013.5.1"]["document_number"] for d in checked} == {"001090012345"}
    assert len({d.status.idx for d in checked if d.status is not None}) == 3
    rows = await db.fetch("SELECT format, sd_jwt, mdoc FROM credentials WHERE document_id = $1", doc["id"])
    assert {r["format"] for r in rows} == {"mso_mdoc"} and all(r["sd_jwt"] is None and r["mdoc"] for r in rows)
    # Revoking the licence reaches the mdocs' status entries as well.
    await client.post(f"/v1/agency/documents/{doc['id']}/revoke", headers=issuer, json={"reason": "lost"})
    assert set(await db.fetchval("SELECT array_agg(status) FROM credentials WHERE document_id = $1", doc["id"])) == {1}


async def test_batches_fetched_at_once_get_distinct_positions(
    client: httpx.AsyncClient, issuer: Any, holder: Citizen, db: asyncpg.Pool
) -> None:
    # Each batch is minted before its transaction and claims its positions in it: batches in
    # flight together never share a position (a clash would send one round again).
    doc = await issue(client, issuer)
    wallets, tokens = [], []
    for _ in range(4):
        made = await offer_from_app(client, holder, doc["id"])
        wallet = Wallet(client)
        wallets.append(wallet)
        tokens.append((await wallet.redeem(made["offer"], made["tx_code"]))["access_token"])
    answers = await asyncio.gather(*(w.batch(t, doc["id"], 10) for w, t in zip(wallets, tokens, strict=True)))
    assert [r.status_code for _, r in answers] == [200] * 4
    rows = await db.fetch(
        "SELECT status_list_id, status_idx, batch_id FROM credentials WHERE document_id = $1", doc["id"]
    )
    assert len({(r["status_list_id"], r["status_idx"]) for r in rows}) == 40
    assert len({r["batch_id"] for r in rows}) == 4
