"""The citizen's side: documents held, their credentials, and who has looked at them."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import get
from litestar.params import FromPath, FromQuery, QueryParameter

from documents.credentials import DOCUMENTS_LEVEL, citizen_document, ensure_credential
from documents.schemas import AccessLogEntry, CredentialOut
from documents.types import get_type
from wallet_api.kernel import AppSettings, Caller, Db, KeyProviderDep, citizen, level_too_low, problem_type

__all__ = ["ROUTES"]

_GUARDS = [citizen]
_TAGS = ["wallet"]


def _summary(row: Any, language: str) -> dict[str, Any]:
    doc_type = get_type(row["doc_type"])
    assert doc_type is not None
    return {
        "id": str(row["id"]),
        "doc_type": row["doc_type"],
        "issuer_org_id": row["issuer_org_id"],
        "issuer_name": row["issuer_name"],
        "version": row["version"],
        "state": row["state"],
        "valid_from": row["valid_from"].isoformat(),
        "valid_until": row["valid_until"].isoformat() if row["valid_until"] else None,
        "card": doc_type.render_card(row["claims"], language),
    }


_SELECT = """SELECT d.*, o.name AS issuer_name, a.language FROM documents d
             JOIN accounts a ON a.person_id = d.holder_id
             JOIN organisations o ON o.id = d.issuer_org_id
             WHERE a.id = $1::uuid"""


def _locked_summary(row: Any, language: str) -> dict[str, Any]:
    """What a level-1 account sees of a document: that it exists, and nothing it says."""
    doc_type = get_type(row["doc_type"])
    assert doc_type is not None
    return {
        "id": str(row["id"]),
        "doc_type": row["doc_type"],
        "title": doc_type.title.vi if language == "vi" else doc_type.title.en,
        "issuer_org_id": row["issuer_org_id"],
        "issuer_name": row["issuer_name"],
        "state": row["state"],
        "locked": True,
    }


@get(
    "/me/documents",
    guards=_GUARDS,
    tags=_TAGS,
    summary="My documents, as cards (below level 2: only which documents exist, and how to open them)",
)
async def my_documents(principal: Caller, db: Db) -> dict[str, Any]:
    subject = principal.subject
    level = await db.fetchval("SELECT level FROM accounts WHERE id = $1::uuid", subject) or 0
    rows = await db.fetch(_SELECT + " ORDER BY d.doc_type, d.created_at", subject)
    if level >= DOCUMENTS_LEVEL:
        return {"level": level, "documents": [{**_summary(r, r["language"]), "locked": False} for r in rows]}
    # What the document routes would answer, so the app can offer the ways to level 2 at once.
    problem = level_too_low(DOCUMENTS_LEVEL)
    return {
        "level": level,
        "documents": [_locked_summary(r, r["language"]) for r in rows],
        "locked_because": {"type": problem_type(problem.slug), "detail": problem.detail, **problem.extensions},
    }


@get("/me/documents/{document_id:uuid}", guards=_GUARDS, tags=_TAGS, summary="One document with labelled fields")
async def my_document(principal: Caller, db: Db, document_id: FromPath[UUID]) -> dict[str, Any]:
    await citizen_document(db, principal, document_id)
    row = await db.fetchrow(_SELECT + " AND d.id = $2", principal.subject, document_id)
    assert row is not None
    doc_type = get_type(row["doc_type"])
    assert doc_type is not None
    body = _summary(row, row["language"])
    body["fields"] = [
        {"name": n, "label": doc_type.label(n).as_dict(), "value": row["claims"][n]}
        for n in doc_type.field_names
        if n in row["claims"]
    ]
    body["groups"] = [sorted(g) for g in doc_type.groups]
    body["disclosable"] = list(doc_type.disclosable)
    return body


@get(
    "/me/documents/{document_id:uuid}/credential",
    guards=_GUARDS,
    tags=_TAGS,
    summary="The document as an SD-JWT VC bound to this device (fresh after an update or a new device)",
)
async def my_credential(
    principal: Caller,
    db: Db,
    key_provider: KeyProviderDep,
    settings: AppSettings,
    document_id: FromPath[UUID],
) -> CredentialOut:
    held = await ensure_credential(db, key_provider, settings, principal, document_id)
    return CredentialOut(
        document_id=held.document_id,
        version=held.version,
        format="dc+sd-jwt",
        credential=held.sd_jwt,
        expires_at=held.expires_at,
    )


@get("/me/access-log", guards=_GUARDS, tags=_TAGS, summary="Who verified my documents, when, and which fields")
async def access_log(
    principal: Caller,
    db: Db,
    document_id: FromQuery[UUID | None] = None,
    limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
) -> dict[str, list[AccessLogEntry]]:
    rows = await db.fetch(
        """SELECT v.document_id, d.doc_type, v.verifier_org_id, o.name AS verifier_name, v.channel, v.fields,
                  v.outcome, v.viewed_at
           FROM document_views v JOIN documents d ON d.id = v.document_id
           LEFT JOIN organisations o ON o.id = v.verifier_org_id
           WHERE v.account_id = $1::uuid AND ($2::uuid IS NULL OR v.document_id = $2)
           ORDER BY v.viewed_at DESC, v.id DESC LIMIT $3""",
        principal.subject,
        document_id,
        limit,
    )
    return {"entries": [AccessLogEntry(**dict(r)) for r in rows]}


ROUTES = [my_documents, my_document, my_credential, access_log]
