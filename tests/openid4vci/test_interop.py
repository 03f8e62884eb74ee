"""oid4vc-ts (@openid4vc/openid4vci and @openid4vc/oauth2, OpenID4VCI 1.0 final) as a third-party
wallet takes an offer made in the app, gets a DPoP-bound token with the transaction code, a
c_nonce, and a batch of SD-JWT VCs, each verified by @sd-jwt/sd-jwt-vc from public URLs
(tests/interop/oid4vci-pre-authorized.mjs), against the app served for real; and @auth0/mdl
presents and verifies the driving licence mdocs of a batch."""

from __future__ import annotations

from typing import Any

import httpx

from documents.mdoc import MDL_NAMESPACE
from tests.documents.conftest import Citizen, issue
from tests.documents.test_mdoc_interop import TRANSCRIPT_BYTES
from tests.documents.test_mdoc_interop import _container as mdoc_container
from tests.documents.test_mdoc_interop import _private_jwk as private_jwk
from tests.openid4vci.test_issuance import issued_batch_with_keys, offer_from_app
from tests.support.node import Node
from wallet_api.kernel import b64url_decode
from wallet_api.settings import Settings


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
            "wrongTxCodeFirst": True,
        },
    )
    assert out["tokenType"] == "DPoP" and out["batchSize"] == 10
    assert out["authorizationDetails"][0]["credential_identifiers"] == [doc["id"]]
    assert len(out["credentials"]) == 5 and all(c["cnfMatches"] for c in out["credentials"])
    assert {c["claims"]["id_number"] for c in out["credentials"]} == {"001090012345"}
    assert len({c["status"]["status_list"]["idx"] for c in out["credentials"]}) == 5
    assert out["nonceReplay"]["error"] == "invalid_nonce", out["nonceReplay"]
    assert out["wrongTxCode"] == {"status": 400, "error": "invalid_grant"}, out["wrongTxCode"]


async def test_an_independent_mdoc_library_presents_and_verifies_the_mdocs_of_a_batch(
    node_served: Node, client: httpx.AsyncClient, issuer: Any, holder: Citizen, settings: Settings
) -> None:
    _, keys, mdocs = await issued_batch_with_keys(client, issuer, holder, 2, mdoc=True)
    positions = set()
    for key, issued in zip(keys, mdocs, strict=True):
        # @auth0/mdl as the wallet: a DeviceResponse signed with the key the mdoc was bound to;
        # then as a verifier trusting only the IACA root from our public URL.
        response = await node_served.run(
            "mdoc-wallet.mjs",
            {
                "mdoc": mdoc_container(b64url_decode(issued)),
                "deviceJwk": private_jwk(key),
                "sessionTranscriptBytes": TRANSCRIPT_BYTES,
                "disclose": {MDL_NAMESPACE: ["family_name", "document_number", "driving_privileges"]},
            },
        )
        out = await node_served.run(
            "mdoc-verify.mjs",
            {
                "deviceResponse": response["deviceResponse"],
                "sessionTranscriptBytes": TRANSCRIPT_BYTES,
                "iacaUrl": f"{settings.public_base_url}/issuers/csgt/iaca.pem",
            },
        )
        assert out["docType"] == "org.iso.18013.5.1.mDL"
        assert out["namespaces"][MDL_NAMESPACE]["document_number"] == "001090012345"
        positions.add(out["status"]["status_list"]["idx"])
    assert len(positions) == 2
