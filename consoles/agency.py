"""The issuing agency console at ``/agency``: find, issue, update, suspend, reinstate, revoke, bulk.

Each action calls the function behind the agency API (documents/service.py, bulk.py) as
the signed-in issuer operator, so the same rules, transactions, events and audit apply.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from consoles.pages import PAGE, page
from consoles.session import require_csrf
from documents.bulk import bulk_issue, ndjson_rows
from documents.guards import issuing_agency
from documents.schemas import IssueRequest
from documents.service import (
    authorised_type,
    change_state,
    find_by_agency_ref,
    issue_document,
    load_agency_document,
    parse_claims,
    update_document,
)
from documents.types import all_types
from wallet_api.kernel import AppServices, Caller, Db, ValidationFailed

__all__ = ["ROLE", "ROUTES"]

ROLE = "issuer_operator"
_GUARDS = [issuing_agency]
_ACTIONS = ("suspend", "reinstate", "revoke")


async def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    await require_csrf(request)
    return dict(await request.form())


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _claims(form: dict[str, Any]) -> Any:
    try:
        return json.loads(_text(form, "claims") or "null")
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            "The claims are not valid JSON.", errors=[{"key": "claims", "message": f"line {exc.lineno}: {exc.msg}"}]
        ) from None


def _types() -> list[dict[str, Any]]:
    return [{"code": t.code, "title": t.title.as_dict()} for t in all_types()]


@get("/", guards=_GUARDS, opt=PAGE, include_in_schema=False)
async def home(request: Request[Any, Any, Any], principal: Caller, db: Db, agency_ref: str | None = None) -> Template:
    found = None
    if agency_ref:
        found = await find_by_agency_ref(db, principal, agency_ref.strip()[:64])
    return page(request, "agency.html", agency_ref=agency_ref or "", found=found, types=_types())


@post("/documents", guards=_GUARDS, opt=PAGE, include_in_schema=False)
async def issue(request: Request[Any, Any, Any], services: AppServices, principal: Caller, db: Db) -> Response[Any]:
    form = await _form(request)
    try:
        data = msgspec.convert(
            {
                "doc_type": _text(form, "doc_type"),
                "agency_ref": _text(form, "agency_ref"),
                "holder_id": _text(form, "holder_id"),
                "claims": _claims(form),
            },
            IssueRequest,
        )
    except msgspec.ValidationError as exc:
        raise ValidationFailed(str(exc), errors=[{"key": "form", "message": str(exc)}]) from None
    doc_type = await authorised_type(db, principal, data.doc_type)
    claims = parse_claims(doc_type, data.claims)
    async with db.acquire() as conn:
        row, _ = await issue_document(
            conn, principal, doc_type, data.agency_ref, data.holder_id, claims, services.population
        )
    return Redirect(f"/agency/documents/{row['id']}", status_code=HTTP_303_SEE_OTHER)


@get("/documents/{document_id:uuid}", guards=_GUARDS, opt=PAGE, include_in_schema=False)
async def show(request: Request[Any, Any, Any], document_id: FromPath[UUID], principal: Caller, db: Db) -> Template:
    row = await load_agency_document(db, principal, document_id)
    return page(
        request,
        "agency_document.html",
        doc=row,
        claims=json.dumps(
            row["claims"] if isinstance(row["claims"], dict) else json.loads(row["claims"]),
            ensure_ascii=False,
            indent=2,
        ),
        # Only the names of our own actions are echoed, never free text from the address.
        done=request.query_params.get("done") if request.query_params.get("done") in (*_ACTIONS, "update") else None,
    )


@post("/documents/{document_id:uuid}/update", guards=_GUARDS, opt=PAGE, include_in_schema=False)
async def update(
    request: Request[Any, Any, Any], document_id: FromPath[UUID], services: AppServices, principal: Caller, db: Db
) -> Response[Any]:
    form = await _form(request)
    claims = _claims(form)
    async with db.acquire() as conn:
        await update_document(conn, principal, document_id, claims, services.population)
    return Redirect(f"/agency/documents/{document_id}?done=update", status_code=HTTP_303_SEE_OTHER)


@post("/documents/{document_id:uuid}/state", guards=_GUARDS, opt=PAGE, include_in_schema=False)
async def change(
    request: Request[Any, Any, Any], document_id: FromPath[UUID], principal: Caller, db: Db
) -> Response[Any]:
    form = await _form(request)
    action = _text(form, "action")
    if action not in _ACTIONS:
        raise ValidationFailed("Choose suspend, reinstate or revoke.", errors=[{"key": "action", "message": "unknown"}])
    reason = _text(form, "reason")[:500] or None
    async with db.acquire() as conn:
        await change_state(conn, principal, document_id, action, reason)
    return Redirect(f"/agency/documents/{document_id}?done={action}", status_code=HTTP_303_SEE_OTHER)


@post("/bulk", guards=_GUARDS, opt=PAGE, include_in_schema=False, request_max_body_size=200 * 1024 * 1024)
async def bulk(request: Request[Any, Any, Any], services: AppServices, principal: Caller, db: Db) -> Template:
    form = await _form(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationFailed("Choose a file to upload.", errors=[{"key": "file", "message": "required"}])
    rows = ndjson_rows(await upload.read())
    if not rows:
        raise ValidationFailed("The file has no rows.", errors=[{"key": "file", "message": "empty"}])
    if all(row is None for row in rows):
        # A picture or a spreadsheet chosen by mistake: one message, not a refusal per line.
        raise ValidationFailed(
            "This file is not an NDJSON register export: none of its lines is JSON.",
            errors=[{"key": "file", "message": "not NDJSON"}],
        )
    result = await bulk_issue(db, principal, rows, services.population)
    return page(request, "agency_bulk.html", result=result, filename=upload.filename)


ROUTES = [home, issue, show, update, change, bulk]
