"""The credential endpoint: a DPoP-bound access token and key proofs become a batch of credentials."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Request, Response, post

from openid4vci.access_tokens import read_access_token
from openid4vci.configurations import (
    MDOC_CONFIGURATION,
    Configuration,
    configuration,
    credential_identifier,
    parse_identifier,
    sd_jwt_configuration_id,
)
from openid4vci.dpop import check_dpop
from openid4vci.errors import NO_STORE, ProtocolError, invalid_token
from openid4vci.issuance import issue_batch
from openid4vci.metadata import (
    CREDENTIAL_PATH,
    credential_issuer,
    endpoint,
)
from openid4vci.nonces import give_back_allowance, spend_nonces, take_allowance
from openid4vci.proofs import check_key_proofs
from wallet_api.kernel import (
    NOT_REPLAYED,
    PUBLIC,
    AppSettings,
    Db,
    JoseError,
    KeyProviderDep,
    RedisClient,
    strict_json,
)

__all__ = ["credential_endpoint"]

_TAGS = ["openid4vci"]


def _access_token(request: Request[Any, Any, Any]) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "dpop" or not token.strip():
        raise invalid_token("A DPoP-bound access token is required (Authorization: DPoP <token>).")
    return token.strip()


async def _requested(db: asyncpg.Pool, body: dict[str, Any], granted: tuple[UUID, ...]) -> tuple[UUID, Configuration]:
    """The document and configuration a credential request names, by identifier or by configuration."""
    identifier, configuration_id = body.get("credential_identifier"), body.get("credential_configuration_id")
    if (identifier is None) == (configuration_id is None):
        raise ProtocolError(
            "invalid_credential_request", "Name either credential_identifier or credential_configuration_id."
        )
    if identifier is not None:
        named = parse_identifier(identifier) if isinstance(identifier, str) else None
        if named is None or named[0] not in granted:
            raise ProtocolError("unknown_credential_identifier", "The access token grants no such identifier.")
        document_id, mdoc = named
        doc_type = await db.fetchval("SELECT doc_type FROM documents WHERE id = $1", document_id)
        wanted = configuration(MDOC_CONFIGURATION if mdoc else sd_jwt_configuration_id(doc_type or ""))
        if wanted is None or wanted.doc_type.code != doc_type:
            raise ProtocolError("unknown_credential_identifier", "The access token grants no such identifier.")
        return document_id, wanted
    wanted = configuration(configuration_id) if isinstance(configuration_id, str) else None
    if wanted is None:
        raise ProtocolError("unknown_credential_configuration", "No such credential_configuration_id.")
    matching = await db.fetch(
        "SELECT id FROM documents WHERE id = ANY($1::uuid[]) AND doc_type = $2", list(granted), wanted.doc_type.code
    )
    if not matching:
        raise ProtocolError("unknown_credential_configuration", "The access token grants no such configuration.")
    if len(matching) > 1:
        raise ProtocolError(
            "invalid_credential_request", "Several documents have this configuration: name a credential_identifier."
        )
    return matching[0]["id"], wanted


@post(
    CREDENTIAL_PATH,
    # Authorised by its own DPoP-bound access token (checked first, below), not by the app's
    # bearer tokens: the caller is another wallet, not a session of ours.
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=_TAGS,
    summary="Credential endpoint: SD-JWT VCs for up to batch_size holder keys (jwt proofs over a c_nonce)",
    status_code=200,
    request_max_body_size=256 * 1024,
)
async def credential_endpoint(
    request: Request[Any, Any, Any], db: Db, redis: RedisClient, settings: AppSettings, key_provider: KeyProviderDep
) -> Response[dict[str, Any]]:
    token = _access_token(request)
    issuer = credential_issuer(settings)
    grant = await read_access_token(key_provider, db, token, issuer=issuer)
    await check_dpop(
        request.headers.getall("dpop", []),
        redis,
        method="POST",
        url=endpoint(settings, CREDENTIAL_PATH),
        max_age=settings.openid4vci.proof_max_age_seconds,
        access_token=token,
        expected_jkt=grant.jkt,
    )
    try:
        body = strict_json(await request.body())
    except JoseError:
        body = None
    if not isinstance(body, dict):
        raise ProtocolError("invalid_credential_request", "The body must be one JSON object.")
    if "credential_response_encryption" in body:
        raise ProtocolError("invalid_encryption_parameters", "Encrypted credential responses are not offered.")
    document_id, wanted = await _requested(db, body, grant.document_ids)
    holders = check_key_proofs(
        body.get("proofs"),
        audience=issuer,
        max_age=settings.openid4vci.proof_max_age_seconds,
        batch_size=settings.openid4vci.batch_size,
    )
    if not await spend_nonces(redis, {h.nonce for h in holders}):
        raise ProtocolError("invalid_nonce", "A key proof's c_nonce is unknown, expired or used; get a new one.")
    batch_size, identifier = settings.openid4vci.batch_size, credential_identifier(document_id, wanted.id)
    ttl = grant.expires_at - int(time.time())
    if not await take_allowance(redis, grant.token_id, identifier, len(holders), batch_size, ttl):
        raise ProtocolError(
            "credential_request_denied",
            f"This access token has fetched its {batch_size} credentials of this identifier.",
        )
    try:
        credentials = await issue_batch(
            db, key_provider, settings, wanted, account_id=grant.account_id, document_id=document_id, holders=holders
        )
    except ProtocolError:
        await give_back_allowance(redis, grant.token_id, identifier, len(holders))
        raise
    return Response({"credentials": [{"credential": c} for c in credentials]}, headers=NO_STORE)
