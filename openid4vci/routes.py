"""The issuer's routes: metadata, nonces, offers (by the holder and by an agency), credentials."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from uuid import UUID

import asyncpg
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from documents.credentials import DOCUMENTS_LEVEL, citizen_document
from documents.guards import issuing_agency
from documents.qr import render_qr
from documents.service import load_agency_document
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
from openid4vci.errors import ProtocolError, invalid_token, within_limit
from openid4vci.issuance import issue_batch
from openid4vci.metadata import (
    CREDENTIAL_PATH,
    NONCE_PATH,
    OFFERS_PATH,
    authorization_server_metadata,
    credential_issuer,
    endpoint,
    issuer_metadata,
)
from openid4vci.nonces import give_back_allowance, issue_nonce, spend_nonces, take_allowance
from openid4vci.offers import MadeOffer, insert_offer, new_tx_code, offer_json, offer_uri, tx_code_digest
from openid4vci.proofs import check_key_proofs
from openid4vci.schemas import OfferOut, OfferRequest, TxCodeOut
from wallet_api.kernel import (
    NOT_REPLAYED,
    PUBLIC,
    AppSettings,
    Caller,
    Db,
    Forbidden,
    JoseError,
    KeyProviderDep,
    LeasedWindowLimiter,
    NotFound,
    Principal,
    Problem,
    RedisClient,
    Settings,
    ValidationFailed,
    citizen,
    level_too_low,
    publish,
    record,
    strict_json,
)

__all__ = ["APP_ROUTES", "PROTOCOL_ROUTES", "WELL_KNOWN_ROUTES"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: Nonces one address may ask for per minute: each is kept in Redis for minutes, so an
#: unbounded caller could fill it. A wallet needs one per credential request.
_NONCES = LeasedWindowLimiter("vci:nonce-rate", 600)
_TAGS = ["openid4vci"]


# --- metadata ----------------------------------------------------------------------------


@get(
    "/.well-known/openid-credential-issuer",
    opt=PUBLIC,
    tags=_TAGS,
    summary="OpenID4VCI credential issuer metadata (configurations generated from the document types)",
)
async def credential_issuer_metadata(settings: AppSettings) -> Response[dict[str, Any]]:
    return Response(issuer_metadata(settings), headers={"Cache-Control": "public, max-age=300"})


@get(
    "/.well-known/oauth-authorization-server",
    opt=PUBLIC,
    tags=_TAGS,
    summary="OAuth 2.0 authorization server metadata (RFC 8414) of the credential issuer",
)
async def oauth_server_metadata(settings: AppSettings) -> Response[dict[str, Any]]:
    return Response(authorization_server_metadata(settings), headers={"Cache-Control": "public, max-age=300"})


# --- protocol endpoints ------------------------------------------------------------------


@post(
    NONCE_PATH,
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=_TAGS,
    summary="A fresh c_nonce for key proofs (single use, short-lived)",
    status_code=200,
    request_max_body_size=1024,
)
async def nonce_endpoint(
    request: Request[Any, Any, Any], redis: RedisClient, settings: AppSettings
) -> Response[dict[str, str]]:
    await within_limit(_NONCES, redis, request, settings)
    nonce = await issue_nonce(redis, settings.openid4vci.c_nonce_ttl_seconds)
    return Response({"c_nonce": nonce}, headers=_NO_STORE)


@get(
    f"{OFFERS_PATH}/{{ref:str}}",
    opt=PUBLIC,
    tags=_TAGS,
    summary="A credential offer by reference (credential_offer_uri); gone once redeemed or expired",
)
async def credential_offer(db: Db, settings: AppSettings, ref: FromPath[str]) -> Response[dict[str, Any]]:
    offer = await offer_json(db, settings, ref) if len(ref) <= 64 else None
    if offer is None:
        raise ProtocolError("invalid_request", "No such credential offer, or it was used or has expired.", status=404)
    return Response(offer, headers=_NO_STORE)


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
    return Response({"credentials": [{"credential": c} for c in credentials]}, headers=_NO_STORE)


# --- offers (the app and the agencies) ---------------------------------------------------


def _offer_out(settings: Settings, made: MadeOffer, tx_code: str | None) -> OfferOut:
    uri, link = offer_uri(settings, made.ref)
    images = render_qr(link)
    return OfferOut(
        offer_id=made.offer_id,
        offer=link,
        credential_offer_uri=uri,
        expires_at=made.expires_at,
        qr_png=images.png_base64,
        qr_svg=images.svg,
        tx_code=tx_code,
    )


def _unique(document_ids: list[UUID]) -> list[UUID]:
    if len(set(document_ids)) != len(document_ids):
        raise ValidationFailed(
            "A document is named twice.", errors=[{"key": "document_ids", "message": "repeated document"}]
        )
    return document_ids


def _offerable(doc: asyncpg.Record) -> None:
    if doc["state"] != "active":
        raise Problem(
            f"A {doc['state']} document cannot be offered to a wallet.",
            slug="document-state",
            status=409,
            title="The document cannot be offered",
            state=doc["state"],
        )


@post(
    "/v1/me/credential-offers",
    guards=[citizen],
    opt=NOT_REPLAYED,
    tags=_TAGS,
    summary="Offer my documents to another wallet (OpenID4VCI pre-authorized code; tx_code shown here only)",
    status_code=HTTP_201_CREATED,
)
async def my_credential_offer(
    principal: Caller, db: Db, settings: AppSettings, data: JSONBody[OfferRequest]
) -> OfferOut:
    if principal.device_id is None:
        raise Forbidden("Offers are made from the app on a bound device.", slug="device-required")
    document_ids = _unique(data.document_ids)
    async with db.acquire() as conn, conn.transaction():
        for document_id in document_ids:
            _offerable(await citizen_document(conn, principal, document_id))
        made, tx_code = await insert_offer(conn, settings, UUID(principal.subject), document_ids, by_agency=None)
    return _offer_out(settings, made, tx_code)


@post(
    "/v1/agency/credential-offers",
    guards=[issuing_agency],
    opt=NOT_REPLAYED,
    tags=_TAGS,
    summary="Offer a holder the documents the agency issued them (the tx_code reaches the holder in the app)",
    status_code=HTTP_201_CREATED,
)
async def agency_credential_offer(
    principal: Caller, db: Db, settings: AppSettings, data: JSONBody[OfferRequest]
) -> OfferOut:
    document_ids = _unique(data.document_ids)
    async with db.acquire() as conn, conn.transaction():
        docs = [await load_agency_document(conn, principal, d) for d in document_ids]
        for doc in docs:
            _offerable(doc)
        if len({doc["holder_id"] for doc in docs}) != 1:
            raise ValidationFailed(
                "An offer is for one holder: these documents belong to several.",
                errors=[{"key": "document_ids", "message": "several holders"}],
            )
        account = await conn.fetchrow(
            "SELECT id, level FROM accounts WHERE person_id = $1 AND state = 'active'", docs[0]["holder_id"]
        )
        if account is None or account["level"] < DOCUMENTS_LEVEL:
            raise Problem(
                "The holder has no account at identification level 2 in the app to receive the transaction code.",
                slug="holder-unreachable",
                status=409,
                title="The holder cannot receive the offer's transaction code",
            )
        made, _ = await insert_offer(conn, settings, account["id"], document_ids, by_agency=principal.org_id)
        await publish(
            conn,
            "credential_offer.made",
            {
                "account_id": str(account["id"]),
                "offer_id": str(made.offer_id),
                "doc_type": docs[0]["doc_type"],
                "issuer_org_id": principal.org_id,
            },
            key=str(made.offer_id),
        )
        await record(
            conn,
            actor=principal.key,
            action="credential_offer.make",
            subject=f"credential_offer:{made.offer_id}",
            details={"document_ids": [str(d) for d in document_ids]},
        )
    return _offer_out(settings, made, None)


@post(
    "/v1/me/credential-offers/{offer_id:uuid}/tx-code",
    guards=[citizen],
    opt=NOT_REPLAYED,
    tags=_TAGS,
    summary="The transaction code of an agency's offer to me (a new one each time: only the latest works)",
    status_code=HTTP_201_CREATED,
)
async def offer_tx_code(principal: Caller, db: Db, settings: AppSettings, offer_id: FromPath[UUID]) -> TxCodeOut:
    await _citizen_level(db, principal)
    tx_code = new_tx_code(settings.openid4vci.tx_code_length)
    expires_at: dt.datetime | None = await db.fetchval(
        """UPDATE credential_offers SET tx_code_hash = $3
           WHERE id = $1 AND account_id = $2::uuid AND made_by = 'agency'
             AND redeemed_at IS NULL AND expires_at > now() AND tx_failures < $4
           RETURNING expires_at""",
        offer_id,
        principal.subject,
        tx_code_digest(offer_id, tx_code),
        settings.openid4vci.tx_code_max_failures,
    )
    if expires_at is None:
        raise NotFound("No open offer of an agency to you has this id (it may have been used or have expired).")
    return TxCodeOut(tx_code=tx_code, expires_at=expires_at)


async def _citizen_level(db: asyncpg.Pool, principal: Principal) -> None:
    if principal.device_id is None:
        raise Forbidden("Offers are opened from the app on a bound device.", slug="device-required")
    level = await db.fetchval("SELECT level FROM accounts WHERE id = $1::uuid", principal.subject)
    if (level or 0) < DOCUMENTS_LEVEL:
        raise level_too_low(DOCUMENTS_LEVEL)


WELL_KNOWN_ROUTES = [credential_issuer_metadata, oauth_server_metadata]
PROTOCOL_ROUTES = [nonce_endpoint, credential_offer, credential_endpoint]
APP_ROUTES = [my_credential_offer, agency_credential_offer, offer_tx_code]
