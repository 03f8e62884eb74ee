"""The agency API: issuing agencies' systems (OAuth2 clients with ``documents:issue``) and operators."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import asyncpg
from litestar import Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from documents.bulk import bulk_issue, ndjson_rows
from documents.guards import issuing_agency
from documents.schemas import BulkIssueRequest, BulkIssueResult, DocumentOut, IssueRequest, ReasonBody, UpdateRequest
from documents.service import (
    authorised_type,
    change_state,
    find_by_agency_ref,
    issue_document,
    load_agency_document,
    parse_claims,
    update_document,
)
from wallet_api.kernel import AppServices, Caller, Db, Principal, ValidationFailed, principal_of

__all__ = ["ROUTES"]

_GUARDS = [issuing_agency]
_TAGS = ["agency"]


def _out(row: asyncpg.Record) -> DocumentOut:
    return DocumentOut(
        id=row["id"],
        issuer_org_id=row["issuer_org_id"],
        doc_type=row["doc_type"],
        agency_ref=row["agency_ref"],
        version=row["version"],
        state=row["state"],
        valid_from=row["valid_from"],
        valid_until=row["valid_until"],
        state_reason=row["state_reason"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


@post("/agency/documents", guards=_GUARDS, tags=_TAGS, summary="Issue a document (idempotent on agency_ref)")
async def issue(
    principal: Caller, db: Db, services: AppServices, data: JSONBody[IssueRequest]
) -> Response[DocumentOut]:
    doc_type = await authorised_type(db, principal, data.doc_type)
    claims = parse_claims(doc_type, data.claims)
    async with db.acquire() as conn:
        row, created = await issue_document(
            conn, principal, doc_type, data.agency_ref, data.holder_id, claims, services.population
        )
    return Response(_out(row), status_code=HTTP_201_CREATED if created else HTTP_200_OK)


@post(
    "/agency/documents/bulk",
    guards=_GUARDS,
    tags=_TAGS,
    summary="Issue many documents; one result per row",
    status_code=HTTP_200_OK,
    request_max_body_size=100 * 1024 * 1024,
)
async def bulk(principal: Caller, db: Db, services: AppServices, data: JSONBody[BulkIssueRequest]) -> BulkIssueResult:
    return await bulk_issue(db, principal, data.documents, services.population)


@post(
    "/agency/documents/bulk-file",
    guards=_GUARDS,
    tags=_TAGS,
    summary="Issue from an NDJSON file (one issue request per line); one result per line",
    status_code=HTTP_200_OK,
    request_max_body_size=200 * 1024 * 1024,
)
async def bulk_file(request: Request[Any, Any, Any], db: Db, services: AppServices) -> BulkIssueResult:
    """The register export as a file: ``application/x-ndjson``, line *n* is row *n - 1*."""
    rows = ndjson_rows(await request.body())
    if not rows:
        raise ValidationFailed("The file has no rows.", errors=[{"key": "body", "message": "empty"}])
    return await bulk_issue(db, principal_of(request), rows, services.population)


@get("/agency/documents", guards=_GUARDS, tags=_TAGS, summary="Find documents by the agency's own number")
async def find(principal: Caller, db: Db, agency_ref: Annotated[str, Parameter(max_length=64)]) -> list[DocumentOut]:
    return [_out(row) for row in await find_by_agency_ref(db, principal, agency_ref)]


@get("/agency/documents/{document_id:uuid}", guards=_GUARDS, tags=_TAGS, summary="A document's state")
async def show(principal: Caller, db: Db, document_id: FromPath[UUID]) -> DocumentOut:
    return _out(await load_agency_document(db, principal, document_id))


@put(
    "/agency/documents/{document_id:uuid}",
    guards=_GUARDS,
    tags=_TAGS,
    summary="Update a document: a new version; credentials of the old one are revoked",
)
async def update(
    principal: Caller,
    db: Db,
    services: AppServices,
    document_id: FromPath[UUID],
    data: JSONBody[UpdateRequest],
) -> DocumentOut:
    async with db.acquire() as conn:
        return _out(await update_document(conn, principal, document_id, data.claims, services.population))


async def _change(principal: Principal, db: Db, document_id: UUID, action: str, reason: str | None) -> DocumentOut:
    async with db.acquire() as conn:
        return _out(await change_state(conn, principal, document_id, action, reason))


@post(
    "/agency/documents/{document_id:uuid}/suspend",
    guards=_GUARDS,
    tags=_TAGS,
    status_code=HTTP_200_OK,
    summary="Suspend a document (credentials show 'suspended')",
)
async def suspend(principal: Caller, db: Db, document_id: FromPath[UUID], data: JSONBody[ReasonBody]) -> DocumentOut:
    return await _change(principal, db, document_id, "suspend", data.reason)


@post(
    "/agency/documents/{document_id:uuid}/reinstate",
    guards=_GUARDS,
    tags=_TAGS,
    status_code=HTTP_200_OK,
    summary="Lift a suspension",
)
async def reinstate(principal: Caller, db: Db, document_id: FromPath[UUID], data: JSONBody[ReasonBody]) -> DocumentOut:
    return await _change(principal, db, document_id, "reinstate", data.reason)


@post(
    "/agency/documents/{document_id:uuid}/revoke",
    guards=_GUARDS,
    tags=_TAGS,
    status_code=HTTP_200_OK,
    summary="Revoke a document for good (a reason is required)",
)
async def revoke(principal: Caller, db: Db, document_id: FromPath[UUID], data: JSONBody[ReasonBody]) -> DocumentOut:
    return await _change(principal, db, document_id, "revoke", data.reason)


ROUTES = [issue, bulk, bulk_file, find, show, update, suspend, reinstate, revoke]
