"""oid4vc-ts (@openid4vc/openid4vci and @openid4vc/oauth2, OpenID4VCI 1.0 final) as a third-party
wallet takes an offer made in the app, gets a DPoP-bound token with the transaction code, a
c_nonce, and a batch of SD-JWT VCs, each verified by @sd-jwt/sd-jwt-vc from public URLs
(tests/interop/oid4vci-pre-authorized.mjs), against the app served for real."""

from __future__ import annotations

from typing import Any

import httpx

from tests.documents.conftest import Citizen, issue
from tests.openid4vci.test_issuance import offer_from_app
from tests.support.node import Node


async def test_an_independent_wallet_gets_a_verified_batch_through_the_pre_authorized_flow(
    node_served: Node, client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    doc = await issue(client, issuer, doc_type="chip_id_card")
    made = await offer_from_app(client, holder, doc["id"])
    out = await node_served.run(
        "oid4vci-pre-authorized.mjs",
        {
            "offer": made["offer"],
            "txCode": made["tx_code"],
            "batch": 5,
            "credentialConfigurationId": "chip_id_card_sd_jwt",
            "replayNonce": True,
        },
    )
    assert out["tokenType"] == "DPoP" and out["batchSize"] == 10
    assert out["authorizationDetails"][0]["credential_identifiers"] == [doc["id"]]
    assert len(out["credentials"]) == 5 and all(c["cnfMatches"] for c in out["credentials"])
    assert {c["claims"]["id_number"] for c in out["credentials"]} == {"001090012345"}
    assert len({c["status"]["status_list"]["idx"] for c in out["credentials"]}) == 5
    assert out["nonceReplay"]["error"] == "invalid_nonce", out["nonceReplay"]
