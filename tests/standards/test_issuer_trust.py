"""Issuer trust over OpenID4VP (issue #16 item 4): an SD-JWT VC whose issuer signature is by a key
we never published is refused as from an unknown issuer, in OpenID4VP's own error format, with
nothing logged for the holder — even when the holder's key binding is perfect."""

from __future__ import annotations

import json

import asyncpg
import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from tests.documents.conftest import Citizen
from tests.openid4vp.conftest import dcql, open_request, presentation, response_form
from tests.support.signing import b64url, es256
from wallet_api.kernel import b64url_decode


def _forged(sd_jwt: str) -> str:
    """The same claims and disclosures, signed by a key of the forger's under a kid we never issued."""
    jws, rest = sd_jwt.split("~", 1)
    head, body, _ = jws.split(".")
    header = {**json.loads(b64url_decode(head)), "kid": "forged-kid"}
    head = b64url(json.dumps(header).encode())
    signature = es256(ec.generate_private_key(ec.SECP256R1()), f"{head}.{body}")
    return f"{head}.{body}.{signature}~{rest}"


async def test_a_credential_signed_by_a_key_we_never_published_is_refused(
    client: httpx.AsyncClient, held: str, holder: Citizen, bank: dict[str, str], db: asyncpg.Pool
) -> None:
    request = await open_request(client, bank, dcql_query=dcql("date_of_birth"), response_mode="direct_post.jwt")
    p = request.payload
    shown = presentation(_forged(held), holder, ["date_of_birth"], nonce=p["nonce"], aud=p["client_id"])
    r = await client.post(p["response_uri"], data=response_form(request, {"licence": [shown]}))
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    status = (await client.get(f"/v1/presentation-requests/{request.created['transaction_id']}", headers=bank)).json()
    assert (status["status"], status["error"]["reason"]) == ("refused", "unknown-issuer"), status
    assert await db.fetchval("SELECT count(*) FROM document_views") == 0
