"""What anyone may fetch: the issuer's and the authorization server's metadata, nonces, offers by reference."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from openid4vci.errors import NO_STORE, ProtocolError, within_limit
from openid4vci.metadata import (
    NONCE_PATH,
    OFFERS_PATH,
    authorization_server_metadata,
    issuer_metadata,
)
from openid4vci.nonces import issue_nonce
from openid4vci.offers import offer_json
from wallet_api.kernel import (
    NOT_REPLAYED,
    PUBLIC,
    AppSettings,
    Db,
    LeasedWindowLimiter,
    RedisClient,
)

__all__ = ["PROTOCOL_ROUTES", "WELL_KNOWN_ROUTES"]

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
    return Response({"c_nonce": nonce}, headers=NO_STORE)


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
    return Response(offer, headers=NO_STORE)


WELL_KNOWN_ROUTES = [credential_issuer_metadata, oauth_server_metadata]
PROTOCOL_ROUTES = [nonce_endpoint, credential_offer]
