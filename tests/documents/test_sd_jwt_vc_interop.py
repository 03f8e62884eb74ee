"""An independent SD-JWT VC verifier (@sd-jwt/sd-jwt-vc on Node.js, tests/interop) reads our
credentials from public URLs only: the issuer's keys from its JWT VC Issuer Metadata, the
status from the Token Status List, served by the app over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.documents.conftest import Citizen, issue
from tests.support.node import Node, NodeScriptError


async def _credential(client: httpx.AsyncClient, citizen: Citizen, document_id: str) -> str:
    r = await client.get(f"/v1/me/documents/{document_id}/credential", headers=citizen.headers)
    assert r.status_code == 200, r.text
    return str(r.json()["credential"])


async def test_sd_jwt_vc_library_verifies_our_credential_with_keys_and_status_from_public_urls(
    node_served: Node, client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    doc = await issue(client, issuer)
    credential = await _credential(client, holder, doc["id"])
    out = await node_served.run("sd-jwt-vc-verify.mjs", {"credential": credential})
    assert out["iss"] == "http://testserver/issuers/csgt"
    assert out["vct"] == "https://citizenwallet.vn/credentials/driving_licence/v1"
    # Every disclosure is verified against the signed digests and flattened into the claims.
    assert out["claims"]["full_name"] == "Nguyễn Văn Hùng"
    assert out["claims"]["classes"][1]["code"] == "B"


async def test_sd_jwt_vc_library_refuses_a_suspended_credential_and_a_forged_signature(
    node_served: Node, client: httpx.AsyncClient, issuer: Any, holder: Citizen
) -> None:
    doc = await issue(client, issuer)
    credential = await _credential(client, holder, doc["id"])
    jws, rest = credential.split("~", 1)
    head, body, signature = jws.split(".")
    forged = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}~{rest}"
    with pytest.raises(NodeScriptError, match=r"(?i)signature"):
        await node_served.run("sd-jwt-vc-verify.mjs", {"credential": forged})

    r = await client.post(f"/v1/agency/documents/{doc['id']}/suspend", json={"reason": "kiểm tra"}, headers=issuer)
    assert r.status_code == 200, r.text
    # The status list the library fetches says 2 (suspended); its default rule accepts only 0.
    with pytest.raises(NodeScriptError, match="Status is not valid"):
        await node_served.run("sd-jwt-vc-verify.mjs", {"credential": credential})
