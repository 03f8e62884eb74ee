"""The token endpoint: a grant (by its ``grant_type``) becomes a DPoP-bound access token.

:data:`GRANTS` maps each supported ``grant_type`` to the handler that checks it and says
whose documents the token may fetch; the authorization code flow adds its own entry. Every
grant needs a DPoP proof (RFC 9449): the token is bound to that key (``cnf.jkt``) and its
``token_type`` is ``DPoP``. Answers and errors are OAuth's (RFC 6749 §5.1, §5.2), never stored.

The pre-authorized code grant (OpenID4VCI §6.1): the code from the offer and the holder's
transaction code. The code is single use and expires with the offer; each wrong
transaction code is counted on the offer in PostgreSQL (the offer dies at
``WALLET_OPENID4VCI_TX_CODE_MAX_FAILURES``: a code of six digits must not be guessable by
trying, and a count in Redis could be lost) and against the caller's address by the
lockout (slowing one source across offers).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

import asyncpg
from litestar import Request, Response, post

from openid4vci.access_tokens import issue_access_token
from openid4vci.attestation import ATTESTATION_HEADER, ATTESTATION_POP_HEADER
from openid4vci.authorization.clients import authenticate_client
from openid4vci.authorization.endpoints import AUTHORIZATION_CODE_GRANT
from openid4vci.authorization.grant import authorization_code_grant
from openid4vci.configurations import configurations_of, credential_identifier
from openid4vci.dpop import check_dpop
from openid4vci.errors import ProtocolError, within_limit
from openid4vci.grants import Granted, GrantHandler, GrantRequest
from openid4vci.metadata import PRE_AUTHORIZED_GRANT, TOKEN_PATH, credential_issuer, endpoint
from openid4vci.offers import code_digest, tx_code_matches
from wallet_api.accounts.ratelimit import Lockout
from wallet_api.kernel import (
    NOT_REPLAYED,
    PUBLIC,
    AppServices,
    AppSettings,
    Db,
    KeyProviderDep,
    LeasedWindowLimiter,
    RedisClient,
)

__all__ = ["GRANTS", "TX_CODE_LOCKOUT", "GrantHandler", "GrantRequest", "Granted", "token_endpoint"]

_FORM = "application/x-www-form-urlencoded"
#: Token requests one address may make per minute (each valid DPoP proof is remembered in Redis).
_TOKEN_REQUESTS = LeasedWindowLimiter("vci:token-rate", 300)
_MAX_PARAM = 2048
#: Wrong transaction codes from one address: slowed across offers (each offer dies alone at the
#: configured maximum, below this threshold, so the lockout only matters across offers).
TX_CODE_LOCKOUT = Lockout("oid4vci-tx-code", threshold=10, window=900, base=300, cap=3600, source_threshold=20)


def _invalid_grant(description: str) -> ProtocolError:
    return ProtocolError("invalid_grant", description)


async def pre_authorized_grant(request: GrantRequest) -> Granted:
    code, tx_code = request.params.get("pre-authorized_code"), request.params.get("tx_code")
    if not code:
        raise ProtocolError("invalid_request", "pre-authorized_code is missing.")
    # Wallet attestation (HAIP token endpoint): checked when a wallet sends one, required when the
    # settings say so — before the offer is touched, so a refused wallet spends nothing.
    sent = any(request.headers.get(h) is not None for h in (ATTESTATION_HEADER, ATTESTATION_POP_HEADER))
    if sent or request.settings.openid4vci.attestation_required:
        await authenticate_client(request.headers, request.services, request.params.get("client_id"))
    digest = code_digest(code)
    subject = digest.hex()[:32]
    wait = await TX_CODE_LOCKOUT.acquire(request.redis, subject, request.source)
    if wait:
        raise ProtocolError(
            "invalid_grant",
            "Too many wrong transaction codes from this address; wait before trying again.",
            status=429,
            headers={"Retry-After": str(wait)},
        )
    limit = request.settings.openid4vci.tx_code_max_failures
    wrong_tx_code = False
    async with request.pool.acquire() as conn, conn.transaction():
        offer = await conn.fetchrow("SELECT * FROM credential_offers WHERE code_hash = $1 FOR UPDATE", digest)
        if offer is None:
            verdict = "The pre-authorized code is not known."
        elif offer["redeemed_at"] is not None:
            verdict = "The pre-authorized code was already used."
        elif offer["expires_at"].timestamp() <= time.time():
            verdict = "The pre-authorized code has expired."
        elif offer["tx_failures"] >= limit:
            verdict = "Too many wrong transaction codes: this offer is void; ask for a new one."
        elif tx_code is None:
            raise ProtocolError("invalid_request", "This offer needs the transaction code (tx_code).")
        elif offer["tx_code_hash"] is None:
            verdict = "The holder has not yet opened the transaction code in the Citizen Wallet app."
        elif not tx_code_matches(offer["id"], offer["tx_code_hash"], tx_code):
            await conn.execute("UPDATE credential_offers SET tx_failures = tx_failures + 1 WHERE id = $1", offer["id"])
            wrong_tx_code = True
            verdict = "The transaction code is wrong."
        else:
            await conn.execute("UPDATE credential_offers SET redeemed_at = now() WHERE id = $1", offer["id"])
            verdict = ""
    if wrong_tx_code:
        await TX_CODE_LOCKOUT.failure(request.redis, subject, request.source)
    if offer is None or verdict:
        raise _invalid_grant(verdict)
    await TX_CODE_LOCKOUT.success(request.redis, subject, request.source)
    return Granted(account_id=offer["account_id"], document_ids=list(offer["document_ids"]))


#: ``grant_type`` → its handler. The authorization code flow adds ``authorization_code``.
GRANTS: dict[str, GrantHandler] = {
    PRE_AUTHORIZED_GRANT: pre_authorized_grant,
    AUTHORIZATION_CODE_GRANT: authorization_code_grant,
}


def form_parameters(body: bytes, content_type: str | None) -> dict[str, str]:
    """An OAuth request's form parameters; a repeated, overlong or undecodable one is refused."""
    if (content_type or "").split(";", 1)[0].strip().lower() != _FORM:
        raise ProtocolError("invalid_request", f"The request must be {_FORM}.")
    try:
        pairs = parse_qsl(body.decode("ascii"), keep_blank_values=False, strict_parsing=False, errors="strict")
    except (UnicodeError, ValueError):
        raise ProtocolError("invalid_request", "The form cannot be read.") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise ProtocolError("invalid_request", f"{name} is repeated.")
        if len(value) > _MAX_PARAM or "\x00" in value:
            raise ProtocolError("invalid_request", f"{name} is not a valid value.")
        params[name] = value
    return params


async def _authorization_details(pool: asyncpg.Pool, document_ids: list[UUID]) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT id, doc_type FROM documents WHERE id = ANY($1::uuid[]) ORDER BY doc_type, id", document_ids
    )
    by_configuration: dict[str, list[str]] = {}
    for row in rows:
        for configuration_id in configurations_of(row["doc_type"]):
            identifier = credential_identifier(row["id"], configuration_id)
            by_configuration.setdefault(configuration_id, []).append(identifier)
    return [
        {"type": "openid_credential", "credential_configuration_id": configuration, "credential_identifiers": ids}
        for configuration, ids in by_configuration.items()
    ]


@post(
    TOKEN_PATH,
    # Anyone may ask; the grant itself (a pre-authorized code and its transaction code, or an
    # authorization code with PKCE) is the authorisation, checked by its handler.
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["openid4vci"],
    summary="OAuth token endpoint: pre-authorized code + tx_code, or authorization code + PKCE; DPoP required",
    status_code=200,
    request_max_body_size=16 * 1024,
)
async def token_endpoint(
    request: Request[Any, Any, Any],
    db: Db,
    redis: RedisClient,
    settings: AppSettings,
    key_provider: KeyProviderDep,
    services: AppServices,
) -> Response[dict[str, Any]]:
    source = await within_limit(_TOKEN_REQUESTS, redis, request, settings)
    params = form_parameters(await request.body(), request.headers.get("content-type"))
    grant_type = params.get("grant_type")
    if not grant_type:
        raise ProtocolError("invalid_request", "grant_type is missing.")
    handler = GRANTS.get(grant_type)
    if handler is None:
        raise ProtocolError("unsupported_grant_type", f"Supported: {', '.join(sorted(GRANTS))}.")
    dpop = await check_dpop(
        request.headers.getall("dpop", []),
        redis,
        method="POST",
        url=endpoint(settings, TOKEN_PATH),
        max_age=settings.openid4vci.proof_max_age_seconds,
    )
    granted = await handler(GrantRequest(params, dpop, db, redis, settings, source, request.headers, services))
    ttl = settings.openid4vci.access_token_ttl_seconds
    token = await issue_access_token(
        key_provider,
        issuer=credential_issuer(settings),
        account_id=granted.account_id,
        document_ids=granted.document_ids,
        jkt=dpop.jkt,
        ttl=ttl,
    )
    body = {
        "access_token": token,
        "token_type": "DPoP",
        "expires_in": ttl,
        "authorization_details": granted.authorization_details
        if granted.authorization_details is not None
        else await _authorization_details(db, granted.document_ids),
    }
    return Response(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
