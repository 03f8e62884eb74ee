"""Issuer trust over OpenID4VP (issue #16 item 4): an SD-JWT VC whose issuer signature is by a key
we never published, and an mdoc whose Document Signer the operator revoked, are refused by the
verifier service as from an unknown issuer, in OpenID4VP's own error format, with nothing logged
for the holder — even when the holder's key binding is perfect."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from documents.mdoc.trust import forget_cached
from tests.documents.conftest import Citizen
from tests.openid4vci.test_issuance import issued_batch_with_keys
from tests.openid4vp.conftest import MDL_NS, Request, dcql, mdl_query, open_request, presentation, response_form
from tests.openid4vp.conftest import transcript as session_transcript
from tests.support import mdoc_holder
from tests.support.cli import run_wallet
from tests.support.signing import b64url, es256
from wallet_api.kernel import b64url_decode
from wallet_api.settings import Settings


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
    await _refused_as_unknown_issuer(client, bank, db, request, {"licence": [shown]})


async def _refused_as_unknown_issuer(
    client: httpx.AsyncClient, bank: dict[str, str], db: asyncpg.Pool, request: Request, vp_token: dict[str, list[str]]
) -> None:
    r = await client.post(request.payload["response_uri"], data=response_form(request, vp_token))
    assert r.status_code == 400 and r.json()["error"] == "invalid_request", r.text
    status = (await client.get(f"/v1/presentation-requests/{request.created['transaction_id']}", headers=bank)).json()
    assert (status["status"], status["error"]["reason"]) == ("refused", "unknown-issuer"), status
    assert await db.fetchval("SELECT count(*) FROM document_views") == 0


async def test_an_mdoc_whose_document_signer_was_revoked_is_refused(
    client: httpx.AsyncClient,
    issuer: dict[str, str],
    holder: Citizen,
    bank: dict[str, str],
    db: asyncpg.Pool,
    settings: Settings,
    tmp_path: Path,
) -> None:
    _, keys, mdocs = await issued_batch_with_keys(client, issuer, holder, 1, mdoc=True)
    # The operator thinks the agency's Document Signer key compromised.
    result = await asyncio.to_thread(
        run_wallet, settings, tmp_path, "documents", "revoke-mdoc-signer", "csgt", kek=settings.kek
    )
    assert result.returncode == 0, result.stderr
    forget_cached()  # revoked by another process; this one would see it within its cache's life
    request = await open_request(client, bank, dcql_query=mdl_query("birth_date"), response_mode="direct_post.jwt")
    response = mdoc_holder.device_response(
        b64url_decode(mdocs[0]), keys[0], session_transcript(request), disclose={MDL_NS: {"birth_date"}}
    )
    await _refused_as_unknown_issuer(client, bank, db, request, {"mdl": [b64url(response)]})
