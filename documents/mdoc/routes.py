"""The IACA roots published for mdoc verifiers (public, no sign-in).

- ``GET /mdoc/iaca-certificates``: every agency's roots as JSON (PEM, DER in base64, SHA-256
  fingerprint, validity), for a verifier that trusts the whole national wallet.
- ``GET /issuers/{org}/iaca.pem``: one agency's roots as a PEM file, beside the agency's
  issuer URL, for a verifier that trusts chosen agencies (or loads roots by hand into an
  mdoc reader app).
- ``GET /issuers/{org}/iaca/{kid}.crl``: a root's CRL, the distribution point named in the
  root and in the Document Signer certificates it issued.

Both list the current root and older ones still valid (mdocs signed under them are still
in wallets). A root not made yet is made before answering, so a complete set may be cached.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from litestar import Request, Response, route
from litestar.params import FromPath

from documents.credentials import issuer_url
from documents.mdoc.revocation import root_crl
from documents.mdoc.store import IacaRoot, published_roots
from wallet_api.kernel import (
    GET_AND_HEAD,
    PUBLIC,
    AppSettings,
    Db,
    KeyProviderDep,
    NotFound,
    body_or_head,
    json_bytes,
    key_set_cache_control,
)

__all__ = ["ROUTES", "agency_iaca_pem", "iaca_certificates", "iaca_crl"]

PEM_MEDIA_TYPE = "application/x-pem-file"
#: RFC 5280 §4.2.1.13: a CRL fetched over HTTP is DER, ``application/pkix-crl``.
CRL_MEDIA_TYPE = "application/pkix-crl"
CRL_MAX_AGE = 3600


def _describe(root: IacaRoot, base_url: str) -> dict[str, Any]:
    return {
        "issuer": root.org_id,
        "issuer_url": issuer_url(base_url, root.org_id),
        "name": root.org_name,
        "certificate": root.pem,
        "x5c": base64.b64encode(root.der).decode("ascii"),
        "sha256": hashlib.sha256(root.der).hexdigest(),
        "not_before": root.not_before.isoformat(),
        "not_after": root.not_after.isoformat(),
    }


@route(
    "/mdoc/iaca-certificates",
    http_method=GET_AND_HEAD,
    opt=PUBLIC,
    tags=["keys"],
    summary="ISO 18013-5 IACA root certificates of every agency issuing mdoc driving licences",
    media_type="application/json",
)
async def iaca_certificates(
    request: Request[Any, Any, Any], db: Db, settings: AppSettings, key_provider: KeyProviderDep
) -> Response[bytes]:
    roots = await published_roots(db, key_provider, base_url=settings.public_base_url)
    body = json_bytes({"iaca_certificates": [_describe(r, settings.public_base_url) for r in roots]})
    return body_or_head(
        request, body, media_type="application/json", headers={"Cache-Control": key_set_cache_control(bool(roots))}
    )


@route(
    "/issuers/{org_id:str}/iaca.pem",
    http_method=GET_AND_HEAD,
    opt=PUBLIC,
    tags=["keys"],
    summary="One agency's ISO 18013-5 IACA root certificates (PEM)",
    media_type=PEM_MEDIA_TYPE,
)
async def agency_iaca_pem(
    request: Request[Any, Any, Any],
    db: Db,
    settings: AppSettings,
    key_provider: KeyProviderDep,
    org_id: FromPath[str],
) -> Response[bytes]:
    roots = await published_roots(db, key_provider, base_url=settings.public_base_url, org_id=org_id)
    if not roots:
        raise NotFound("No such agency issues mdoc driving licences.")
    body = "".join(r.pem for r in roots).encode("ascii")
    return body_or_head(
        request, body, media_type=PEM_MEDIA_TYPE, headers={"Cache-Control": key_set_cache_control(True)}
    )


@route(
    # Litestar parameters are whole path segments: the file name is "<root kid>.crl".
    "/issuers/{org_id:str}/iaca/{file_name:str}",
    http_method=GET_AND_HEAD,
    opt=PUBLIC,
    tags=["keys"],
    summary="The certificate revocation list of one of an agency's IACA roots (DER)",
    media_type=CRL_MEDIA_TYPE,
)
async def iaca_crl(
    request: Request[Any, Any, Any],
    db: Db,
    key_provider: KeyProviderDep,
    org_id: FromPath[str],
    file_name: FromPath[str],
) -> Response[bytes]:
    kid, dot, extension = file_name.rpartition(".")
    crl = await root_crl(db, key_provider, org_id, kid) if dot and extension == "crl" else None
    if crl is None:
        raise NotFound("No such IACA root.")
    headers = {"Cache-Control": f"public, max-age={CRL_MAX_AGE}"}
    return body_or_head(request, crl, media_type=CRL_MEDIA_TYPE, headers=headers)


ROUTES = [iaca_certificates, agency_iaca_pem, iaca_crl]
