"""An independent wallet (tests/interop/oid4vp-wallet.mjs: @openid4vc/openid4vp, @sd-jwt/sd-jwt-vc, jose)
answers our verifier service over HTTP, as any OpenID4VP 1.0 wallet would."""

from __future__ import annotations

from typing import Any

import cbor2
import httpx
import pytest
from jwcrypto import jwk

from tests.documents.conftest import Citizen
from tests.openid4vp.conftest import MDL_NS, dcql, mdl_query, open_request, response_form, transcript
from tests.support.node import Node, NodeScriptError
from tests.support.signing import b64url

_ASKED = ("full_name", "photo_ref", "date_of_birth")


def _private_jwk(citizen: Citizen) -> dict[str, Any]:
    return dict(jwk.JWK.from_pyca(citizen.key).export(as_dict=True, private_key=True))


async def _request(client: httpx.AsyncClient, bank: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post("/v1/presentation-requests", headers=bank, json={"dcql_query": dcql(*_ASKED), **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


@pytest.mark.parametrize(
    ("mode", "prefix"),
    [("direct_post.jwt", "x509_san_dns"), ("direct_post", "x509_san_dns"), ("direct_post.jwt", "x509_hash")],
)
async def test_an_independent_wallet_resolves_our_request_and_its_answer_is_accepted(
    node_served: Node,
    client: httpx.AsyncClient,
    bank: dict[str, str],
    held: str,
    holder: Citizen,
    mode: str,
    prefix: str,
) -> None:
    created = await _request(client, bank, response_mode=mode, client_id_prefix=prefix)
    out = await node_served.run(
        "oid4vp-wallet.mjs",
        {
            "authorizationRequest": created["authorization_request"],
            "credential": held,
            "holderJwk": _private_jwk(holder),
        },
    )
    # The library checked the x5c chain, the SAN against x509_san_dns:<host> (or the leaf's hash for
    # x509_hash) and the response URI's host.
    assert out["clientPrefix"] == prefix and out["responseMode"] == mode and out["version"] == 100
    assert (out["status"], out["body"]) == (200, {})
    r = await client.get(f"/v1/presentation-requests/{created['transaction_id']}", headers=bank)
    licence = r.json()["credentials"]["licence"]
    assert set(licence["claims"]) == set(_ASKED) and licence["holder_binding"] == "verified"


async def test_an_independent_wallet_disclosing_more_than_asked_is_refused(
    node_served: Node, client: httpx.AsyncClient, bank: dict[str, str], held: str, holder: Citizen
) -> None:
    created = await _request(client, bank, response_mode="direct_post")
    out = await node_served.run(
        "oid4vp-wallet.mjs",
        {
            "authorizationRequest": created["authorization_request"],
            "credential": held,
            "holderJwk": _private_jwk(holder),
            "disclose": [*_ASKED, "place_of_residence"],
        },
    )
    assert out["status"] == 400 and out["body"]["error"] == "invalid_request"
    r = await client.get(f"/v1/presentation-requests/{created['transaction_id']}", headers=bank)
    assert r.json()["error"]["reason"] == "disclosure-not-requested"


async def test_an_independent_wallet_refuses_a_request_object_it_cannot_trust(
    node_served: Node, client: httpx.AsyncClient, bank: dict[str, str], held: str, holder: Citizen
) -> None:
    created = await _request(client, bank)
    # The request object is served once: a second wallet fetching it gets an error, not a request.
    await client.get(created["request_uri"])
    with pytest.raises(NodeScriptError):
        await node_served.run(
            "oid4vp-wallet.mjs",
            {
                "authorizationRequest": created["authorization_request"],
                "credential": held,
                "holderJwk": _private_jwk(holder),
            },
        )


async def test_an_independent_mdoc_wallet_presents_the_licence_over_our_session_transcript(
    node_served: Node, client: httpx.AsyncClient, bank: dict[str, str], mdoc: bytes, holder: Citizen
) -> None:
    """@auth0/mdl (tests/interop/mdoc-wallet.mjs) builds and signs the DeviceResponse; the
    transcript is OpenID4VP 1.0's for the request (the library only knows 18013-7's draft one)."""
    asked = ["family_name", "birth_date", "driving_privileges"]
    request = await open_request(client, bank, dcql_query=mdl_query(*asked))
    container = {
        "version": "1.0",
        "documents": [{"docType": "org.iso.18013.5.1.mDL", "issuerSigned": cbor2.loads(mdoc)}],
        "status": 0,
    }
    out = await node_served.run(
        "mdoc-wallet.mjs",
        {
            "mdoc": b64url(cbor2.dumps(container)),
            "deviceJwk": _private_jwk(holder),
            "sessionTranscriptBytes": b64url(cbor2.dumps(cbor2.CBORTag(24, cbor2.dumps(transcript(request))))),
            "disclose": {MDL_NS: asked},
        },
    )
    r = await client.post(
        request.payload["response_uri"], data=response_form(request, {"mdl": [out["deviceResponse"]]})
    )
    assert (r.status_code, r.json()) == (200, {}), r.text
    status = await client.get(f"/v1/presentation-requests/{request.created['transaction_id']}", headers=bank)
    assert set(status.json()["credentials"]["mdl"]["claims"][MDL_NS]) == set(asked)
