"""Issuing and managing documents: the rules behind the agency API, in plain SQL.

Every change runs in one transaction with its outbox event and audit record. States:
``active`` ⇄ ``suspended`` → ``revoked`` (final). An update raises the version and revokes
credentials minted from older versions; the holder's app fetches a fresh one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import asyncpg

from documents.holders import check_holder
from documents.statuslist import INVALID, SUSPENDED, VALID, set_document_status
from documents.types import DocumentInvalid, DocumentType, get_type
from wallet_api.accounts.registry import PopulationRegistry
from wallet_api.kernel import Conflict, Forbidden, NotFound, Principal, Problem, ValidationFailed, publish, record

__all__ = [
    "authorised_type",
    "change_state",
    "document_event",
    "issue_document",
    "load_agency_document",
    "update_document",
]

#: Dates on documents are Vietnamese calendar days (ICT, UTC+7).
ICT = dt.timezone(dt.timedelta(hours=7), "ICT")


def today_ict() -> dt.date:
    return dt.datetime.now(ICT).date()


async def authorised_type(conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, code: str) -> DocumentType:
    """The document type, if the caller's organisation is an issuer allowed to issue it."""
    doc_type = get_type(code)
    if doc_type is None:
        raise ValidationFailed(
            f"Unknown document type {code!r}.", errors=[{"key": "doc_type", "message": "unknown document type"}]
        )
    org = await conn.fetchrow(
        "SELECT kind, document_types, disabled_at FROM organisations WHERE id = $1", principal.org_id
    )
    if org is None or org["kind"] != "issuer" or org["disabled_at"] is not None or code not in org["document_types"]:
        raise Forbidden(
            f"Your organisation may not issue {code} documents.", slug="document-type-not-allowed", doc_type=code
        )
    return doc_type


def parse_claims(doc_type: DocumentType, raw: Any) -> dict[str, Any]:
    try:
        return doc_type.parse(raw)
    except DocumentInvalid as exc:
        raise ValidationFailed(
            "The document's fields are not valid.",
            slug="document-invalid",
            errors=[{"key": f"claims.{e.field}", "message": e.message} for e in exc.errors],
        ) from None


async def _holder_account(conn: asyncpg.Connection, holder_id: str) -> str | None:
    account_id = await conn.fetchval("SELECT id FROM accounts WHERE person_id = $1", holder_id)
    return str(account_id) if account_id is not None else None


async def document_event(conn: asyncpg.Connection, topic: str, row: asyncpg.Record, **extra: Any) -> None:
    """Publish ``topic`` for a document row (contract: account_id, document_id, doc_type)."""
    payload = {
        "account_id": await _holder_account(conn, row["holder_id"]),
        "document_id": str(row["id"]),
        "doc_type": row["doc_type"],
        "issuer_org_id": row["issuer_org_id"],
        "version": row["version"],
        **extra,
    }
    await publish(conn, topic, payload, key=str(row["id"]))


async def issue_document(
    conn: asyncpg.Connection,
    principal: Principal,
    doc_type: DocumentType,
    agency_ref: str,
    holder_id: str,
    claims: dict[str, Any],
    registry: PopulationRegistry,
) -> tuple[asyncpg.Record, bool]:
    """Insert the document, or return the existing one if the agency already issued the same.

    The holder is checked against the population registry first (documents/holders.py).
    """
    await check_holder(registry, doc_type, holder_id, claims)
    valid_from, valid_until = doc_type.validity(claims)
    async with conn.transaction():
        row = await conn.fetchrow(
            """INSERT INTO documents (issuer_org_id, doc_type, agency_ref, holder_id, claims, valid_from, valid_until)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (issuer_org_id, doc_type, agency_ref) DO NOTHING
               RETURNING *""",
            principal.org_id,
            doc_type.code,
            agency_ref,
            holder_id,
            claims,
            valid_from,
            valid_until,
        )
        if row is None:
            existing = await conn.fetchrow(
                "SELECT * FROM documents WHERE issuer_org_id = $1 AND doc_type = $2 AND agency_ref = $3",
                principal.org_id,
                doc_type.code,
                agency_ref,
            )
            assert existing is not None
            if existing["holder_id"] != holder_id or existing["claims"] != claims:
                raise Conflict(
                    "A document with this number exists with other contents; update it instead.",
                    slug="document-exists",
                    document_id=str(existing["id"]),
                )
            return existing, False
        await document_event(conn, "document.issued", row)
        await record(
            conn,
            actor=principal.key,
            action="document.issue",
            subject=f"document:{row['id']}",
            details={"doc_type": doc_type.code},
        )
    return row, True


async def load_agency_document(
    conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, document_id: UUID, *, for_update: bool = False
) -> asyncpg.Record:
    """A document of the caller's organisation; another agency's document is simply not found."""
    row = await conn.fetchrow(
        "SELECT * FROM documents WHERE id = $1 AND issuer_org_id = $2" + (" FOR UPDATE" if for_update else ""),
        document_id,
        principal.org_id,
    )
    if row is None:
        raise NotFound("No such document of your organisation.")
    return row


async def find_by_agency_ref(
    conn: asyncpg.Connection | asyncpg.Pool, principal: Principal, agency_ref: str
) -> list[asyncpg.Record]:
    """The caller's organisation's documents with its own number (one per document type)."""
    return list(
        await conn.fetch(
            "SELECT * FROM documents WHERE issuer_org_id = $1 AND agency_ref = $2 ORDER BY doc_type",
            principal.org_id,
            agency_ref,
        )
    )


async def update_document(
    conn: asyncpg.Connection, principal: Principal, document_id: UUID, raw_claims: Any, registry: PopulationRegistry
) -> asyncpg.Record:
    async with conn.transaction():
        row = await load_agency_document(conn, principal, document_id, for_update=True)
        doc_type = await authorised_type(conn, principal, row["doc_type"])
        claims = parse_claims(doc_type, raw_claims)
        if row["state"] == "revoked":
            raise Conflict("A revoked document cannot be updated; issue a new one.", slug="document-revoked")
        if claims == row["claims"]:
            return row
        # The new version must still describe its holder (documents/holders.py).
        await check_holder(registry, doc_type, row["holder_id"], claims)
        valid_from, valid_until = doc_type.validity(claims)
        row = await conn.fetchrow(
            """UPDATE documents SET claims = $2, valid_from = $3, valid_until = $4, version = version + 1,
                      updated_at = now()
               WHERE id = $1 RETURNING *""",
            document_id,
            claims,
            valid_from,
            valid_until,
        )
        await set_document_status(conn, document_id, INVALID, below_version=row["version"])
        await document_event(conn, "document.updated", row)
        await record(
            conn,
            actor=principal.key,
            action="document.update",
            subject=f"document:{document_id}",
            details={"version": row["version"]},
        )
    return row


_TRANSITIONS: dict[str, tuple[frozenset[str], str, int, str]] = {
    # action: (states it applies to, new state, credential status, event topic)
    "suspend": (frozenset({"active"}), "suspended", SUSPENDED, "document.suspended"),
    "reinstate": (frozenset({"suspended"}), "active", VALID, "document.reinstated"),
    "revoke": (frozenset({"active", "suspended"}), "revoked", INVALID, "document.revoked"),
}


async def change_state(
    conn: asyncpg.Connection, principal: Principal, document_id: UUID, action: str, reason: str | None
) -> asyncpg.Record:
    """Suspend, reinstate or revoke (revoking needs a reason). Repeating an action already in effect changes nothing."""
    if action == "revoke" and not (reason or "").strip():
        raise ValidationFailed("Say why the document is revoked.", errors=[{"key": "reason", "message": "required"}])
    applies_to, new_state, status, topic = _TRANSITIONS[action]
    async with conn.transaction():
        row = await load_agency_document(conn, principal, document_id, for_update=True)
        await authorised_type(conn, principal, row["doc_type"])
        if row["state"] == new_state:
            return row
        if row["state"] not in applies_to:
            raise Problem(
                f"A {row['state']} document cannot be {new_state}.",
                slug="document-state",
                title="The document is not in a state that allows this",
                status=409,
                state=row["state"],
            )
        row = await conn.fetchrow(
            "UPDATE documents SET state = $2, state_reason = $3, updated_at = now() WHERE id = $1 RETURNING *",
            document_id,
            new_state,
            reason,
        )
        await set_document_status(conn, document_id, status)
        extra = {"reason": reason} if reason else {}
        await document_event(conn, topic, row, **extra)
        await record(
            conn,
            actor=principal.key,
            action=f"document.{action}",
            subject=f"document:{document_id}",
            details={"state": new_state},
        )
    return row
