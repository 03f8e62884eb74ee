"""The verifier service's API for a registered verifier's backend: ask for a presentation, read its outcome.

Verifiers call as they do for ``POST /v1/verifications``: an OAuth2 client with
``documents:verify`` or a ``verifier_agent`` officer (``not-a-verifier`` otherwise), of an
enabled organisation (``unknown-verifier`` otherwise). The DCQL query is read strictly
(``dcql-invalid``); the request then lives in Redis (openid4vp/transactions.py) until the
wallet answers at the response URI (openid4vp/wallet.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import time
from typing import Annotated, Literal
from urllib.parse import urlencode, urlsplit

from litestar import get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from redis.exceptions import RedisError

from documents.guards import verifier
from documents.qr import render_qr
from openid4vp import transactions
from openid4vp.dcql import DcqlInvalid, parse_dcql
from openid4vp.identity import VERIFIER_IDENTITY, client_host
from openid4vp.request_object import X509_HASH, X509_SAN_DNS, new_encryption_key, x509_hash_client_id
from openid4vp.schemas import PresentationRequestIn, PresentationRequestOut, PresentationStatusOut
from wallet_api.kernel import (
    NOT_REPLAYED,
    AppServices,
    Caller,
    Forbidden,
    LeasedWindowLimiter,
    NotFound,
    Principal,
    Services,
    ServiceUnavailable,
    Settings,
    ValidationFailed,
    enforce,
)

__all__ = ["ROUTES", "base_url", "create_request", "request_status", "verifier_name"]

_TAGS = ["openid4vp"]


def base_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


@functools.cache
def _request_limiter(limit: int) -> LeasedWindowLimiter:
    return LeasedWindowLimiter("vp:request-rate", limit)


def _redis_down() -> ServiceUnavailable:
    return ServiceUnavailable("Presentation requests cannot be handled right now; try again shortly.", retry_after=5)


async def verifier_name(services: Services, org_id: str | None) -> str:
    """The calling verifier's organisation name; ``unknown-verifier`` if it names no enabled organisation."""
    name: str | None = await services.pool.fetchval(
        "SELECT name FROM organisations WHERE id = $1 AND disabled_at IS NULL", org_id
    )
    if name is None:
        raise ValidationFailed(
            "Your organisation is not registered as an enabled verifier.",
            slug="unknown-verifier",
            title="Unknown verifier",
            errors=[{"key": "organisation", "message": "no such verifier"}],
        )
    return name


def _redirect_uri(settings: Settings, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    allowed = ("https",) if settings.env == "production" else ("https", "http")
    if parts.scheme not in allowed or not parts.hostname or parts.fragment:
        raise ValidationFailed(
            "redirect_uri must be an absolute https URL without a fragment.",
            errors=[{"key": "redirect_uri", "message": "not an https URL"}],
        )
    return value


@post(
    "/presentation-requests",
    guards=[verifier],
    opt=NOT_REPLAYED,
    tags=_TAGS,
    summary="Ask a holder for chosen claims (OpenID4VP 1.0 with DCQL): a request URI, QR code and link",
    status_code=HTTP_201_CREATED,
)
async def create_presentation_request(
    principal: Caller, services: AppServices, data: JSONBody[PresentationRequestIn]
) -> PresentationRequestOut:
    return await create_request(services, principal, data)


async def create_request(
    services: Services, principal: Principal, data: PresentationRequestIn
) -> PresentationRequestOut:
    """A presentation request of ``principal``'s organisation (the API's, and the verifier console's)."""
    settings = services.settings
    name = await verifier_name(services, principal.org_id)
    try:
        # Each request is kept in Redis until it expires: a verifier may not fill it.
        await enforce(
            _request_limiter(settings.openid4vp.requests_per_minute),
            services.redis,
            principal.key,
            detail="Too many presentation requests from this verifier; slow down.",
        )
    except RedisError:
        raise _redis_down() from None
    try:
        query = parse_dcql(data.dcql_query)
    except DcqlInvalid as exc:
        raise ValidationFailed(
            "The DCQL query asks for what this service cannot present.",
            slug="dcql-invalid",
            title="The DCQL query cannot be honoured",
            errors=exc.errors,
        ) from None
    if data.client_id_prefix == "pre-registered" and data.response_mode == "direct_post.jwt":
        raise ValidationFailed(
            "A pre-registered client's requests carry no client metadata, so no encryption key: use "
            "x509_san_dns for direct_post.jwt.",
            errors=[{"key": "response_mode", "message": "needs client_id_prefix x509_san_dns"}],
        )
    redirect_uri = _redirect_uri(settings, data.redirect_uri)
    if data.client_id_prefix == X509_SAN_DNS:
        client_id = f"{X509_SAN_DNS}:{client_host(settings)}"
    elif data.client_id_prefix == X509_HASH:
        client_id = x509_hash_client_id(await services.get(VERIFIER_IDENTITY).current())
    else:
        client_id = str(principal.org_id)
    enc_key, enc_kid = new_encryption_key() if data.response_mode == "direct_post.jwt" else ("", "")
    ttl = settings.openid4vp.request_ttl_seconds
    expires_at = int(time.time()) + ttl
    # The request id names the request in its URIs; the state and nonce are separate secrets.
    request_id = secrets.token_urlsafe(24)
    try:
        transaction_id = await transactions.create(
            services.redis,
            ttl,
            request_id=request_id,
            result_ttl=settings.openid4vp.result_ttl_seconds,
            org=principal.org_id,
            verifier=principal.key,
            client_id=client_id,
            nonce=secrets.token_urlsafe(24),
            state=secrets.token_urlsafe(24),
            dcql=query.document,
            mode=data.response_mode,
            enc_key=enc_key,
            enc_kid=enc_kid,
            redirect_uri=redirect_uri or "",
            response_uri=f"{base_url(settings)}/openid4vp/responses/{request_id}",
            expires_at=expires_at,
            verifier_name=name,
        )
    except RedisError:
        raise _redis_down() from None
    request_uri = f"{base_url(settings)}/openid4vp/requests/{request_id}"
    link = "openid4vp://?" + urlencode({"client_id": client_id, "request_uri": request_uri})
    images = render_qr(link)
    return PresentationRequestOut(
        transaction_id=transaction_id,
        client_id=client_id,
        request_uri=request_uri,
        authorization_request=link,
        qr_png=images.png_base64,
        qr_svg=images.svg,
        response_mode=data.response_mode,
        redirect_uri=redirect_uri,
        expires_at=dt.datetime.fromtimestamp(expires_at, dt.UTC),
    )


_STATUS: dict[str, Literal["refused", "delivered"]] = {"refused": "refused", "delivered": "delivered"}


def _not_found() -> NotFound:
    return NotFound("No such presentation request (or it has expired).")


@get(
    "/presentation-requests/{transaction_id:str}",
    guards=[verifier],
    tags=_TAGS,
    summary="The outcome of a presentation request: pending, the requested claims (once), or why it was refused",
)
async def presentation_request_status(
    principal: Caller,
    services: AppServices,
    transaction_id: FromPath[str],
    response_code: Annotated[str | None, QueryParameter(max_length=64)] = None,
) -> PresentationStatusOut:
    return await request_status(services, principal, transaction_id, response_code)


async def request_status(
    services: Services, principal: Principal, transaction_id: str, response_code: str | None = None
) -> PresentationStatusOut:
    """The outcome of ``principal``'s organisation's request (the API's, and the verifier console's)."""
    try:
        found = await transactions.find(services.redis, transaction_id)
        if found is None or found.org != principal.org_id:
            raise _not_found()  # another verifier's request is not ours to confirm
        if found.response_code and not secrets.compare_digest(found.response_code, response_code or ""):
            # Same-device (HAIP 5.1): the result goes only to the session the wallet was sent back to.
            raise Forbidden(
                "Show the response_code the wallet's redirect brought back to read this result.",
                slug="response-code-mismatch",
            )
        if found.phase != "answered":
            return PresentationStatusOut(
                transaction_id=transaction_id,
                status=_STATUS.get(found.phase, "pending"),
                request_fetched=found.phase != "created",
                error=found.result if found.phase == "refused" else None,
            )
        result = await transactions.take_result(services.redis, found)
    except RedisError:
        raise _redis_down() from None
    if result is None:  # another read took it a moment ago
        return PresentationStatusOut(transaction_id=transaction_id, status="delivered", request_fetched=True)
    return PresentationStatusOut(
        transaction_id=transaction_id,
        status="presented",
        request_fetched=True,
        credentials=result["credentials"],
        response_code=found.response_code or None,
    )


ROUTES = [create_presentation_request, presentation_request_status]
