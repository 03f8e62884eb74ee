"""Public routes verifiers and apps read without signing in: types, issuer keys, status lists,
and the SD-JWT VC type metadata each ``vct`` resolves to."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, route
from litestar.params import FromPath
from litestar.status_codes import HTTP_304_NOT_MODIFIED

from documents.credentials import issuer_url
from documents.issuer_keys import ISSUER_KEY_PURPOSE
from documents.statuslist import STATUS_LIST_MEDIA_TYPE, signed_list
from documents.type_metadata import type_metadata_at
from documents.types import all_types, get_type
from wallet_api.kernel import (
    GET_AND_HEAD,
    PUBLIC,
    AppSettings,
    Db,
    KeyProviderDep,
    NotFound,
    body_or_head,
    key_set_cache_control,
)

__all__ = ["ROUTES"]


@get("/document-types", opt=PUBLIC, tags=["documents"], summary="Document types: fields, labels, groups, cards")
async def document_types() -> Response[dict[str, Any]]:
    return Response({"types": [t.describe() for t in all_types()]}, headers={"Cache-Control": "public, max-age=3600"})


@get(
    "/document-types/{doc_type:str}/schema",
    opt=PUBLIC,
    tags=["documents"],
    summary="The claims of one document type as a JSON Schema (2020-12), made from its plugin",
    media_type="application/schema+json",
)
async def document_type_schema(settings: AppSettings, doc_type: FromPath[str]) -> Response[dict[str, Any]]:
    found = get_type(doc_type)
    if found is None:
        raise NotFound("No such document type.")
    return Response(
        found.claims_schema(settings.public_base_url),
        media_type="application/schema+json",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@get(
    "/.well-known/jwt-vc-issuer/issuers/{org_id:str}",
    opt=PUBLIC,
    tags=["keys"],
    summary="SD-JWT VC issuer metadata: the issuer's published keys",
)
async def issuer_metadata(
    db: Db, settings: AppSettings, key_provider: KeyProviderDep, org_id: FromPath[str]
) -> Response[dict[str, Any]]:
    org = await db.fetchrow("SELECT name FROM organisations WHERE id = $1 AND kind = 'issuer'", org_id)
    if org is None:
        raise NotFound("No such issuer.")
    complete = await key_provider.ensure_published()
    rows = await db.fetch(
        """SELECT public_jwk FROM signing_keys
           WHERE purpose = $1 AND owner = $2 AND (active OR publish_until IS NULL OR publish_until > now())
           ORDER BY created_at""",
        ISSUER_KEY_PURPOSE,
        org_id,
    )
    body = {
        "issuer": issuer_url(settings.public_base_url, org_id),
        "name": org["name"],
        "jwks": {"keys": [r["public_jwk"] for r in rows]},
    }
    return Response(body, headers={"Cache-Control": key_set_cache_control(complete and bool(rows))})


@route(
    "/status-lists/{list_id:uuid}",
    http_method=GET_AND_HEAD,
    opt=PUBLIC,
    tags=["keys"],
    summary="A Token Status List (application/statuslist+jwt), with ETag",
    media_type=STATUS_LIST_MEDIA_TYPE,
)
async def status_list(
    request: Request[Any, Any, Any],
    db: Db,
    key_provider: KeyProviderDep,
    settings: AppSettings,
    list_id: FromPath[UUID],
) -> Response[bytes]:
    signed = await signed_list(
        db,
        key_provider,
        list_id,
        base_url=settings.public_base_url,
        ttl_seconds=settings.documents.status_list_ttl_seconds,
    )
    if signed is None:
        raise NotFound("No such status list.")
    cache = f"public, max-age={settings.documents.status_list_ttl_seconds}"
    return _unless_unchanged(request, signed.token.encode("ascii"), signed.etag, STATUS_LIST_MEDIA_TYPE, cache)


@route(
    "/credentials/{doc_type:str}/{version:str}",
    http_method=GET_AND_HEAD,
    opt=PUBLIC,
    tags=["documents"],
    summary="SD-JWT VC type metadata: what a credential's vct URL resolves to (display vi/en, claims), with ETag",
    media_type="application/json",
)
async def vct_type_metadata(
    request: Request[Any, Any, Any], doc_type: FromPath[str], version: FromPath[str]
) -> Response[bytes]:
    # The path is the vct's own (https://citizenwallet.vn/credentials/<type>/v<n>) on our host.
    found = type_metadata_at(f"/credentials/{doc_type}/{version}")
    if found is None:
        raise NotFound("No such credential type.")
    return _unless_unchanged(request, found.body, found.etag, "application/json", "public, max-age=3600")


def _unless_unchanged(
    request: Request[Any, Any, Any], content: bytes, etag: str, media_type: str, cache_control: str
) -> Response[bytes]:
    """304 when the reader's ``If-None-Match`` names ``etag``; otherwise the document (or HEAD's headers)."""
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return body_or_head(request, content, media_type=media_type, headers=headers)


ROUTES = [document_types, document_type_schema, issuer_metadata, status_list, vct_type_metadata]
