"""``POST /openid4vci/par``: pushed authorization requests (RFC 9126), the only way in.

The wallet pushes its whole authorization request here, authenticated by its wallet
attestation when it has one, and gets a short-lived single-use ``request_uri`` to open the
authorization page with. Pushing first means the page never reads parameters from the
browser's address bar: what the citizen approves is exactly what the wallet sent.

A DPoP proof sent with the push binds the future code to that key (RFC 9449 §10), as does
a ``dpop_jkt`` parameter; the token request must then be signed by the same key.
"""

from __future__ import annotations

from typing import Any, cast

from litestar import Request, Response, post
from litestar.status_codes import HTTP_201_CREATED

from openid4vci.authorization.clients import authenticate_client
from openid4vci.authorization.endpoints import PAR_PATH
from openid4vci.authorization.requests import read_pushed_request
from openid4vci.authorization.store import push
from openid4vci.dpop import check_dpop
from openid4vci.errors import ProtocolError
from openid4vci.metadata import credential_issuer
from openid4vci.token import form_parameters
from wallet_api.kernel import NOT_REPLAYED, PUBLIC, AppServices, FixedWindow, Scope, caller_source, enforce

__all__ = ["pushed_authorization_request"]

#: Pushes one source may make per minute: each stores a row until it is purged.
_PUSHES = FixedWindow("oid4vci-par", 60, 60)


@post(
    PAR_PATH,
    opt={**PUBLIC, **NOT_REPLAYED},
    tags=["openid4vci"],
    summary="Pushed authorization request (RFC 9126): PKCE S256, authorization_details, wallet attestation",
    status_code=HTTP_201_CREATED,
    request_max_body_size=16 * 1024,
)
async def pushed_authorization_request(
    request: Request[Any, Any, Any], services: AppServices
) -> Response[dict[str, Any]]:
    settings = services.settings
    await enforce(_PUSHES, services.redis, caller_source(cast(Scope, request.scope), settings.trusted_proxies))
    issuer = credential_issuer(settings)
    form = form_parameters(await request.body(), request.headers.get("content-type"))
    pushed = read_pushed_request(form, issuer=issuer)
    jkt = pushed.dpop_jkt
    proofs = request.headers.getall("dpop", [])
    if proofs:
        key = await check_dpop(
            proofs,
            services.redis,
            method="POST",
            url=issuer + PAR_PATH,
            max_age=settings.openid4vci.proof_max_age_seconds,
        )
        if jkt is not None and jkt != key.jkt:
            raise ProtocolError("invalid_dpop_proof", "dpop_jkt does not name the key of the DPoP proof.")
        jkt = key.jkt
    client = await authenticate_client(request.headers, services, pushed.client_id)
    ttl = settings.openid4vci.par_ttl_seconds
    request_uri = await push(services.pool, pushed, attested=client.attested, dpop_jkt=jkt, ttl=ttl)
    return Response(
        {"request_uri": request_uri, "expires_in": ttl},
        status_code=HTTP_201_CREATED,
        headers={"Cache-Control": "no-store"},
    )
