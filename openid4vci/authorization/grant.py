"""The ``authorization_code`` grant of the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9449).

The code is redeemed once, in one transaction that locks its row: everything is checked
first (the code is ours, unexpired and unused; the client is the one it was made for, with
its attestation if it had one at PAR; ``redirect_uri`` is the same string; the PKCE
verifier hashes to the challenge; the DPoP key is the one the push named), and only then
is it marked redeemed. A refused request changes nothing, so a wallet that made a mistake
cannot be locked out by it, while a second redemption of a redeemed code is always refused.
(The access tokens are self-contained and live minutes, so one issued from a code later
presented again is not revoked: docs/standards.md.)

The token endpoint (``openid4vci/token.py``, which checked the DPoP proof) makes the token:
bound to the DPoP key, naming the account that approved and the documents it chose;
``authorization_details`` lists them per requested configuration as ``credential_identifiers``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

from openid4vci.authorization.clients import authenticate_client
from openid4vci.authorization.store import Authorization, lock_by_code, redeem
from openid4vci.configurations import credential_identifier
from openid4vci.dpop import DpopKey
from openid4vci.errors import ProtocolError
from openid4vci.grants import Granted, GrantRequest
from wallet_api.kernel import b64url_encode

__all__ = ["authorization_code_grant"]

#: RFC 7636 §4.1: 43 to 128 unreserved characters.
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise ProtocolError("invalid_request", f"The parameter {name} is required.")
    return value


def _invalid_grant(description: str) -> ProtocolError:
    return ProtocolError("invalid_grant", description)


def _check(
    authorization: Authorization | None, form: Mapping[str, str], client_id: str, dpop: DpopKey
) -> Authorization:
    if authorization is None or authorization.redeemed or authorization.code_expired:
        raise _invalid_grant("The code is unknown, expired or already used.")
    if authorization.client_id != client_id:
        raise _invalid_grant("The code was issued to another client.")
    if form["redirect_uri"] != authorization.redirect_uri:
        raise _invalid_grant("redirect_uri is not the one of the authorization request.")
    challenge = b64url_encode(hashlib.sha256(form["code_verifier"].encode("ascii")).digest())
    if not hmac.compare_digest(challenge, authorization.code_challenge):
        raise _invalid_grant("The code_verifier does not match the code_challenge (PKCE S256).")
    if authorization.dpop_jkt is not None and authorization.dpop_jkt != dpop.jkt:
        raise _invalid_grant("The DPoP key is not the one the authorization request was bound to.")
    return authorization


async def authorization_code_grant(request: GrantRequest) -> Granted:
    """Redeem an authorization code: the approving account, its chosen documents, per requested configuration."""
    params = request.params
    code = _required(params, "code")
    _required(params, "redirect_uri")
    if not _VERIFIER.fullmatch(params.get("code_verifier", "")):
        raise ProtocolError("invalid_request", "code_verifier (43 to 128 unreserved characters) is required.")
    client = await authenticate_client(request.headers, request.services, params.get("client_id"))
    async with request.pool.acquire() as conn, conn.transaction():
        authorization = _check(await lock_by_code(conn, code), params, client.client_id, request.dpop)
        if authorization.attested_by is not None and client.attested is None:
            raise ProtocolError("invalid_client", "This wallet was attested at PAR and must be here too.", status=401)
        await redeem(conn, authorization.id)
        doc_types = {
            r["id"]: r["doc_type"]
            for r in await conn.fetch(
                "SELECT id, doc_type FROM documents WHERE id = ANY($1::uuid[])", authorization.document_ids
            )
        }
    assert authorization.account_id is not None  # an approved authorization has its account
    details = []
    for requested in authorization.requested:
        configuration_id = requested["credential_configuration_id"]
        identifiers = [
            credential_identifier(d, configuration_id)
            for d in authorization.document_ids
            if doc_types.get(d) == requested["doc_type"]
        ]
        if identifiers:
            details.append(
                {
                    "type": "openid_credential",
                    "credential_configuration_id": configuration_id,
                    "credential_identifiers": identifiers,
                }
            )
    return Granted(
        account_id=authorization.account_id, document_ids=authorization.document_ids, authorization_details=details
    )
