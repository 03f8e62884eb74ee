"""The entry points of issue #16 the whole-chain test does not take, each driven by the
independent implementations: an issuing agency's offer for a named holder redeemed by oid4vc-ts
(item 1), and a same-device OpenID4VP request answered by the independent wallet, whose result
the verifier reads only with the response code of the redirect (item 4)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from jwcrypto import jwk

from tests.documents.conftest import Citizen, issue
from tests.openid4vp.conftest import dcql
from tests.support.node import Node


async def test_an_agency_offer_for_a_named_holder_is_redeemed_by_an_independent_wallet(
    node_served: Node, client: httpx.AsyncClient, issuer: dict[str, str], holder: Citizen
) -> None:
    doc = await issue(client, issuer)
    r = await client.post("/v1/agency/credential-offers", headers=issuer, json={"document_ids": [doc["id"]]})
    assert r.status_code == 201, r.text
    made = r.json()
    # The agency never sees the transaction code: the holder reveals it in the app.
    revealed = await client.post(f"/v1/me/credential-offers/{made['offer_id']}/tx-code", headers=holder.headers)
    assert revealed.status_code == 201, revealed.text
    out = await node_served.run(
        "oid4vci-pre-authorized.mjs",
        {
            "offer": made["offer"],
            "txCode": revealed.json()["tx_code"],
            "batch": 2,
            "credentialConfigurationId": "driving_licence_sd_jwt",
        },
    )
    assert out["tokenType"] == "DPoP" and len(out["credentials"]) == 2
    assert all(c["cnfMatches"] for c in out["credentials"])
    assert {c["claims"]["licence_number"] for c in out["credentials"]} == {"001090012345"}


async def test_same_device_an_independent_wallet_returns_to_the_verifier_with_the_response_code(
    node_served: Node, client: httpx.AsyncClient, held: str, holder: Citizen, bank: dict[str, str]
) -> None:
    r = await client.post(
        "/v1/presentation-requests",
        headers=bank,
        json={"dcql_query": dcql("date_of_birth"), "redirect_uri": "https://bank.example/kyc"},
    )
    assert r.status_code == 201, r.text
    created: dict[str, Any] = r.json()
    holder_jwk = jwk.JWK.from_pyca(holder.key).export(as_dict=True, private_key=True)
    out = await node_served.run(
        "oid4vp-wallet.mjs",
        {"authorizationRequest": created["authorization_request"], "credential": held, "holderJwk": holder_jwk},
    )
    assert out["status"] == 200, out
    redirect = out["body"]["redirect_uri"]
    assert redirect.startswith("https://bank.example/kyc?response_code=")
    code = parse_qs(urlsplit(redirect).query)["response_code"][0]
    path = f"/v1/presentation-requests/{created['transaction_id']}"
    assert (await client.get(path, headers=bank)).status_code == 403
    result = (await client.get(path, params={"response_code": code}, headers=bank)).json()
    assert result["status"] == "presented" and set(result["credentials"]["licence"]["claims"]) == {"date_of_birth"}
