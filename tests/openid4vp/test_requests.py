"""Presentation requests: made by a registered verifier's backend, served once as a signed request object."""

from __future__ import annotations

import base64
import hashlib
import io
import time
from typing import Any

import httpx
import zxingcpp
from PIL import Image

from tests.openid4vp.conftest import LICENCE_VCT, dcql, open_request
from tests.support.tokens import Mint
from wallet_api.auth.principal import Principal


def _slug(r: httpx.Response) -> str:
    return str(r.json()["type"]).rsplit("/", 1)[-1]


async def test_a_request_is_a_qr_code_and_a_signed_request_object_a_wallet_can_trust(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    request = await open_request(client, bank, dcql_query=dcql("full_name", "photo_ref", "date_of_birth"))
    created, payload = request.created, request.payload
    assert created["client_id"] == "x509_san_dns:testserver"
    assert created["authorization_request"].startswith("openid4vp://?client_id=x509_san_dns%3Atestserver&request_uri=")
    image = Image.open(io.BytesIO(base64.b64decode(created["qr_png"])))
    assert zxingcpp.read_barcodes(image)[0].text == created["authorization_request"]
    assert payload["client_id"] == created["client_id"] and payload["response_type"] == "vp_token"
    assert payload["response_mode"] == "direct_post.jwt"
    assert payload["response_uri"].startswith("http://testserver/openid4vp/responses/")
    assert payload["dcql_query"] == dcql("full_name", "photo_ref", "date_of_birth")
    assert len(payload["nonce"]) >= 22 and len(payload["state"]) >= 22
    metadata = payload["client_metadata"]
    assert metadata["client_name"] == "Ngân hàng ACB"
    assert metadata["vp_formats_supported"]["dc+sd-jwt"]["kb-jwt_alg_values"] == ["ES256"]
    (key,) = metadata["jwks"]["keys"]
    assert (key["kty"], key["crv"], key["use"], key["alg"]) == ("EC", "P-256", "enc", "ECDH-ES") and "d" not in key
    # The transaction id is not in what the wallet sees.
    assert created["transaction_id"] not in created["request_uri"]


async def test_a_request_object_is_served_once(client: httpx.AsyncClient, bank: dict[str, str]) -> None:
    request = await open_request(client, bank, dcql_query=dcql("expiry_date"), response_mode="direct_post")
    again = await client.get(request.created["request_uri"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_request_uri"
    unknown = await client.get("/openid4vp/requests/nope")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_request_uri"
    status = await client.get(f"/v1/presentation-requests/{request.created['transaction_id']}", headers=bank)
    assert status.json() == {
        "transaction_id": request.created["transaction_id"],
        "status": "pending",
        "request_fetched": True,
    }


async def test_a_pre_registered_client_is_the_verifier_and_its_metadata_is_published(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    request = await open_request(
        client, bank, dcql_query=dcql("expiry_date"), client_id_prefix="pre-registered", response_mode="direct_post"
    )
    assert request.payload["client_id"] == "bank-acb" and "client_metadata" not in request.payload
    published = (await client.get("/openid4vp/clients/bank-acb")).json()
    assert published["client_name"] == "Ngân hàng ACB" and published["jwks"]["keys"][0]["x5c"]
    assert (await client.get("/openid4vp/clients/nobody")).status_code == 404
    refused = await client.post(
        "/v1/presentation-requests",
        headers=bank,
        json={"dcql_query": dcql("expiry_date"), "client_id_prefix": "pre-registered"},
    )
    assert (refused.status_code, _slug(refused)) == (422, "validation")


async def test_an_x509_hash_client_id_names_the_request_certificate(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    request = await open_request(client, bank, dcql_query=dcql("expiry_date"), client_id_prefix="x509_hash")
    digest = base64.urlsafe_b64encode(hashlib.sha256(request.leaf).digest()).rstrip(b"=").decode()
    assert request.payload["client_id"] == f"x509_hash:{digest}" and "client_metadata" in request.payload


async def test_trusted_authorities_by_key_identifier_reach_the_wallet(
    client: httpx.AsyncClient, bank: dict[str, str]
) -> None:
    query = dcql("expiry_date")
    query["credentials"][0]["trusted_authorities"] = [{"type": "aki", "values": ["s9tIpPmhxdiuNkHMEWNpYim8S8Y"]}]
    request = await open_request(client, bank, dcql_query=query)
    assert request.payload["dcql_query"] == query
    query["credentials"][0]["trusted_authorities"] = [{"type": "etsi_tl", "values": ["https://lotl.example"]}]
    r = await client.post("/v1/presentation-requests", headers=bank, json={"dcql_query": query})
    assert (r.status_code, _slug(r)) == (422, "dcql-invalid")


async def test_only_a_registered_verifier_may_ask(client: httpx.AsyncClient, mint: Mint) -> None:
    body = {"dcql_query": dcql("expiry_date")}
    citizen = await mint(kind="citizen", subject="00000000-0000-0000-0000-000000000001", level=2)
    r = await client.post("/v1/presentation-requests", headers=citizen, json=body)
    assert (r.status_code, _slug(r)) == (403, "not-a-verifier")
    ghost = await mint(
        Principal(kind="client", subject="ghost", org_id="no-such-org", scopes=frozenset({"documents:verify"}))
    )
    r = await client.post("/v1/presentation-requests", headers=ghost, json=body)
    assert (r.status_code, _slug(r)) == (422, "unknown-verifier")


async def test_another_verifier_cannot_read_a_request(
    client: httpx.AsyncClient, bank: dict[str, str], make_org: Any
) -> None:
    request = await open_request(client, bank, dcql_query=dcql("expiry_date"))
    other = await make_org("hotel-sen", "verifier", scopes={"documents:verify"})
    r = await client.get(f"/v1/presentation-requests/{request.created['transaction_id']}", headers=other)
    assert r.status_code == 404


async def test_the_dcql_query_is_read_strictly(client: httpx.AsyncClient, bank: dict[str, str]) -> None:
    licence = dcql("expiry_date")["credentials"][0]

    def one(**over: Any) -> dict[str, Any]:
        return {"credentials": [{**licence, **over}]}

    first = "dcql_query.credentials[0]"
    bad_queries: list[tuple[Any, str]] = [
        ({"credentials": []}, "dcql_query.credentials"),
        (dcql("full_name", vct="https://example.com/pid"), f"{first}.meta.vct_values"),
        (dcql("favourite_colour"), f"{first}.claims[0].path"),
        (one(claims=[{"path": ["classes", 0, "code"]}]), f"{first}.claims[0].path"),
        (one(claims=[{"path": ["expiry_date"], "values": ["A"]}]), f"{first}.claims[0].values"),
        (one(multiple=True), f"{first}.multiple"),
        (one(require_cryptographic_holder_binding=False), f"{first}.require_cryptographic_holder_binding"),
        ({"credentials": [licence, licence]}, "dcql_query.credentials[1].id"),
        (one(format="jwt_vc_json"), f"{first}.format"),
        ({**one(), "credential_sets": [{"options": [["other"]]}]}, "dcql_query.credential_sets[0].options[0]"),
        ({**one(), "transaction_data": []}, "dcql_query.transaction_data"),
    ]
    for query, key in bad_queries:
        r = await client.post("/v1/presentation-requests", headers=bank, json={"dcql_query": query})
        assert (r.status_code, _slug(r)) == (422, "dcql-invalid"), (query, r.text)
        assert key in [e["key"] for e in r.json()["errors"]], (query, r.json()["errors"])


async def test_claim_sets_and_credential_sets_are_accepted(client: httpx.AsyncClient, bank: dict[str, str]) -> None:
    query = {
        "credentials": [
            {
                "id": "licence",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": [LICENCE_VCT]},
                "claims": [
                    {"id": "adult", "path": ["age_over_18"]},
                    {"id": "dob", "path": ["date_of_birth"]},
                ],
                "claim_sets": [["adult"], ["dob"]],
            }
        ],
        "credential_sets": [{"options": [["licence"]]}],
    }
    request = await open_request(client, bank, dcql_query=query)
    assert request.payload["dcql_query"] == query


async def test_a_verifier_making_too_many_requests_is_slowed_down(
    client: httpx.AsyncClient, make_org: Any, app: Any, redis: Any
) -> None:
    # A verifier of its own: no process has leased a block of its allowance yet.
    flood = await make_org("bank-flood", "verifier", scopes={"documents:verify"})
    limit = app.state.services.settings.openid4vp.requests_per_minute
    window = int(time.time()) // 60
    for w in (window, window + 1):
        await redis.set(f"vp:request-rate:client:bank-flood-client:{w}", limit)
    r = await client.post("/v1/presentation-requests", headers=flood, json={"dcql_query": dcql("expiry_date")})
    assert (r.status_code, _slug(r)) == (429, "rate-limited") and int(r.headers["retry-after"]) >= 1
    other = await make_org("hotel-sen", "verifier", scopes={"documents:verify"})
    r = await client.post("/v1/presentation-requests", headers=other, json={"dcql_query": dcql("expiry_date")})
    assert r.status_code == 201
