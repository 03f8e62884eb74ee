"""The citizen's decision, in the app: ``/v1/me/authorizations/{handle}``.

The app, signed in with its bound device, reads the approval handle from the page's QR (or
the same-device link), shows which wallet asks for which documents, and approves with the
documents the citizen chooses, or denies. This is what binds the authorization to the
citizen's account: the first account that opens a handle holds it (any other gets the same
404 as for a handle that never existed); approving needs identification level 2, read from
the account row, and a fresh device signature (step-up) as other sensitive acts do; only
the citizen's own active documents of a requested type can be approved. Each decision is
audited (``oid4vci.authorization_approved`` / ``_denied``: the wallet's client_id and the
documents' ids, nothing of their content).
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit
from uuid import UUID

import asyncpg
import msgspec
from litestar import get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from documents.types import get_type
from openid4vci.authorization.store import Authorization, claim_for, decide
from wallet_api.kernel import (
    NOT_REPLAYED,
    Caller,
    Db,
    NotFound,
    Principal,
    ValidationFailed,
    citizen_level,
    fresh_device_signature,
    level_too_low,
    record,
)

__all__ = ["ROUTES"]

_LEVEL = 2
_HANDLE = re.compile(r"[A-Za-z0-9_-]{22}")
_TAGS = ["openid4vci"]


class Approval(msgspec.Struct, forbid_unknown_fields=True):
    #: The documents the citizen lets the wallet receive (their ids, from the GET).
    document_ids: Annotated[list[UUID], msgspec.Meta(min_length=1, max_length=10)]


def _unknown() -> NotFound:
    return NotFound(
        "No authorization waits under this code: it is unknown, expired, already decided, or another account's.",
        slug="authorization-unknown",
        title="No such authorization request",
    )


async def _claimed(db: asyncpg.Pool, handle: str, account_id: str) -> Authorization:
    # The level is read from the account row (a token may be minutes old), before the handle
    # is claimed: a refused caller leaves the request as it was.
    level = await db.fetchval("SELECT level FROM accounts WHERE id = $1::uuid AND state = 'active'", account_id)
    if (level or 0) < _LEVEL:
        raise level_too_low(_LEVEL)
    found = await claim_for(db, handle, account_id) if _HANDLE.fullmatch(handle) else None
    if found is None:
        raise _unknown()
    return found


async def _holder_documents(db: asyncpg.Pool, account_id: str, doc_types: list[str]) -> list[asyncpg.Record]:
    """The account's active documents of these types."""
    rows = await db.fetch(
        """SELECT d.id, d.doc_type, d.issuer_org_id, o.name AS issuer_name FROM accounts a
           JOIN documents d ON d.holder_id = a.person_id AND d.state = 'active' AND d.doc_type = ANY($2::text[])
           JOIN organisations o ON o.id = d.issuer_org_id
           WHERE a.id = $1::uuid AND a.state = 'active'
           ORDER BY d.doc_type, d.created_at""",
        account_id,
        doc_types,
    )
    return list(rows)


def _title(doc_type: str) -> dict[str, str]:
    found = get_type(doc_type)
    return found.title.as_dict() if found is not None else {"vi": doc_type, "en": doc_type}


def _view(authorization: Authorization, documents: list[asyncpg.Record]) -> dict[str, Any]:
    redirect = urlsplit(authorization.redirect_uri)
    return {
        "client_id": authorization.client_id,
        "wallet_name": authorization.wallet_name,
        "attested_by": authorization.attested_by,
        "verified": authorization.attested_by is not None,
        "redirect_to": redirect.hostname or redirect.scheme,
        "requested": [
            {
                "credential_configuration_id": r["credential_configuration_id"],
                "doc_type": r["doc_type"],
                "title": _title(r["doc_type"]),
            }
            for r in authorization.requested
        ],
        "documents": [
            {
                "id": str(d["id"]),
                "doc_type": d["doc_type"],
                "title": _title(d["doc_type"]),
                "issuer_org_id": d["issuer_org_id"],
                "issuer_name": d["issuer_name"],
            }
            for d in documents
        ],
        "expires_at": authorization.approval_expires_at.isoformat() if authorization.approval_expires_at else None,
    }


async def _decide(
    db: asyncpg.Pool, principal: Principal, authorization: Authorization, document_ids: list[UUID] | None
) -> None:
    """Approve with ``document_ids`` or deny (None), and audit it, in one transaction."""
    details: dict[str, Any] = {"client_id": authorization.client_id}
    if document_ids is not None:
        details["document_ids"] = [str(d) for d in document_ids]
    async with db.acquire() as conn, conn.transaction():
        if not await decide(conn, authorization.id, principal.subject, document_ids):
            raise _unknown()
        action = "oid4vci.authorization_denied" if document_ids is None else "oid4vci.authorization_approved"
        await record(conn, actor=principal.key, action=action, subject=str(authorization.id), details=details)


def _requested_types(authorization: Authorization) -> list[str]:
    return sorted({r["doc_type"] for r in authorization.requested})


@get(
    "/v1/me/authorizations/{handle:str}",
    guards=[citizen_level(_LEVEL)],
    tags=_TAGS,
    summary="A wallet's authorization request shown by its approval code: which wallet, which documents",
)
async def authorization_request(principal: Caller, db: Db, handle: str) -> dict[str, Any]:
    authorization = await _claimed(db, handle, principal.subject)
    documents = await _holder_documents(db, principal.subject, _requested_types(authorization))
    return _view(authorization, documents)


@post(
    "/v1/me/authorizations/{handle:str}/approve",
    guards=[citizen_level(_LEVEL), fresh_device_signature(300)],
    opt=NOT_REPLAYED,
    tags=_TAGS,
    summary="Approve a wallet's authorization request with the chosen documents",
    status_code=HTTP_200_OK,
)
async def approve_authorization(principal: Caller, db: Db, handle: str, data: JSONBody[Approval]) -> dict[str, Any]:
    authorization = await _claimed(db, handle, principal.subject)
    documents = await _holder_documents(db, principal.subject, _requested_types(authorization))
    allowed = {d["id"] for d in documents}
    chosen = list(dict.fromkeys(data.document_ids))
    refused = [str(d) for d in chosen if d not in allowed]
    if refused:
        raise ValidationFailed(
            "Only your own active documents of a requested type can be given to this wallet.",
            slug="documents-not-approvable",
            title="These documents cannot be approved",
            errors=[{"field": "document_ids", "reason": f"not approvable: {d}"} for d in refused],
        )
    await _decide(db, principal, authorization, chosen)
    return {"status": "approved", "document_ids": [str(d) for d in chosen]}


@post(
    "/v1/me/authorizations/{handle:str}/deny",
    guards=[citizen_level(_LEVEL)],
    opt=NOT_REPLAYED,
    tags=_TAGS,
    summary="Deny a wallet's authorization request",
    status_code=HTTP_200_OK,
)
async def deny_authorization(principal: Caller, db: Db, handle: str) -> dict[str, str]:
    await _decide(db, principal, await _claimed(db, handle, principal.subject), None)
    return {"status": "denied"}


ROUTES = [authorization_request, approve_authorization, deny_authorization]
